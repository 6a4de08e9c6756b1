namespace KexecSim.Exploration;

/// <summary>
/// When a search stops before its verdict (exit 3, with the statistics so far): interrupted, too many
/// states, out of time, or past its memory (the search's own structures, and the process's resident set, against <c>--memory-limit</c>,
/// or, without one, the process past 70% of the machine's memory).
/// </summary>
public sealed class SearchLimits
{
    /// <summary>PERF: limits and progress are looked at every this many transitions (and at each level's first state), not per state.</summary>
    public const int TransitionsBetweenChecks = 4096;

    /// <summary>70% of the memory this process may use.</summary>
    private static readonly long DefaultMemoryCeiling = (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.7);

    private readonly CheckOptions _options;

    /// <summary>How far under <c>--memory-limit</c> the process's resident set stops the search (with a tenth of the
    /// limit, whichever is more): what the search, and building its result, can still grow after the check.</summary>
    private const long RssMargin = 16L * 1024 * 1024;

    private readonly Func<long> _residentSet;

    /// <param name="residentSet">The process's resident set in bytes (tests give their own); default
    /// <see cref="Environment.WorkingSet"/>.</param>
    public SearchLimits(CheckOptions options, Func<long>? residentSet = null)
    {
        _options = options;
        _residentSet = residentSet ?? (() => Environment.WorkingSet);
    }

    /// <summary>Whether the search must stop at once, between the every-<see cref="TransitionsBetweenChecks"/> checks:
    /// interrupted (Ctrl-C, SIGTERM) or past <c>--time-limit</c>. PERF: a volatile read, and a clock read only with a
    /// time limit; looked at after every state, so a limit is honoured within one state's expansion however costly
    /// its steps are.</summary>
    public bool Urgent(System.Diagnostics.Stopwatch clock) =>
        _options.Cancellation.IsCancellationRequested || (_options.TimeLimit is { } limit && clock.Elapsed >= limit);

    /// <summary>A token for the work after the search (LIVELOCK detection): cancelled by Ctrl-C or SIGTERM, and when the
    /// time limit passes (<paramref name="elapsed"/>: the time already spent).</summary>
    public CancellationTokenSource Stopper(TimeSpan elapsed)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_options.Cancellation);
        if (_options.TimeLimit is { } limit)
        {
            if (limit - elapsed > LongestTimer)
            {
                // Longer than a timer can hold (49.7 days): never reached in practice; no timer.
            }
            else if (limit > elapsed)
            {
                stop.CancelAfter(limit - elapsed);
            }
            else
            {
                stop.Cancel();
            }
        }
        return stop;
    }

    /// <summary>The longest delay <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> accepts.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>Why a <see cref="Stopper"/> token was cancelled, in the words of <see cref="Reached"/>.</summary>
    public string StopReason() => _options.Cancellation.IsCancellationRequested || _options.TimeLimit is not { } limit
        ? "interrupted"
        : $"--time-limit {limit.TotalSeconds:0.#} s reached";

    /// <summary>
    /// A memory <paramref name="reason"/> with what the LIVELOCK graph held of it, when that is 256 KB or more and a
    /// quarter or more of the search's <paramref name="memoryBytes"/>, and how to do without it (any other reason as it is).
    /// </summary>
    /// <param name="leanPossible">Whether <c>--livelock lean</c> goes with the search (breadth-first only).</param>
    public static string WithGraphHint(string reason, long graphBytes, long memoryBytes, bool leanPossible = true) =>
        GraphIsMuchOf(reason, graphBytes, memoryBytes)
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{reason}; {graphBytes / (1024.0 * 1024):0.#} MB of it was the LIVELOCK graph: {(leanPossible ? "--livelock lean looks for LIVELOCK without one, --livelock off checks every state's safety alone" : "--livelock off checks every state's safety without one")}")
            : reason;

    /// <summary>Whether <paramref name="reason"/> is a memory limit and the LIVELOCK graph 256 KB or more and a quarter or more
    /// of the search's memory: then it is said, or (breadth-first) the graph is let go.</summary>
    public static bool GraphIsMuchOf(string reason, long graphBytes, long memoryBytes) =>
        reason.Contains("memory", StringComparison.Ordinal) && graphBytes >= 256 * 1024 && graphBytes * 4 >= memoryBytes;

    /// <summary>Why the search must stop now, in words ("--max-states 50 reached"), or null to go on.</summary>
    /// <param name="states">Distinct states found so far.</param>
    /// <param name="memoryBytes">The bytes the search's own structures hold.</param>
    /// <param name="elapsed">Time since the search started.</param>
    public string? Reached(long states, long memoryBytes, TimeSpan elapsed)
    {
        if (_options.Cancellation.IsCancellationRequested)
        {
            return "interrupted";
        }
        if (states >= _options.MaxStates)
        {
            return $"--max-states {_options.MaxStates} reached";
        }
        if (_options.TimeLimit is { } limit && elapsed >= limit)
        {
            return $"--time-limit {limit.TotalSeconds:0.#} s reached";
        }
        if (_options.MemoryLimitBytes is { } bytes)
        {
            if (memoryBytes >= bytes)
            {
                return $"--memory-limit {bytes / (1024 * 1024)} MB reached";
            }
            // The whole process too (runtime, GC slack, edge lists, buffers): the resident set stays under the
            // limit, with a margin for the growth between two checks.
            var resident = _residentSet();
            if (resident >= bytes - Math.Max(Math.Min(RssMargin, bytes / 16), bytes / 10))
            {
                return $"--memory-limit {bytes / (1024 * 1024)} MB reached (resident set {resident / (1024 * 1024)} MB)";
            }
        }
        // Without a limit, stop well before the machine runs out (nothing is lost: exit 3 with statistics).
        if (_options.MemoryLimitBytes is null && GC.GetTotalMemory(forceFullCollection: false) > DefaultMemoryCeiling)
        {
            return $"memory in use passed {DefaultMemoryCeiling / (1024 * 1024)} MB (70% of this machine's); set --memory-limit to choose";
        }
        return null;
    }
}
