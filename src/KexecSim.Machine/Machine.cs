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

    // PERF: the program's tables as arrays (no interface call per access in the hot path).
    private readonly CompiledVariable[] _variables;
    private readonly MemoryLine[] _lines;
    private readonly CompiledRegion[] _regions;

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

    /// <param name="program">The program to run.</param>
    /// <param name="untracked">The lines whose cache state the machine does not keep (<c>--reduce all</c>;
    /// docs/reduction.md); null keeps every line's (the full machine of SEMANTICS.md).</param>
    /// <param name="halts">When given (and enabled), a <c>hlt()</c> nothing can keep a CPU from is executed in
    /// the transition that reaches it (<c>--reduce all</c>); null: every <c>hlt()</c> is a step of its own.</param>
    public Machine(CompiledProgram program, UntrackedLines? untracked = null, HaltMerging? halts = null)
    {
        _program = program;
        Halts = halts is { Enabled: true } ? halts : null;
        Untracked = untracked is { Count: > 0 } ? untracked : null;
        _untracked = Untracked?.Mask;
        _functions = program.Functions.ToArray();
        _variables = program.Variables.ToArray();
        _lines = program.Lines.ToArray();
        _regions = program.Regions.ToArray();
        Layout = new MachineLayout(program);
        _quiet = new QuietCode(program);
    }

    private readonly QuietCode _quiet;

    // PERF: indexed by line at each variable access; null when every line is tracked.
    private readonly bool[]? _untracked;

    /// <summary>The merging of <c>hlt()</c> into the step that reaches it, or null (every <c>hlt()</c> is a step).</summary>
    public HaltMerging? Halts { get; }

    /// <summary>Whether this machine ever executed a <c>hlt()</c> in the transition that reached it (<see cref="Halts"/>).</summary>
    public bool MergedAHalt { get; private set; }

    /// <summary>The lines whose cache state this machine does not keep, or null (every line's is kept).</summary>
    public UntrackedLines? Untracked { get; }

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

    // ───────────────────────────── The selected CPU and its operand registers ─────────────────────────────

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

    // A cpumask being made by an intrinsic before it is written (PERF: not a stackalloc, whose variable size kept the
    // whole intrinsic dispatcher from the JIT's tiered, profile-guided compilation). Used by one intrinsic at a time.
    private long[] _maskMade = [];

    private Span<long> MaskMade()
    {
        if (_maskMade.Length != Layout.CpumaskWords)
        {
            _maskMade = new long[Layout.CpumaskWords];
        }
        return _maskMade;
    }
    private int _operandCount;
    private int _operandsOwner = -1;
    private MachineState? _operandsState;

    // PERF: the selected CPU's pc and its function's code and coverage base live here too; the pc
    // word of its top frame is written back when a frame is pushed over it or the CPU is deselected.
    private int _pc;
    private Instruction[] _code = [];
    private int _markBase;

    /// <summary>The frame registers from the selected CPU's top frame (after a push, a pop, or selecting it).</summary>
    private void LoadFrameRegisters()
    {
        var cpu = _operandsState!.Cpus[_operandsOwner];
        if (cpu.Depth == 0)
        {
            _pc = 0;
            _code = [];
            _markBase = 0;
            return;
        }
        var function = cpu.Function;
        _pc = cpu.Pc;
        var code = _functions[function].Code;
        if (!ReferenceEquals(_code, code))
        {
            _code = code; // PERF: a write barrier only when the function changes
        }
        _markBase = _markBases.Length > 0 ? _markBases[function] : 0;
    }

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
        if (!ReferenceEquals(_operandsState, state))
        {
            _operandsState = state; // PERF: a write barrier only when the state changes (a run keeps one)
        }
        LoadFrameRegisters();
    }

    private void FlushOperands()
    {
        if (_operandsOwner < 0 || _operandsState is null)
        {
            _operandsOwner = -1;
            return;
        }
        var owner = _operandsState.Cpus[_operandsOwner];
        if (owner.Depth > 0)
        {
            owner.Pc = _pc;
        }
        owner.AppendOperands(_operands.AsSpan(0, _operandCount));
        _operandCount = 0;
        _operandsOwner = -1; // no CPU's operands are here (the state is kept: it is only read with an owner)
    }

    /// <summary>Empties a CPU's frames, operands and deferred fetches (INIT, the next kernel, scenario blocks).</summary>
    private void ClearStack(CpuState cpu)
    {
        cpu.ClearStack();
        if (cpu.Id == _operandsOwner && ReferenceEquals(_operandsState, _state))
        {
            _operandCount = 0;
            LoadFrameRegisters();
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
        var pc = Math.Clamp(_pc, 0, function.Spans.Length - 1);
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

    // ───────────────────────────── Where a CPU is ─────────────────────────────

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

}
