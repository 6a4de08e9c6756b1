namespace KexecSim.Machine;

/// <summary>
/// <paramref name="Cpu"/> gives local slot <paramref name="Slot"/> of function <paramref name="Function"/> the value
/// <paramref name="Value"/> (an assignment, a declaration, a loop variable's next value); the program's local table
/// (<c>CompiledFunction.Locals</c>) names the slot.
/// </summary>
public sealed record LocalAssigned(int Cpu, int Function, int Slot, long Value) : StepEvent;
