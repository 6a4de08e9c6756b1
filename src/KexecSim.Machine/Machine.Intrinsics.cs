using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The intrinsics of LANGUAGE.md section 5, with the semantics of SEMANTICS.md.</summary>
public sealed partial class Machine
{
    private long[] _arguments = new long[8];

    private ReadOnlySpan<long> PopArguments(int count)
    {
        if (count > _arguments.Length)
        {
            _arguments = new long[count];
        }
        for (var i = count - 1; i >= 0; i--)
        {
            _arguments[i] = Pop();
        }
        return _arguments.AsSpan(0, count);
    }

    private Status ExecuteIntrinsic(in Instruction instruction)
    {
        var id = (IntrinsicId)instruction.A;
        var args = PopArguments((int)instruction.B);
        switch (id)
        {
            // ── identity and features (local)
            case IntrinsicId.ThisCpu:
                return Result(_cpuId);
            case IntrinsicId.NrCpus:
                return Result(Layout.Cpus);
            case IntrinsicId.CpuHas:
                return Returned(id, args, Layout.FeaturePresent[(int)args[0]] ? 1 : 0);
            case IntrinsicId.CpuHasBug:
                return Returned(id, args, Layout.BugPresent[(int)args[0]] ? 1 : 0);
            case IntrinsicId.Cpuid:
                return Returned(id, args, Layout.Cpuid(args[0]));
            case IntrinsicId.KernelKey:
                return Returned(id, args, _cpu.KernelKey);
            case IntrinsicId.TdxKey:
                return Result(BuiltinValues.TdxKey(args[0]));
            case IntrinsicId.SevKey:
                return Result(BuiltinValues.SevKey(args[0]));

            // ── interrupts and CPU state
            case IntrinsicId.LocalIrqDisable:
                _cpu.Set(CpuFlags.InterruptsEnabled, false);
                return Done();
            case IntrinsicId.LocalIrqEnable:
                _cpu.Set(CpuFlags.InterruptsEnabled, true);
                return Done();
            case IntrinsicId.SendIpi:
                if (!ValidCpu((int)args[0]))
                {
                    return Status.Violation;
                }
                SendVector((int)args[0], args[1]);
                return Done();
            case IntrinsicId.SendIpiMask:
                {
                    var vector = args[1];
                    var status = ReadMask(args[0], out var mask);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    for (var c = 0; c < Layout.Cpus; c++)
                    {
                        if ((mask[c >> 6] & (1L << (c & 63))) != 0)
                        {
                            SendVector(c, vector);
                        }
                    }
                    return Done();
                }
            case IntrinsicId.SendIpiAllButSelf:
                for (var c = 0; c < Layout.Cpus; c++)
                {
                    if (c != _cpuId)
                    {
                        SendVector(c, args[0]);
                    }
                }
                return Done();
            case IntrinsicId.SendNmi:
                if (!ValidCpu((int)args[0]))
                {
                    return Status.Violation;
                }
                SendLatch((int)args[0], CpuFlags.PendingNmi);
                return Done();
            case IntrinsicId.SendNmiMask:
                {
                    var status = ReadMask(args[0], out var mask);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    for (var c = 0; c < Layout.Cpus; c++)
                    {
                        if ((mask[c >> 6] & (1L << (c & 63))) != 0)
                        {
                            SendLatch(c, CpuFlags.PendingNmi);
                        }
                    }
                    return Done();
                }
            case IntrinsicId.SendNmiAllButSelf:
                for (var c = 0; c < Layout.Cpus; c++)
                {
                    if (c != _cpuId)
                    {
                        SendLatch(c, CpuFlags.PendingNmi);
                    }
                }
                return Done();
            case IntrinsicId.SendInit:
                if (!ValidCpu((int)args[0]))
                {
                    return Status.Violation;
                }
                {
                    // A PLATFORM_RESET it causes is reported at the send_init, not the statement after.
                    var at = CurrentLocation();
                    _pc++;
                    return SendInit((int)args[0], at);
                }
            case IntrinsicId.Hlt:
                _pc++;
                _cpu.Mode = CpuMode.Halted;
                return Status.Stopped;
            case IntrinsicId.Monitor:
                {
                    var line = MonitorLineOf(args[0]);
                    _cpu.MonitorLine = line;
                    _cpu.Set(CpuFlags.MonitorArmed, line >= 0);
                    _cpu.Set(CpuFlags.MonitorTriggered, false);
                    return Done();
                }
            case IntrinsicId.Mwait:
                _pc++;
                if (_cpu.Has(CpuFlags.MonitorTriggered))
                {
                    _cpu.Set(CpuFlags.MonitorArmed | CpuFlags.MonitorTriggered, false);
                    _cpu.MonitorLine = -1;
                    return Status.Continue;
                }
                _cpu.Mode = CpuMode.Mwait;
                return Status.Stopped;
            case IntrinsicId.Vmxon:
                _cpu.Set(CpuFlags.VmxRoot, true);
                return Done();
            case IntrinsicId.Vmxoff:
                _cpu.Set(CpuFlags.VmxRoot, false);
                _pc++;
                return ReleaseInit();
            case IntrinsicId.Clgi:
                _cpu.Set(CpuFlags.GifClear, true);
                return Done();
            case IntrinsicId.Stgi:
                _cpu.Set(CpuFlags.GifClear, false);
                _pc++;
                return ReleaseInit();

            // ── memory and caches
            case IntrinsicId.Load:
                {
                    _loadHandled = false;
                    var status = Load(args[0], args[1], out var value);
                    if (status != Status.Continue || _loadHandled)
                    {
                        return status;
                    }
                    return Result(value);
                }
            case IntrinsicId.Store:
                {
                    if (!DecodeLine(args[0], out var line, out var region))
                    {
                        return Status.Violation;
                    }
                    _pc++;
                    return StoreLine(line, region, args[1], args[2]);
                }
            case IntrinsicId.Movnti:
                _pc++;
                return PartialWrite(args[0], args[1], args[2], byDevice: false);
            case IntrinsicId.DmaWrite:
                _pc++;
                return PartialWrite(args[0], BuiltinValues.KeyNone, args[1], byDevice: true);
            case IntrinsicId.Movdir64b:
                _pc++;
                return DirectStore(args[0], args[1], args[2]);
            case IntrinsicId.Clflush:
                {
                    if (!DecodeLine(args[0], out var line, out _))
                    {
                        return Status.Violation;
                    }
                    _events?.Add(new LineAccessed(_cpuId, LineAccess.Clflush, line, args[1], 0));
                    FlushEverywhere(CacheEntry.MakeTag(line, args[1]), writeBack: true);
                    return Done();
                }
            case IntrinsicId.Wbinvd:
            case IntrinsicId.Wbnoinvd:
                return StartWbinvd(invalidate: id == IntrinsicId.Wbinvd);

            // ── kernel data structures
            case IntrinsicId.CpumaskSetCpu:
            case IntrinsicId.CpumaskClearCpu:
                {
                    var cpu = (int)args[0];
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    var place = args[1];
                    var source = Resolve(place, Layout.CpumaskWords, out _, out _);
                    var value = MaskMade();
                    source.CopyTo(value);
                    if (id == IntrinsicId.CpumaskSetCpu)
                    {
                        value[cpu >> 6] |= 1L << (cpu & 63);
                    }
                    else
                    {
                        value[cpu >> 6] &= ~(1L << (cpu & 63));
                    }
                    _pc++;
                    return WriteMask(place, value);
                }
            case IntrinsicId.CpumaskTestCpu:
                {
                    var cpu = (int)args[0];
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    var status = ReadMask(args[1], out var mask);
                    return status != Status.Continue ? status : Returned(id, args, (mask[cpu >> 6] & (1L << (cpu & 63))) != 0 ? 1 : 0);
                }
            case IntrinsicId.CpumaskEmpty:
            case IntrinsicId.CpumaskWeight:
            case IntrinsicId.CpumaskFirst:
                {
                    var status = ReadMask(args[0], out var mask);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    // PERF: a word at a time (a wait_until(cpumask_empty(...)) is evaluated at many steps at 192 CPUs);
                    // the bits of CPUs the machine does not have are not counted.
                    var weight = 0;
                    var first = Layout.Cpus;
                    for (var w = 0; w < mask.Length && w << 6 < Layout.Cpus; w++)
                    {
                        var bits = (ulong)mask[w];
                        var above = Layout.Cpus - (w << 6);
                        if (above < 64)
                        {
                            bits &= (1UL << above) - 1;
                        }
                        if (bits != 0 && first == Layout.Cpus)
                        {
                            first = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        }
                        weight += System.Numerics.BitOperations.PopCount(bits);
                    }
                    return Returned(id, args, id switch
                    {
                        IntrinsicId.CpumaskEmpty => weight == 0 ? 1 : 0,
                        IntrinsicId.CpumaskWeight => weight,
                        _ => first,
                    });
                }
            case IntrinsicId.CpumaskCopy:
            case IntrinsicId.CpumaskAndNot:
            case IntrinsicId.CpumaskClear:
                {
                    var value = MaskMade();
                    value.Clear();
                    if (id == IntrinsicId.CpumaskCopy || id == IntrinsicId.CpumaskAndNot)
                    {
                        var status = ReadMask(args[1], out var a);
                        if (status != Status.Continue)
                        {
                            return status;
                        }
                        a.CopyTo(value);
                    }
                    if (id == IntrinsicId.CpumaskAndNot)
                    {
                        var status = ReadMask(args[2], out var b);
                        if (status != Status.Continue)
                        {
                            return status;
                        }
                        for (var i = 0; i < value.Length; i++)
                        {
                            value[i] &= ~b[i];
                        }
                    }
                    _pc++;
                    return WriteMask(args[0], value);
                }
            case IntrinsicId.AtomicRead:
                {
                    var status = ReadScalarPlace(args[0], out var value);
                    return status != Status.Continue ? status : Result(value);
                }
            case IntrinsicId.AtomicSet:
                _pc++;
                return WriteScalarPlace(args[0], args[1]);
            case IntrinsicId.AtomicInc:
            case IntrinsicId.AtomicDec:
            case IntrinsicId.AtomicIncReturn:
            case IntrinsicId.AtomicDecReturn:
            case IntrinsicId.Cmpxchg:
            case IntrinsicId.Xchg:
                {
                    // One locked read-modify-write: it writes the line whatever the outcome (as LOCK does).
                    var status = ReadScalarPlace(args[0], out var old);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    var updated = id switch
                    {
                        IntrinsicId.AtomicInc or IntrinsicId.AtomicIncReturn => unchecked(old + 1),
                        IntrinsicId.AtomicDec or IntrinsicId.AtomicDecReturn => unchecked(old - 1),
                        IntrinsicId.Cmpxchg => old == args[1] ? args[2] : old,
                        _ => args[1],
                    };
                    _pc++;
                    status = WriteScalarPlace(args[0], updated);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    switch (id)
                    {
                        case IntrinsicId.AtomicIncReturn or IntrinsicId.AtomicDecReturn:
                            Push(updated);
                            break;
                        case IntrinsicId.Cmpxchg or IntrinsicId.Xchg:
                            Push(old);
                            break;
                    }
                    return Status.Continue;
                }

            // ── time
            case IntrinsicId.Udelay:
                Timing?.Delayed(_cpuId, args[0]);
                return Done();

            // ── firmware
            case IntrinsicId.SevCmd:
                return SevCommand(args[0], args[1]);
            case IntrinsicId.SnpState:
                return Returned(id, args, _state.SnpInitialized ? 1 : 0);
            case IntrinsicId.TdxState:
                return Returned(id, args, Layout.HasFeature(PlatformFeatures.TdxHostPlatform) ? 1 : 0);

            // ── kexec and the next kernel
            case IntrinsicId.BootNextKernel:
                BootNextKernel((int)args[0]);
                return Status.Continue;
            case IntrinsicId.Vmrun:
                {
                    var asid = args[0];
                    if (asid < 1 || asid > 0xFFFF)
                    {
                        Fail(new Violation(ViolationCode.ModelError, ViolationReason.InvalidAsid, _cpuId, null) { Number = asid });
                        return Status.Violation;
                    }
                    _pc++;
                    _cpu.GuestAsid = (int)asid;
                    return Status.Stopped;
                }
            case IntrinsicId.PlatformReset:
                return PlatformReset();
            case IntrinsicId.Done:
                _pc++;
                _state.Finished = true;
                _cpu.Mode = CpuMode.Finished;
                _events?.Add(new RunFinished(_cpuId, PlatformReset: false));
                return Status.Stopped;

            // ── reporting
            case IntrinsicId.Panic:
                Fail(new Violation(ViolationCode.Panic, ViolationReason.Panicked, _cpuId, null) { Text = _program.Strings[(int)args[0]], Values = args[1..].ToArray() });
                return Status.Violation;
            case IntrinsicId.PrErr:
            case IntrinsicId.PrWarn:
                // PERF: the event (and its copy of the values) is only built when someone listens.
                _events?.Add(new MessageLogged(_cpuId, id == IntrinsicId.PrErr ? LogLevel.Error : LogLevel.Warning, _program.Strings[(int)args[0]], args[1..].ToArray()));
                return Done();
            case IntrinsicId.WarnOn:
                if (args[0] != 0)
                {
                    _events?.Add(new WarningHit(_cpuId, CurrentLocation()));
                }
                return Returned(id, args, args[0] != 0 ? 1 : 0);
            case IntrinsicId.BugOn:
                if (args[0] != 0)
                {
                    Fail(ViolationCode.Bug, ViolationReason.BugOn);
                    return Status.Violation;
                }
                return Done();
            case IntrinsicId.Choose:
                {
                    if (args[0] <= 0 || args[0] > 1_000_000)
                    {
                        Fail(new Violation(ViolationCode.ModelError, ViolationReason.InvalidOptionCount, _cpuId, null) { Number = args[0] });
                        return Status.Violation;
                    }
                    if (!TryChoose((int)args[0], out var choice))
                    {
                        return Status.NeedChoice;
                    }
                    return Result(choice);
                }
            case IntrinsicId.Assert:
                if (args[0] == 0)
                {
                    Fail(new Violation(ViolationCode.Assertion, ViolationReason.AssertionFailed, _cpuId, null) { Text = _program.Strings[(int)args[1]] });
                    return Status.Violation;
                }
                return Done();
            default:
                throw new InvalidOperationException($"intrinsic {id} is compiled specially");
        }
    }

    private Status Result(long value)
    {
        Push(value);
        _pc++;
        return Status.Continue;
    }

    /// <summary>The result of a query whose value a report shows (<see cref="IntrinsicReturned"/>).</summary>
    private Status Returned(IntrinsicId id, ReadOnlySpan<long> args, long value)
    {
        // PERF: the event (and its copy of the arguments) is only built when someone listens.
        _events?.Add(new IntrinsicReturned(_cpuId, id, args.ToArray(), value));
        return Result(value);
    }

    private Status Done()
    {
        _pc++;
        return Status.Continue;
    }

    private Status PlatformReset()
    {
        for (var c = 0; c < _state.Cpus.Length; c++)
        {
            if (_state.Cpus[c].Mode == CpuMode.InWbinvd)
            {
                Fail(new Violation(ViolationCode.ResetHang, ViolationReason.ResetDuringWbinvd, _cpuId, null) { Other = c });
                return Status.Violation;
            }
        }
        _pc++;
        _state.Finished = true;
        _state.PoweredOff = true;
        foreach (var cpu in _state.Cpus)
        {
            cpu.Mode = CpuMode.Finished;
        }
        _events?.Add(new RunFinished(_cpuId, PlatformReset: true));
        return Status.Stopped;
    }

    private void BootNextKernel(int function)
    {
        ClearStack(_cpu);
        _cpu.PendingVectors = 0;
        // Its APIC is reset: pending events are gone; virtualization state is the hardware's.
        var keep = _cpu.Flags & (CpuFlags.VmxRoot | CpuFlags.GifClear | CpuFlags.FirmwareNeedsWbinvd);
        _cpu.Flags = keep | CpuFlags.NextKernel;
        _cpu.MonitorLine = -1;
        _cpu.KernelKey = Layout.NextKernelKey;
        _cpu.GuestAsid = 0;
        _atomicDepth = 0;
        PushFrame(function, FrameKind.Entry, savedInterrupts: false);
        _events?.Add(new NextKernelBooted(_cpuId, function));
    }
}
