namespace KexecSim.Machine;

/// <summary>A stray fault of the scenario's <c>inject</c> budget arrives for <paramref name="Cpu"/> (now pending there).</summary>
public sealed record FaultInjected(int Cpu, EventKind Kind) : StepEvent;
