namespace KexecSim.Machine;

/// <summary>An INIT takes effect: <paramref name="Target"/> enters wait-for-SIPI (<paramref name="Cpu"/> is the CPU whose step it is).</summary>
public sealed record InitApplied(int Cpu, int Target) : StepEvent;
