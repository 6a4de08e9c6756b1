namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> calls function <paramref name="Function"/> with <paramref name="Arguments"/> (one word each; a cpumask parameter holds a reference).</summary>
public sealed record FunctionCalled(int Cpu, int Function, IReadOnlyList<long> Arguments) : StepEvent;
