using System.Diagnostics;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

public sealed record CheckOptions
{
    /// <summary>Stop (exit 3) after this many distinct states.</summary>
    public long MaxStates { get; init; } = 100_000_000;

    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Stop when the search's own structures (visited set, queues, trace records) pass this size.</summary>
    public long? MemoryLimitBytes { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>Called about once a second on long searches.</summary>
    public Action<Progress>? Progress { get; init; }

    public static readonly CheckOptions Default = new();
}

public sealed record Progress(long States, long Transitions, int Depth, int Queue, double Seconds, long MemoryBytes)
{
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
}

/// <summary>
/// Exhaustive breadth-first search over the machine's states (the classic explicit-state algorithm,
/// as in SPIN's BFS mode: Holzmann, "The SPIN Model Checker", 2003). States are visited level by
/// level, so the first violation found is one with the fewest steps; the visited set keeps 64-bit
/// fingerprints only, and each state's parent and transition, from which the trace is rebuilt.
/// </summary>
public sealed class BreadthFirstExplorer
{
    private readonly CompiledProgram _program;
    private readonly CheckOptions _options;
    private readonly Machine.Machine _machine;

    // Coverage: what the machine ever executed, recorded in place (no allocation per transition).
    private readonly ExecutionMarks _marks;

    // Per node: its parent, the transition from it, and that step's choices.
    private readonly List<int> _parents = [];
    private readonly List<Transition> _transitions = [];
    private readonly List<int[]?> _choices = [];

    // The explored graph, for LIVELOCK: per node its successors (-1: a violation) and their labels.
    private readonly List<bool> _finished = [];
    private readonly List<int> _edgeStart = [];
    private readonly List<int> _edgeTargets = [];
    private readonly List<int> _edgeLabels = [];
    private readonly Dictionary<Transition, int> _labelIds = [];

    public BreadthFirstExplorer(CompiledProgram program, CheckOptions? options = null)
    {
        _program = program;
        _options = options ?? CheckOptions.Default;
        _machine = new Machine.Machine(program);
        _marks = new ExecutionMarks(program);
        _machine.Marks = _marks;
    }

    /// <summary>70% of the memory this process may use.</summary>
    private static readonly long DefaultMemoryCeiling = (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.7);

    public CheckResult Run()
    {
        var clock = Stopwatch.StartNew();
        var expected = _program.Expect.Code;
        var others = new List<(Violation, Trace)>();
        var otherCodes = new HashSet<ViolationCode>();

        var parent = _machine.NewState();
        var work = _machine.NewState();
        if (_machine.CreateInitial(parent) == Outcome.Violation)
        {
            var trace = new Trace([], _machine.LastViolation, violationIsTerminal: true);
            return Result(Verdict.Violation, _machine.LastViolation, trace, others, 1, 0, 0, clock, null);
        }

        var visited = new FingerprintSet();
        var buffer = new StateBuffer();
        parent.Encode(buffer);
        visited.TryAdd(MachineState.Fingerprint(buffer.Span), 0, out _);
        AddNode(-1, default, null, parent.Finished);
        var current = new StateQueue();
        var next = new StateQueue();
        current.Add(buffer.Span, 0);

        var transitions = new List<Transition>();
        var pendingChoices = new Stack<int[]>();
        long transitionCount = 0;
        long lastCheck = 0;
        var depth = 0;
        var lastProgress = clock.Elapsed;
        long peakMemory = 0;

        // A violation one step past this level is shortest only if no state of this level is itself a
        // terminal violation: once one is found, the rest of the level is scanned for those alone.
        CheckResult? found = null;
        while (current.Count > 0)
        {
            for (var i = 0; i < current.Count; i++)
            {
                var encoding = current.Get(i, out var node);
                parent.Decode(encoding);
                _edgeStart.Add(_edgeTargets.Count);
                _machine.EnumerateTransitions(parent, transitions);
                var successors = 0;
                foreach (var transition in transitions)
                {
                    if (found is not null && successors > 0)
                    {
                        break;
                    }
                    pendingChoices.Push([]);
                    while (pendingChoices.Count > 0)
                    {
                        var choices = pendingChoices.Pop();
                        work.CopyFrom(parent);
                        var outcome = _machine.Apply(work, transition, choices);
                        if (outcome == Outcome.NeedChoice)
                        {
                            for (var k = _machine.ChoiceCount - 1; k >= 0; k--)
                            {
                                pendingChoices.Push([.. choices, k]);
                            }
                            continue;
                        }
                        if (outcome == Outcome.Disabled)
                        {
                            continue;
                        }
                        successors++;
                        transitionCount++;
                        if (found is not null)
                        {
                            pendingChoices.Clear();
                            break;
                        }
                        var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
                        if (violation is not null)
                        {
                            AddEdge(-1, transition);
                            var trace = BuildTrace(node, transition, choices, violation, terminal: outcome != Outcome.Violation);
                            if (expected is null || violation.Code == expected)
                            {
                                pendingChoices.Clear();
                                found = Result(Verdict.Violation, violation, trace, others, visited.Count, transitionCount, depth + 1, clock, null, peakMemory);
                                break;
                            }
                            if (otherCodes.Add(violation.Code))
                            {
                                others.Add((violation, trace));
                            }
                            continue;
                        }
                        work.Encode(buffer);
                        if (visited.TryAdd(MachineState.Fingerprint(buffer.Span), _parents.Count, out var target))
                        {
                            AddNode(node, transition, choices.Length == 0 ? null : choices, work.Finished);
                            next.Add(buffer.Span, _parents.Count - 1);
                        }
                        AddEdge(target, transition);
                    }
                }
                if (successors == 0 && _machine.CheckTerminal(parent) is { } terminal)
                {
                    var trace = BuildTrace(node, null, null, terminal, terminal: true);
                    if (expected is null || terminal.Code == expected)
                    {
                        return Result(Verdict.Violation, terminal, trace, others, visited.Count, transitionCount, depth, clock, null, peakMemory);
                    }
                    if (otherCodes.Add(terminal.Code))
                    {
                        others.Add((terminal, trace));
                    }
                }

                // PERF: limits and progress are looked at every few thousand transitions, not per state.
                if (transitionCount - lastCheck >= 4096 || i == 0)
                {
                    lastCheck = transitionCount;
                    var memory = visited.MemoryBytes + current.MemoryBytes + next.MemoryBytes + (long)_parents.Count * 40;
                    peakMemory = Math.Max(peakMemory, memory);
                    if (Limit(visited.Count, memory, clock) is { } reason)
                    {
                        return Result(Verdict.LimitReached, null, null, others, visited.Count, transitionCount, depth, clock, reason, peakMemory);
                    }
                    if (_options.Progress is { } progress && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(1))
                    {
                        lastProgress = clock.Elapsed;
                        progress(new Progress(visited.Count, transitionCount, depth, current.Count - i + next.Count, clock.Elapsed.TotalSeconds, memory));
                    }
                }
            }
            if (found is not null)
            {
                return found;
            }
            (current, next) = (next, current);
            next.Clear();
            depth++;
        }
        peakMemory = Math.Max(peakMemory, visited.MemoryBytes + (long)_parents.Count * 40 + (long)_edgeTargets.Count * 8);
        if (expected is null or ViolationCode.Livelock || !otherCodes.Contains(ViolationCode.Livelock))
        {
            if (FindLivelock() is { } livelock)
            {
                if (expected is null or ViolationCode.Livelock)
                {
                    return Result(Verdict.Violation, livelock.Violation, livelock, others, visited.Count, transitionCount, depth, clock, null, peakMemory);
                }
                others.Add((livelock.Violation!, livelock));
            }
        }
        // LANGUAGE.md section 6: expect CODE not met. A violation of another code is the outcome (a
        // MODEL_ERROR first: the model itself is wrong), never a pass with nothing to show.
        if (others.Count > 0)
        {
            var outcome = others.FirstOrDefault(o => o.Item1.Code == ViolationCode.ModelError);
            if (outcome.Item1 is null)
            {
                outcome = others.MinBy(o => o.Item2.Steps.Count);
            }
            var rest = others.Where(o => !ReferenceEquals(o.Item1, outcome.Item1)).ToList();
            return Result(Verdict.Violation, outcome.Item1, outcome.Item2, rest, visited.Count, transitionCount, depth, clock, null, peakMemory);
        }
        return Result(Verdict.Pass, null, null, others, visited.Count, transitionCount, depth, clock, null, peakMemory);
    }

    private string? Limit(long states, long memory, Stopwatch clock)
    {
        if (_options.Cancellation.IsCancellationRequested)
        {
            return "interrupted";
        }
        if (states >= _options.MaxStates)
        {
            return $"--max-states {_options.MaxStates} reached";
        }
        if (_options.TimeLimit is { } limit && clock.Elapsed >= limit)
        {
            return $"--time-limit {limit.TotalSeconds:0.#} s reached";
        }
        if (_options.MemoryLimitBytes is { } bytes && memory >= bytes)
        {
            return $"--memory-limit {bytes / (1024 * 1024)} MB reached";
        }
        // Without a limit, stop well before the machine runs out (nothing is lost: exit 3 with statistics).
        if (_options.MemoryLimitBytes is null && GC.GetTotalMemory(forceFullCollection: false) > DefaultMemoryCeiling)
        {
            return $"memory in use passed {DefaultMemoryCeiling / (1024 * 1024)} MB (70% of this machine's); set --memory-limit to choose";
        }
        return null;
    }

    private void AddNode(int parent, Transition transition, int[]? choices, bool finished)
    {
        _parents.Add(parent);
        _transitions.Add(transition);
        _choices.Add(choices);
        _finished.Add(finished);
    }

    private void AddEdge(int target, Transition transition)
    {
        if (!_labelIds.TryGetValue(transition, out var label))
        {
            label = _labelIds.Count;
            _labelIds[transition] = label;
        }
        _edgeTargets.Add(target);
        _edgeLabels.Add(label);
    }

    /// <summary>After a complete search: the first fair cycle of unfinished states, as a lasso trace.</summary>
    private Trace? FindLivelock()
    {
        var nodes = _parents.Count;
        if (_edgeStart.Count != nodes)
        {
            return null; // not every state was expanded
        }
        var starts = new int[nodes + 1];
        _edgeStart.CopyTo(starts);
        starts[nodes] = _edgeTargets.Count;
        var deliveries = _labelIds.Where(l => l.Key.Kind == TransitionKind.Deliver).Select(l => l.Value).ToHashSet();
        var detector = new LivelockDetector(nodes, starts, _edgeTargets, _edgeLabels, n => _finished[n], deliveries.Contains);
        var component = detector.FairComponents().FirstOrDefault();
        if (component is null)
        {
            return null;
        }
        var entry = component[0];
        var cycle = detector.CycleFrom(entry, [.. component]);
        var steps = PathTo(entry);
        var cycleStart = steps.Count;
        // Each cycle edge: find the transition (and choices) from its source's state that reaches its target.
        var replayer = new Replayer(_program);
        foreach (var edge in cycle)
        {
            if (StepBetween(replayer, steps, detector.Target(edge)) is not { } step)
            {
                return null;
            }
            steps.Add(step);
        }
        var violation = Replayer.LivelockViolation(_machine, steps, cycleStart, replayer.StateAfter(steps)!);
        return new Trace(steps, violation, violationIsTerminal: true) { CycleStart = cycleStart };
    }

    private List<TraceStep> PathTo(int node)
    {
        var steps = new List<TraceStep>();
        for (var n = node; n > 0; n = _parents[n])
        {
            steps.Add(new TraceStep(_transitions[n], _choices[n] ?? []));
        }
        steps.Reverse();
        return steps;
    }

    /// <summary>The step that leads from the state after <paramref name="prefix"/> to node <paramref name="target"/>.</summary>
    private TraceStep? StepBetween(Replayer replayer, List<TraceStep> prefix, int target)
    {
        var buffer = new StateBuffer();
        var goal = replayer.StateAfter(PathTo(target))!;
        goal.Encode(buffer);
        var wanted = buffer.Span.ToArray();
        var from = replayer.StateAfter(prefix)!;
        var work = _machine.NewState();
        var transitions = new List<Transition>();
        _machine.EnumerateTransitions(from, transitions);
        var pending = new Stack<int[]>();
        foreach (var transition in transitions)
        {
            TraceStep? found = null;
            Successors.ForEach(_machine, from, transition, work, pending, (outcome, choices) =>
            {
                if (outcome != Outcome.Ok)
                {
                    return true;
                }
                work.Encode(buffer);
                if (buffer.Span.SequenceEqual(wanted))
                {
                    found = new TraceStep(transition, choices);
                    return false;
                }
                return true;
            });
            if (found is not null)
            {
                return found;
            }
        }
        return null;
    }

    private Trace BuildTrace(int node, Transition? last, int[]? lastChoices, Violation violation, bool terminal)
    {
        var steps = new List<TraceStep>();
        if (last is { } t)
        {
            steps.Add(new TraceStep(t, lastChoices ?? []));
        }
        for (var n = node; n > 0; n = _parents[n])
        {
            steps.Add(new TraceStep(_transitions[n], _choices[n] ?? []));
        }
        steps.Reverse();
        return new Trace(steps, violation, terminal);
    }

    private CheckResult Result(Verdict verdict, Violation? violation, Trace? trace, List<(Violation, Trace)> others,
        long states, long transitions, int depth, Stopwatch clock, string? limit, long peakMemory = 0) => new()
    {
        Program = _program,
        Verdict = verdict,
        Violation = violation,
        Trace = trace,
        Statistics = new Statistics(states, transitions, depth, clock.Elapsed.TotalSeconds, peakMemory),
        OtherViolations = others,
        LimitReason = limit,
        FinalEvaluated = _machine.FinalEvaluations > 0,
        Coverage = Coverage.Analyze(_program, _marks, exhaustive: verdict == Verdict.Pass),
    };
}
