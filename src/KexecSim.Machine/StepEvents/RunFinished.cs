namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> ends the run: <c>done()</c>, or <c>platform_reset()</c> when <paramref name="PlatformReset"/>.</summary>
public sealed record RunFinished(int Cpu, bool PlatformReset) : StepEvent;
