namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> returns <paramref name="Value"/> from function <paramref name="Function"/> to its caller (a function with a return type).</summary>
public sealed record FunctionReturned(int Cpu, int Function, long Value) : StepEvent;
