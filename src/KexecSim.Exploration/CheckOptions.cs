namespace KexecSim.Exploration;

/// <summary>What a search may spend before it stops without a verdict, and whom it tells how it goes.</summary>
public sealed record CheckOptions
{
    /// <summary>Stop (exit 3) after this many distinct states.</summary>
    public long MaxStates { get; init; } = 100_000_000;

    public TimeSpan? TimeLimit { get; init; }

    /// <summary><c>--max-depth N</c> (breadth-first): the states N steps from the initial state are found (and a
    /// violation a step commits on the way there), but not expanded; if any is left, the search stops without a
    /// verdict (exit 3). Null: no bound.</summary>
    public int? MaxDepth { get; init; }

    /// <summary>Stop when the search's own structures (visited set, queues, trace records) pass this size.</summary>
    public long? MemoryLimitBytes { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>Reduce by the scenario's <c>symmetric</c> CPUs when the compiler found the declaration
    /// usable (docs/symmetry.md); off explores every permutation.</summary>
    public bool Symmetry { get; init; } = true;

    /// <summary>The semantics-aware reductions (<c>--reduce all|none</c>; docs/reduction.md): with
    /// <see cref="Reduction.All"/>, the cache state of lines no check can observe is not kept
    /// (<see cref="Machine.UntrackedLines"/>).</summary>
    public Reduction Reduce { get; init; } = Reduction.All;

    /// <summary><c>--livelock on|off</c>: whether a complete search looks for a LIVELOCK (SEMANTICS.md section 7). Off,
    /// the search keeps no graph of its transitions (6 bytes per transition, most of an exact search's memory) and
    /// checks the safety of every state only, as SPIN's <c>-DSAFETY</c> does; the report says LIVELOCK was not
    /// looked for.</summary>
    public bool Livelock { get; init; } = true;

    /// <summary><c>--livelock lean</c> (with <see cref="Livelock"/>): the breadth-first search keeps no graph of its
    /// transitions either, and looks for LIVELOCK in a second pass that makes every unfinished state's successors again
    /// (<see cref="LivelockSearch"/>): the same result as the graph's, in about twice the time, without the graph's 6 bytes
    /// an edge (docs/livelock.md).</summary>
    public bool LivelockLean { get; init; }

    /// <summary><c>--bitstate MB</c>: the breadth-first search's visited set is a bit array of this many bytes
    /// (<see cref="BitstateSet"/>) instead of exact fingerprints: runs larger than memory get a partial
    /// answer with a coverage estimate; LIVELOCK is not looked for. Null: exact.</summary>
    public long? BitstateBytes { get; init; }

    /// <summary>The order states are visited in (<c>--strategy</c>): breadth-first (shortest counterexamples)
    /// or depth-first (some counterexample, often sooner and in less memory).</summary>
    public SearchStrategy Strategy { get; init; } = SearchStrategy.BreadthFirst;

    /// <summary><c>--shorten</c>: after a depth-first search finds a counterexample, look for shorter ones
    /// until none is shorter (<see cref="DepthFirstExplorer"/>); breadth-first traces are shortest already.</summary>
    public bool Shorten { get; init; }
    /// <summary>Threads that expand each level (1: the search's own only). The verdict, statistics,
    /// counterexample and coverage are the same for any number (docs/architecture.md, "All cores").</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>PERF: states per worker in a parallel batch (the workers' buffers hold one batch's successors).</summary>
    internal int ChunkStates { get; init; } = 512;

    /// <summary>PERF: a level of fewer states than this is expanded by the search's own thread, without waking the
    /// workers; a larger one goes by parallel batches to its last state (its tail is not left to one thread: at the
    /// default, up to 2,047 states a level were). Tests set both to small numbers to make every level parallel.</summary>
    internal int MinParallelBatch { get; init; } = 2048;

    /// <summary><c>--checkpoint DIR</c> / <c>--resume DIR</c>: the breadth-first search saves itself at level
    /// boundaries, or continues a saved search (docs/checkpoint.md). Null: neither.</summary>
    public CheckpointOptions? Checkpoint { get; init; }

    /// <summary>Called about once a second on long searches.</summary>
    public Action<Progress>? Progress { get; init; }

    /// <summary>The process's resident set as <c>--memory-limit</c> reads it (tests: a figure of their own, so that only
    /// the search's structures decide); null: the process's.</summary>
    internal Func<long>? ResidentSet { get; init; }

    /// <summary>How often <see cref="Progress"/> is called at most (tests: zero, at every check).</summary>
    internal TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    public static readonly CheckOptions Default = new();
}

/// <summary>Which semantics-aware reductions a search makes (<c>check --reduce all|none</c>).</summary>
public enum Reduction
{
    /// <summary>Every reduction docs/reduction.md describes.</summary>
    All,

    /// <summary>None: the search explores the full machine of SEMANTICS.md.</summary>
    None,
}

/// <summary>The order a search visits states in (<c>check --strategy bfs|dfs</c>).</summary>
public enum SearchStrategy
{
    /// <summary><see cref="BreadthFirstExplorer"/>: level by level; a counterexample is a shortest one.</summary>
    BreadthFirst,

    /// <summary><see cref="DepthFirstExplorer"/>: deepest first; a counterexample is the first one found.</summary>
    DepthFirst,
}
