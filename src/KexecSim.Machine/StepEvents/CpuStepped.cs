using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>A CPU runs a step of its code from <paramref name="Location"/> (its position before the step).</summary>
public sealed record CpuStepped(int Cpu, DebugSpan? Location) : StepEvent;
