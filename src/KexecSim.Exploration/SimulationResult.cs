using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>How a simulated run ended.</summary>
public enum RunEnd
{
    /// <summary>A violation: a step's, the settled check's after a step, or the terminal check's.</summary>
    Violation,

    /// <summary>No transition was enabled any more and the terminal check found nothing.</summary>
    Finished,

    /// <summary><see cref="SimulationOptions.MaxSteps"/> steps were taken without an end.</summary>
    MaxSteps,
}

/// <summary>One run's end: how, the violation's code, and how many steps it took.</summary>
public readonly record struct RunOutcome(RunEnd End, ViolationCode Code, long Steps);

/// <summary>The runs that committed one violation code: how many, and the first of them (the lowest run index) with its length.</summary>
public sealed record ViolationTally(ViolationCode Code, long Count, long FirstRun, long FirstRunSteps);

/// <summary>What a simulation did: figures that depend on the seed and the options alone (whatever the number of
/// workers), and the time it took.</summary>
public sealed record SimulationResult
{
    public required CompiledProgram Program { get; init; }

    public required SimulationOptions Options { get; init; }

    /// <summary>Runs done (every run of the shard unless a limit stopped the simulation).</summary>
    public required long RunsDone { get; init; }

    /// <summary>Steps taken over all runs done.</summary>
    public required long Steps { get; init; }

    /// <summary>Runs that ended with no transition enabled and no violation.</summary>
    public required long Finished { get; init; }

    /// <summary>Runs stopped at <see cref="SimulationOptions.MaxSteps"/>.</summary>
    public required long MaxStepsReached { get; init; }

    /// <summary>Per violation code, ordered by first run.</summary>
    public required IReadOnlyList<ViolationTally> Violations { get; init; }

    /// <summary>With PCT: the run-length estimate k its change points are drawn over.</summary>
    public long? PctSteps { get; init; }

    /// <summary>Timed mode (<c>--timed</c>): when the runs finished and how their waits went; null untimed.</summary>
    public TimedSummary? Timed { get; init; }

    /// <summary>Why the simulation stopped before every run of its shard was done (time limit, interruption), or null.</summary>
    public string? LimitReason { get; init; }

    public double Seconds { get; init; }
}

/// <summary>Timed mode's figures over the runs done: every finished run's time to finish (by run index), and every
/// <c>wait_until</c> site's waits. They depend on the seed and the options alone, whatever the workers.</summary>
/// <param name="Finishes">Each run that reached <c>done()</c> or <c>platform_reset()</c>, and when (ns), by run index.</param>
/// <param name="Waits">Each wait site that ended at least once, by source position.</param>
public sealed record TimedSummary(IReadOnlyList<(long Run, long Nanoseconds)> Finishes, IReadOnlyList<WaitSiteSummary> Waits);

/// <summary>One <c>wait_until</c> of the model: in which function, where, how many times it ended, how many of those
/// by timing out, and every wait's duration (ns, ascending).</summary>
public sealed record WaitSiteSummary(string Function, DebugSpan Span, long Count, long TimedOut, IReadOnlyList<long> DurationsNs);
