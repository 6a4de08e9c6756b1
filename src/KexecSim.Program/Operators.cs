namespace KexecSim.Program;

/// <summary>The unary operators of kflow (the operand of <see cref="OpCode.Unary"/>).</summary>
public enum UnaryOp
{
    Negate,
    LogicalNot,
    BitwiseNot,
}

/// <summary>The binary operators of kflow (the operand of <see cref="OpCode.Binary"/>).</summary>
public enum BinaryOp
{
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    BitAnd,
    BitOr,
    BitXor,
    ShiftLeft,
    ShiftRight,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    LogicalAnd,
    LogicalOr,
}
