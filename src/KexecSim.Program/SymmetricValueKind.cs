namespace KexecSim.Program;

/// <summary>
/// What a place (a variable's value, a frame slot, an operand) may hold that a permutation of the
/// symmetric CPUs must rewrite. A place with none of these holds data that no CPU permutation changes.
/// </summary>
[Flags]
public enum SymmetricValueKind : byte
{
    None = 0,

    /// <summary>A CPU id (a symmetric CPU's id is mapped; any other value, such as the -1 of "nobody" or
    /// a CPU outside the set, is a fixed point: the compiler checked that no constant stored there names
    /// a symmetric CPU).</summary>
    CpuId = 1,

    /// <summary>A cpumask value: <see cref="CompiledProgram.CpumaskWords"/> words whose bits are CPUs.</summary>
    Cpumask = 2,

    /// <summary>A line value (<c>region &lt;&lt; 32 | line</c>) that may name a line of a percpu region: the
    /// line is mapped by <see cref="SymmetrySpec.MapLine"/>, the region half is unchanged.</summary>
    PerCpuLine = 4,

    /// <summary>A place reference (<see cref="PlaceRef"/>) that may name a variable instance: its CPU field
    /// is a CPU id (for a shared variable it is the CPU that took the reference, and is permuted all the same).</summary>
    PlaceReference = 8,
}
