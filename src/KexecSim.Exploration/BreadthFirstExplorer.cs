using System.Diagnostics;
using KexecSim.Language.Compilation;
using KexecSim.Machine;

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

    // Per node: its parent, the transition from it, and that step's choices.
    private readonly List<int> _parents = [];
    private readonly List<Transition> _transitions = [];
    private readonly List<int[]?> _choices = [];

    public BreadthFirstExplorer(CompiledProgram program, CheckOptions? options = null)
    {
        _program = program;
        _options = options ?? CheckOptions.Default;
        _machine = new Machine.Machine(program);
    }

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
        AddNode(-1, default, null);
        var current = new StateQueue();
        var next = new StateQueue();
        current.Add(buffer.Span, 0);

        var transitions = new List<Transition>();
        var pendingChoices = new Stack<int[]>();
        long transitionCount = 0;
        var depth = 0;
        var lastProgress = clock.Elapsed;
        long peakMemory = 0;

        while (current.Count > 0)
        {
            for (var i = 0; i < current.Count; i++)
            {
                var encoding = current.Get(i, out var node);
                parent.Decode(encoding);
                _machine.EnumerateTransitions(parent, transitions);
                var successors = 0;
                foreach (var transition in transitions)
                {
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
                        var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
                        if (violation is not null)
                        {
                            var trace = BuildTrace(node, transition, choices, violation, terminal: outcome != Outcome.Violation);
                            if (expected is null || violation.Code == expected)
                            {
                                pendingChoices.Clear();
                                return Result(Verdict.Violation, violation, trace, others, visited.Count, transitionCount, depth + 1, clock, null, peakMemory);
                            }
                            if (otherCodes.Add(violation.Code))
                            {
                                others.Add((violation, trace));
                            }
                            continue;
                        }
                        work.Encode(buffer);
                        if (visited.TryAdd(MachineState.Fingerprint(buffer.Span), _parents.Count, out _))
                        {
                            AddNode(node, transition, choices.Length == 0 ? null : choices);
                            next.Add(buffer.Span, _parents.Count - 1);
                        }
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

                if ((i & 1023) == 0)
                {
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
            (current, next) = (next, current);
            next.Clear();
            depth++;
        }
        peakMemory = Math.Max(peakMemory, visited.MemoryBytes + (long)_parents.Count * 40);
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
        return null;
    }

    private void AddNode(int parent, Transition transition, int[]? choices)
    {
        _parents.Add(parent);
        _transitions.Add(transition);
        _choices.Add(choices);
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
    };
}
