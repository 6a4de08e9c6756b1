using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The initial state (SEMANTICS.md section 1) and the scenario blocks run atomically on one CPU (init, init cpu, final).</summary>
public sealed partial class Machine
{
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
            var line = _lines[i];
            state.Lines[i] = new LineState
            {
                Value = BuiltinValues.OldContent,
                Key = line.InitialKey,
                Flags = TdxOwnerMark(line.InitialKey),
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
        foreach (var fault in _program.Faults)
        {
            state.SetBudget((int)fault.Fault, fault.Budget);
        }
        state.Finished = false;
        state.PoweredOff = false;
        state.SnpInitialized = platform.SnpGuests > 0 || (Layout.HasFeature(PlatformFeatures.SevSnp) && !Layout.InGuest);
        state.NeedsDfFlush = false;
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

    private void FillAllCpus(Span<long> mask)
    {
        mask.Clear();
        for (var c = 0; c < Layout.Cpus; c++)
        {
            mask[c >> 6] |= 1L << (c & 63);
        }
    }

    // The CPU a scenario block borrows, saved while the block runs (PERF: reused, so that evaluating
    // final on a settled state allocates nothing).
    private long[] _savedCpu = new long[64];

    /// <summary>Runs a scenario block to its end as one atomic action on a CPU, leaving that CPU as it was.</summary>
    private Outcome RunAtomically(int cpuId, int function)
    {
        Select(cpuId);
        FlushOperands();
        var savedLength = _state.SaveCpu(cpuId, ref _savedCpu);
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
        _state.RestoreCpu(cpuId, _savedCpu, savedLength);
        _cpu.Flags = flags;
        _cpu.MonitorLine = monitor;
        return Outcome.Ok;
    }

    /// <summary>Executes the selected CPU's code until its bottom frame returns (init and final blocks).</summary>
    private Outcome RunToCompletion()
    {
        while (_cpu.Depth > 0)
        {
            var status = Execute(_code[_pc]);
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
                        if (FlushAtOnce() == Outcome.Violation)
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
}
