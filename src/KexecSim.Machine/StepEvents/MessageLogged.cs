namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> prints a message: its printf-style <paramref name="Template"/> and the values for it.</summary>
public sealed record MessageLogged(int Cpu, LogLevel Level, string Template, IReadOnlyList<long> Values) : StepEvent;
