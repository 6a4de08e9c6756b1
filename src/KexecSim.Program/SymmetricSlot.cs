namespace KexecSim.Program;

/// <summary>
/// A frame slot of a function that holds CPU data: a parameter or a local (a cpumask local spans
/// <see cref="Words"/> slots; a cpumask parameter is one slot holding a <see cref="PlaceRef"/>).
/// </summary>
/// <param name="Function">The function's id (<see cref="CompiledFunction.Id"/>).</param>
/// <param name="Slot">The first slot (index after the frame header, as <see cref="OpCode.LoadLocal"/> counts).</param>
/// <param name="Words">How many slots the value spans.</param>
/// <param name="Value">What the slot holds.</param>
/// <param name="Name">The parameter's or local's name, for messages and tests.</param>
public sealed record SymmetricSlot(int Function, int Slot, int Words, SymmetricValueKind Value, string Name)
{
    public override string ToString() => $"{Name}@{Slot}:{Value}";
}
