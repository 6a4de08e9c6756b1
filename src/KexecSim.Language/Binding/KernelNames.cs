namespace KexecSim.Language.Binding;

/// <summary>
/// One kernel name and what a model writes for it in kflow.
/// <see cref="Kflow"/> is what to write instead (code, or a few words when there is no one-line
/// equivalent); <see cref="Note"/> says why or how, in a few words (empty when obvious).
/// </summary>
public sealed record KernelName(string Kernel, string Kflow, string Note = "")
{
    /// <summary>The "did you mean" suffix of an unknown function or name that is this kernel name.</summary>
    public string Hint => $"; did you mean {Kflow}? (kernel name{(Note.Length > 0 ? ": " + Note : string.Empty)})";
}

/// <summary>
/// Kernel names (functions, macros and variables of arch/x86 and the core kernel) with their kflow
/// equivalents: the table of docs/language.md ("From kernel C to kflow") and the "did you mean" of
/// an unknown name that is one of them. Kept as data so that the docs and the diagnostics cannot
/// disagree (DocumentationTests checks every row is in the docs).
/// </summary>
public static class KernelNames
{
    public static readonly IReadOnlyList<KernelName> All =
    [
        // CPU identity and features.
        new("smp_processor_id", "this_cpu()"),
        new("raw_smp_processor_id", "this_cpu()"),
        new("safe_smp_processor_id", "this_cpu()"),
        new("nr_cpu_ids", "nr_cpus()"),
        new("num_possible_cpus", "nr_cpus()"),
        new("num_online_cpus", "cpumask_weight(cpu_online_mask)", "declare 'shared cpumask cpu_online_mask = cpu_all_mask;' as linux/stop.kflow does"),
        new("cpu_online", "cpumask_test_cpu(cpu, cpu_online_mask)"),
        new("set_cpu_online", "cpumask_clear_cpu(cpu, cpu_online_mask)", "or cpumask_set_cpu when it is set online"),
        new("boot_cpu_has", "cpu_has(FEATURE)", "X86_FEATURE_SME is cpu_has(SME)"),
        new("static_cpu_has", "cpu_has(FEATURE)"),
        new("cpu_feature_enabled", "cpu_has(FEATURE)"),
        new("this_cpu_has", "cpu_has(FEATURE)"),
        new("boot_cpu_has_bug", "cpu_has_bug(BUG)", "X86_BUG_TDX_PW_MCE is cpu_has_bug(TDX_PW_MCE)"),
        new("cpuid_eax", "cpuid(leaf)", "EAX of the platform's CPUID table"),

        // Memory accesses and ordering.
        new("READ_ONCE", "a plain read of the variable", "every shared or percpu access is one visible action, sequentially consistent"),
        new("WRITE_ONCE", "a plain assignment 'x = v;'", "every shared or percpu access is one visible action, sequentially consistent"),
        new("this_cpu_read", "the percpu variable's name", "'v' is this CPU's instance of a percpu variable"),
        new("this_cpu_write", "an assignment 'v = e;' to the percpu variable"),
        new("per_cpu", "v[cpu]", "another CPU's instance of a percpu variable"),
        new("smp_mb", "nothing", "kflow variables are sequentially consistent"),
        new("barrier", "nothing", "kflow variables are sequentially consistent"),
        new("atomic_try_cmpxchg", "cmpxchg(x, old, new) == old"),
        new("memcpy", "store(l, KEY, v) for each line", "for_each_line (l in region) { store(l, key, v); }"),

        // Interrupts and CPU state.
        new("raw_local_irq_disable", "local_irq_disable()"),
        new("local_irq_save", "local_irq_disable()"),
        new("local_irq_restore", "local_irq_enable()", "when interrupts were enabled before the save"),
        new("native_halt", "hlt()"),
        new("halt", "hlt()"),
        new("safe_halt", "local_irq_enable(); hlt()"),
        new("native_safe_halt", "local_irq_enable(); hlt()"),
        new("__monitor", "monitor(v)", "arms the monitor on the line holding variable v"),
        new("__mwait", "mwait()"),
        new("cpu_relax", "nothing", "a loop back-edge is already a step; or wait_until(cond)"),
        new("send_IPI", "send_ipi(cpu, VECTOR)"),
        new("send_IPI_mask", "send_ipi_mask(mask, VECTOR)"),
        new("send_IPI_allbutself", "send_ipi_allbutself(VECTOR)"),
        new("apic_send_IPI_allbutself", "send_ipi_allbutself(VECTOR)"),
        new("smp_call_function", "send_ipi_allbutself(VECTOR)", "with a 'handler vector VECTOR { ... }' that does the work"),
        new("apic_eoi", "nothing", "returning from the handler ends it"),
        new("cpu_vmxoff", "vmxoff()"),
        new("cpu_emergency_disable_virtualization", "vmxoff()", "on AMD: stgi()"),
        new("mdelay", "udelay(ms * 1000)"),

        // Caches.
        new("native_wbinvd", "wbinvd()"),
        new("native_wbnoinvd", "wbnoinvd()"),
        new("clflushopt", "clflush(l, KEY)"),
        new("clflush_cache_range", "clflush(l, KEY) for each line"),
        new("wbinvd_on_all_cpus", "wbinvd() on every CPU", "send_ipi_allbutself(V) to a handler that calls wbinvd(), then wbinvd() here"),

        // Firmware, kexec, reboot.
        new("sev_do_cmd", "sev_cmd(CMD, arg)"),
        new("__sev_do_cmd_locked", "sev_cmd(CMD, arg)"),
        new("machine_restart", "platform_reset()"),
        new("emergency_restart", "platform_reset()"),
        new("native_machine_emergency_restart", "platform_reset()"),
        new("relocate_kernel", "boot_next_kernel(f)", "after the copy; linux/kexec.kflow has the kernel's relocate_kernel()"),
        new("start_kernel", "boot_next_kernel(f)", "f runs in region next_kernel"),

        // Reporting.
        new("BUG_ON", "bug_on(cond)"),
        new("BUG", "bug_on(true)"),
        new("WARN_ON", "warn_on(cond)"),
        new("WARN_ON_ONCE", "warn_on(cond)"),
        new("pr_info", "pr_warn(\"...\")", "kflow records pr_err and pr_warn"),
        new("pr_emerg", "pr_err(\"...\")", "kflow records pr_err and pr_warn"),
        new("printk", "pr_err(\"...\")", "kflow records pr_err and pr_warn"),
    ];

    private static readonly Dictionary<string, KernelName> ByName = All.ToDictionary(n => n.Kernel, StringComparer.Ordinal);

    /// <summary>The kflow equivalent of a kernel name, or null when <paramref name="name"/> is not one.</summary>
    public static KernelName? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The kflow name of a kernel feature or bug constant (<c>X86_FEATURE_SME</c> is <c>SME</c>), or null.</summary>
    public static string? WithoutKernelPrefix(string name) =>
        name.StartsWith("X86_FEATURE_", StringComparison.Ordinal) ? name["X86_FEATURE_".Length..]
        : name.StartsWith("X86_BUG_", StringComparison.Ordinal) ? name["X86_BUG_".Length..]
        : null;
}
