using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// Memory (SEMANTICS.md section 3) and clobbering (section 5): every write to a line, the monitors it
/// triggers, loads and stores with a key, partial and direct writes, poison, CORRUPTION on a read by
/// the next kernel, variables and their home lines, cpumask and atomic places. The caches in front of
/// memory are in Machine.Caches.cs.
/// </summary>
public sealed partial class Machine
{
    // ───────────────────────────── Writes: clobbering, monitors ─────────────────────────────

    /// <summary>
    /// Every write to a line (store, partial, direct, variable, device) passes here: it may clobber the
    /// line (through another region's name, or from the next kernel), and it triggers monitors.
    /// </summary>
    private Status NoteWrite(int lineIndex, int throughRegion, long key, long value, bool byDevice)
    {
        ref var line = ref _state.Lines[lineIndex];
        var home = _lines[lineIndex].HomeRegion;
        // A device write issued by next-kernel code (its DMA) is the next kernel's as much as a store.
        var fromNextKernel = _cpu.Has(CpuFlags.NextKernel);
        var foreign = throughRegion >= 0 && throughRegion != home;
        if (foreign || fromNextKernel)
        {
            line.Flags |= LineFlags.Clobbered | LineFlags.NewWritten;
            line.NewValue = value;
            line.NewKey = key;
            _state.SetClobberer(lineIndex, byDevice ? -1 : _cpuId, foreign ? throughRegion : -1);
        }
        return TriggerMonitors(lineIndex);
    }

    /// <summary>A write to a monitored line wakes a CPU in MWAIT, or makes its next mwait() return.</summary>
    private Status TriggerMonitors(int lineIndex)
    {
        var cpus = _state.Cpus;
        for (var c = _state.NextCpuMonitoring(lineIndex, 0); c >= 0; c = _state.NextCpuMonitoring(lineIndex, c + 1))
        {
            var cpu = cpus[c];
            if (!cpu.Has(CpuFlags.MonitorArmed) || cpu.MonitorLine != lineIndex)
            {
                continue;
            }
            if (cpu.Mode == CpuMode.Mwait)
            {
                cpu.Mode = CpuMode.Running;
                Timing?.MwaitWoken(c);
                cpu.Set(CpuFlags.MonitorArmed | CpuFlags.MonitorTriggered, false);
                cpu.MonitorLine = -1;
                // It resumes after mwait(): that is a fetch of its code line, at its next step.
                if (cpu.Depth > 0)
                {
                    var line = _functions[cpu.Function].HomeLine(c);
                    cpu.AddPendingFetch(line);
                }
                if (c != _cpuId && NormalizeOther(c) == Outcome.Violation)
                {
                    return Status.Violation;
                }
            }
            else
            {
                cpu.Set(CpuFlags.MonitorTriggered, true);
            }
        }
        return Status.Continue;
    }

    // ───────────────────────────── Intrinsics on lines ─────────────────────────────

    private bool DecodeLine(long value, out int line, out int region)
    {
        line = (int)(value & 0xFFFF_FFFF);
        region = (int)(value >> 32);
        if (line >= 0 && line < _state.Lines.Length && region >= 0 && region < _program.Regions.Count)
        {
            return true;
        }
        Fail(ViolationCode.ModelError, ViolationReason.NotALine);
        return false;
    }

    /// <summary>load(l, k): SEMANTICS.md section 3, then the next kernel's CORRUPTION check (section 5).</summary>
    private Status Load(long lineValue, long key, out long value)
    {
        value = 0;
        if (!DecodeLine(lineValue, out var line, out _))
        {
            return Status.Violation;
        }
        value = CacheRead(line, key, out var poisoned);
        if (poisoned)
        {
            _events?.Add(new LineAccessed(_cpuId, LineAccess.Load, line, key, BuiltinValues.Garbage));
            return ConsumePoison(line, out value);
        }
        _events?.Add(new LineAccessed(_cpuId, LineAccess.Load, line, key, value));
        ref var state = ref _state.Lines[line];
        if (_cpu.Has(CpuFlags.NextKernel) && (state.Flags & LineFlags.NewWritten) != 0 && value != state.NewValue)
        {
            Fail(new Violation(ViolationCode.Corruption, ViolationReason.StaleRead, _cpuId, null)
            {
                Line = line, Value = value, Key = key, ExpectedValue = state.NewValue, ExpectedKey = state.NewKey,
            });
            return Status.Violation;
        }
        return Status.Continue;
    }

    /// <summary>Reading a poisoned line raises a machine check on the reader.</summary>
    private Status ConsumePoison(int line, out long value)
    {
        value = BuiltinValues.Garbage;
        if (_program.MceHandler < 0 || _cpu.Has(CpuFlags.InMce))
        {
            var code = _cpu.Has(CpuFlags.InMce) ? ViolationCode.TripleFault : ViolationCode.MachineCheck;
            Fail(new Violation(code, ViolationReason.PoisonRead, _cpuId, null) { Line = line });
            return Status.Violation;
        }
        // The handler runs; when it returns, the load has yielded GARBAGE.
        Push(value);
        _pc++;
        PushFrame(_program.MceHandler, FrameKind.MceHandler, _cpu.Has(CpuFlags.InterruptsEnabled));
        SavePendingFetches();
        _cpu.Set(CpuFlags.InMce, true);
        _loadHandled = true;
        return Fetch(CodeLine(), now: true);
    }

    /// <summary>Set when a load was completed by the machine-check path (result pushed, pc advanced).</summary>
    private bool _loadHandled;

    private Status StoreLine(int line, int region, long key, long value)
    {
        // The stack line a call or return writes is not the model's own store: it is not reported as one.
        if (_events is not null && region != _program.StackRegion)
        {
            _events.Add(Written(LineAccess.Store, line, key, value));
        }
        CacheStore(line, key, value);
        return NoteWrite(line, region, key, value, byDevice: false);
    }

    /// <summary>The event of a write to (line, key), with the value a load would have seen just before it (old → new).</summary>
    private LineAccessed Written(LineAccess access, int line, long key, long value)
    {
        var old = PeekRead(line, key, out var poisoned);
        return new LineAccessed(_cpuId, access, line, key, value, old, poisoned);
    }

    /// <summary>movnti / dma_write: a partial write straight to memory (the TDX_PW_MCE erratum poisons).</summary>
    private Status PartialWrite(long lineValue, long key, long value, bool byDevice)
    {
        if (!DecodeLine(lineValue, out var line, out var region))
        {
            return Status.Violation;
        }
        // The old value is what a load saw before the flush (its write-back is an event of its own, reported first).
        var written = _events is null ? null : Written(byDevice ? LineAccess.Dma : LineAccess.Movnti, line, key, value);
        FlushEverywhere(CacheEntry.MakeTag(line, key), writeBack: true);
        if (written is not null)
        {
            _events!.Add(written);
        }
        ref var state = ref _state.Lines[line];
        if (TdxPartialWritePoisons(state, key))
        {
            state.Flags |= LineFlags.Poisoned;
            state.Value = BuiltinValues.Garbage;
        }
        else
        {
            state.Value = value;
            state.Key = key;
            state.Flags = (state.Flags & ~(LineFlags.Poisoned | LineFlags.TdOwned)) | TdxOwnerMark(key);
        }
        return NoteWrite(line, region, key, value, byDevice);
    }

    /// <summary>movdir64b: a direct full-line store.</summary>
    private Status DirectStore(long lineValue, long key, long value)
    {
        if (!DecodeLine(lineValue, out var line, out var region))
        {
            return Status.Violation;
        }
        var written = _events is null ? null : Written(LineAccess.Movdir64b, line, key, value);
        FlushEverywhere(CacheEntry.MakeTag(line, key), writeBack: false);
        if (written is not null)
        {
            _events!.Add(written);
        }
        ref var state = ref _state.Lines[line];
        state.Value = value;
        state.Key = key;
        state.Flags = (state.Flags & ~(LineFlags.Poisoned | LineFlags.TdOwned)) | TdxOwnerMark(key);
        return NoteWrite(line, region, key, value, byDevice: false);
    }

    // ───────────────────────────── Variables ─────────────────────────────

    /// <summary>The clobber check of a variable access by an old-kernel CPU.</summary>
    private Status CheckVariableLine(int variable, int cpu, out int line)
    {
        line = _variables[variable].HomeLine(cpu);
        if (_cpu.Has(CpuFlags.NextKernel) || (_state.Lines[line].Flags & LineFlags.Clobbered) == 0)
        {
            return Status.Continue;
        }
        var (by, through) = _state.Clobberer(line);
        Fail(new Violation(ViolationCode.DataClobbered, ViolationReason.UsedClobbered, _cpuId, null)
        {
            Line = line, Variable = variable, Number = cpu, Other = by, Region = through, NeedsMessageData = by == MachineState.UnknownClobberer,
        });
        return Status.Violation;
    }

    /// <summary>Whether the machine keeps <paramref name="line"/>'s cache state (<see cref="UntrackedLines"/>).</summary>
    private bool Tracked(int line) => _untracked is null || !_untracked[line];

    /// <summary>A variable read: the value everyone agrees on; the line is cached clean.</summary>
    private Status ReadVariable(int variable, int cpu, out long value)
    {
        value = 0;
        if (CheckVariableLine(variable, cpu, out var line) == Status.Violation)
        {
            return Status.Violation;
        }
        if (Tracked(line))
        {
            CacheRead(line, _cpu.KernelKey, out _);
        }
        value = _state.Variables[Layout.VariableSlot(variable, cpu)];
        if (_events is not null)
        {
            _events.Add(new VariableRead(_cpuId, variable, _variables[variable].IsPercpu ? cpu : 0, value,
                _variables[variable].IsMask ? _state.Variables.Slice(Layout.VariableSlot(variable, cpu), Layout.CpumaskWords).ToArray() : null));
        }
        return Status.Continue;
    }

    /// <summary>A variable write: the value for everyone at once, and a store of OLD_CONTENT to its line.</summary>
    private Status WriteVariable(int variable, int cpu, long value)
    {
        if (CheckVariableLine(variable, cpu, out var line) == Status.Violation)
        {
            return Status.Violation;
        }
        ref var slot = ref _state.Variables[Layout.VariableSlot(variable, cpu)];
        _events?.Add(new VariableWritten(_cpuId, variable, _variables[variable].IsPercpu ? cpu : 0, slot, value));
        slot = value;
        if (Tracked(line))
        {
            CacheStore(line, _cpu.KernelKey, BuiltinValues.OldContent);
        }
        return NoteWrite(line, -1, _cpu.KernelKey, BuiltinValues.OldContent, byDevice: false);
    }

    // ───────────────────────────── Places: cpumasks and atomics ─────────────────────────────

    private readonly long[] _allMask = new long[16];
    private readonly long[] _maskScratch = new long[16];

    /// <summary>The words of a place (a variable instance, a local, or cpu_all_mask) and the variable behind it.</summary>
    private Span<long> Resolve(long place, int words, out int variable, out int cpu)
    {
        variable = -1;
        cpu = 0;
        switch (PlaceRef.Kind(place))
        {
            case PlaceRef.GlobalKind:
                variable = PlaceRef.Index(place);
                cpu = PlaceRef.Cpu(place);
                return _state.Variables.Slice(Layout.VariableSlot(variable, cpu), words);
            case PlaceRef.LocalKind:
                {
                    var frame = _cpu.FrameBase(PlaceRef.FrameDepth(place));
                    return _cpu.FrameSpan(frame + FrameHeaderWords + PlaceRef.Index(place), words);
                }
            default:
                {
                    var all = _allMask.AsSpan(0, words);
                    FillAllCpus(all);
                    return all;
                }
        }
    }

    /// <summary>Reads a cpumask (a visible read when it lives in memory) into a scratch copy.</summary>
    private Status ReadMask(long place, out Span<long> mask)
    {
        var words = Layout.CpumaskWords;
        var source = Resolve(place, words, out var variable, out var cpu);
        mask = _maskScratch.AsSpan(0, words);
        source.CopyTo(mask);
        if (variable >= 0)
        {
            return ReadVariable(variable, cpu, out _);
        }
        return Status.Continue;
    }

    /// <summary>Writes a cpumask place (a visible write when it lives in memory).</summary>
    private Status WriteMask(long place, ReadOnlySpan<long> value)
    {
        var words = Layout.CpumaskWords;
        var target = Resolve(place, words, out var variable, out var cpu);
        if (variable >= 0)
        {
            if (CheckVariableLine(variable, cpu, out var line) == Status.Violation)
            {
                return Status.Violation;
            }
            if (_events is not null)
            {
                _events.Add(new VariableWritten(_cpuId, variable, _variables[variable].IsPercpu ? cpu : 0, target[0], value[0], target.ToArray(), value.ToArray()));
            }
            value.CopyTo(target);
            if (Tracked(line))
            {
                CacheStore(line, _cpu.KernelKey, BuiltinValues.OldContent);
            }
            return NoteWrite(line, -1, _cpu.KernelKey, BuiltinValues.OldContent, byDevice: false);
        }
        value.CopyTo(target);
        return Status.Continue;
    }

    private Status ReadScalarPlace(long place, out long value)
    {
        var source = Resolve(place, 1, out var variable, out var cpu);
        value = source[0];
        if (variable >= 0)
        {
            return ReadVariable(variable, cpu, out value);
        }
        return Status.Continue;
    }

    private Status WriteScalarPlace(long place, long value)
    {
        var target = Resolve(place, 1, out var variable, out var cpu);
        if (variable >= 0)
        {
            return WriteVariable(variable, cpu, value);
        }
        target[0] = value;
        return Status.Continue;
    }

    private int MonitorLineOf(long place)
    {
        Resolve(place, 1, out var variable, out var cpu);
        return variable >= 0 ? _variables[variable].HomeLine(cpu) : -1;
    }
}
