namespace KexecSim.Exploration;

/// <summary>What a search may spend before it stops without a verdict, and whom it tells how it goes.</summary>
public sealed record CheckOptions
{
    /// <summary>Stop (exit 3) after this many distinct states.</summary>
    public long MaxStates { get; init; } = 100_000_000;

    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Stop when the search's own structures (visited set, queues, trace records) pass this size.</summary>
    public long? MemoryLimitBytes { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>Reduce by the scenario's <c>symmetric</c> CPUs when the compiler found the declaration
    /// usable (docs/symmetry.md); off explores every permutation.</summary>
    public bool Symmetry { get; init; } = true;

    /// <summary>Called about once a second on long searches.</summary>
    public Action<Progress>? Progress { get; init; }

    public static readonly CheckOptions Default = new();
}
