namespace KexecSim.Machine;

/// <summary>The fetch rule (SEMANTICS.md section 5) is checked for <paramref name="Cpu"/>'s code line <paramref name="Line"/>.</summary>
public sealed record LineFetched(int Cpu, int Line) : StepEvent;
