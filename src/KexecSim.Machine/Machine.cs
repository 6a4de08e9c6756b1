using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>How applying a transition ended.</summary>
public enum Outcome
{
    /// <summary>A successor state was produced.</summary>
    Ok,
    /// <summary>The transition is not enabled in this state (a wait whose condition is false).</summary>
    Disabled,
    /// <summary>The step reached a nondeterministic choice its <see cref="IChooser"/> took no option of.</summary>
    NeedChoice,
    /// <summary>The transition commits a violation: <see cref="Machine.LastViolation"/>.</summary>
    Violation,
}

/// <summary>
/// The simulated x86 machine: enumerates the transitions of a state (SEMANTICS.md section 2) and
/// applies one. It runs a compiled program and never sees syntax. Not thread-safe: one per worker.
/// </summary>
public sealed partial class Machine
{
    /// <summary>A step executing more local instructions than this is a loop that takes no visible action.</summary>
    public const int MaxLocalInstructions = 1_000_000;

    /// <summary>Deeper call stacks are a MODEL_ERROR (runaway recursion).</summary>
    public const int MaxFrames = 256;

    /// <summary>A frame's words before its slots: header, pc, saved deferred fetches.</summary>
    public const int FrameHeaderWords = 3;

    private readonly CompiledProgram _program;
    private readonly CompiledFunction[] _functions;

    // The state and CPU being stepped (PERF: fields, not a context object per step).
    private MachineState _state = null!;
    private CpuState _cpu = null!;
    private int _cpuId;
    private IChooser? _chooser;
    private IStepEventSink? _events;
    private int _atomicDepth;
    private int _localBudget;

    // Coverage (null: not recorded). PERF: one byte store per instruction, no allocation.
    private ExecutionMarks? _marks;
    private byte[]? _markFlags;
    private int[] _markBases = [];

    public Machine(CompiledProgram program)
    {
        _program = program;
        _functions = program.Functions.ToArray();
        Layout = new MachineLayout(program);
        _quiet = new QuietCode(program);
    }

    private readonly QuietCode _quiet;

    public MachineLayout Layout { get; }

    /// <summary>When set, every instruction executed, frame entered, wait outcome and vector sent is marked in it.</summary>
    public ExecutionMarks? Marks
    {
        get => _marks;
        set
        {
            _marks = value;
            _markFlags = value?.Flags;
            _markBases = value?.Bases ?? [];
        }
    }

    private void Mark(int function, int pc, byte flag)
    {
        if (_markFlags is { } flags)
        {
            flags[_markBases[function] + pc] |= flag;
        }
    }

    public CompiledProgram Program => _program;

    /// <summary>After <see cref="Outcome.Violation"/>: what was violated.</summary>
    public Violation? LastViolation { get; private set; }

    public MachineState NewState() => new(Layout);

    // ───────────────────────────── Transitions ─────────────────────────────

    /// <summary>Every transition that may be enabled in <paramref name="state"/> (a Step of a CPU whose
    /// wait is false, or a Timeout whose condition holds, turns out <see cref="Outcome.Disabled"/>).</summary>
    public void EnumerateTransitions(MachineState state, List<Transition> transitions)
    {
        transitions.Clear();
        var cpus = state.Cpus;
        if (state.PoweredOff)
        {
            return; // after platform_reset() the machine is off
        }
        for (var c = 0; c < cpus.Length; c++)
        {
            var cpu = cpus[c];
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
                        continue;
                    }
                    transitions.Add(Transition.Step(c));
                    if (_program.Timeouts && IsTimedWait(cpu))
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
        if (_program.Platform.Evictions)
        {
            for (var i = 0; i < state.Caches.Length; i++)
            {
                foreach (var entry in state.Caches[i])
                {
                    if (entry.Dirty)
                    {
                        transitions.Add(new Transition(TransitionKind.Evict, -1, i, entry.Tag));
                    }
                }
            }
        }
        AddInjections(state, transitions);
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
        _state = state;
        _chooser = chooser;
        _events = events;
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

    private void Select(int cpu)
    {
        if (_operandsOwner != cpu || !ReferenceEquals(_operandsState, _state))
        {
            FlushOperands();
            LoadOperands(_state, cpu);
        }
        _cpuId = cpu;
        _cpu = _state.Cpus[cpu];
    }

    // PERF: the selected CPU's operand stack lives here during a step (pushes and pops are array
    // stores, not insertions into the state vector) and goes back into the vector when the step ends
    // or another CPU is selected. While it is here, the vector holds none of that CPU's operands.
    private long[] _operands = new long[64];
    private int _operandCount;
    private int _operandsOwner = -1;
    private MachineState? _operandsState;

    private void LoadOperands(MachineState state, int cpu)
    {
        var view = state.Cpus[cpu];
        var count = view.OperandCount;
        if (count > _operands.Length)
        {
            Array.Resize(ref _operands, Math.Max(count, _operands.Length * 2));
        }
        for (var i = 0; i < count; i++)
        {
            _operands[i] = view.Operand(i);
        }
        view.RemoveOperands(0, count);
        _operandCount = count;
        _operandsOwner = cpu;
        _operandsState = state;
    }

    private void FlushOperands()
    {
        if (_operandsOwner < 0 || _operandsState is null)
        {
            _operandsOwner = -1;
            return;
        }
        _operandsState.Cpus[_operandsOwner].AppendOperands(_operands.AsSpan(0, _operandCount));
        _operandCount = 0;
        _operandsOwner = -1;
        _operandsState = null;
    }

    /// <summary>Empties a CPU's frames, operands and deferred fetches (INIT, the next kernel, scenario blocks).</summary>
    private void ClearStack(CpuState cpu)
    {
        cpu.ClearStack();
        if (cpu.Id == _operandsOwner && ReferenceEquals(_operandsState, _state))
        {
            _operandCount = 0;
        }
    }

    private Outcome Fail(ViolationCode code, ViolationReason reason) => Fail(new Violation(code, reason, _cpuId, null));

    /// <summary>Commits <paramref name="violation"/>, at the selected CPU's current instruction unless it says where.</summary>
    private Outcome Fail(Violation violation)
    {
        LastViolation = violation.Location is null && CurrentLocation() is { } here ? violation with { Location = here } : violation;
        return Outcome.Violation;
    }

    /// <summary>The source position of the selected CPU's current instruction, if it has one.</summary>
    private DebugSpan? CurrentLocation()
    {
        if (_cpu is null || _cpu.Depth == 0)
        {
            return null;
        }
        var function = _functions[_cpu.Function];
        var pc = Math.Clamp(_cpu.Pc, 0, function.Spans.Length - 1);
        return function.Spans[pc];
    }

    /// <summary>Where a CPU is, for traces: its function's current instruction's span.</summary>
    public DebugSpan? LocationOf(MachineState state, int cpu)
    {
        var c = state.Cpus[cpu];
        if (c.Depth == 0)
        {
            return null;
        }
        var function = _functions[c.Function];
        return function.Spans[Math.Clamp(c.Pc, 0, function.Spans.Length - 1)];
    }

    public string FunctionName(MachineState state, int cpu)
    {
        var c = state.Cpus[cpu];
        return c.Depth == 0 ? string.Empty : _functions[c.Function].Name;
    }

    // ───────────────────────────── Initial state ─────────────────────────────

    /// <summary>The initial state of SEMANTICS.md section 1, after the scenario's init blocks.</summary>
    /// <param name="events">When given, receives what the init blocks and each CPU's first local steps
    /// do (<see cref="StepEvent"/>), in order.</param>
    public Outcome CreateInitial(MachineState state, IStepEventSink? events = null)
    {
        var outcome = CreateInitialState(state, events);
        FlushOperands();
        return outcome;
    }

    private Outcome CreateInitialState(MachineState state, IStepEventSink? events)
    {
        _state = state;
        _events = events;
        InitialPhase = "the init blocks";
        LastViolation = null;
        _chooser = null;
        var platform = _program.Platform;
        _operandsOwner = -1;
        state.Clear();
        for (var i = 0; i < _program.Lines.Count; i++)
        {
            var line = _program.Lines[i];
            state.Lines[i] = new LineState
            {
                Value = BuiltinValues.OldContent,
                Key = line.InitialKey,
                Flags = IsTdxKey(line.InitialKey) ? LineFlags.TdOwned : LineFlags.None,
                ClobberedBy = -1,
                ClobberedThrough = -1,
            };
        }
        foreach (var variable in _program.Variables)
        {
            var instances = variable.IsPercpu ? Layout.Cpus : 1;
            for (var c = 0; c < instances; c++)
            {
                var slot = Layout.VariableSlot(variable.Id, c);
                if (variable.IsMask)
                {
                    if (variable.InitialValue != 0)
                    {
                        FillAllCpus(state.Variables.Slice(slot, Layout.CpumaskWords));
                    }
                }
                else
                {
                    state.Variables[slot] = variable.InitialValue;
                }
            }
        }
        state.Budgets[0] = state.Budgets[1] = state.Budgets[2] = 0;
        foreach (var fault in _program.Faults)
        {
            state.Budgets[(int)fault.Fault] = fault.Budget;
        }
        state.Finished = false;
        state.PoweredOff = false;
        state.SnpInitialized = platform.SnpGuests > 0 || (Layout.HasFeature(PlatformFeatures.SevSnp) && !Layout.InGuest);
        state.NeedsDfFlush = false;
        state.NeedsWbinvd.Clear();
        for (var g = 1; g < state.GuestStates.Length; g++)
        {
            state.GuestStates[g] = MachineState.GuestActive;
        }
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            var cpu = state.Cpus[c];
            cpu.Mode = CpuMode.Halted;
            cpu.Flags = CpuFlags.None;
            cpu.PendingVectors = 0;
            cpu.MonitorLine = -1;
            cpu.KernelKey = Layout.OldKernelKey;
            cpu.GuestAsid = 0;
            cpu.ClearStack();
        }

        // init runs atomically on CPU 0, then each 'init cpu' block on its CPUs in id order.
        if (_program.InitFunction >= 0 && RunAtomically(0, _program.InitFunction) == Outcome.Violation)
        {
            return Outcome.Violation;
        }
        foreach (var block in _program.InitCpus)
        {
            foreach (var c in block.Cpus)
            {
                if (RunAtomically(c, block.Function) == Outcome.Violation)
                {
                    return Outcome.Violation;
                }
            }
        }

        for (var c = 0; c < state.Cpus.Length; c++)
        {
            var entry = _program.Entries[c];
            if (entry is null)
            {
                continue;
            }
            Select(c);
            InitialPhase = $"CPU {c}'s first local steps, before its first visible action";
            _cpu.Mode = CpuMode.Running;
            PushFrame(entry.Function, FrameKind.Entry, savedInterrupts: false);
            for (var i = 0; i < entry.Arguments.Length; i++)
            {
                _cpu.Frame(_cpu.TopBase + FrameHeaderWords + i) = entry.Arguments[i];
            }
            _localBudget = MaxLocalInstructions;
            if (Normalize() == Outcome.Violation)
            {
                return Outcome.Violation;
            }
        }
        _events = null;
        return Outcome.Ok;
    }

    /// <summary>After <see cref="CreateInitial"/> failed: where, in words ("the init blocks", "CPU 1's first local steps, …").</summary>
    public string InitialPhase { get; private set; } = "the init blocks";

    /// <summary>Whether the CPU's next step starts at a loop's back-edge (a step of its own when the loop
    /// body has no visible action).</summary>
    public bool AtBackEdge(MachineState state, int cpu)
    {
        var c = state.Cpus[cpu];
        if (c.Depth == 0)
        {
            return false;
        }
        var code = _functions[c.Function].Code;
        return c.Pc < code.Length && code[c.Pc].IsBackEdge;
    }

    private void FillAllCpus(Span<long> mask)
    {
        mask.Clear();
        for (var c = 0; c < Layout.Cpus; c++)
        {
            mask[c >> 6] |= 1L << (c & 63);
        }
    }

    /// <summary>Runs a scenario block to its end as one atomic action on a CPU, leaving that CPU as it was.</summary>
    private Outcome RunAtomically(int cpuId, int function)
    {
        Select(cpuId);
        FlushOperands();
        var saved = _state.SaveCpu(cpuId);
        _cpu.ClearStack();
        LoadOperands(_state, cpuId);
        _cpu.Mode = CpuMode.Running;
        PushFrame(function, FrameKind.Entry, savedInterrupts: false);
        _atomicDepth = 1;
        _localBudget = MaxLocalInstructions;
        var outcome = RunToCompletion();
        _atomicDepth = 0;
        if (outcome == Outcome.Violation)
        {
            return outcome;
        }
        // Keep what the block did to this CPU's monitor, interrupt flag and virtualization state.
        var flags = _cpu.Flags;
        var monitor = _cpu.MonitorLine;
        FlushOperands();
        _state.RestoreCpu(cpuId, saved);
        _cpu.Flags = flags;
        _cpu.MonitorLine = monitor;
        return Outcome.Ok;
    }

    /// <summary>Executes the selected CPU's code until its bottom frame returns (init and final blocks).</summary>
    private Outcome RunToCompletion()
    {
        while (_cpu.Depth > 0)
        {
            var status = Execute(_functions[_cpu.Function].Code[_cpu.Pc]);
            switch (status)
            {
                case Status.Continue:
                    continue;
                case Status.Violation:
                    return Outcome.Violation;
                case Status.NeedChoice:
                    // Scenario blocks are deterministic: a choice takes its first option.
                    return Fail(ViolationCode.ModelError, ViolationReason.ChoiceInInitOrFinal);
                case Status.Disabled:
                    return Fail(ViolationCode.ModelError, ViolationReason.WaitInInitOrFinal);
                case Status.Stopped:
                    if (_cpu.Mode == CpuMode.InWbinvd)
                    {
                        // Atomic: the whole flush happens at once.
                        var cache = _state.Caches[Layout.CacheOf(_cpuId)];
                        while (FirstDirty(cache) is var index and >= 0)
                        {
                            WriteBack(cache, index, drop: false);
                        }
                        if (FinishWbinvd() == Outcome.Violation)
                        {
                            return Outcome.Violation;
                        }
                        continue;
                    }
                    if (_cpu.Mode is CpuMode.Halted or CpuMode.Mwait)
                    {
                        return Fail(ViolationCode.ModelError, ViolationReason.HaltInInitOrFinal);
                    }
                    return Outcome.Ok;
            }
        }
        return Outcome.Ok;
    }

    private static int FirstDirty(Cache cache)
    {
        for (var i = 0; i < cache.Count; i++)
        {
            if (cache.DirtyAt(i))
            {
                return i;
            }
        }
        return -1;
    }

    private static bool IsTdxKey(long key) => (key & ~BuiltinValues.KeyIndexMask) == BuiltinValues.TdxKeyBase;
}
