namespace KexecSim.Machine;

/// <summary>An INIT that <paramref name="Cpu"/> sent to <paramref name="Target"/> is held pending, and by what.</summary>
public sealed record InitHeldPending(int Cpu, int Target, InitBlocker Blocker) : StepEvent;
