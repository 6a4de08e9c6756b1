namespace KexecSim.Machine;

/// <summary>
/// <paramref name="Cpu"/> sends an event to <paramref name="Target"/>: a vector (its pending-vector index
/// <paramref name="VectorIndex"/>, -1 for the others), an NMI or an INIT. Sends the target ignores (the next
/// kernel has reset its APIC) are not events.
/// </summary>
public sealed record EventSent(int Cpu, int Target, SentEvent Kind, int VectorIndex = -1) : StepEvent;
