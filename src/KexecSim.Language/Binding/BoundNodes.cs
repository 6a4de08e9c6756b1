using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

// The bound tree: names resolved, types checked. Spans point into the owning function's file.

public abstract class BoundNode(TextSpan span)
{
    public TextSpan Span { get; } = span;
}

public abstract class BoundExpression(TextSpan span, KType type) : BoundNode(span)
{
    public KType Type { get; } = type;
}

public sealed class BoundLiteral(TextSpan span, KType type, long value) : BoundExpression(span, type)
{
    public long Value { get; } = value;
}

public sealed class BoundString(TextSpan span, string text) : BoundExpression(span, KType.String)
{
    public string Text { get; } = text;
}

public sealed class BoundConstReference(TextSpan span, ConstSymbol constant) : BoundExpression(span, constant.Type)
{
    public ConstSymbol Constant { get; } = constant;
}

public sealed class BoundLocal(TextSpan span, LocalSymbol local) : BoundExpression(span, local.Type)
{
    public LocalSymbol Local { get; } = local;
}

/// <summary>A shared or percpu variable; <see cref="Cpu"/> is the <c>[c]</c> of another CPU's instance.</summary>
public sealed class BoundGlobal(TextSpan span, GlobalVariableSymbol variable, BoundExpression? cpu) : BoundExpression(span, variable.Type)
{
    public GlobalVariableSymbol Variable { get; } = variable;
    public BoundExpression? Cpu { get; } = cpu;
}

/// <summary><c>R[i]</c> or, for a percpu region, <c>R[c][i]</c> (null <see cref="Cpu"/>: this CPU's).</summary>
public sealed class BoundRegionLine(TextSpan span, RegionSymbol region, BoundExpression? cpu, BoundExpression index) : BoundExpression(span, KType.Line)
{
    public RegionSymbol Region { get; } = region;
    public BoundExpression? Cpu { get; } = cpu;
    public BoundExpression Index { get; } = index;
}

/// <summary>The constant <c>cpu_all_mask</c>.</summary>
public sealed class BoundAllCpusMask(TextSpan span) : BoundExpression(span, KType.Cpumask);

public sealed class BoundFunctionReference(TextSpan span, FunctionSymbol function) : BoundExpression(span, KType.Void)
{
    public FunctionSymbol Function { get; } = function;
}

public sealed class BoundUnary(TextSpan span, UnaryOp op, BoundExpression operand, KType type) : BoundExpression(span, type)
{
    public UnaryOp Op { get; } = op;
    public BoundExpression Operand { get; } = operand;
}

public sealed class BoundBinary(TextSpan span, BinaryOp op, BoundExpression left, BoundExpression right, KType type) : BoundExpression(span, type)
{
    public BinaryOp Op { get; } = op;
    public BoundExpression Left { get; } = left;
    public BoundExpression Right { get; } = right;
}

public sealed class BoundConditional(TextSpan span, BoundExpression condition, BoundExpression whenTrue, BoundExpression whenFalse)
    : BoundExpression(span, whenTrue.Type.IsError ? whenFalse.Type : whenTrue.Type)
{
    public BoundExpression Condition { get; } = condition;
    public BoundExpression WhenTrue { get; } = whenTrue;
    public BoundExpression WhenFalse { get; } = whenFalse;
}

public sealed class BoundCall(TextSpan span, FunctionSymbol function, IReadOnlyList<BoundExpression> arguments)
    : BoundExpression(span, function.ReturnType)
{
    public FunctionSymbol Function { get; } = function;
    public IReadOnlyList<BoundExpression> Arguments { get; } = arguments;
}

public sealed class BoundIntrinsicCall(TextSpan span, Intrinsic intrinsic, IReadOnlyList<BoundExpression> arguments, KType type)
    : BoundExpression(span, type)
{
    public Intrinsic Intrinsic { get; } = intrinsic;
    public IReadOnlyList<BoundExpression> Arguments { get; } = arguments;
}

public sealed class BoundErrorExpression(TextSpan span) : BoundExpression(span, KType.Error);

// ───────────────────────────── Statements ─────────────────────────────

public abstract class BoundStatement(TextSpan span) : BoundNode(span);

public sealed class BoundBlock(TextSpan span, IReadOnlyList<BoundStatement> statements, IReadOnlyList<LocalSymbol> locals) : BoundStatement(span)
{
    public IReadOnlyList<BoundStatement> Statements { get; } = statements;

    /// <summary>Locals declared directly in this block; they die (are zeroed) when it ends.</summary>
    public IReadOnlyList<LocalSymbol> Locals { get; } = locals;
}

public sealed class BoundLocalDeclaration(TextSpan span, LocalSymbol local, BoundExpression? initializer) : BoundStatement(span)
{
    public LocalSymbol Local { get; } = local;
    public BoundExpression? Initializer { get; } = initializer;
}

public enum AssignmentKind
{
    Assign,
    Add,
    Subtract,
    Increment,
    Decrement,
}

/// <summary>An assignment to a local or a variable (a cpumask assignment copies the mask).</summary>
public sealed class BoundAssignment(TextSpan span, BoundExpression target, AssignmentKind kind, BoundExpression? value) : BoundStatement(span)
{
    public BoundExpression Target { get; } = target;
    public AssignmentKind Kind { get; } = kind;
    public BoundExpression? Value { get; } = value;
}

public sealed class BoundExpressionStatement(TextSpan span, BoundExpression expression) : BoundStatement(span)
{
    public BoundExpression Expression { get; } = expression;
}

public sealed class BoundIf(TextSpan span, BoundExpression condition, BoundStatement then, BoundStatement? @else) : BoundStatement(span)
{
    public BoundExpression Condition { get; } = condition;
    public BoundStatement Then { get; } = then;
    public BoundStatement? Else { get; } = @else;
}

/// <summary>Every loop form lowers to this: optional condition, body, optional step; <c>loop {}</c> has no condition.</summary>
public sealed class BoundLoop(TextSpan span, BoundStatement? initializer, BoundExpression? condition, BoundStatement? step, BoundStatement body, IReadOnlyList<LocalSymbol> locals)
    : BoundStatement(span)
{
    public BoundStatement? Initializer { get; } = initializer;
    public BoundExpression? Condition { get; } = condition;
    public BoundStatement? Step { get; } = step;
    public BoundStatement Body { get; } = body;
    public IReadOnlyList<LocalSymbol> Locals { get; } = locals;
}

public sealed class BoundForEachCpu(TextSpan span, LocalSymbol variable, BoundExpression mask, BoundStatement body) : BoundStatement(span)
{
    public LocalSymbol Variable { get; } = variable;
    public BoundExpression Mask { get; } = mask;
    public BoundStatement Body { get; } = body;
}

public sealed class BoundForEachLine(TextSpan span, LocalSymbol variable, LocalSymbol counter, RegionSymbol region, BoundStatement body) : BoundStatement(span)
{
    public LocalSymbol Variable { get; } = variable;
    public LocalSymbol Counter { get; } = counter;
    public RegionSymbol Region { get; } = region;
    public BoundStatement Body { get; } = body;
}

public sealed class BoundBreak(TextSpan span) : BoundStatement(span);

public sealed class BoundContinue(TextSpan span) : BoundStatement(span);

public sealed class BoundReturn(TextSpan span, BoundExpression? value) : BoundStatement(span)
{
    public BoundExpression? Value { get; } = value;
}

public sealed class BoundEither(TextSpan span, IReadOnlyList<BoundBlock> branches) : BoundStatement(span)
{
    public IReadOnlyList<BoundBlock> Branches { get; } = branches;
}

public sealed class BoundAtomic(TextSpan span, BoundBlock body) : BoundStatement(span)
{
    public BoundBlock Body { get; } = body;
}

public sealed class BoundNop(TextSpan span) : BoundStatement(span);
