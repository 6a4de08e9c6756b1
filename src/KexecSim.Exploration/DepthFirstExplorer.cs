using System.Diagnostics;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// Exhaustive depth-first search over the machine's states (<c>check --strategy dfs</c>; SPIN's default
/// search: Holzmann, "The SPIN Model Checker", 2003). An explicit stack, no recursion: the state on top
/// is expanded (every transition and every branch of its choices, checked as the breadth-first search
/// checks them), and its new successors are pushed so that the first transition's is expanded next.
/// The visited set keeps fingerprints and the node table each state's parent (the state that first
/// reached it), so the trace is the path the search took down to the violation, in real CPU ids.
/// <para>
/// It stops at the first violation the <see cref="ExpectationPolicy"/> ends the search at: some
/// counterexample, not necessarily a shortest one. Without one it explores every state, the same set as
/// the breadth-first search, and concludes the same way, LIVELOCK included: the explored graph is
/// recorded in the <see cref="LivelockGraph"/> as each state is expanded (in stack order), and a fair
/// cycle is looked for in it once the search is complete.
/// </para>
/// <para>
/// <c>--shorten</c> (<see cref="CheckOptions.Shorten"/>): after a counterexample of L steps, a second,
/// depth-bounded search looks for a shorter one, SPIN's <c>-i</c>: it expands a state only while a
/// counterexample through it could have fewer than L steps, re-expands a state reached again by a
/// shorter path, and on each counterexample found lowers the bound below its length and goes on. When
/// it has nothing left to expand, the last counterexample it found (or the first, if none) is a
/// shortest one; a limit that stops it leaves the shortest found so far, and says so. It looks for what
/// the plain search stops at (any code under <c>expect pass</c>, as the breadth-first search does); for a
/// verdict concluded after a complete search (<c>expect CODE</c> not met, another code reported), for that
/// code only. A LIVELOCK's lasso is not shortened.
/// </para>
/// </summary>
public sealed class DepthFirstExplorer : ISearch
{
    private readonly CompiledProgram _program;
    private readonly CheckOptions _options;
    private readonly Machine.Machine _machine;
    private readonly ExecutionMarks _marks;

    private readonly NodeTable _nodes = new();
    private readonly FingerprintSet _visited = new();
    private readonly StateStack _stack = new();
    private readonly StateQueue _children = new();
    private readonly LivelockGraph _graph;
    private readonly SuccessorEnumerator _successors;
    private readonly ExpectationPolicy _policy;
    private readonly SearchLimits _limits;
    private readonly Stopwatch _clock = new();
    private readonly Reductions _reductions;
    private readonly StateSymmetry? _symmetry;

    // The bounded search of --shorten: the most steps a counterexample may have, and per node the fewest
    // steps it was reached in (null in the plain search, which records the LIVELOCK graph instead).
    private int _bound = int.MaxValue;
    private readonly List<int>? _depths;
    private (Violation Violation, Trace Trace)? _shortest;
    private ViolationCode? _only;

    private long _transitions;
    private long _peakMemory;
    private int _maxDepth;
    private bool _started;

    public DepthFirstExplorer(CompiledProgram program, CheckOptions? options = null)
        : this(program, options ?? CheckOptions.Default, bound: null)
    {
    }

    private DepthFirstExplorer(CompiledProgram program, CheckOptions options, int? bound)
    {
        _program = program;
        _options = options;
        if (options.BitstateBytes is not null)
        {
            throw new ArgumentException("--bitstate is a breadth-first search's visited set (--strategy bfs)", nameof(options));
        }
        _reductions = new Reductions(program, options);
        _machine = _reductions.Machine;
        _successors = new SuccessorEnumerator(_machine);
        _symmetry = _reductions.Symmetry;
        _marks = new ExecutionMarks(program);
        _machine.Marks = _marks;
        _policy = new ExpectationPolicy(program.Expect, _options.Livelock);
        _graph = new LivelockGraph(enabled: _options.Livelock); // --livelock off: no cycle is looked for
        _limits = new SearchLimits(_options);
        if (bound is { } b)
        {
            _bound = b;
            _depths = [];
        }
    }

    private bool Bounded => _depths is not null;

    /// <summary>Whether a violation of <paramref name="code"/> ends this search (the plain search), or is one
    /// the bounded search looks for.</summary>
    private bool Ends(ViolationCode code) => _only is { } only ? code == only : _policy.EndsSearch(code);

    /// <summary>The bytes the search's own structures hold: visited set, stack, node table, LIVELOCK graph.</summary>
    private long MemoryBytes => _visited.MemoryBytes + _stack.MemoryBytes + _children.MemoryBytes + _nodes.MemoryBytes + _graph.MemoryBytes
        + (_depths is null ? 0 : (long)_depths.Capacity * sizeof(int));

    /// <summary>Searches until a verdict or a limit; once per explorer (its tables fill as it goes). With
    /// <see cref="CheckOptions.Shorten"/>, a counterexample found is then shortened.</summary>
    public CheckResult Run()
    {
        var (result, stopped) = Search();
        // Shortened: a counterexample the search stopped at, or one it concluded after a complete search
        // (expect CODE not met), not a LIVELOCK's lasso; one of no steps (the init blocks commit it) is as
        // short as one can be.
        if (!_options.Shorten || result.Trace is not { Steps.Count: > 0 } first || result.Violation is not { } violation
            || violation.Code == ViolationCode.Livelock)
        {
            return result;
        }
        // The bounded search gets what is left of the time limit.
        var options = _options with { Shorten = false };
        if (_options.TimeLimit is { } limit)
        {
            var left = limit - _clock.Elapsed;
            options = options with { TimeLimit = left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1) };
        }
        // What it looks for: what the search would have stopped at (any code under expect pass, as the
        // breadth-first search), or, for a concluded verdict, the reported code only.
        var bounded = new DepthFirstExplorer(_program, options, bound: first.Steps.Count - 1) { _only = stopped ? null : violation.Code };
        var (shorter, states, limitReason) = bounded.Shorten();
        var (v, t) = shorter ?? (violation, first);
        var shortening = new Shortening(first.Steps.Count, t.Steps.Count, states, bounded._transitions, bounded._clock.Elapsed.TotalSeconds, limitReason);
        return result.WithShortening(v, t, shortening);
    }

    /// <summary>The depth-first search; <c>Stopped</c> when it ended at a violation it stops at (not by
    /// concluding after a complete search).</summary>
    private (CheckResult Result, bool Stopped) Search()
    {
        if (_started)
        {
            throw new InvalidOperationException("a depth-first explorer runs once; make a new one for another search");
        }
        _started = true;
        _clock.Restart();
        var parent = _machine.NewState();
        if (_machine.CreateInitial(parent) == Outcome.Violation)
        {
            var trace = new Trace([], _machine.LastViolation, violationIsTerminal: true);
            return (Result(Verdict.Violation, _machine.LastViolation, trace, _policy.Others, null), true);
        }
        if (Explore(parent) is { } ended)
        {
            return ended;
        }

        _peakMemory = Math.Max(_peakMemory, MemoryBytes);
        // LIVELOCK detection stops on Ctrl-C, SIGTERM and the time limit too.
        using var stop = _limits.Stopper(_clock.Elapsed);
        try
        {
            if (_reductions.ReducedGraph(_machine.MergedAHalt) && _policy.LooksForLivelock && _graph.HasUnfinishedCycle(stop.Token))
            {
                // As in the breadth-first search: fairness is per CPU, which the reduced graph does not keep.
                var full = new DepthFirstExplorer(_program, Reductions.Unreduced(_options) with { Shorten = false }).Search();
                return (full.Result.WithReductionsUndone(_reductions.SymmetryUse, _reductions.Use(_machine.MergedAHalt), _reductions.Untracked?.Lines ?? [], _machine.MergedAHalt), full.Stopped);
            }
            if (_policy.LooksForLivelock && _graph.FindLivelock(_nodes, _program, _machine, stop.Token) is { } livelock)
            {
                if (_policy.EndsSearch(ViolationCode.Livelock))
                {
                    // A lasso, not a path the search stopped at: --shorten leaves it as it is.
                    return (Result(Verdict.Violation, livelock.Violation, livelock, _policy.Others, null), false);
                }
                _policy.Keep(livelock.Violation!, livelock);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return (Result(Verdict.LimitReached, null, null, _policy.Others, _limits.StopReason()), false);
        }
        var verdict = _policy.Conclude();
        return (Result(verdict.Verdict, verdict.Violation, verdict.Trace, verdict.Others, null), false);
    }

    /// <summary>
    /// The bounded search of <c>--shorten</c>: the shortest counterexample it found with at most the bound's
    /// steps (null when none), the distinct states it stored, and why it stopped early (null when exhausted).
    /// </summary>
    private ((Violation Violation, Trace Trace)? Shortest, long States, string? LimitReason) Shorten()
    {
        _started = true;
        _clock.Restart();
        var initial = _machine.NewState();
        if (_machine.CreateInitial(initial) == Outcome.Violation)
        {
            return (null, 1, null); // the plain search reported this one, with no steps
        }
        string? limit = null;
        if (_bound >= 0 && Explore(initial) is { } ended)
        {
            limit = ended.Result.LimitReason;
        }
        return (_shortest, Math.Max(1, _visited.Count), limit);
    }

    /// <summary>Runs the stack from the initial state until it is empty (null), or a result that ends the search.</summary>
    private (CheckResult Result, bool Stopped)? Explore(MachineState parent)
    {
        var work = _machine.NewState();
        var initial = _symmetry is null ? parent.Span : _symmetry.Canonicalize(parent);
        _visited.TryAdd(MachineState.Fingerprint(initial), 0, out _);
        var root = _nodes.Add(-1, default, []);
        _depths?.Add(0);
        if (!Bounded)
        {
            _graph.AddNode(parent.Finished);
        }
        _stack.Push(initial, root, 0);

        long lastCheck = 0;
        var lastProgress = _clock.Elapsed;
        var first = true;
        while (_stack.Count > 0)
        {
            var encoding = _stack.Pop(out var node, out var depth);
            if (_depths is not null && (_depths[node] < depth || depth > _bound))
            {
                continue; // reached again by a shorter path (pushed again), or past a lowered bound
            }
            parent.Decode(encoding);
            _maxDepth = Math.Max(_maxDepth, depth);
            if (Expand(parent, work, node, depth) is { } ended)
            {
                return (ended, true);
            }
            if (_transitions - lastCheck >= SearchLimits.TransitionsBetweenChecks || first || _limits.Urgent(_clock))
            {
                first = false;
                lastCheck = _transitions;
                var memory = MemoryBytes;
                _peakMemory = Math.Max(_peakMemory, memory);
                if (_limits.Reached(_visited.Count, memory, _clock.Elapsed) is { } reason)
                {
                    return (Result(Verdict.LimitReached, null, null, _policy.Others, SearchLimits.WithGraphHint(reason, _graph.MemoryBytes, memory, leanPossible: false)), false);
                }
                if (_options.Progress is { } progress && _clock.Elapsed - lastProgress > TimeSpan.FromSeconds(1))
                {
                    lastProgress = _clock.Elapsed;
                    progress(new Progress(_visited.Count, _transitions, depth, _stack.Count, _clock.Elapsed.TotalSeconds, memory));
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Expands one state: every transition and every branch of its choices, each successor looked up in
    /// the visited set; the new ones are pushed, the first transition's last (expanded next). Returns a
    /// result that ends the search (a violation the expectation stops at), else null. In the bounded
    /// search a counterexample within the bound is kept and lowers the bound instead.
    /// </summary>
    private CheckResult? Expand(MachineState parent, MachineState work, int node, int depth)
    {
        // The bounded search: successors and the violations of steps only while they stay within the bound
        // (a state at the bound is still looked at for a terminal violation).
        var deeper = depth < _bound;
        if (!Bounded)
        {
            _graph.BeginEdges(node);
        }
        _children.Clear();
        var successors = 0;
        _symmetry?.SetParent(parent);
        _successors.Start(parent, work);
        while (_successors.MoveNext())
        {
            successors++;
            _transitions++;
            if (!deeper)
            {
                break; // only whether the state has a successor matters
            }
            var transition = _successors.Transition;
            var outcome = _successors.Outcome;
            var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
            if (violation is not null)
            {
                if (!Bounded)
                {
                    _graph.AddEdge(-1, transition);
                }
                if (Ends(violation.Code))
                {
                    var trace = BuildTrace(node, transition, _successors.Choices, violation, terminal: outcome != Outcome.Violation);
                    if (!Bounded)
                    {
                        _maxDepth = Math.Max(_maxDepth, depth + 1);
                        return Result(Verdict.Violation, trace.Violation, trace, _policy.Others, null);
                    }
                    Found(trace);
                    if (depth >= _bound)
                    {
                        return null; // nothing shorter goes through this state
                    }
                }
                else if (!Bounded && _policy.Keeps(violation.Code))
                {
                    var trace = BuildTrace(node, transition, _successors.Choices, violation, terminal: outcome != Outcome.Violation);
                    _policy.Keep(trace.Violation!, trace);
                }
                continue;
            }
            var stored = _symmetry is null ? work.Span : _symmetry.Canonicalize(work);
            if (_visited.TryAdd(MachineState.Fingerprint(stored), _nodes.Count, out var target))
            {
                var added = _nodes.Add(node, transition, _successors.Choices);
                _depths?.Add(depth + 1);
                if (!Bounded)
                {
                    _graph.AddNode(work.Finished);
                }
                _children.Add(stored, added);
            }
            else if (_depths is not null && _depths[target] > depth + 1)
            {
                // Reached by a shorter path: expanded again from here.
                _nodes.Reparent(target, node, transition, _successors.Choices);
                _depths[target] = depth + 1;
                _children.Add(stored, target);
            }
            if (!Bounded)
            {
                _graph.AddEdge(target, transition);
            }
        }
        if (successors == 0 && _machine.CheckTerminal(parent) is { } terminal)
        {
            if (Ends(terminal.Code))
            {
                var trace = BuildTrace(node, null, [], terminal, terminal: true);
                if (!Bounded)
                {
                    return Result(Verdict.Violation, terminal, trace, _policy.Others, null);
                }
                Found(trace);
            }
            else if (!Bounded && _policy.Keeps(terminal.Code))
            {
                _policy.Keep(terminal, BuildTrace(node, null, [], terminal, terminal: true));
            }
        }
        for (var i = _children.Count - 1; i >= 0; i--)
        {
            var child = _children.Get(i, out var id);
            _stack.Push(child, id, depth + 1);
        }
        return null;
    }

    /// <summary>The bounded search found a counterexample within its bound: the shortest so far; the
    /// bound drops below it.</summary>
    private void Found(Trace trace)
    {
        if (trace.Steps.Count <= _bound)
        {
            _shortest = (trace.Violation!, trace);
            _bound = trace.Steps.Count - 1;
        }
    }

    private Trace BuildTrace(int node, Transition? last, ReadOnlySpan<int> lastChoices, Violation violation, bool terminal) =>
        _reductions.Build(_nodes.PathTo(node), last is { } t ? new TraceStep(t, lastChoices.ToArray()) : null, violation, terminal);

    private CheckResult Result(Verdict verdict, Violation? violation, Trace? trace, IReadOnlyList<(Violation, Trace)> others, string? limit) => new()
    {
        Program = _program,
        Verdict = verdict,
        Violation = violation,
        Trace = trace,
        Statistics = new Statistics(Math.Max(1, _visited.Count), _transitions, _maxDepth, _clock.Elapsed.TotalSeconds, _peakMemory),
        OtherViolations = others,
        LimitReason = limit,
        Symmetry = _reductions.SymmetryUse,
        Reduction = _reductions.Use(_machine.MergedAHalt),
        UntrackedLines = _reductions.Untracked?.Lines ?? [],
        MergedHalts = _machine.MergedAHalt,
        Strategy = SearchStrategy.DepthFirst,
        FinalEvaluated = _machine.FinalEvaluations > 0,
        LivelockOff = !_options.Livelock,
        Coverage = Coverage.Analyze(_program, _marks, exhaustive: verdict == Verdict.Pass),
    };
}
