namespace KexecSim.Reporting;

/// <summary>
/// The machine's caches and memory lines after one step of a counterexample (step 0: the initial state,
/// after the init blocks and the CPUs' first local steps), named from the compiled program.
/// </summary>
/// <param name="Step">The step after which the snapshot is taken (0: before step 1).</param>
/// <param name="Caches">Every cache in index order: the shared one, or one per CPU.</param>
/// <param name="Lines">Every memory line in the program's line order.</param>
public sealed record MachineSnapshot(int Step, IReadOnlyList<CacheSnapshot> Caches, IReadOnlyList<LineSnapshot> Lines)
{
    /// <summary>Every CPU's mode, and whether it runs the next kernel, in CPU order.</summary>
    public IReadOnlyList<CpuSnapshot> Cpus { get; init; } = [];
}
