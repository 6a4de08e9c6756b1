using KexecSim.Language.Binding;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// Why a constant expression has no value: a division or modulo by zero (KF0222), or a chain of
/// constants too deep to follow (KF0903). <see cref="Span"/> is the operation at fault; it lies in
/// the declaration of <see cref="Constant"/> when that is not null (a const the expression uses),
/// else in the evaluated expression itself.
/// </summary>
public sealed record ConstantError(DiagnosticCode Code, TextSpan Span, ConstSymbol? Constant, string Message)
{
    /// <summary>The file holding <see cref="Span"/>: the const's, else <paramref name="expressionSource"/>.</summary>
    public SourceText? SourceOr(SourceText? expressionSource) => Constant?.Source ?? expressionSource;
}

/// <summary>Evaluates constant expressions, with the scenario's <c>define</c> overrides when given.</summary>
public static class ConstantEvaluator
{
    /// <summary>
    /// How many operations and const references deep an evaluation may go (the front end runs on a
    /// large stack; one expression nests at most 512 operations, KF0903, so this is a chain of consts).
    /// </summary>
    public const int MaxDepth = 4096;

    public static bool IsConstant(BoundExpression expression) => expression switch
    {
        BoundLiteral or BoundConstReference => true,
        BoundUnary u => IsConstant(u.Operand),
        BoundBinary b => IsConstant(b.Left) && IsConstant(b.Right),
        BoundConditional c => IsConstant(c.Condition) && IsConstant(c.WhenTrue) && IsConstant(c.WhenFalse),
        BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.TdxKey or IntrinsicId.SevKey } i => IsConstant(i.Arguments[0]),
        _ => false,
    };

    /// <param name="overrides">Values that replace consts' declared values (a scenario's defines); null: none.</param>
    /// <param name="error">Why there is no value, when that is the input's fault; null when the expression
    /// is not constant or holds an error already reported (a cycle, a type error).</param>
    public static bool TryEvaluate(BoundExpression expression, IReadOnlyDictionary<ConstSymbol, long>? overrides, out long value, out ConstantError? error)
    {
        error = null;
        return TryEvaluate(expression, overrides, null, 0, out value, ref error);
    }

    private static bool TryEvaluate(BoundExpression expression, IReadOnlyDictionary<ConstSymbol, long>? overrides, ConstSymbol? within, int depth, out long value, ref ConstantError? error)
    {
        value = 0;
        if (depth > MaxDepth)
        {
            error = new ConstantError(DiagnosticCode.ExpressionTooComplex, expression.Span, within,
                $"a constant that goes more than {MaxDepth} operations and constants deep");
            return false;
        }
        switch (expression)
        {
            case BoundLiteral literal:
                value = literal.Value;
                return true;
            case BoundConstReference reference:
                if (overrides is not null && overrides.TryGetValue(reference.Constant, out value))
                {
                    return true;
                }
                return reference.Constant.Value is { } definition && TryEvaluate(definition, overrides, reference.Constant, depth + 1, out value, ref error);
            case BoundUnary unary:
                if (!TryEvaluate(unary.Operand, overrides, within, depth + 1, out var operand, ref error))
                {
                    return false;
                }
                value = Arithmetic.Apply(unary.Op, operand);
                return true;
            case BoundBinary binary:
                {
                    if (!TryEvaluate(binary.Left, overrides, within, depth + 1, out var left, ref error))
                    {
                        // 'const B = A / 0;' with A faulty: B's own division is at fault too, and
                        // is B's to report (A's is reported with A).
                        if (binary.Op is BinaryOp.Divide or BinaryOp.Modulo && error is { Code: DiagnosticCode.DivisionByZeroInConstant } && error.Constant != within)
                        {
                            ConstantError? rightError = null;
                            if (TryEvaluate(binary.Right, overrides, within, depth + 1, out var divisor, ref rightError) && divisor == 0)
                            {
                                error = DivisionByZero(binary, within);
                            }
                        }
                        return false;
                    }
                    // && and || short-circuit here too.
                    if ((binary.Op == BinaryOp.LogicalAnd && left == 0) || (binary.Op == BinaryOp.LogicalOr && left != 0))
                    {
                        value = binary.Op == BinaryOp.LogicalOr ? 1 : 0;
                        return true;
                    }
                    if (!TryEvaluate(binary.Right, overrides, within, depth + 1, out var right, ref error))
                    {
                        return false;
                    }
                    if (!Arithmetic.TryApply(binary.Op, left, right, out value))
                    {
                        error = DivisionByZero(binary, within);
                        return false;
                    }
                    return true;
                }
            case BoundConditional conditional:
                if (!TryEvaluate(conditional.Condition, overrides, within, depth + 1, out var condition, ref error))
                {
                    return false;
                }
                return TryEvaluate(condition != 0 ? conditional.WhenTrue : conditional.WhenFalse, overrides, within, depth + 1, out value, ref error);
            case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.TdxKey or IntrinsicId.SevKey } call:
                if (!TryEvaluate(call.Arguments[0], overrides, within, depth + 1, out var index, ref error))
                {
                    return false;
                }
                value = call.Intrinsic.Id == IntrinsicId.TdxKey ? BuiltinValues.TdxKey(index) : BuiltinValues.SevKey(index);
                return true;
            default:
                return false;
        }
    }

    private static ConstantError DivisionByZero(BoundBinary division, ConstSymbol? within) =>
        new(DiagnosticCode.DivisionByZeroInConstant, division.Span, within,
            $"{(division.Op == BinaryOp.Modulo ? "modulo" : "division")} by zero in a constant");
}
