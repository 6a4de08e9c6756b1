using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The end of a run (SEMANTICS.md section 8) and the end-of-run half of CORRUPTION (section 5).</summary>
public sealed partial class Machine
{
    private MachineState? _scratch;

    /// <summary>
    /// CORRUPTION that can no longer be undone: the run has finished, no next-kernel CPU can write
    /// again, and a line the image copy or the next kernel wrote holds something else in memory while
    /// no cache holds a dirty copy of it under any key. Checked on every state.
    /// </summary>
    public Violation? CheckSettled(MachineState state)
    {
        if (!state.Finished)
        {
            return null;
        }
        if (CheckCorruption(state) is { } corruption)
        {
            return corruption;
        }
        // SEMANTICS.md section 8: final is checked wherever nothing it observes can change any more,
        // not only in terminal states (a CPU spinning forever after done() must not hide it).
        return _program.FinalFunction >= 0 && FinalSettled(state) ? RunFinal(state) : null;
    }

    /// <summary>How many times the final block was evaluated (settled and terminal states).</summary>
    public long FinalEvaluations { get; private set; }

    /// <summary>A resumed search (docs/checkpoint.md): what this machine's counters were when its search was
    /// saved, so that what a result reports from them (<c>final</c> evaluated, a merged <c>hlt()</c>) is the
    /// uninterrupted search's.</summary>
    public void RestoreRunCounters(long finalEvaluations, bool mergedAHalt)
    {
        FinalEvaluations = finalEvaluations;
        MergedAHalt = mergedAHalt;
    }

    private Violation? CheckCorruption(MachineState state)
    {
        foreach (var cpu in state.Cpus)
        {
            if (cpu.Has(CpuFlags.NextKernel) && cpu.Mode is CpuMode.Running or CpuMode.InWbinvd)
            {
                return null;
            }
        }
        for (var i = 0; i < state.Lines.Length; i++)
        {
            ref var line = ref state.Lines[i];
            if ((line.Flags & LineFlags.NewWritten) == 0 || (line.Value == line.NewValue && line.Key == line.NewKey && (line.Flags & LineFlags.Poisoned) == 0))
            {
                continue;
            }
            if (HasDirtyCopy(state, i))
            {
                continue;
            }
            return new Violation(ViolationCode.Corruption, ViolationReason.StaleAtEnd, -1, null)
            {
                Line = i, Value = line.Value, Key = line.Key, Flag = (line.Flags & LineFlags.Poisoned) != 0, ExpectedValue = line.NewValue, ExpectedKey = line.NewKey,
            };
        }
        return null;
    }

    private static bool HasDirtyCopy(MachineState state, int line)
    {
        for (var i = state.NextCacheHolding(line, 0); i >= 0; i = state.NextCacheHolding(line, i + 1))
        {
            foreach (var entry in state.Caches[i])
            {
                if (entry.Dirty && entry.Line == line)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>A state with no transition left: a hang unless the run finished; then the final block.</summary>
    public Violation? CheckTerminal(MachineState state)
    {
        if (!state.Finished)
        {
            return new Violation(ViolationCode.Deadlock, ViolationReason.NoCpuCanMove, -1, null) { Cpus = Situations(state) };
        }
        if (CheckCorruption(state) is { } corruption)
        {
            return corruption;
        }
        return _program.FinalFunction < 0 ? null : RunFinal(state);
    }

    /// <summary>
    /// Whether nothing the final block observes can change any more in a finished run: no dirty line
    /// in any cache, no CPU in WBINVD, and every CPU that could still run code continues quietly
    /// (<see cref="QuietCode"/>), takes no event whose handler could act, and is not woken into code
    /// that could act.
    /// </summary>
    private bool FinalSettled(MachineState state)
    {
        foreach (var cache in state.Caches)
        {
            foreach (var entry in cache)
            {
                if (entry.Dirty)
                {
                    return false;
                }
            }
        }
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            var cpu = state.Cpus[c];
            switch (cpu.Mode)
            {
                case CpuMode.Finished:
                case CpuMode.WaitForSipi:
                    continue;
                case CpuMode.InWbinvd:
                    return false;
                case CpuMode.Running:
                    if (!ContinuesQuietly(cpu) || EventMayAct(state, c))
                    {
                        return false;
                    }
                    break;
                default: // halted or in MWAIT: only an event wakes it
                    if (EventMayAct(state, c) || (!ContinuesQuietly(cpu) && EventMayCome(state, c)))
                    {
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    private bool ContinuesQuietly(CpuState cpu)
    {
        for (var depth = 0; depth < cpu.Depth; depth++)
        {
            var at = cpu.FrameBase(depth);
            var function = (int)(cpu.Frame(at) & 0xFFFF_FFFF);
            if (!_quiet.QuietFrom(function, (int)cpu.Frame(at + 1)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>An event is pending for the CPU, or a stray fault may still be injected into it.</summary>
    private bool EventMayCome(MachineState state, int c) => HasPendingEvent(state.Cpus[c]) || FaultMayHit(state, c);

    /// <summary>A stray fault (of <paramref name="kind"/>, or any) is still within budget for CPU <paramref name="c"/>.</summary>
    private bool FaultMayHit(MachineState state, int c, FaultKind? kind = null)
    {
        foreach (var fault in Layout.Faults)
        {
            if ((kind is null || fault.Fault == kind) && state.Budget((int)fault.Fault) > 0 && Array.IndexOf(fault.Cpus, c) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>An event that is pending or may be injected would run a handler that acts.</summary>
    private bool EventMayAct(MachineState state, int c)
    {
        var cpu = state.Cpus[c];
        if (cpu.Has(CpuFlags.NextKernel))
        {
            return false; // events for it are discarded
        }
        var pending = cpu.PendingVectors;
        while (pending != 0)
        {
            var index = System.Numerics.BitOperations.TrailingZeroCount(pending);
            pending &= pending - 1;
            if (index < Layout.VectorHandlerByIndex.Length && Acts(Layout.VectorHandlerByIndex[index]))
            {
                return true;
            }
        }
        return (Acts(_program.NmiHandler) && (cpu.Has(CpuFlags.PendingNmi) || FaultMayHit(state, c, FaultKind.Nmi)))
            || (Acts(_program.MceHandler) && (cpu.Has(CpuFlags.PendingMce) || FaultMayHit(state, c, FaultKind.Mce)));
    }

    /// <summary>A declared handler whose code is not quiet.</summary>
    private bool Acts(int handler) => handler >= 0 && !_quiet.QuietFrom(handler, 0);

    private Violation? RunFinal(MachineState state)
    {
        FinalEvaluations++;
        _scratch ??= NewState();
        _scratch.CopyFrom(state);
        // The final block observes the machine: memory and dirty lines, not a CPU's stale clean copies.
        foreach (var cache in _scratch.Caches)
        {
            cache.RemoveClean();
        }
        _state = _scratch;
        _events = null;
        _chooser = null;
        LastViolation = null;
        var outcome = RunAtomically(0, _program.FinalFunction);
        FlushOperands();
        return outcome == Outcome.Violation ? LastViolation : null;
    }

    /// <summary>Where every CPU is and what it holds pending: for deadlock reports.</summary>
    public IReadOnlyList<CpuSituation> Situations(MachineState state)
    {
        var situations = new CpuSituation[state.Cpus.Length];
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            var cpu = state.Cpus[c];
            situations[c] = new CpuSituation(c, cpu.Mode, cpu.GuestAsid, LocationOf(state, c), cpu.PendingVectors, cpu.Flags,
                cpu.Has(CpuFlags.PendingInit) && InitBlocked(cpu) ? InitBlockedBy(cpu) : null);
        }
        return situations;
    }
}
