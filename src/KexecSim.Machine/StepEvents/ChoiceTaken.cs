namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> takes option <paramref name="Choice"/> of <paramref name="Options"/> at a nondeterministic choice.</summary>
public sealed record ChoiceTaken(int Cpu, int Choice, int Options) : StepEvent;
