namespace KexecSim.Exploration;

/// <summary>The run schedulers of <c>kexecsim simulate --strategy</c> (docs/simulate.md).</summary>
public enum SimulationStrategy
{
    /// <summary>A uniform random walk (<see cref="RandomWalkScheduler"/>).</summary>
    Random,

    /// <summary>Probabilistic Concurrency Testing (<see cref="PctScheduler"/>).</summary>
    Pct,
}

/// <summary>What <c>kexecsim simulate</c> runs: how many runs, from which seed, by which scheduler, and which
/// of them this job does (<c>--shard K/N</c>).</summary>
public sealed record SimulationOptions
{
    /// <summary>The default of <c>--max-steps</c>.</summary>
    public const long DefaultMaxSteps = 10_000;

    /// <summary>The default of <c>--pct-depth</c>.</summary>
    public const int DefaultPctDepth = 3;

    public SimulationStrategy Strategy { get; init; } = SimulationStrategy.Random;

    /// <summary>The run space: run indices 0 to <c>Runs</c> - 1 (this job does its shard of them).</summary>
    public long Runs { get; init; } = 1;

    /// <summary>With the run index, all a run depends on (<see cref="RunRandom"/>).</summary>
    public ulong Seed { get; init; }

    /// <summary>PCT's bug depth d: d-1 priority change points per run.</summary>
    public int PctDepth { get; init; } = DefaultPctDepth;

    /// <summary>A run that has taken this many steps without ending stops there (counted apart).</summary>
    public long MaxSteps { get; init; } = DefaultMaxSteps;

    /// <summary>Threads the runs are spread over; the result is the same for any number.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary><c>--shard K/N</c>: this job does the run indices i with i % N == K - 1 (1 ≤ K ≤ N).</summary>
    public int ShardIndex { get; init; } = 1;

    /// <inheritdoc cref="ShardIndex"/>
    public int ShardCount { get; init; } = 1;

    /// <summary><c>--timed</c>: the runs are timed (SEMANTICS.md section 9, <see cref="TimedScheduler"/>) with these
    /// costs and latencies; null: untimed, scheduled by <see cref="Strategy"/>.</summary>
    public TimedParameters? Timed { get; init; }

    /// <summary><c>--reduce</c>: <see cref="Reduction.All"/> walks the machine <c>check --reduce all</c> explores (a
    /// <c>hlt()</c> nothing can interrupt is taken with the step that reaches it; no cache state for the lines no
    /// check observes: docs/reduction.md), and a trace is made a run of the full machine as <c>check</c>'s are.
    /// Timed runs are never reduced (every step takes time): <see cref="Reduced"/>.</summary>
    public Reduction Reduce { get; init; } = Reduction.All;

    /// <summary>Whether the runs walk the reduced machine: <see cref="Reduce"/> is all and the runs are not timed.</summary>
    public bool Reduced => Reduce == Reduction.All && Timed is null;

    public TimeSpan? TimeLimit { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>How many run indices of the run space this job's shard holds.</summary>
    public long ShardRuns => Runs >= ShardIndex ? ((Runs - ShardIndex) / ShardCount) + 1 : 0;

    /// <summary>The run index of the shard's <paramref name="j"/>-th run.</summary>
    public long RunIndex(long j) => ShardIndex - 1 + (j * ShardCount);
}
