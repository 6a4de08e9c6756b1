namespace KexecSim.Program;

/// <summary>
/// The symmetry specification of a compiled program: which CPUs are interchangeable, and every place
/// of the state that a permutation of them must rewrite (docs/symmetry.md). A permutation π of
/// <see cref="Cpus"/> (the identity on every other CPU) maps a state by moving each CPU-indexed part
/// (<see cref="MachineState"/>, percpu variable instances, percpu lines) from CPU c to π(c) and by
/// rewriting every value listed here: CPU ids through π, cpumask bits through π, percpu lines through
/// <see cref="MapLine"/>, the CPU field of place references through π.
/// <para>The compiler classifies every place it can; when it cannot (a CPU id used as data, stored in
/// memory, computed with, or an order observation), <see cref="UnusableReason"/> says where and why and
/// the lists must not be used to reduce. The lists are computed either way, for the reader.</para>
/// </summary>
public sealed class SymmetrySpec
{
    /// <summary>The CPUs the scenario declares interchangeable (sorted; empty when it declares none).</summary>
    public required IReadOnlyList<int> Cpus { get; init; }

    /// <summary>Why the declaration cannot be used, as the warning KF0803 prints it (and
    /// <see cref="CompiledProgram.SymmetryIgnoredReason"/> holds it): the static check's order observation
    /// when it finds one, else the first scenario item that tells the CPUs apart (the boot CPU, an
    /// <c>inject … on</c>, the <c>final</c> block), else the first place this specification could not
    /// classify. Null when usable or when nothing is declared.</summary>
    public required string? UnusableReason { get; init; }

    /// <summary>The machine's own CPU-indexed parts for this platform.</summary>
    public required CpuIndexedState MachineState { get; init; }

    /// <summary>Variables whose instances are per CPU or whose value holds CPU data, by id.</summary>
    public required IReadOnlyList<SymmetricVariable> Variables { get; init; }

    /// <summary>Frame slots holding CPU data, by function then slot.</summary>
    public required IReadOnlyList<SymmetricSlot> Slots { get; init; }

    /// <summary>Operand-stack entries holding CPU data, by function, instruction, then depth.</summary>
    public required IReadOnlyList<SymmetricOperand> Operands { get; init; }

    /// <summary>Per function id (null: a function no CPU can reach), the operand-stack depth before each
    /// instruction (-1: an unreachable instruction). A frame suspended below another owns the entries of its
    /// resumption point (less the returned value while its callee runs): how a CPU's one operand stack is
    /// split into its frames' parts.</summary>
    public required IReadOnlyList<int[]?> OperandDepths { get; init; }

    /// <summary>The percpu regions (ids of <see cref="CompiledProgram.Regions"/>): their lines are per CPU,
    /// data, stack or code alike.</summary>
    public required IReadOnlyList<int> PerCpuRegions { get; init; }

    /// <summary>Per memory line: the CPU whose instance of a percpu region it is, or -1 (a shared line).</summary>
    public required int[] LineCpu { get; init; }

    /// <summary>Per memory line of a percpu region: lines per instance (the distance between CPU c's and
    /// CPU c+1's copy of it; instances are laid out back to back); 0 for a shared line.</summary>
    public required int[] LineStride { get; init; }

    /// <summary>Whether a reduction may use this specification.</summary>
    public bool IsUsable => Cpus.Count >= 2 && UnusableReason is null;

    /// <summary>A CPU id through <paramref name="permutation"/> (indexed by CPU; a value that is no CPU, such as -1, is kept).</summary>
    public static long MapCpu(long cpu, ReadOnlySpan<int> permutation) =>
        cpu >= 0 && cpu < permutation.Length ? permutation[(int)cpu] : cpu;

    /// <summary>A memory line through <paramref name="permutation"/>: CPU c's copy of a percpu line becomes
    /// CPU π(c)'s copy; a shared line is kept.</summary>
    public int MapLine(int line, ReadOnlySpan<int> permutation)
    {
        var cpu = LineCpu[line];
        return cpu < 0 ? line : line + ((permutation[cpu] - cpu) * LineStride[line]);
    }

    /// <summary>The specification in words, one place a line (for tests and <c>--dump</c>-style listings).</summary>
    public string Describe(CompiledProgram program)
    {
        var writer = new StringWriter();
        writer.WriteLine($"cpus: {string.Join(",", Cpus)}");
        writer.WriteLine($"usable: {(IsUsable ? "yes" : UnusableReason ?? "no (fewer than two CPUs)")}");
        writer.WriteLine($"machine: {MachineState}");
        foreach (var region in PerCpuRegions)
        {
            writer.WriteLine($"region {program.Regions[region].Name}: per CPU");
        }
        foreach (var variable in Variables)
        {
            writer.WriteLine($"var {variable}");
        }
        foreach (var slot in Slots)
        {
            writer.WriteLine($"slot {program.Functions[slot.Function].Name}.{slot}");
        }
        foreach (var operand in Operands)
        {
            writer.WriteLine($"operand {program.Functions[operand.Function].Name}@{operand.Pc}[{operand.Depth}]:{operand.Value}");
        }
        return writer.ToString();
    }
}
