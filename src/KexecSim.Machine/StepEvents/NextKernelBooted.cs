namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> boots the next kernel at function <paramref name="Function"/> (an index into the program's functions).</summary>
public sealed record NextKernelBooted(int Cpu, int Function) : StepEvent;
