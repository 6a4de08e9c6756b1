namespace KexecSim.Machine;

/// <summary><paramref name="Cpu"/> takes a pending event (for a vector, its pending-vector index <paramref name="VectorIndex"/>).</summary>
public sealed record EventDelivered(int Cpu, EventKind Kind, int VectorIndex = -1) : StepEvent;
