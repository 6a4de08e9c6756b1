namespace KexecSim.Program;

/// <summary>One function's code: instructions with visible-action boundaries marked, and debug spans.</summary>
public sealed class CompiledFunction
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required int ParameterCount { get; init; }

    /// <summary>Slots of a frame: parameters first, then locals (a cpumask local takes CpumaskWords slots), then temporaries.</summary>
    public required int SlotCount { get; init; }
    public required bool ReturnsValue { get; init; }

    /// <summary>The kflow type's name of the value it returns (<c>void</c> when none): how a report shows that value.</summary>
    public string ReturnTypeName { get; init; } = "void";
    public required Instruction[] Code { get; init; }
    public required DebugSpan[] Spans { get; init; }
    public required int[][] BranchTables { get; init; }

    /// <summary>The function's statements in emission order, each with its first instruction (the line
    /// table's statement entries, as DWARF's is_stmt): what coverage reports as reached or not.</summary>
    public IReadOnlyList<StatementEntry> Statements { get; init; } = [];

    /// <summary>The line the code lives in, per CPU (differs only for code in a percpu region).</summary>
    public required int[] HomeLinePerCpu { get; init; }
    public required DebugSpan Declaration { get; init; }
    public HandlerKind? Handler { get; init; }
    public long? Vector { get; init; }
    public bool IsSynthetic { get; init; }

    /// <summary>Parameter slots holding cpumask references (the rest hold values).</summary>
    public required bool[] ParameterIsMask { get; init; }

    /// <summary>The named parameters and locals by slot (the debug info reports name values by; hidden locals and
    /// temporaries are not listed).</summary>
    public IReadOnlyList<LocalInfo> Locals { get; init; } = [];

    public int HomeLine(int cpu) => HomeLinePerCpu.Length == 1 ? HomeLinePerCpu[0] : HomeLinePerCpu[cpu];

    public override string ToString() => Name;
}

/// <summary>A named parameter or local of a function: its first slot, its name and its kflow type's name.</summary>
public sealed record LocalInfo(int Slot, string Name, string TypeName, bool IsParameter);

/// <summary>A statement of a compiled function: its first instruction and its source span.</summary>
public readonly record struct StatementEntry(int FirstInstruction, DebugSpan Span);

/// <summary>A region laid out: its lines in for_each_line order (a percpu region: CPU 0's lines first).</summary>
public sealed class CompiledRegion
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public required bool IsPercpu { get; init; }
    public required bool IsAlias { get; init; }

    /// <summary>Lines per CPU for a percpu region, lines for the others.</summary>
    public required int LinesPerInstance { get; init; }
    public required int[] Lines { get; init; }

    /// <summary>Line <paramref name="index"/> of CPU <paramref name="cpu"/>'s instance (percpu) or of the region.</summary>
    public int LineOf(int cpu, int index) => IsPercpu ? Lines[(cpu * LinesPerInstance) + index] : Lines[index];
}

/// <summary>One modelled physical cache line.</summary>
public sealed record MemoryLine(int Id, int HomeRegion, string Name, long InitialKey)
{
    public override string ToString() => Name;
}

public sealed class CompiledVariable
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    /// <summary>The kflow type's name (int, bool, cpumask, key, line, or the enum's name).</summary>
    public required string TypeName { get; init; }
    public required bool IsPercpu { get; init; }
    public required long InitialValue { get; init; }

    /// <summary>Home line per CPU instance (a shared variable: one entry used by all).</summary>
    public required int[] HomeLinePerCpu { get; init; }
    public required DebugSpan Declaration { get; init; }

    /// <summary>A cpumask variable (its value spans CpumaskWords slots).</summary>
    public required bool IsMask { get; init; }

    public int HomeLine(int cpu) => IsPercpu ? HomeLinePerCpu[cpu] : HomeLinePerCpu[0];
}

public enum Vendor
{
    Intel,
    Amd,
}

public enum CacheTopology
{
    Private,
    Package,
}

/// <summary>The platform block with every value fixed.</summary>
public sealed class PlatformSpec
{
    public required Vendor Vendor { get; init; }
    public required int Cpus { get; init; }
    public required int Bsp { get; init; }

    /// <summary>Feature names of <see cref="CpuFeatures.Names"/> present on the platform.</summary>
    public required IReadOnlySet<string> Features { get; init; }
    public required IReadOnlySet<string> Bugs { get; init; }
    public required IReadOnlyDictionary<long, long> Cpuid { get; init; }
    public required bool SmeActive { get; init; }
    public required bool NextSmeActive { get; init; }
    public required CacheTopology Cache { get; init; }
    public required bool Evictions { get; init; }
    public required int SnpGuests { get; init; }
    public required long WbinvdMicroseconds { get; init; }

    public bool HasFeature(string name) => Features.Contains(name);

    /// <summary>The features as bits (built once: the set is fixed).</summary>
    public PlatformFeatures FeatureFlags => _flags ??= Features.Aggregate(PlatformFeatures.None, (all, name) => all | CpuFeatures.FlagOf(name));

    private PlatformFeatures? _flags;
}

public sealed record EntryPoint(int Function, long[] Arguments);

public sealed record InitBlock(IReadOnlyList<int> Cpus, int Function);

public enum FaultKind
{
    Nmi,
    Smi,
    Mce,
}

public sealed record FaultBudget(FaultKind Fault, int Budget, IReadOnlyList<int> Cpus);

/// <summary>What a scenario expects: nothing stated, <c>pass</c>, or a violation code.</summary>
public readonly record struct Expectation(bool IsStated, ViolationCode? Code)
{
    public static readonly Expectation None = new(false, null);
    public static readonly Expectation Pass = new(true, null);

    public bool IsPass => IsStated && Code is null;

    public override string ToString() => !IsStated ? "-" : Code is { } c ? c.Name() : "pass";
}

/// <summary>A scenario instance compiled against the model: everything the machine needs, nothing of the syntax.</summary>
public sealed class CompiledProgram
{
    public required string ScenarioName { get; init; }
    public required string Description { get; init; }
    public required DebugSpan ScenarioSpan { get; init; }
    public required PlatformSpec Platform { get; init; }
    public required IReadOnlyList<CompiledRegion> Regions { get; init; }
    public required IReadOnlyList<MemoryLine> Lines { get; init; }
    public required IReadOnlyList<CompiledVariable> Variables { get; init; }
    public required IReadOnlyList<CompiledFunction> Functions { get; init; }
    public required IReadOnlyDictionary<long, int> VectorHandlers { get; init; }
    public required int NmiHandler { get; init; }
    public required int MceHandler { get; init; }
    public required IReadOnlyList<string> Strings { get; init; }
    public required IReadOnlyList<string> BugNames { get; init; }

    /// <summary>Words of a cpumask value: ceil(cpus / 64).</summary>
    public required int CpumaskWords { get; init; }

    /// <summary>The region of the modelled stack, or -1 when the model declares none (calls are then local).</summary>
    public required int StackRegion { get; init; }

    /// <summary>The region the next kernel's image is copied through (clobbering), or -1.</summary>
    public required int NextKernelRegion { get; init; }

    /// <summary>Per CPU: its entry point, or null when it starts halted.</summary>
    public required IReadOnlyList<EntryPoint?> Entries { get; init; }
    public required int InitFunction { get; init; }
    public required IReadOnlyList<InitBlock> InitCpus { get; init; }
    public required int FinalFunction { get; init; }

    /// <summary>The functions the code names as values (<c>boot_next_kernel(f)</c>'s argument), by id: with the
    /// handlers, where the next kernel's code may start.</summary>
    public required IReadOnlySet<int> FunctionValues { get; init; }

    /// <summary>The intrinsics some code can run: every call of the model's functions, handlers and this scenario's
    /// blocks, except in a branch whose condition is known (a constant, or a <c>wait_until</c> that cannot
    /// time out under <c>timeouts off</c>). What the machine's reductions may rely on never happening.</summary>
    public required IReadOnlySet<IntrinsicId> LiveIntrinsics { get; init; }

    /// <summary>Whether a line value may be one nobody assigned, which is 0 and names the first line: a line
    /// local declared without a value, a function returning a line that can fall off its end, a line
    /// variable without an initialiser.</summary>
    public required bool MayHoldUnassignedLine { get; init; }
    public required IReadOnlyList<int> SymmetricCpus { get; init; }

    /// <summary>Why the symmetry declaration is not used: the same text as <see cref="SymmetrySpec.UnusableReason"/>,
    /// which the warning KF0803 prints (null when the declaration is usable or nothing is declared). A
    /// reduction consults <see cref="SymmetrySpec.IsUsable"/>.</summary>
    public required string? SymmetryIgnoredReason { get; init; }

    /// <summary>Which CPUs are interchangeable and which places of the state a permutation of them rewrites.</summary>
    public required SymmetrySpec Symmetry { get; init; }
    public required bool Timeouts { get; init; }
    public required IReadOnlyList<FaultBudget> Faults { get; init; }
    public required Expectation Expect { get; init; }

    /// <summary>Each enum type's members by value (for reports: a value of an enum type is shown by its name).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<long, string>> EnumMembers { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<long, string>>(StringComparer.Ordinal);

    /// <summary>The constant values in force (declared, then scenario defines, then -D), for reports.</summary>
    public required IReadOnlyDictionary<string, long> Constants { get; init; }

    public CompiledFunction Function(string name) => Functions.First(f => f.Name == name);

    public string Disassemble()
    {
        var writer = new StringWriter();
        foreach (var function in Functions)
        {
            writer.WriteLine($"fn {function.Name} (params {function.ParameterCount}, slots {function.SlotCount}, line {Lines[function.HomeLinePerCpu[0]].Name}):");
            for (var i = 0; i < function.Code.Length; i++)
            {
                var (line, column) = function.Spans[i].Position;
                writer.WriteLine($"  {i,4}: {function.Code[i],-40} ; {line}:{column}");
            }
        }
        return writer.ToString();
    }
}

/// <summary>The largest machine a scenario may describe.</summary>
public static class Limits
{
    public const int MaxCpus = 1024;
    public const int MaxLines = 1 << 20;
}

