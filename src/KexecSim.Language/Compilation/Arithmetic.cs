using KexecSim.Language.Binding;

namespace KexecSim.Language.Compilation;

/// <summary>kflow's integer semantics (signed 64-bit, wrapping), shared by constant folding and the machine.</summary>
public static class Arithmetic
{
    /// <summary>Applies a binary operator; false on division by zero (a MODEL_ERROR at run time).</summary>
    public static bool TryApply(BinaryOp op, long left, long right, out long result)
    {
        unchecked
        {
            switch (op)
            {
                case BinaryOp.Add: result = left + right; return true;
                case BinaryOp.Subtract: result = left - right; return true;
                case BinaryOp.Multiply: result = left * right; return true;
                case BinaryOp.Divide:
                    if (right == 0) { result = 0; return false; }
                    result = right == -1 ? -left : left / right;
                    return true;
                case BinaryOp.Modulo:
                    if (right == 0) { result = 0; return false; }
                    result = right == -1 ? 0 : left % right;
                    return true;
                case BinaryOp.BitAnd: result = left & right; return true;
                case BinaryOp.BitOr: result = left | right; return true;
                case BinaryOp.BitXor: result = left ^ right; return true;
                case BinaryOp.ShiftLeft: result = left << (int)(right & 63); return true;
                case BinaryOp.ShiftRight: result = left >> (int)(right & 63); return true;
                case BinaryOp.Equal: result = left == right ? 1 : 0; return true;
                case BinaryOp.NotEqual: result = left != right ? 1 : 0; return true;
                case BinaryOp.Less: result = left < right ? 1 : 0; return true;
                case BinaryOp.LessOrEqual: result = left <= right ? 1 : 0; return true;
                case BinaryOp.Greater: result = left > right ? 1 : 0; return true;
                case BinaryOp.GreaterOrEqual: result = left >= right ? 1 : 0; return true;
                case BinaryOp.LogicalAnd: result = left != 0 && right != 0 ? 1 : 0; return true;
                case BinaryOp.LogicalOr: result = left != 0 || right != 0 ? 1 : 0; return true;
                default: throw new ArgumentOutOfRangeException(nameof(op));
            }
        }
    }

    public static long Apply(UnaryOp op, long operand) => unchecked(op switch
    {
        UnaryOp.Negate => -operand,
        UnaryOp.LogicalNot => operand == 0 ? 1 : 0,
        _ => ~operand,
    });
}

/// <summary>Evaluates constant expressions, with the scenario's <c>define</c> overrides when given.</summary>
public static class ConstantEvaluator
{
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
    public static bool TryEvaluate(BoundExpression expression, IReadOnlyDictionary<ConstSymbol, long>? overrides, out long value, out string? error)
    {
        error = null;
        return TryEvaluate(expression, overrides, 0, out value, ref error);
    }

    private static bool TryEvaluate(BoundExpression expression, IReadOnlyDictionary<ConstSymbol, long>? overrides, int depth, out long value, ref string? error)
    {
        value = 0;
        if (depth > 200)
        {
            error = "constant nested too deeply";
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
                return reference.Constant.Value is { } definition && TryEvaluate(definition, overrides, depth + 1, out value, ref error);
            case BoundUnary unary:
                if (!TryEvaluate(unary.Operand, overrides, depth + 1, out var operand, ref error))
                {
                    return false;
                }
                value = Arithmetic.Apply(unary.Op, operand);
                return true;
            case BoundBinary binary:
                {
                    if (!TryEvaluate(binary.Left, overrides, depth + 1, out var left, ref error))
                    {
                        return false;
                    }
                    // && and || short-circuit here too.
                    if ((binary.Op == BinaryOp.LogicalAnd && left == 0) || (binary.Op == BinaryOp.LogicalOr && left != 0))
                    {
                        value = binary.Op == BinaryOp.LogicalOr ? 1 : 0;
                        return true;
                    }
                    if (!TryEvaluate(binary.Right, overrides, depth + 1, out var right, ref error))
                    {
                        return false;
                    }
                    if (!Arithmetic.TryApply(binary.Op, left, right, out value))
                    {
                        error = "division by zero in a constant expression";
                        return false;
                    }
                    return true;
                }
            case BoundConditional conditional:
                if (!TryEvaluate(conditional.Condition, overrides, depth + 1, out var condition, ref error))
                {
                    return false;
                }
                return TryEvaluate(condition != 0 ? conditional.WhenTrue : conditional.WhenFalse, overrides, depth + 1, out value, ref error);
            case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.TdxKey or IntrinsicId.SevKey } call:
                if (!TryEvaluate(call.Arguments[0], overrides, depth + 1, out var index, ref error))
                {
                    return false;
                }
                value = call.Intrinsic.Id == IntrinsicId.TdxKey ? BuiltinValues.TdxKey(index) : BuiltinValues.SevKey(index);
                return true;
            default:
                return false;
        }
    }
}
