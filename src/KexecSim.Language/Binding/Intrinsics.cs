using KexecSim.Program;

namespace KexecSim.Language.Binding;

/// <summary>How an intrinsic argument is checked and passed.</summary>
public enum ParamKind
{
    Int,
    /// <summary>A condition: bool, or an int tested against zero as in C.</summary>
    Bool,
    Key,
    Line,
    /// <summary>An interrupt vector: an int or any enum value.</summary>
    Vector,
    /// <summary>A cpumask read: a cpumask variable or <c>cpu_all_mask</c>.</summary>
    Mask,
    /// <summary>A cpumask written: a cpumask variable.</summary>
    MaskDestination,
    /// <summary>A scalar variable (shared, percpu, <c>v[c]</c> or local) operated on in place.</summary>
    Variable,
    /// <summary>A shared or percpu variable (its home line is what is monitored).</summary>
    MemoryVariable,
    Feature,
    Bug,
    Function,
    String,
    /// <summary>Any scalar value (extra arguments of pr_err/panic are recorded, printf-style).</summary>
    Any,
    /// <summary>A condition re-evaluated on every poll (wait_until).</summary>
    Condition,
    /// <summary>A value of the type of the variable given as the first argument (cmpxchg, xchg, atomic_set).</summary>
    VariableValue,
}

/// <summary>The signature and step class of one intrinsic of LANGUAGE.md section 5.</summary>
public sealed record Intrinsic(
    IntrinsicId Id,
    string Name,
    ParamKind[] Parameters,
    int RequiredCount,
    KType ReturnType,
    bool IsLocal,
    bool IsBlocking,
    bool IsVariadic = false)
{
    public string Signature => $"({string.Join(", ", Parameters.Select(Describe))}{(IsVariadic ? ", ..." : string.Empty)})";

    public static string Describe(ParamKind kind) => kind switch
    {
        ParamKind.Int => "int",
        ParamKind.VariableValue => "value",
        ParamKind.Bool or ParamKind.Condition => "bool",
        ParamKind.Key => "key",
        ParamKind.Line => "line",
        ParamKind.Vector => "vector",
        ParamKind.Mask or ParamKind.MaskDestination => "cpumask",
        ParamKind.Variable or ParamKind.MemoryVariable => "variable",
        ParamKind.Feature => "feature",
        ParamKind.Bug => "bug",
        ParamKind.Function => "function",
        ParamKind.String => "string",
        ParamKind.Any => "value",
        _ => kind.ToString(),
    };
}

public static class Intrinsics
{
    private static Intrinsic Make(IntrinsicId id, string name, KType returns, bool local, bool blocking, params ParamKind[] parameters) =>
        new(id, name, parameters, parameters.Length, returns, local, blocking);

    public static readonly IReadOnlyDictionary<string, Intrinsic> All = new Intrinsic[]
    {
        // CPU identity and features: local (no interleaving point).
        Make(IntrinsicId.ThisCpu, "this_cpu", KType.Int, true, false),
        Make(IntrinsicId.NrCpus, "nr_cpus", KType.Int, true, false),
        Make(IntrinsicId.CpuHas, "cpu_has", KType.Bool, true, false, ParamKind.Feature),
        Make(IntrinsicId.CpuHasBug, "cpu_has_bug", KType.Bool, true, false, ParamKind.Bug),
        Make(IntrinsicId.Cpuid, "cpuid", KType.Int, true, false, ParamKind.Int),
        Make(IntrinsicId.KernelKey, "kernel_key", KType.Key, true, false),

        // Interrupts and CPU state.
        Make(IntrinsicId.LocalIrqDisable, "local_irq_disable", KType.Void, true, false),
        Make(IntrinsicId.LocalIrqEnable, "local_irq_enable", KType.Void, true, false),
        Make(IntrinsicId.SendIpi, "send_ipi", KType.Void, false, false, ParamKind.Int, ParamKind.Vector),
        Make(IntrinsicId.SendIpiMask, "send_ipi_mask", KType.Void, false, false, ParamKind.Mask, ParamKind.Vector),
        Make(IntrinsicId.SendIpiAllButSelf, "send_ipi_allbutself", KType.Void, false, false, ParamKind.Vector),
        Make(IntrinsicId.SendNmi, "send_nmi", KType.Void, false, false, ParamKind.Int),
        Make(IntrinsicId.SendNmiMask, "send_nmi_mask", KType.Void, false, false, ParamKind.Mask),
        Make(IntrinsicId.SendNmiAllButSelf, "send_nmi_allbutself", KType.Void, false, false),
        Make(IntrinsicId.SendInit, "send_init", KType.Void, false, false, ParamKind.Int),
        Make(IntrinsicId.Hlt, "hlt", KType.Void, false, true),
        Make(IntrinsicId.Monitor, "monitor", KType.Void, false, false, ParamKind.MemoryVariable),
        Make(IntrinsicId.Mwait, "mwait", KType.Void, false, true),
        Make(IntrinsicId.Vmxon, "vmxon", KType.Void, false, false),
        Make(IntrinsicId.Vmxoff, "vmxoff", KType.Void, false, false),
        Make(IntrinsicId.Clgi, "clgi", KType.Void, false, false),
        Make(IntrinsicId.Stgi, "stgi", KType.Void, false, false),

        // Memory and caches.
        Make(IntrinsicId.Load, "load", KType.Int, false, false, ParamKind.Line, ParamKind.Key),
        Make(IntrinsicId.Store, "store", KType.Void, false, false, ParamKind.Line, ParamKind.Key, ParamKind.Int),
        Make(IntrinsicId.Movnti, "movnti", KType.Void, false, false, ParamKind.Line, ParamKind.Key, ParamKind.Int),
        Make(IntrinsicId.Movdir64b, "movdir64b", KType.Void, false, false, ParamKind.Line, ParamKind.Key, ParamKind.Int),
        Make(IntrinsicId.Clflush, "clflush", KType.Void, false, false, ParamKind.Line, ParamKind.Key),
        Make(IntrinsicId.Wbinvd, "wbinvd", KType.Void, false, true),
        Make(IntrinsicId.Wbnoinvd, "wbnoinvd", KType.Void, false, true),
        Make(IntrinsicId.TdxKey, "tdx_key", KType.Key, true, false, ParamKind.Int),
        Make(IntrinsicId.SevKey, "sev_key", KType.Key, true, false, ParamKind.Int),

        // Kernel data structures.
        Make(IntrinsicId.CpumaskSetCpu, "cpumask_set_cpu", KType.Void, false, false, ParamKind.Int, ParamKind.MaskDestination),
        Make(IntrinsicId.CpumaskClearCpu, "cpumask_clear_cpu", KType.Void, false, false, ParamKind.Int, ParamKind.MaskDestination),
        Make(IntrinsicId.CpumaskTestCpu, "cpumask_test_cpu", KType.Bool, false, false, ParamKind.Int, ParamKind.Mask),
        Make(IntrinsicId.CpumaskEmpty, "cpumask_empty", KType.Bool, false, false, ParamKind.Mask),
        Make(IntrinsicId.CpumaskWeight, "cpumask_weight", KType.Int, false, false, ParamKind.Mask),
        Make(IntrinsicId.CpumaskCopy, "cpumask_copy", KType.Void, false, false, ParamKind.MaskDestination, ParamKind.Mask),
        Make(IntrinsicId.CpumaskAndNot, "cpumask_andnot", KType.Void, false, false, ParamKind.MaskDestination, ParamKind.Mask, ParamKind.Mask),
        Make(IntrinsicId.CpumaskClear, "cpumask_clear", KType.Void, false, false, ParamKind.MaskDestination),
        Make(IntrinsicId.CpumaskFirst, "cpumask_first", KType.Int, false, false, ParamKind.Mask),
        Make(IntrinsicId.AtomicRead, "atomic_read", KType.Int, false, false, ParamKind.Variable),
        Make(IntrinsicId.AtomicSet, "atomic_set", KType.Void, false, false, ParamKind.Variable, ParamKind.VariableValue),
        Make(IntrinsicId.AtomicInc, "atomic_inc", KType.Void, false, false, ParamKind.Variable),
        Make(IntrinsicId.AtomicDec, "atomic_dec", KType.Void, false, false, ParamKind.Variable),
        Make(IntrinsicId.AtomicIncReturn, "atomic_inc_return", KType.Int, false, false, ParamKind.Variable),
        Make(IntrinsicId.AtomicDecReturn, "atomic_dec_return", KType.Int, false, false, ParamKind.Variable),
        Make(IntrinsicId.Cmpxchg, "cmpxchg", KType.Int, false, false, ParamKind.Variable, ParamKind.VariableValue, ParamKind.VariableValue),
        Make(IntrinsicId.Xchg, "xchg", KType.Int, false, false, ParamKind.Variable, ParamKind.VariableValue),

        // Time.
        Make(IntrinsicId.Udelay, "udelay", KType.Void, false, false, ParamKind.Int),
        new(IntrinsicId.WaitUntil, "wait_until", [ParamKind.Condition, ParamKind.Int], 1, KType.Bool, false, true),

        // Firmware.
        new(IntrinsicId.SevCmd, "sev_cmd", [ParamKind.Int, ParamKind.Int], 1, KType.Int, false, false),
        Make(IntrinsicId.SnpState, "snp_state", KType.Int, true, false),
        Make(IntrinsicId.TdxState, "tdx_state", KType.Int, true, false),

        // Kexec and the next kernel.
        Make(IntrinsicId.BootNextKernel, "boot_next_kernel", KType.Void, false, false, ParamKind.Function),
        Make(IntrinsicId.DmaWrite, "dma_write", KType.Void, false, false, ParamKind.Line, ParamKind.Int),
        Make(IntrinsicId.Vmrun, "vmrun", KType.Void, false, true, ParamKind.Int),
        Make(IntrinsicId.PlatformReset, "platform_reset", KType.Void, false, false),
        Make(IntrinsicId.Done, "done", KType.Void, false, false),

        // Reporting.
        new(IntrinsicId.Panic, "panic", [ParamKind.String], 1, KType.Void, false, false, IsVariadic: true),
        new(IntrinsicId.PrErr, "pr_err", [ParamKind.String], 1, KType.Void, true, false, IsVariadic: true),
        new(IntrinsicId.PrWarn, "pr_warn", [ParamKind.String], 1, KType.Void, true, false, IsVariadic: true),
        Make(IntrinsicId.WarnOn, "warn_on", KType.Bool, false, false, ParamKind.Bool),
        Make(IntrinsicId.BugOn, "bug_on", KType.Void, false, false, ParamKind.Bool),
        Make(IntrinsicId.Choose, "choose", KType.Int, false, false, ParamKind.Int),
        new(IntrinsicId.Assert, "assert", [ParamKind.Bool, ParamKind.String], 1, KType.Void, false, false),
    }.ToDictionary(i => i.Name, StringComparer.Ordinal);

    /// <summary>CPU feature names of <c>cpu_has</c> and the platform's <c>features</c> list.</summary>
    public static readonly IReadOnlyList<string> Features = CpuFeatures.Names;

    /// <summary>Bug names known without a platform declaring them.</summary>
    public static readonly IReadOnlyList<string> KnownBugs = [CpuFeatures.TdxPartialWriteBug];
}

/// <summary>The built-in constants a model may name, with their types (values from <see cref="BuiltinValues"/>).</summary>
public static class BuiltinConstants
{
    public static readonly IReadOnlyList<BuiltinConstantSymbol> All =
    [
        new("OLD_CONTENT", KType.Int, BuiltinValues.OldContent),
        new("GARBAGE", KType.Int, BuiltinValues.Garbage),
        new("KEY_NONE", KType.Key, BuiltinValues.KeyNone),
        new("KEY_SME", KType.Key, BuiltinValues.KeySme),
        new("SNP_INIT", KType.Int, BuiltinValues.SnpInit),
        new("SNP_DECOMMISSION", KType.Int, BuiltinValues.SnpDecommission),
        new("SNP_DF_FLUSH", KType.Int, BuiltinValues.SnpDfFlush),
        new("SNP_SHUTDOWN_EX", KType.Int, BuiltinValues.SnpShutdownEx),
        new("SEV_OK", KType.Int, BuiltinValues.SevOk),
        new("WBINVD_REQUIRED", KType.Int, BuiltinValues.WbinvdRequired),
        new("DFFLUSH_REQUIRED", KType.Int, BuiltinValues.DfflushRequired),
        new("INVALID_GUEST_STATE", KType.Int, BuiltinValues.InvalidGuestState),
        new("INVALID_PLATFORM_STATE", KType.Int, BuiltinValues.InvalidPlatformState),
        new("SNP_STATE_UNINIT", KType.Int, 0),
        new("SNP_STATE_INIT", KType.Int, 1),
        new("TDX_STATE_UNINIT", KType.Int, 0),
        new("TDX_STATE_INIT", KType.Int, 1),
    ];

    /// <summary>Built-in names this project added beyond LANGUAGE.md: a model may reuse them.</summary>
    public static readonly IReadOnlySet<string> ProjectNames = new HashSet<string>(StringComparer.Ordinal) { "TDX_STATE_UNINIT", "TDX_STATE_INIT" };
}
