using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>What a replay found: the same violation at the same step, or where it diverged.</summary>
/// <param name="Message">
/// The verdict in words; empty when <see cref="Divergence"/> says it as data (a step of the trace could not
/// be taken), which the narration table renders (Reporting's <c>Narration.ReplayMessage</c>).
/// </param>
public sealed record ReplayResult(bool Confirmed, int StepsReplayed, Violation? Violation, string Message)
{
    /// <summary>The step of the trace that could not be taken, or null.</summary>
    public ReplayDivergence? Divergence { get; init; }

    /// <summary>What the init blocks and the CPUs' first local steps did, before step 1.</summary>
    public IReadOnlyList<StepEvent> InitialEvents { get; init; } = [];
}

/// <summary>One executed step of a trace, as data: what it does, where the CPU was, the events it yielded.</summary>
public sealed record ReplayedStep(int Number, TraceStep Step, int Cpu, DebugSpan? Location, string Function, StepAction Action, IReadOnlyList<StepEvent> Events)
{
    /// <summary>The step is a loop's back-edge (the CPU spins: a loop body with no visible action).</summary>
    public bool AtBackEdge { get; init; }
}

/// <summary>Re-executes a trace from the initial state (the machine is deterministic given the choices).</summary>
public sealed class Replayer
{
    private readonly Machine.Machine _machine;

    // The trace's recorded choices, fed to the machine step by step.
    private readonly TraceChooser _chooser = new();

    public Replayer(CompiledProgram program)
    {
        _machine = new Machine.Machine(program);
    }

    public Machine.Machine Machine => _machine;

    /// <summary>A trace of a timed run (<c>simulate --timed</c>): its waits may time out whatever the scenario's
    /// <c>timeouts</c> says, as they did in the run (docs/timed.md).</summary>
    public bool WaitsExpireByClock
    {
        get => _machine.WaitsExpireByClock;
        init => _machine.WaitsExpireByClock = value;
    }

    /// <summary>
    /// Whether a LIVELOCK's fairness is re-checked (exploring from its cycle): true for a verdict, false
    /// where a replay only describes the steps of a trace the explorer itself just found.
    /// </summary>
    public bool CheckFairness { get; init; } = true;

    /// <summary>The state after applying <paramref name="steps"/> from the initial state (null if they do not apply).</summary>
    public MachineState? StateAfter(IReadOnlyList<TraceStep> steps)
    {
        var state = _machine.NewState();
        if (_machine.CreateInitial(state) == Outcome.Violation)
        {
            return null;
        }
        var transitions = new List<Transition>();
        foreach (var step in steps)
        {
            // As Replay: a step the state does not offer (an eviction of an entry that is not there) is no
            // run, even where applying it would not fail (the review of --reduce found one such trace).
            _machine.EnumerateTransitions(state, transitions);
            _chooser.Start(step.Choices);
            if (!transitions.Contains(step.Transition) || _machine.Apply(state, step.Transition, _chooser) != Outcome.Ok)
            {
                return null;
            }
        }
        return state;
    }

    /// <summary>
    /// Replays every step; <paramref name="onStep"/> sees each one with the CPU's position before it and the
    /// state after it; <paramref name="onInitial"/> sees the initial state (after the init blocks and the
    /// CPUs' first local steps, or where they committed a violation).
    /// </summary>
    public ReplayResult Replay(Trace trace, Action<ReplayedStep, MachineState>? onStep = null, Action<MachineState>? onInitial = null)
    {
        var state = _machine.NewState();
        var initial = new StepEventRecorder();
        var created = _machine.CreateInitial(state, initial);
        onInitial?.Invoke(state);
        if (created == Outcome.Violation)
        {
            return Compare(trace, _machine.LastViolation, 0, $"in {_machine.InitialPhase}") with { InitialEvents = initial.Events };
        }
        return ReplaySteps(trace, state, onStep) with { InitialEvents = initial.Events };
    }

    private ReplayResult ReplaySteps(Trace trace, MachineState state, Action<ReplayedStep, MachineState>? onStep)
    {
        var transitions = new List<Transition>();
        var events = new StepEventRecorder();
        var scratch = _machine.NewState();
        var cycleFinished = false;
        for (var i = 0; i < trace.Steps.Count; i++)
        {
            var step = trace.Steps[i];
            _machine.EnumerateTransitions(state, transitions);
            if (!transitions.Contains(step.Transition))
            {
                return new ReplayResult(false, i, null, string.Empty) { Divergence = new ReplayDivergence(i + 1, StepAction.Of(step.Transition, state, _machine.Layout), Blocked: false) };
            }
            var cpu = step.Transition.Cpu;
            var location = cpu >= 0 ? _machine.LocationOf(state, cpu) : null;
            var function = cpu >= 0 ? _machine.FunctionName(state, cpu) : string.Empty;
            var action = StepAction.Of(step.Transition, state, _machine.Layout);
            var backEdge = step.Transition.Kind == TransitionKind.Step && _machine.AtBackEdge(state, cpu);
            events.Clear();
            _chooser.Start(step.Choices);
            var outcome = _machine.Apply(state, step.Transition, _chooser, events);
            if (WrongChoices(outcome, step) is { } wrongChoice)
            {
                return new ReplayResult(false, i, null, $"step {i + 1} diverges: {wrongChoice}");
            }
            cycleFinished |= trace.CycleStart is { } from && i >= from && state.Finished;
            onStep?.Invoke(new ReplayedStep(i + 1, step, cpu, location, function, action, events.Events.ToList()) { AtBackEdge = backEdge }, state);
            switch (outcome)
            {
                case Outcome.Violation:
                    if (i != trace.Steps.Count - 1)
                    {
                        return new ReplayResult(false, i + 1, _machine.LastViolation, $"step {i + 1} diverges: it commits {_machine.LastViolation!.Code.Name()} before the end of the trace");
                    }
                    return Compare(trace, _machine.LastViolation, i + 1, null);
                case Outcome.Disabled:
                    return new ReplayResult(false, i, null, string.Empty) { Divergence = new ReplayDivergence(i + 1, action, Blocked: true) };
                case Outcome.NeedChoice:
                    return new ReplayResult(false, i, null, $"step {i + 1} diverges: it needs more choices than the trace records");
            }
        }
        if (trace.CycleStart is { } cycleStart)
        {
            return ConfirmCycle(trace, state, cycleStart, cycleFinished);
        }
        var terminal = _machine.CheckSettled(state);
        if (terminal is null)
        {
            _machine.EnumerateTransitions(state, transitions);
            var any = false;
            var chooser = new DepthFirstChooser();
            foreach (var t in transitions)
            {
                // Every choice of the step is tried, as the explorer does: a choose() in a wait_until condition
                // enables the poll only when some choice makes the condition true.
                if (!Successors.ForEach(_machine, state, t, scratch, chooser, _ => false))
                {
                    any = true;
                    break;
                }
            }
            if (!any)
            {
                terminal = _machine.CheckTerminal(state);
            }
        }
        return Compare(trace, terminal, trace.Steps.Count, null);
    }

    /// <summary>The most states a replay explores to re-check a LIVELOCK's fairness.</summary>
    public const int MaxFairnessStates = 200_000;

    /// <summary>
    /// Whether <paramref name="start"/> lies in a fair component of unfinished states (SEMANTICS.md
    /// section 7), by the explorer's own test (<see cref="LivelockDetector"/>) on the graph reachable from
    /// it, built the way the explorer builds it; null when that graph has more than
    /// <see cref="MaxFairnessStates"/> states. The component of a state is the same in that graph as in
    /// the whole one: its members are the states it reaches that reach it back, with all their edges.
    /// </summary>
    private bool? OnFairCycle(MachineState start)
    {
        var ids = new Dictionary<ulong, int>();
        var encodings = new List<long[]>();
        var graph = new LivelockGraph();
        int NodeOf(MachineState state)
        {
            var fingerprint = MachineState.Fingerprint(state.Span);
            if (!ids.TryGetValue(fingerprint, out var id))
            {
                id = encodings.Count;
                ids[fingerprint] = id;
                encodings.Add(state.Span.ToArray());
                graph.AddNode(state.Finished);
            }
            return id;
        }
        NodeOf(start);
        var state = _machine.NewState();
        var work = _machine.NewState();
        var transitions = new List<Transition>();
        var chooser = new DepthFirstChooser();
        for (var node = 0; node < encodings.Count; node++)
        {
            if (encodings.Count > MaxFairnessStates)
            {
                return null;
            }
            graph.BeginEdges();
            if (graph.Finished(node))
            {
                continue; // no finished state is on a livelock: its edges do not matter
            }
            state.Decode(encodings[node]);
            _machine.EnumerateTransitions(state, transitions);
            foreach (var transition in transitions)
            {
                Successors.ForEach(_machine, state, transition, work, chooser, outcome =>
                {
                    var violated = outcome == Outcome.Violation || _machine.CheckSettled(work) is not null;
                    graph.AddEdge(violated ? -1 : NodeOf(work), transition);
                    return true;
                });
            }
        }
        return new LivelockDetector(graph).FairComponents().Any(component => component.Contains(0));
    }

    /// <summary>
    /// The step that leads from the state after <paramref name="prefix"/> to the state after
    /// <paramref name="target"/> (both paths from the initial state), or null when none does.
    /// </summary>
    internal TraceStep? StepBetween(IReadOnlyList<TraceStep> prefix, IReadOnlyList<TraceStep> target)
    {
        var wanted = StateAfter(target)!.Span.ToArray();
        var from = StateAfter(prefix)!;
        var work = _machine.NewState();
        var transitions = new List<Transition>();
        _machine.EnumerateTransitions(from, transitions);
        var chooser = new DepthFirstChooser();
        foreach (var transition in transitions)
        {
            TraceStep? found = null;
            Successors.ForEach(_machine, from, transition, work, chooser, outcome =>
            {
                if (outcome != Outcome.Ok)
                {
                    return true;
                }
                if (work.Span.SequenceEqual(wanted))
                {
                    found = new TraceStep(transition, chooser.Choices.ToArray());
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

    /// <summary>The LIVELOCK of a lasso whose cycle starts at <paramref name="cycleStart"/>: how long the cycle is, which CPUs move, and where.</summary>
    internal static Violation LivelockViolation(Machine.Machine machine, IReadOnlyList<TraceStep> steps, int cycleStart, MachineState end)
    {
        var moving = steps.Skip(cycleStart).Select(s => s.Transition).Where(t => t.Kind == TransitionKind.Step).Select(t => t.Cpu).Distinct().Order().ToList();
        var situations = machine.Situations(end);
        return new Violation(ViolationCode.Livelock, ViolationReason.CycleRepeats, moving.Count > 0 ? moving[0] : -1, null)
        {
            Number = steps.Count - cycleStart,
            Cpus = moving.Select(c => situations[c]).ToList(),
        };
    }

    /// <summary>
    /// Why the recorded choices of <paramref name="step"/> are not the choices it made, or null when they
    /// are (or the step is blocked: the replay says so): a recorded choice not among the options the model
    /// offers there, or a step that finished before using them all. (A step that asks for more choices
    /// than recorded is reported once it has been shown.)
    /// </summary>
    private string? WrongChoices(Outcome outcome, TraceStep step)
    {
        if (_chooser.WrongChoice is { } wrong)
        {
            return wrong;
        }
        if (outcome is Outcome.Ok or Outcome.Violation && _chooser.Taken < step.Choices.Length)
        {
            var made = _chooser.Taken;
            return $"it makes {made} choice{(made == 1 ? string.Empty : "s")}, the trace records {step.Choices.Length}";
        }
        return null;
    }

    /// <summary>
    /// A LIVELOCK replays when the trace records one, its cycle has steps, the state after the cycle is
    /// the state where it began, and the run finishes nowhere on it. (Fairness is a property of the
    /// explored component the cycle was drawn from, which a replay does not rebuild.)
    /// </summary>
    private ReplayResult ConfirmCycle(Trace trace, MachineState end, int cycleStart, bool finishedOnCycle)
    {
        if (trace.Violation?.Code != ViolationCode.Livelock)
        {
            return new ReplayResult(false, trace.Steps.Count, null, $"diverges: the trace records a cycle but {(trace.Violation is { } v ? v.Code.Name() : "no violation")}, not LIVELOCK");
        }
        if (cycleStart >= trace.Steps.Count)
        {
            return new ReplayResult(false, trace.Steps.Count, null, "diverges: the cycle has no steps");
        }
        if (finishedOnCycle)
        {
            return new ReplayResult(false, trace.Steps.Count, null, "diverges: the run finishes on the cycle, so it is no livelock");
        }
        var start = StateAfter(trace.Steps.Take(cycleStart).ToList());
        if (start is null || !start.Span.SequenceEqual(end.Span))
        {
            return new ReplayResult(false, trace.Steps.Count, null, $"diverges: the steps from {cycleStart + 1} on do not return to the state where the cycle starts");
        }
        if (end.Finished)
        {
            return new ReplayResult(false, trace.Steps.Count, null, "diverges: the run has finished, so the cycle is no livelock");
        }
        var steps = $"steps {cycleStart + 1} to {trace.Steps.Count} return to the state after step {cycleStart}";
        var fair = CheckFairness ? OnFairCycle(start) : null;
        if (fair == false)
        {
            return new ReplayResult(false, trace.Steps.Count, null, $"diverges: {steps}, but no fair cycle runs through it (a fair scheduler leaves it): no LIVELOCK");
        }
        // The violation said from what was replayed, not copied from the file.
        return new ReplayResult(true, trace.Steps.Count, LivelockViolation(_machine, trace.Steps, cycleStart, end),
            $"confirmed: LIVELOCK: {steps}{(fair is not null ? string.Empty : CheckFairness ? $" (fairness not re-checked: more than {MaxFairnessStates} states from there)" : " (fairness not re-checked)")}");
    }

    private static string OnCpu(int cpu) => cpu >= 0 ? $"on CPU {cpu}" : "on no CPU (memory or the machine)";

    private static ReplayResult Compare(Trace trace, Violation? found, int steps, string? context)
    {
        var expected = trace.Violation;
        if (expected is null)
        {
            return found is null
                ? new ReplayResult(true, steps, null, $"replayed {steps} steps, no violation, as recorded")
                : new ReplayResult(false, steps, found, $"the trace records no violation, but {found.Code.Name()} occurs at step {steps}");
        }
        if (found is null)
        {
            return new ReplayResult(false, steps, null, $"diverges: after {steps} steps there is no {expected.Code.Name()}");
        }
        if (found.Code != expected.Code)
        {
            return new ReplayResult(false, steps, found, $"diverges: step {steps} commits {found.Code.Name()}, the trace records {expected.Code.Name()}");
        }
        if (found.Cpu != expected.Cpu)
        {
            return new ReplayResult(false, steps, found,
                $"diverges: step {steps} commits {found.Code.Name()} {OnCpu(found.Cpu)}, the trace records it {OnCpu(expected.Cpu)}");
        }
        return new ReplayResult(true, steps, found, $"confirmed: {found.Code.Name()} at step {steps}{(context is null ? string.Empty : $" ({context})")}");
    }
}
