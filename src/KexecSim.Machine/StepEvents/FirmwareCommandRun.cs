namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> issues a SEV-SNP firmware command (<c>sev_cmd</c>), which returns <paramref name="Status"/>.</summary>
public sealed record FirmwareCommandRun(int Cpu, long Command, long Argument, long Status) : StepEvent;
