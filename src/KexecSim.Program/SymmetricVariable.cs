namespace KexecSim.Program;

/// <summary>
/// A variable that a permutation of the symmetric CPUs touches: its instances are indexed by CPU
/// (<see cref="PerCpuInstances"/>: instance c moves to instance π(c)), and/or its value holds CPU data
/// (<see cref="Value"/>, applied to every instance).
/// </summary>
/// <param name="Variable">The variable's id (<see cref="CompiledVariable.Id"/>).</param>
/// <param name="Name">The variable's name, for messages and tests.</param>
/// <param name="PerCpuInstances">A <c>percpu</c> variable: one instance per CPU.</param>
/// <param name="Value">What each instance's value holds.</param>
public sealed record SymmetricVariable(int Variable, string Name, bool PerCpuInstances, SymmetricValueKind Value)
{
    public override string ToString() => $"{Name}:{(PerCpuInstances ? "percpu," : string.Empty)}{Value}";
}
