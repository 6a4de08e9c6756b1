namespace KexecSim.Machine;

/// <summary>One named part of a <see cref="MachineState"/>'s vector.</summary>
/// <param name="Name">What the words hold.</param>
/// <param name="Offset">The first word (fixed segments; -1 for the variable-length ones).</param>
/// <param name="Words">How many words (fixed segments; -1 for the variable-length ones).</param>
/// <param name="CpuIndexed">Whether the segment is one instance per CPU (or per private cache), in CPU order:
/// what a symmetry reduction permutes.</param>
/// <param name="WordsPerCpu">For a fixed CPU-indexed segment, the words of one CPU's instance.</param>
public sealed record StateSegment(string Name, int Offset, int Words, bool CpuIndexed, int WordsPerCpu);

/// <summary>
/// Where everything lives in the flat state vector (SEMANTICS.md section 1). The vector is a run of
/// machine words and is its own canonical encoding: a fixed part at fixed offsets, then per-CPU stacks
/// and caches whose lengths are recorded in the fixed part. Every segment is named here, and the ones
/// indexed by CPU are marked.
/// </summary>
/// <remarks>
/// <code>
/// fixed:    machine flags | fault budgets (NMI, SMI, MCE) | guest states per ASID
///           | variables (percpu ones per CPU) | lines (3 words each)
///           | CPU headers (5 words each)
/// variable: per CPU: frames, operands, deferred fetches | per cache: count, then (tag|dirty, value) pairs sorted by tag
/// </code>
/// A CPU header is: mode | flags &lt;&lt; 8 | (monitor line + 1) &lt;&lt; 32; pending vectors; kernel key |
/// guest ASID &lt;&lt; 32; counts (frames | frame words &lt;&lt; 16 | operands &lt;&lt; 32 | fetches &lt;&lt; 48); the top frame's offset.
/// A frame is: header (function | kind &lt;&lt; 32 | saved IF &lt;&lt; 40 | (previous frame's offset + 1) &lt;&lt; 44), pc,
/// the interrupted code's deferred fetches (handler frames), then its slots.
/// </remarks>
public sealed class StateLayout
{
    public const int MachineWord = 0;
    public const int BudgetWords = 1;
    public const int LineWords = 3;
    public const int CpuHeaderWords = 5;

    public StateLayout(int cpus, int cacheCount, int guests, int variableWords, int lines, IReadOnlyList<(string Name, int Offset, int Words, bool Percpu)> variables)
    {
        Cpus = cpus;
        CacheCount = cacheCount;
        Guests = BudgetWords + 1;
        GuestWords = guests == 0 ? 0 : guests + 1;
        Variables = Guests + GuestWords;
        VariableWords = variableWords;
        Lines = Variables + variableWords;
        LineCount = lines;
        CpuHeaders = Lines + lines * LineWords;
        FixedWords = CpuHeaders + cpus * CpuHeaderWords;
        var segments = new List<StateSegment>
        {
            new("machine flags (finished, SNP initialized, needs DF_FLUSH, powered off)", MachineWord, 1, false, 0),
            new("fault budgets (NMI, SMI, MCE: 21 bits each)", BudgetWords, 1, false, 0),
            new("SEV-SNP guest states, per ASID (0 unused)", Guests, GuestWords, false, 0),
        };
        foreach (var (name, offset, words, percpu) in variables)
        {
            segments.Add(new($"variable {name}", Variables + offset, percpu ? words * cpus : words, percpu, percpu ? words : 0));
        }
        segments.Add(new("memory lines (value; key, flags, new key; new value)", Lines, lines * LineWords, false, 0));
        segments.Add(new("CPU headers (mode, flags, monitor, pending vectors, key, guest, counts, top frame)", CpuHeaders, cpus * CpuHeaderWords, true, CpuHeaderWords));
        segments.Add(new("CPU stacks (frames, operands, deferred fetches)", -1, -1, true, 0));
        segments.Add(new(cacheCount == 1 ? "the shared cache" : "private caches, per CPU", -1, -1, cacheCount > 1, 0));
        Segments = segments;
    }

    public int Cpus { get; }

    public int CacheCount { get; }

    /// <summary>First word of the guest states (one word per ASID, 0 unused).</summary>
    public int Guests { get; }

    public int GuestWords { get; }

    public int Variables { get; }

    public int VariableWords { get; }

    public int Lines { get; }

    public int LineCount { get; }

    public int CpuHeaders { get; }

    /// <summary>Words before the variable part (stacks, then caches).</summary>
    public int FixedWords { get; }

    /// <summary>Every segment, in vector order.</summary>
    public IReadOnlyList<StateSegment> Segments { get; }

    public int CpuHeader(int cpu) => CpuHeaders + cpu * CpuHeaderWords;
}
