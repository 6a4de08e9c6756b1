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

    /// <summary>The order states are visited in (<c>--strategy</c>): breadth-first (shortest counterexamples)
    /// or depth-first (some counterexample, often sooner and in less memory).</summary>
    public SearchStrategy Strategy { get; init; } = SearchStrategy.BreadthFirst;

    /// <summary><c>--shorten</c>: after a depth-first search finds a counterexample, look for shorter ones
    /// until none is shorter (<see cref="DepthFirstExplorer"/>); breadth-first traces are shortest already.</summary>
    public bool Shorten { get; init; }

    /// <summary>Called about once a second on long searches.</summary>
    public Action<Progress>? Progress { get; init; }

    public static readonly CheckOptions Default = new();
}

/// <summary>The order a search visits states in (<c>check --strategy bfs|dfs</c>).</summary>
public enum SearchStrategy
{
    /// <summary><see cref="BreadthFirstExplorer"/>: level by level; a counterexample is a shortest one.</summary>
    BreadthFirst,

    /// <summary><see cref="DepthFirstExplorer"/>: deepest first; a counterexample is the first one found.</summary>
    DepthFirst,
}
