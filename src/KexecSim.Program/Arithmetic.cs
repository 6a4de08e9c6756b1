namespace KexecSim.Program;

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
