namespace KexecSim.Program;

/// <summary>The compiled program's instruction set: a small stack machine whose operand stack holds
/// exactly the live temporaries of the current statement (so it is canonical between steps).</summary>
public enum OpCode : byte
{
    Nop,
    /// <summary>Push B.</summary>
    PushConst,
    /// <summary>Push local slot A.</summary>
    LoadLocal,
    /// <summary>Pop into local slot A. B = 1 marks a store that is no value of the variable a report shows (for_each_cpu's start, -1).</summary>
    StoreLocal,
    /// <summary>Zero B slots from slot A (a block's locals die: keeps states canonical).</summary>
    ClearLocals,
    /// <summary>Push this CPU's instance of variable A (a visible read).</summary>
    LoadVar,
    /// <summary>Pop a CPU id; push that CPU's instance of percpu variable A (a visible read).</summary>
    LoadVarOf,
    /// <summary>Pop a value into this CPU's instance of variable A (a visible write).</summary>
    StoreVar,
    /// <summary>Pop a value, then a CPU id; write that CPU's instance of percpu variable A.</summary>
    StoreVarOf,
    /// <summary>Push a place reference to this CPU's instance of variable A.</summary>
    PushVarRef,
    /// <summary>Pop a CPU id; push a place reference to that CPU's instance of variable A.</summary>
    PushVarRefOf,
    /// <summary>Push a place reference to local slot A of the current frame.</summary>
    PushLocalRef,
    /// <summary>Push the place reference of cpu_all_mask.</summary>
    PushAllMask,
    /// <summary>Pop one, push op A (a <see cref="UnaryOp"/>).</summary>
    Unary,
    /// <summary>Pop right then left, push op A (a <see cref="BinaryOp"/>); division by zero is MODEL_ERROR.</summary>
    Binary,
    Dup,
    Pop,
    /// <summary>Go to A.</summary>
    Jump,
    /// <summary>Pop; go to A when zero.</summary>
    JumpIfFalse,
    /// <summary>Pop; go to A when non-zero.</summary>
    JumpIfTrue,
    /// <summary>Pop a line index; push the line id of region A (this CPU's instance for a percpu region).</summary>
    RegionLine,
    /// <summary>Pop a line index, then a CPU id; push the line id of percpu region A on that CPU.</summary>
    RegionLineOf,
    /// <summary>Push the number of lines of region A.</summary>
    RegionLength,
    /// <summary>Pop an index; push the line id at that position of region A (for_each_line order).</summary>
    RegionLineAt,
    /// <summary>Call function A with B arguments popped (last on top).</summary>
    Call,
    /// <summary>Return; A = 1 when a value is on the stack.</summary>
    Return,
    /// <summary>Intrinsic A (an <see cref="IntrinsicId"/>) with B arguments popped.</summary>
    Intrinsic,
    /// <summary>Nondeterministic jump to one of the B targets of branch table A.</summary>
    Either,
    AtomicBegin,
    AtomicEnd,
    /// <summary>Start of a wait_until condition, evaluated as one step; A = the WaitEnd's index.</summary>
    WaitBegin,
    /// <summary>Pop the condition: true continues (pushing 1); false blocks until it holds or the
    /// timeout in local slot A expires (A = -1: no timeout), then pushes 0.</summary>
    WaitEnd,
    /// <summary>Pop a mask place reference; advance local slot A to the next CPU in the mask after its
    /// value; push 1 if one was found, else 0.</summary>
    CpumaskNext,
    /// <summary>Falling off the end of a function (returns; 0 if a value is expected).</summary>
    End,
}

[Flags]
public enum InstructionFlags : byte
{
    None = 0,
    /// <summary>A visible action: the CPU's step ends with it (LANGUAGE.md section 4).</summary>
    Visible = 1,
    /// <summary>A loop's back-edge: the CPU fetches its code line again (SEMANTICS.md section 5).</summary>
    BackEdge = 2,
    /// <summary>The instruction can block the CPU (hlt, mwait, wait, WBINVD, vmrun).</summary>
    Blocking = 4,
}

/// <summary>One instruction: opcode, flags, and two operands whose meaning depends on the opcode.</summary>
public readonly record struct Instruction(OpCode Op, InstructionFlags Flags, int A, long B)
{
    public bool IsVisible => (Flags & InstructionFlags.Visible) != 0;

    public bool IsBackEdge => (Flags & InstructionFlags.BackEdge) != 0;

    public override string ToString()
    {
        var flags = Flags == InstructionFlags.None ? string.Empty : $" [{Flags}]";
        return Op switch
        {
            OpCode.PushConst => $"{Op} {B}{flags}",
            OpCode.Intrinsic => $"{Op} {(IntrinsicId)A}/{B}{flags}",
            OpCode.Unary => $"{Op} {(UnaryOp)A}{flags}",
            OpCode.Binary => $"{Op} {(BinaryOp)A}{flags}",
            OpCode.Call or OpCode.Either or OpCode.ClearLocals => $"{Op} {A} {B}{flags}",
            OpCode.Nop or OpCode.Dup or OpCode.Pop or OpCode.PushAllMask or OpCode.AtomicBegin or OpCode.AtomicEnd or OpCode.End => $"{Op}{flags}",
            _ => $"{Op} {A}{flags}",
        };
    }
}

/// <summary>Place references: scalars that name a variable instance, a local, or cpu_all_mask
/// (how cpumask and variable arguments are passed, by reference as in the kernel).</summary>
public static class PlaceRef
{
    public const long KindShift = 60;
    public const long GlobalKind = 1;
    public const long LocalKind = 2;
    public const long AllMaskKind = 3;

    public static long Global(int variable, int cpu) => (GlobalKind << (int)KindShift) | ((long)(cpu & 0xFFFF) << 32) | (uint)variable;

    public static long Local(int frameDepth, int slot) => (LocalKind << (int)KindShift) | ((long)(frameDepth & 0xFFFF) << 32) | (uint)slot;

    public static readonly long AllMask = AllMaskKind << (int)KindShift;

    public static long Kind(long place) => (place >> (int)KindShift) & 0xF;

    public static int Cpu(long place) => (int)((place >> 32) & 0xFFFF);

    public static int FrameDepth(long place) => (int)((place >> 32) & 0xFFFF);

    public static int Index(long place) => (int)(place & 0xFFFF_FFFF);
}

/// <summary>Where an instruction came from.</summary>
public readonly record struct DebugSpan(SourceText Source, TextSpan Span)
{
    public (int Line, int Column) Position => Source.GetLineColumn(Span.Start);

    public override string ToString()
    {
        var (line, column) = Position;
        return $"{Source.Path}:{line}:{column}";
    }
}
