using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// Running compiled code (LANGUAGE.md section 4). A CPU's state always rests at a step point: the
/// local instructions after a visible action are run at once ("normalised"), but what they would
/// observe of other CPUs is deferred: the code lines they fetch are checked at the next step.
/// </summary>
public sealed partial class Machine
{
    private enum Status
    {
        Continue,
        /// <summary>The CPU left RUNNING (halted, waiting, flushing, finished): its step ends.</summary>
        Stopped,
        Violation,
        NeedChoice,
        Disabled,
    }

    /// <summary>Where a step must stop before: a visible action, an atomic or wait region, or a local
    /// intrinsic that reads firmware state other CPUs change.</summary>
    private static bool IsStepPoint(in Instruction instruction) =>
        instruction.IsVisible
        || instruction.Op is OpCode.WaitBegin or OpCode.AtomicBegin
        || (instruction.Op == OpCode.Intrinsic && (IntrinsicId)instruction.A is IntrinsicId.SnpState or IntrinsicId.TdxState);

    private Outcome StepCpu()
    {
        if (_cpu.GuestAsid != 0)
        {
            // The VMEXIT: vmrun returns. A pending NMI, SMI or machine check that caused it is taken by
            // the host at once (it cannot run on into another vmrun first); a maskable vector waits for IF.
            _cpu.GuestAsid = 0;
            foreach (var kind in VmexitOrder)
            {
                if (Deliverable(_cpu, kind))
                {
                    return Deliver(kind, 0);
                }
            }
            return Normalize();
        }
        if (CheckPendingFetches() is { } violation)
        {
            return violation;
        }
        var instruction = _code[_pc];
        var status = instruction.Op == OpCode.AtomicBegin ? RunAtomic() : Execute(instruction);
        return Finish(status);
    }

    private Outcome Finish(Status status) => status switch
    {
        Status.Continue => Normalize(),
        Status.Stopped => Outcome.Ok,
        Status.Violation => Outcome.Violation,
        Status.NeedChoice => Outcome.NeedChoice,
        _ => Outcome.Disabled,
    };

    private Outcome TimeOut()
    {
        if (CheckPendingFetches() is { } violation)
        {
            return violation;
        }
        return Finish(RunWait(timingOut: true));
    }

    /// <summary>Runs local instructions until the CPU rests at a step point (or stops).</summary>
    private Outcome Normalize()
    {
        while (_cpu.Mode == CpuMode.Running && _cpu.Depth > 0 && _cpu.GuestAsid == 0)
        {
            var instruction = _code[_pc];
            if (IsStepPoint(instruction))
            {
                if (Halts is not null && instruction.Op == OpCode.Intrinsic && (IntrinsicId)instruction.A == IntrinsicId.Hlt
                    && Halts.Merges(_state, _cpu, _cpuId))
                {
                    // docs/reduction.md: nothing can come between this CPU and its hlt(), and no one sees it.
                    MergedAHalt = true;
                    Execute(instruction);
                }
                return Outcome.Ok;
            }
            if (--_localBudget <= 0)
            {
                return Fail(ViolationCode.ModelError, ViolationReason.NoVisibleAction);
            }
            switch (Execute(instruction))
            {
                case Status.Continue:
                    continue;
                case Status.Stopped:
                    return Outcome.Ok;
                case Status.Violation:
                    return Outcome.Violation;
                default:
                    throw new InvalidOperationException($"a local instruction cannot block or choose: {instruction}");
            }
        }
        return Outcome.Ok;
    }

    /// <summary>Normalises another CPU (woken by this step) without losing the selected one.</summary>
    private Outcome NormalizeOther(int cpu)
    {
        var savedId = _cpuId;
        Select(cpu);
        var outcome = Normalize();
        if (outcome != Outcome.Violation)
        {
            Select(savedId);
        }
        return outcome;
    }

    private Outcome? CheckPendingFetches()
    {
        var count = _cpu.FetchCount;
        if (count == 0)
        {
            return null;
        }
        for (var i = 0; i < count; i++)
        {
            if (FetchViolation(_cpu.PendingFetch(i)) is { } violation)
            {
                return violation;
            }
        }
        _cpu.ClearPendingFetches();
        return null;
    }

    /// <summary>The fetch rule of SEMANTICS.md section 5, checked now.</summary>
    private Outcome? FetchViolation(int line)
    {
        _events?.Add(new LineFetched(_cpuId, line));
        if (_cpu.Has(CpuFlags.NextKernel))
        {
            return null;
        }
        ref var state = ref _state.Lines[line];
        if ((state.Flags & LineFlags.Clobbered) == 0)
        {
            return null;
        }
        var (by, through) = _state.Clobberer(line);
        return Fail(new Violation(ViolationCode.ExecClobbered, ViolationReason.FetchedClobbered, _cpuId, null)
        {
            Line = line, Other = by, Region = through, NeedsMessageData = by == MachineState.UnknownClobberer,
        });
    }

    /// <summary>A fetch that happens now if the step is visible, else at the CPU's next step.</summary>
    private Status Fetch(int line, bool now)
    {
        if (now)
        {
            return FetchViolation(line) is null ? Status.Continue : Status.Violation;
        }
        _cpu.AddPendingFetch(line);
        return Status.Continue;
    }

    private int CodeLine() => _functions[_cpu.Function].HomeLine(_cpuId);

    // ───────────────────────────── Regions run as one step ─────────────────────────────

    private Status RunAtomic()
    {
        _atomicDepth = 0;
        do
        {
            if (_cpu.Depth == 0 || _cpu.Mode != CpuMode.Running)
            {
                _atomicDepth = 0;
                return Status.Stopped;
            }
            if (--_localBudget <= 0)
            {
                Fail(ViolationCode.ModelError, ViolationReason.AtomicTooLong);
                return Status.Violation;
            }
            var status = Execute(_code[_pc]);
            if (status != Status.Continue)
            {
                _atomicDepth = 0;
                return status;
            }
        }
        while (_atomicDepth > 0);
        return Status.Continue;
    }

    /// <summary>A wait_until poll as one step: true continues; false blocks (or, timing out, returns false).</summary>
    private Status RunWait(bool timingOut)
    {
        var code = _code;
        var begin = _pc;
        var end = code[begin].A;
        var depth = _cpu.Depth;
        _pc++;
        while (!(_cpu.Depth == depth && _pc == end))
        {
            if (--_localBudget <= 0)
            {
                Fail(ViolationCode.ModelError, ViolationReason.WaitTooLong);
                return Status.Violation;
            }
            var status = Execute(_code[_pc]);
            if (status != Status.Continue)
            {
                return status == Status.Stopped ? Status.Stopped : status;
            }
        }
        var holds = Pop() != 0;
        if (holds == timingOut)
        {
            // A true condition cannot time out; a false one blocks the step.
            return Status.Disabled;
        }
        // The timeout's value (a local slot) matters only in timed mode.
        Mark(_cpu.Function, begin, holds ? ExecutionMarks.WaitHeld : ExecutionMarks.WaitTimedOut);
        Push(holds ? 1 : 0);
        _pc = end + 1;
        return Status.Continue;
    }

    // ───────────────────────────── Frames and operands ─────────────────────────────

    private void Push(long value)
    {
        if (_operandCount == _operands.Length)
        {
            Array.Resize(ref _operands, _operands.Length * 2);
        }
        _operands[_operandCount++] = value;
    }

    private long Pop() => _operands[--_operandCount];

    /// <summary>
    /// A handler interrupts code whose deferred fetches belong to its resumption: they move into the
    /// handler's frame (up to three lines of 21 bits) and come back when it returns.
    /// </summary>
    private void SavePendingFetches()
    {
        long packed = 0;
        var total = _cpu.FetchCount;
        var count = Math.Min(3, total);
        for (var i = 0; i < count; i++)
        {
            packed |= (long)(_cpu.PendingFetch(total - count + i) + 1) << (21 * i);
        }
        _cpu.Frame(_cpu.TopBase + 2) = packed;
        _cpu.ClearPendingFetches();
    }

    private void RestorePendingFetches(long packed)
    {
        for (var i = 0; i < 3; i++)
        {
            var line = (int)((packed >> (21 * i)) & 0x1F_FFFF) - 1;
            if (line >= 0)
            {
                _cpu.AddPendingFetch(line);
            }
        }
    }

    private void PushFrame(int function, FrameKind kind, bool savedInterrupts)
    {
        var compiled = _functions[function];
        Mark(function, 0, ExecutionMarks.Entered);
        if (_cpu.Depth > 0)
        {
            _cpu.Pc = _pc; // the caller's (or interrupted code's) resumption point
        }
        _cpu.PushFrame((uint)function | ((long)kind << 32) | (savedInterrupts ? 1L << 40 : 0), FrameHeaderWords, compiled.SlotCount);
        LoadFrameRegisters();
    }

    private void PopFrame()
    {
        _cpu.PopFrame();
        LoadFrameRegisters();
    }

    private int SlotIndex(int slot) => _cpu.TopBase + FrameHeaderWords + slot;

    /// <summary>Writes this CPU's stack line when the model declares a stack (calls and returns).</summary>
    private Status TouchStack()
    {
        if (_program.StackRegion < 0)
        {
            return Status.Continue;
        }
        var region = _regions[_program.StackRegion];
        var line = region.IsPercpu ? region.LineOf(_cpuId, 0) : region.Lines[0];
        return StoreLine(line, _program.StackRegion, _cpu.KernelKey, BuiltinValues.OldContent);
    }

    private Status Call(in Instruction instruction)
    {
        if (_cpu.Depth >= MaxFrames)
        {
            Fail(ViolationCode.ModelError, ViolationReason.CallTooDeep);
            return Status.Violation;
        }
        var function = instruction.A;
        var argumentCount = (int)instruction.B;
        _pc++;
        PushFrame(function, FrameKind.Call, savedInterrupts: false);
        var first = _operandCount - argumentCount;
        _events?.Add(new FunctionCalled(_cpuId, function, _operands.AsSpan(first, argumentCount).ToArray()));
        for (var i = 0; i < argumentCount; i++)
        {
            _cpu.Frame(SlotIndex(i)) = _operands[first + i];
        }
        _operandCount = first;
        if (instruction.IsVisible && TouchStack() == Status.Violation)
        {
            return Status.Violation;
        }
        return Fetch(CodeLine(), instruction.IsVisible);
    }

    private Status Return(in Instruction instruction, bool hasValue)
    {
        var function = _cpu.Function;
        var returnsValue = _functions[function].ReturnsValue;
        long value = hasValue ? Pop() : 0;
        var kind = _cpu.TopKind;
        var savedInterrupts = (_cpu.Frame(_cpu.TopBase) & (1L << 40)) != 0;
        var savedFetches = _cpu.Frame(_cpu.TopBase + 2);
        if (instruction.IsVisible && TouchStack() == Status.Violation)
        {
            return Status.Violation;
        }
        PopFrame();
        switch (kind)
        {
            case FrameKind.Call:
                if (returnsValue)
                {
                    Push(value);
                    _events?.Add(new FunctionReturned(_cpuId, function, value));
                }
                break;
            case FrameKind.Entry:
                _cpu.Mode = CpuMode.Finished;
                _operandCount = 0;
                return Status.Stopped;
            case FrameKind.VectorHandler:
                _cpu.Set(CpuFlags.InterruptsEnabled, savedInterrupts);
                break;
            case FrameKind.NmiHandler:
                _cpu.Set(CpuFlags.NmiBlocked, false);
                break;
            case FrameKind.MceHandler:
                _cpu.Set(CpuFlags.InMce, false);
                break;
        }
        if (_cpu.Depth == 0)
        {
            // A handler ran on a CPU that had no code: it halts again.
            _cpu.Mode = CpuMode.Halted;
            return Status.Stopped;
        }
        if (kind is FrameKind.VectorHandler or FrameKind.NmiHandler or FrameKind.MceHandler)
        {
            RestorePendingFetches(savedFetches);
        }
        return Fetch(CodeLine(), instruction.IsVisible);
    }

    // ───────────────────────────── One instruction ─────────────────────────────

    private Status Execute(Instruction instruction)
    {
        if (_markFlags is { } marks)
        {
            marks[_markBase + _pc] |= ExecutionMarks.Executed;
        }
        switch (instruction.Op)
        {
            case OpCode.Nop:
                _pc++;
                return Status.Continue;
            case OpCode.PushConst:
                Push(instruction.B);
                _pc++;
                return Status.Continue;
            case OpCode.LoadLocal:
                Push(_cpu.Frame(SlotIndex(instruction.A)));
                _pc++;
                return Status.Continue;
            case OpCode.StoreLocal:
                {
                    var value = Pop();
                    _cpu.Frame(SlotIndex(instruction.A)) = value;
                    if (instruction.B == 0)
                    {
                        _events?.Add(new LocalAssigned(_cpuId, _cpu.Function, instruction.A, value));
                    }
                }
                _pc++;
                return Status.Continue;
            case OpCode.ClearLocals:
                for (var i = 0; i < instruction.B; i++)
                {
                    _cpu.Frame(SlotIndex(instruction.A + i)) = 0;
                }
                _pc++;
                return Status.Continue;
            case OpCode.LoadVar:
            case OpCode.LoadVarOf:
                {
                    var cpu = instruction.Op == OpCode.LoadVar ? _cpuId : (int)Pop();
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    var status = ReadVariable(instruction.A, cpu, out var value);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    Push(value);
                    _pc++;
                    return Status.Continue;
                }
            case OpCode.StoreVar:
            case OpCode.StoreVarOf:
                {
                    var value = Pop();
                    var cpu = instruction.Op == OpCode.StoreVar ? _cpuId : (int)Pop();
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    _pc++;
                    return WriteVariable(instruction.A, cpu, value);
                }
            case OpCode.PushVarRef:
                Push(PlaceRef.Global(instruction.A, _cpuId));
                _pc++;
                return Status.Continue;
            case OpCode.PushVarRefOf:
                {
                    var cpu = (int)Pop();
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    Push(PlaceRef.Global(instruction.A, cpu));
                    _pc++;
                    return Status.Continue;
                }
            case OpCode.PushLocalRef:
                Push(PlaceRef.Local(_cpu.Depth - 1, instruction.A));
                _pc++;
                return Status.Continue;
            case OpCode.PushAllMask:
                Push(PlaceRef.AllMask);
                _pc++;
                return Status.Continue;
            case OpCode.Unary:
                Push(Arithmetic.Apply((UnaryOp)instruction.A, Pop()));
                _pc++;
                return Status.Continue;
            case OpCode.Binary:
                {
                    var right = Pop();
                    var left = Pop();
                    if (!Arithmetic.TryApply((BinaryOp)instruction.A, left, right, out var result))
                    {
                        Fail(ViolationCode.ModelError, ViolationReason.DivisionByZero);
                        return Status.Violation;
                    }
                    Push(result);
                    _pc++;
                    return Status.Continue;
                }
            case OpCode.Dup:
                Push(_operands[_operandCount - 1]);
                _pc++;
                return Status.Continue;
            case OpCode.Pop:
                Pop();
                _pc++;
                return Status.Continue;
            case OpCode.Jump:
                _pc = instruction.A;
                return instruction.IsBackEdge ? Fetch(CodeLine(), instruction.IsVisible) : Status.Continue;
            case OpCode.JumpIfFalse:
                _pc = Pop() == 0 ? instruction.A : _pc + 1;
                return Status.Continue;
            case OpCode.JumpIfTrue:
                _pc = Pop() != 0 ? instruction.A : _pc + 1;
                return Status.Continue;
            case OpCode.RegionLine:
            case OpCode.RegionLineOf:
                {
                    var index = Pop();
                    var region = _regions[instruction.A];
                    var cpu = instruction.Op == OpCode.RegionLineOf ? (int)Pop() : _cpuId;
                    if (!ValidCpu(cpu))
                    {
                        return Status.Violation;
                    }
                    if (index < 0 || index >= region.LinesPerInstance)
                    {
                        Fail(new Violation(ViolationCode.ModelError, ViolationReason.LineIndexOutOfRange, _cpuId, null) { Region = instruction.A, Number = index });
                        return Status.Violation;
                    }
                    Push(LineValue(instruction.A, region.LineOf(cpu, (int)index)));
                    _pc++;
                    return Status.Continue;
                }
            case OpCode.RegionLength:
                Push(_regions[instruction.A].Lines.Length);
                _pc++;
                return Status.Continue;
            case OpCode.RegionLineAt:
                {
                    var index = (int)Pop();
                    Push(LineValue(instruction.A, _regions[instruction.A].Lines[index]));
                    _pc++;
                    return Status.Continue;
                }
            case OpCode.Call:
                return Call(instruction);
            case OpCode.Return:
                return Return(instruction, instruction.A == 1);
            case OpCode.End:
                return Return(instruction, hasValue: false);
            case OpCode.Intrinsic:
                return ExecuteIntrinsic(instruction);
            case OpCode.Either:
                {
                    var table = _functions[_cpu.Function].BranchTables[instruction.A];
                    if (!TryChoose(table.Length, out var choice))
                    {
                        return Status.NeedChoice;
                    }
                    _pc = table[choice];
                    return Status.Continue;
                }
            case OpCode.AtomicBegin:
                _atomicDepth++;
                _pc++;
                return Status.Continue;
            case OpCode.AtomicEnd:
                _atomicDepth = Math.Max(0, _atomicDepth - 1);
                _pc++;
                return Status.Continue;
            case OpCode.WaitBegin:
                return RunWait(timingOut: false);
            case OpCode.WaitEnd:
                throw new InvalidOperationException("WaitEnd is reached only through WaitBegin");
            case OpCode.CpumaskNext:
                {
                    var place = Pop();
                    var slot = SlotIndex(instruction.A);
                    var current = _cpu.Frame(slot);
                    var status = ReadMask(place, out var mask);
                    if (status != Status.Continue)
                    {
                        return status;
                    }
                    var next = -1;
                    for (var c = (int)current + 1; c < Layout.Cpus; c++)
                    {
                        if ((mask[c >> 6] & (1L << (c & 63))) != 0)
                        {
                            next = c;
                            break;
                        }
                    }
                    if (next >= 0)
                    {
                        _cpu.Frame(slot) = next;
                        _events?.Add(new LocalAssigned(_cpuId, _cpu.Function, instruction.A, next));
                    }
                    Push(next >= 0 ? 1 : 0);
                    _pc++;
                    return Status.Continue;
                }
            default:
                throw new InvalidOperationException($"unknown opcode {instruction.Op}");
        }
    }

    private static long LineValue(int region, int line) => ((long)region << 32) | (uint)line;

    private bool ValidCpu(int cpu)
    {
        if (cpu >= 0 && cpu < Layout.Cpus)
        {
            return true;
        }
        Fail(new Violation(ViolationCode.ModelError, ViolationReason.NoSuchCpu, _cpuId, null) { Other = cpu });
        return false;
    }

    /// <summary>Asks the step's chooser for one of <paramref name="options"/> options; false when it takes none.</summary>
    private bool TryChoose(int options, out int choice)
    {
        choice = _chooser?.Choose(options) ?? -1;
        if (choice >= options)
        {
            throw new InvalidOperationException($"the chooser took option {choice} of {options}");
        }
        if (choice < 0)
        {
            return false;
        }
        _events?.Add(new ChoiceTaken(_cpuId, choice, options));
        return true;
    }
}
