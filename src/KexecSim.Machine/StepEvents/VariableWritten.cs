namespace KexecSim.Machine;

/// <summary>
/// <paramref name="Cpu"/> writes variable <paramref name="Variable"/> (instance <paramref name="Instance"/>): its value goes
/// from <paramref name="Old"/> to <paramref name="New"/>; for a cpumask, <paramref name="OldMask"/> and <paramref name="NewMask"/>
/// hold the words.
/// </summary>
public sealed record VariableWritten(int Cpu, int Variable, int Instance, long Old, long New,
    IReadOnlyList<long>? OldMask = null, IReadOnlyList<long>? NewMask = null) : StepEvent;
