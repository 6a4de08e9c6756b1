namespace KexecSim.Machine;

/// <summary>
/// <paramref name="Cpu"/> reads variable <paramref name="Variable"/> (instance <paramref name="Instance"/>: the CPU of a
/// percpu variable, else 0) and gets <paramref name="Value"/>; for a cpumask, <paramref name="Mask"/> holds its words.
/// </summary>
public sealed record VariableRead(int Cpu, int Variable, int Instance, long Value, IReadOnlyList<long>? Mask = null) : StepEvent;
