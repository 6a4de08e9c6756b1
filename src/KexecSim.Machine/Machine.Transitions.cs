using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The transitions of a state (SEMANTICS.md section 2): which may be enabled, and applying one.</summary>
public sealed partial class Machine
{
    /// <summary>Every transition that may be enabled in <paramref name="state"/> (a Step of a CPU whose
    /// wait is false, or a Timeout whose condition holds, turns out <see cref="Outcome.Disabled"/>), in this
    /// order: each CPU's (<see cref="ListCpu"/>), then each cache's evictions, then the stray faults.</summary>
    public void EnumerateTransitions(MachineState state, List<Transition> transitions)
    {
        transitions.Clear();
        if (state.PoweredOff)
        {
            return; // after platform_reset() the machine is off
        }
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            ListCpu(state, c, transitions);
        }
        if (_program.Platform.Evictions)
        {
            for (var i = 0; i < state.Caches.Length; i++)
            {
                ListEvictions(state, i, transitions);
            }
        }
        AddInjections(state, transitions);
    }

    /// <summary>CPU <paramref name="c"/>'s transitions: its step (and timeout), or its WBINVD's write-backs or end,
    /// then the deliveries of its pending events. They depend on its header (mode, flags, pending events, frames)
    /// and, in WBINVD, on its cache: what <see cref="MachineState.TrackChanges"/> marks.</summary>
    internal void ListCpu(MachineState state, int c, List<Transition> transitions)
    {
        var cpu = state.Cpus[c];
        switch (cpu.Mode)
        {
            case CpuMode.Running:
                if (cpu.GuestAsid != 0)
                {
                    // In a guest until an event is pending; then the VMEXIT is this CPU's step.
                    if (HasPendingEvent(cpu))
                    {
                        transitions.Add(Transition.Step(c));
                    }
                    return;
                }
                transitions.Add(Transition.Step(c));
                if (TimeoutsOffered && IsTimedWait(cpu))
                {
                    transitions.Add(new Transition(TransitionKind.Timeout, c, 0, 0));
                }
                break;
            case CpuMode.InWbinvd:
                {
                    var cache = state.Caches[Layout.CacheOf(c)];
                    var any = false;
                    foreach (var entry in cache)
                    {
                        if (entry.Dirty)
                        {
                            any = true;
                            transitions.Add(new Transition(TransitionKind.WbinvdWriteBack, c, 0, entry.Tag));
                        }
                    }
                    if (!any)
                    {
                        transitions.Add(new Transition(TransitionKind.WbinvdFinish, c, 0, 0));
                    }
                    break;
                }
        }
        AddDeliveries(state, c, transitions);
    }

    /// <summary>Cache <paramref name="i"/>'s evictions (evictions on): one per dirty entry.</summary>
    internal void ListEvictions(MachineState state, int i, List<Transition> transitions)
    {
        foreach (var entry in state.Caches[i])
        {
            if (entry.Dirty)
            {
                transitions.Add(new Transition(TransitionKind.Evict, -1, i, entry.Tag));
            }
        }
    }

    /// <summary>Whether the platform's dirty entries may be evicted at any time.</summary>
    internal bool Evictions => _program.Platform.Evictions;

    /// <summary>The stray faults that may be injected now (the scenario's budget).</summary>
    internal void ListInjections(MachineState state, List<Transition> transitions) => AddInjections(state, transitions);

    /// <summary>Whether the scenario may inject any fault at all.</summary>
    internal bool InjectsFaults => Layout.Faults.Length > 0;

    /// <summary>
    /// Whether applying <paramref name="transition"/> to <paramref name="state"/> may turn out
    /// <see cref="Outcome.Disabled"/> (the state is then left as it must not be used): a timeout, or a step of a
    /// CPU resting at a <c>wait_until</c> or at an atomic region (which may hold one). Every other transition the
    /// state lists is enabled, so a run may apply it in place without a copy.
    /// </summary>
    public bool MayBeDisabled(MachineState state, Transition transition)
    {
        if (transition.Kind == TransitionKind.Timeout)
        {
            return true;
        }
        if (transition.Kind != TransitionKind.Step)
        {
            return false;
        }
        var cpu = state.Cpus[transition.Cpu];
        if (cpu.GuestAsid != 0 || cpu.Depth == 0)
        {
            return false; // a VMEXIT, or a CPU with no code left
        }
        var code = _functions[cpu.Function].Code;
        var pc = cpu.Pc;
        return pc < code.Length && code[pc].Op is OpCode.WaitBegin or OpCode.AtomicBegin;
    }

    private bool IsTimedWait(CpuState cpu)
    {
        if (cpu.Depth == 0)
        {
            return false;
        }
        var code = _functions[cpu.Function].Code;
        var pc = cpu.Pc;
        return pc < code.Length && code[pc].Op == OpCode.WaitBegin && code[code[pc].A].A >= 0;
    }

    /// <summary>Applies one transition to <paramref name="state"/> in place (the caller keeps a copy).</summary>
    /// <param name="chooser">Makes the step's nondeterministic choices, in order; null when it may make none
    /// (a choice then ends the step with <see cref="Outcome.NeedChoice"/>).</param>
    /// <param name="events">When given, receives what the step does (<see cref="StepEvent"/>) for a report; null in the search.</param>
    public Outcome Apply(MachineState state, Transition transition, IChooser? chooser, IStepEventSink? events = null)
    {
        _operandsOwner = -1;
        var outcome = ApplyTransition(state, transition, chooser, events);
        FlushOperands();
        return outcome;
    }

    private Outcome ApplyTransition(MachineState state, Transition transition, IChooser? chooser, IStepEventSink? events)
    {
        // PERF: each store of a reference into the machine is a GC write barrier; a run gives the same state,
        // chooser and sink step after step, so they are stored only when they change.
        if (!ReferenceEquals(_state, state))
        {
            _state = state;
        }
        if (!ReferenceEquals(_chooser, chooser))
        {
            _chooser = chooser;
        }
        if (!ReferenceEquals(_events, events))
        {
            _events = events;
        }
        LastViolation = null;
        _atomicDepth = 0;
        _localBudget = MaxLocalInstructions;
        switch (transition.Kind)
        {
            case TransitionKind.Step:
                Select(transition.Cpu);
                _events?.Add(new CpuStepped(transition.Cpu, CurrentLocation()));
                return StepCpu();
            case TransitionKind.Timeout:
                Select(transition.Cpu);
                return TimeOut();
            case TransitionKind.Deliver:
                Select(transition.Cpu);
                _events?.Add(new EventDelivered(transition.Cpu, (EventKind)transition.Arg, (EventKind)transition.Arg == EventKind.Vector ? (int)transition.Tag : -1));
                return Deliver((EventKind)transition.Arg, (int)transition.Tag);
            case TransitionKind.WbinvdWriteBack:
                {
                    var cache = state.Caches[Layout.CacheOf(transition.Cpu)];
                    var index = FindEntry(cache, transition.Tag);
                    WriteBack(cache, index, drop: false);
                    return Outcome.Ok;
                }
            case TransitionKind.WbinvdFinish:
                Select(transition.Cpu);
                return FinishWbinvd();
            case TransitionKind.Evict:
                {
                    var cache = state.Caches[transition.Arg];
                    WriteBack(cache, FindEntry(cache, transition.Tag), drop: true);
                    return Outcome.Ok;
                }
            case TransitionKind.Inject:
                Select(transition.Cpu);
                _events?.Add(new FaultInjected(transition.Cpu, (EventKind)transition.Arg));
                return Inject((EventKind)transition.Arg);
            default:
                throw new ArgumentOutOfRangeException(nameof(transition));
        }
    }
}
