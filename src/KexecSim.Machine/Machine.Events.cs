using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The local APIC and events (SEMANTICS.md section 4): sending IPIs, NMIs and INIT, deliverability (written once, asked by the transitions, the VMEXIT and the reports), delivery into handlers, waking from HLT and MWAIT, stray faults.</summary>
public sealed partial class Machine
{
    private void SendVector(int target, long vector)
    {
        var cpu = _state.Cpus[target];
        if (cpu.Has(CpuFlags.NextKernel))
        {
            return; // the next kernel has reset its APIC
        }
        var index = Layout.VectorIndex(vector);
        _events?.Add(new EventSent(_cpuId, target, SentEvent.Vector, index));
        Timing?.Sent(_cpuId, target, SentEvent.Vector, index);
        cpu.PendingVectors |= 1UL << index;
        if (_marks is not null)
        {
            _marks.VectorsSent |= 1UL << index;
        }
    }

    private void SendLatch(int target, CpuFlags latch)
    {
        var cpu = _state.Cpus[target];
        if (!cpu.Has(CpuFlags.NextKernel))
        {
            _events?.Add(new EventSent(_cpuId, target, SentEvent.Nmi));
            Timing?.Sent(_cpuId, target, SentEvent.Nmi, -1);
            cpu.Flags |= latch;
            MarkRaised(latch);
        }
    }

    /// <summary>INIT is held in VMX root operation, while GIF = 0, and while the target is in WBINVD
    /// (no event is delivered during WBINVD: the flush completes first).</summary>
    private static bool InitBlocked(CpuState cpu) => cpu.Has(CpuFlags.VmxRoot) || cpu.Has(CpuFlags.GifClear) || cpu.Mode == CpuMode.InWbinvd;

    private static InitBlocker InitBlockedBy(CpuState cpu) =>
        cpu.Has(CpuFlags.VmxRoot) ? InitBlocker.VmxRoot : cpu.Has(CpuFlags.GifClear) ? InitBlocker.GifClear : InitBlocker.Wbinvd;

    /// <summary>send_init: an unblocked INIT takes effect in this very step; a blocked one stays pending.</summary>
    private Status SendInit(int target, DebugSpan? at)
    {
        var cpu = _state.Cpus[target];
        if (cpu.Has(CpuFlags.NextKernel))
        {
            return Status.Continue;
        }
        _events?.Add(new EventSent(_cpuId, target, SentEvent.Init));
        Timing?.Sent(_cpuId, target, SentEvent.Init, -1);
        if (InitBlocked(cpu))
        {
            cpu.Flags |= CpuFlags.PendingInit;
            _events?.Add(new InitHeldPending(_cpuId, target, InitBlockedBy(cpu)));
            return Status.Continue;
        }
        return ApplyInit(target, at);
    }

    /// <summary>vmxoff, stgi or the end of a WBINVD: a pending INIT takes effect now.</summary>
    private Status ReleaseInit()
    {
        if (_cpu.Has(CpuFlags.PendingInit) && !InitBlocked(_cpu))
        {
            return ApplyInit(_cpuId);
        }
        return Status.Continue;
    }

    private Status ApplyInit(int target, DebugSpan? at = null)
    {
        if (target == _program.Platform.Bsp)
        {
            Fail(new Violation(ViolationCode.PlatformReset, ViolationReason.InitReachedBootCpu, _cpuId, at) { Other = target });
            return Status.Violation;
        }
        var cpu = _state.Cpus[target];
        cpu.Flags &= ~(CpuFlags.PendingInit | CpuFlags.MonitorArmed | CpuFlags.MonitorTriggered | CpuFlags.NmiBlocked | CpuFlags.InMce | CpuFlags.InterruptsEnabled);
        ClearStack(cpu);
        cpu.MonitorLine = -1;
        cpu.GuestAsid = 0;
        cpu.Mode = CpuMode.WaitForSipi;
        _events?.Add(new InitApplied(_cpuId, target));
        return target == _cpuId ? Status.Stopped : Status.Continue;
    }

    /// <summary>Whether the pending maskable vectors can be taken now: IF = 1, GIF = 1, and the CPU runs,
    /// halts or sleeps in MWAIT (SEMANTICS.md section 4).</summary>
    private static bool VectorsDeliverable(CpuState cpu) =>
        cpu.PendingVectors != 0 && cpu.Has(CpuFlags.InterruptsEnabled) && !cpu.Has(CpuFlags.GifClear)
        && cpu.Mode is CpuMode.Running or CpuMode.Halted or CpuMode.Mwait;

    /// <summary>Whether a pending non-maskable event can be taken now (SEMANTICS.md section 4; GIF = 0,
    /// AMD APM vol. 2 "Global Interrupt Flag", holds NMI and SMI but not a machine check). The one
    /// statement of deliverability: the transitions, the VMEXIT and the reports all ask here.</summary>
    private static bool Deliverable(CpuState cpu, EventKind kind) => kind switch
    {
        EventKind.Nmi => cpu.Has(CpuFlags.PendingNmi) && !cpu.Has(CpuFlags.NmiBlocked) && !cpu.Has(CpuFlags.GifClear) && cpu.Mode is not (CpuMode.WaitForSipi or CpuMode.InWbinvd),
        EventKind.Smi => cpu.Has(CpuFlags.PendingSmi) && !cpu.Has(CpuFlags.GifClear) && cpu.Mode is not (CpuMode.WaitForSipi or CpuMode.InWbinvd),
        EventKind.Mce => cpu.Has(CpuFlags.PendingMce) && cpu.Mode != CpuMode.InWbinvd,
        _ => false,
    };

    private static bool HasPendingEvent(CpuState cpu) =>
        cpu.PendingVectors != 0 || (cpu.Flags & (CpuFlags.PendingNmi | CpuFlags.PendingSmi | CpuFlags.PendingMce | CpuFlags.PendingInit)) != 0;

    private void AddDeliveries(MachineState state, int c, List<Transition> transitions)
    {
        var cpu = state.Cpus[c];
        // PERF: most CPUs have nothing pending; one read of the flags says so (a simulation at 192 CPUs lists
        // every CPU's transitions at every step).
        if (cpu.PendingVectors == 0 && (cpu.Flags & (CpuFlags.PendingNmi | CpuFlags.PendingSmi | CpuFlags.PendingMce)) == 0)
        {
            return;
        }
        if (cpu.GuestAsid != 0 || cpu.Mode == CpuMode.Finished)
        {
            return;
        }
        if (VectorsDeliverable(cpu))
        {
            var pending = cpu.PendingVectors;
            while (pending != 0)
            {
                var index = System.Numerics.BitOperations.TrailingZeroCount(pending);
                pending &= pending - 1;
                transitions.Add(new Transition(TransitionKind.Deliver, c, (int)EventKind.Vector, index));
            }
        }
        foreach (var kind in NonMaskableOrder)
        {
            if (Deliverable(cpu, kind))
            {
                transitions.Add(new Transition(TransitionKind.Deliver, c, (int)kind, 0));
            }
        }
    }

    // PERF: static arrays (a collection expression of enums is an array allocated per call).
    private static readonly EventKind[] NonMaskableOrder = [EventKind.Nmi, EventKind.Smi, EventKind.Mce];
    private static readonly EventKind[] VmexitOrder = [EventKind.Mce, EventKind.Smi, EventKind.Nmi];

    private void AddInjections(MachineState state, List<Transition> transitions)
    {
        foreach (var fault in Layout.Faults)
        {
            if (state.Budget((int)fault.Fault) <= 0)
            {
                continue;
            }
            var kind = EventOf(fault.Fault);
            var latch = Latch(kind);
            foreach (var c in fault.Cpus)
            {
                var cpu = state.Cpus[c];
                if (!cpu.Has(latch) && !cpu.Has(CpuFlags.NextKernel) && cpu.Mode != CpuMode.Finished)
                {
                    transitions.Add(new Transition(TransitionKind.Inject, c, (int)kind, 0));
                }
            }
        }
    }

    internal static EventKind EventOf(FaultKind fault) => fault switch
    {
        FaultKind.Nmi => EventKind.Nmi,
        FaultKind.Smi => EventKind.Smi,
        _ => EventKind.Mce,
    };

    private void MarkRaised(CpuFlags latch)
    {
        if (_marks is not null)
        {
            var kind = latch switch { CpuFlags.PendingNmi => EventKind.Nmi, CpuFlags.PendingSmi => EventKind.Smi, _ => EventKind.Mce };
            _marks.EventsRaised |= 1 << (int)kind;
        }
    }

    private static CpuFlags Latch(EventKind kind) => kind switch
    {
        EventKind.Nmi => CpuFlags.PendingNmi,
        EventKind.Smi => CpuFlags.PendingSmi,
        _ => CpuFlags.PendingMce,
    };

    private Outcome Inject(EventKind kind)
    {
        var budget = (int)(kind switch { EventKind.Nmi => FaultKind.Nmi, EventKind.Smi => FaultKind.Smi, _ => FaultKind.Mce });
        _state.SetBudget(budget, _state.Budget(budget) - 1);
        _cpu.Flags |= Latch(kind);
        MarkRaised(Latch(kind));
        return Outcome.Ok;
    }

    /// <summary>A CPU takes a pending event: a handler frame is pushed (or firmware handles it), a waiting CPU wakes.</summary>
    private Outcome Deliver(EventKind kind, int vectorIndex)
    {
        var wasWaiting = _cpu.Mode is CpuMode.Halted or CpuMode.Mwait;
        switch (kind)
        {
            case EventKind.Vector:
                {
                    _cpu.PendingVectors &= ~(1UL << vectorIndex);
                    Wake();
                    var handler = vectorIndex < Layout.VectorHandlerByIndex.Length ? Layout.VectorHandlerByIndex[vectorIndex] : -1;
                    if (handler < 0)
                    {
                        return Resumed(wasWaiting);
                    }
                    var interrupts = _cpu.Has(CpuFlags.InterruptsEnabled);
                    PushFrame(handler, FrameKind.VectorHandler, interrupts);
                    SavePendingFetches();
                    _cpu.Set(CpuFlags.InterruptsEnabled, false);
                    return EnterHandler();
                }
            case EventKind.Nmi:
                _cpu.Flags &= ~CpuFlags.PendingNmi;
                Wake();
                if (_program.NmiHandler < 0)
                {
                    return Resumed(wasWaiting);
                }
                PushFrame(_program.NmiHandler, FrameKind.NmiHandler, _cpu.Has(CpuFlags.InterruptsEnabled));
                SavePendingFetches();
                _cpu.Set(CpuFlags.NmiBlocked, true);
                return EnterHandler();
            case EventKind.Smi:
                _cpu.Flags &= ~CpuFlags.PendingSmi;
                Wake();
                // Firmware handles it in one step; the CPU resumes from SMM and fetches its code again.
                if (_cpu.Depth == 0)
                {
                    _cpu.Mode = CpuMode.Halted;
                    return Outcome.Ok;
                }
                if (FetchViolation(CodeLine()) is { } violation)
                {
                    return violation;
                }
                return Normalize();
            default:
                _cpu.Flags &= ~CpuFlags.PendingMce;
                if (_cpu.Mode == CpuMode.WaitForSipi)
                {
                    return Fail(ViolationCode.MachineCheck, ViolationReason.MachineCheckInWaitForSipi);
                }
                if (_cpu.Has(CpuFlags.InMce))
                {
                    return Fail(ViolationCode.TripleFault, ViolationReason.MachineCheckInHandler);
                }
                if (_program.MceHandler < 0)
                {
                    return Fail(ViolationCode.MachineCheck, ViolationReason.MachineCheckUnhandled);
                }
                Wake();
                PushFrame(_program.MceHandler, FrameKind.MceHandler, _cpu.Has(CpuFlags.InterruptsEnabled));
                SavePendingFetches();
                _cpu.Set(CpuFlags.InMce, true);
                return EnterHandler();
        }
    }

    private void Wake()
    {
        if (_cpu.Mode is CpuMode.Halted or CpuMode.Mwait)
        {
            if (_cpu.Mode == CpuMode.Mwait)
            {
                _cpu.Set(CpuFlags.MonitorArmed | CpuFlags.MonitorTriggered, false);
                _cpu.MonitorLine = -1;
            }
            _cpu.Mode = CpuMode.Running;
        }
    }

    /// <summary>An event without a handler woke the CPU: it resumes after hlt()/mwait(), fetching its line at its next step.</summary>
    private Outcome Resumed(bool wasWaiting)
    {
        if (_cpu.Depth == 0)
        {
            _cpu.Mode = CpuMode.Halted;
            return Outcome.Ok;
        }
        if (wasWaiting)
        {
            Fetch(CodeLine(), now: false);
        }
        return Normalize();
    }

    /// <summary>The handler's entry fetches its code line now.</summary>
    private Outcome EnterHandler()
    {
        if (FetchViolation(CodeLine()) is { } violation)
        {
            return violation;
        }
        return Normalize();
    }



}
