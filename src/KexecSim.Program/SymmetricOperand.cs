namespace KexecSim.Program;

/// <summary>
/// An operand-stack entry that holds CPU data when a CPU rests before instruction <see cref="Pc"/> of
/// <see cref="Function"/>: a statement's temporaries live on the operand stack across its visible
/// actions (a CPU id loaded by a visible read waits there for the next step). <see cref="Depth"/> counts
/// from the bottom of the frame's own part of the operand stack (0: the first entry the frame pushed).
/// A caller suspended in a call rests at its return address, whose entries include the returned value
/// on top: that one is not there yet while the callee runs.
/// </summary>
public readonly record struct SymmetricOperand(int Function, int Pc, int Depth, SymmetricValueKind Value);
