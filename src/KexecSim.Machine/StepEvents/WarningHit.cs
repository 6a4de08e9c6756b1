using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/>'s <c>WARN_ON</c> at <paramref name="Location"/> fires.</summary>
public sealed record WarningHit(int Cpu, DebugSpan? Location) : StepEvent;
