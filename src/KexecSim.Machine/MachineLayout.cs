using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>Where everything lives in a <see cref="MachineState"/>, derived once from a compiled program.</summary>
public sealed class MachineLayout
{
    /// <summary>The pending-vector bit used for vectors that have no handler (they only wake a CPU).</summary>
    public const int UnhandledVector = 63;

    public MachineLayout(CompiledProgram program)
    {
        Program = program;
        Cpus = program.Platform.Cpus;
        CacheCount = program.Platform.Cache == CacheTopology.Package ? 1 : Cpus;
        CpumaskWords = program.CpumaskWords;
        VariableOffsets = new int[program.Variables.Count];
        VariableWords = 0;
        foreach (var variable in program.Variables)
        {
            VariableOffsets[variable.Id] = VariableWords;
            VariableWords += WordsPerInstance(variable) * (variable.IsPercpu ? Cpus : 1);
        }
        var vectors = program.VectorHandlers.Keys.Order().ToList();
        if (vectors.Count > UnhandledVector)
        {
            throw new InvalidOperationException($"more than {UnhandledVector} interrupt vectors have handlers");
        }
        VectorValues = vectors.ToArray();
        VectorHandlerByIndex = vectors.Select(v => program.VectorHandlers[v]).ToArray();
        BugPresent = program.BugNames.Select(program.Platform.Bugs.Contains).ToArray();
        FeaturePresent = CpuFeatures.Names.Select(program.Platform.HasFeature).ToArray();
        Features = program.Platform.FeatureFlags;
        InGuest = HasFeature(PlatformFeatures.Hypervisor);
        TdxPartialWriteErratum = program.Platform.Bugs.Contains(CpuFeatures.TdxPartialWriteBug);
        OldKernelKey = program.Platform.SmeActive ? BuiltinValues.KeySme : BuiltinValues.KeyNone;
        NextKernelKey = program.Platform.NextSmeActive ? BuiltinValues.KeySme : BuiltinValues.KeyNone;
        Faults = program.Faults.Select(f => (f.Fault, f.Budget, f.Cpus.ToArray())).ToArray();
        State = new StateLayout(Cpus, CacheCount, program.Platform.SnpGuests, VariableWords, program.Lines.Count,
            program.Variables.Select(v => (v.Name, VariableOffsets[v.Id], WordsPerInstance(v), v.IsPercpu)).ToList());
    }

    /// <summary>The scenario's stray-fault budgets with their CPUs as arrays (PERF: no enumerator
    /// allocated when the transitions of a state are listed).</summary>
    public (FaultKind Fault, int Budget, int[] Cpus)[] Faults { get; }

    /// <summary>The segments of the flat state vector.</summary>
    public StateLayout State { get; }

    public CompiledProgram Program { get; }

    public int Cpus { get; }

    public int CacheCount { get; }

    public int CpumaskWords { get; }

    public int VariableWords { get; }

    public int[] VariableOffsets { get; }

    public long[] VectorValues { get; }

    public int[] VectorHandlerByIndex { get; }

    public bool[] BugPresent { get; }

    public bool[] FeaturePresent { get; }

    /// <summary>The platform is a guest (HYPERVISOR): WBINVD is emulated, or an exception in a CC guest.</summary>
    public bool InGuest { get; }

    public long OldKernelKey { get; }

    public long NextKernelKey { get; }

    public int WordsPerInstance(CompiledVariable variable) => variable.IsMask ? CpumaskWords : 1;

    /// <summary>The first word of a variable instance.</summary>
    public int VariableSlot(int variable, int cpu)
    {
        var compiled = Program.Variables[variable];
        return VariableOffsets[variable] + (compiled.IsPercpu ? cpu * WordsPerInstance(compiled) : 0);
    }

    public int CacheOf(int cpu) => CacheCount == 1 ? 0 : cpu;

    /// <summary>The pending-vector bit for a vector value.</summary>
    public int VectorIndex(long vector)
    {
        var index = Array.BinarySearch(VectorValues, vector);
        return index >= 0 ? index : UnhandledVector;
    }

    /// <summary>The platform's features (PERF: a bit test, not a string lookup, in the hot path).</summary>
    public PlatformFeatures Features { get; }

    /// <summary>The platform has the TDX partial-write erratum (bug TDX_PW_MCE).</summary>
    public bool TdxPartialWriteErratum { get; }

    public bool HasFeature(PlatformFeatures feature) => (Features & feature) != 0;

    /// <summary>CPUID EAX with the vendor's out-of-range behaviour (SEMANTICS.md section 3).</summary>
    public long Cpuid(long leaf)
    {
        var table = Program.Platform.Cpuid;
        if (leaf == 0x8000_0000L)
        {
            return table.GetValueOrDefault(leaf);
        }
        var maxBasic = table.GetValueOrDefault(0);
        var maxExtended = table.GetValueOrDefault(0x8000_0000L);
        var inRange = leaf >= 0x8000_0000L ? leaf <= maxExtended : leaf >= 0 && leaf <= maxBasic;
        if (inRange)
        {
            return table.GetValueOrDefault(leaf);
        }
        // Intel answers an out-of-range leaf with the highest basic leaf's data; AMD with zeros.
        return Program.Platform.Vendor == Vendor.Intel ? table.GetValueOrDefault(maxBasic) : 0;
    }

    public string LineName(int line) => Program.Lines[line].Name;

    public string RegionName(int region) => Program.Regions[region].Name;
}
