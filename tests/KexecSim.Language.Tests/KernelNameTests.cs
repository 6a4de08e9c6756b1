using KexecSim.Language.Binding;

namespace KexecSim.Language.Tests;

/// <summary>A kernel name where kflow has another gets its kflow equivalent as "did you mean" (KernelNames).</summary>
public sealed class KernelNameTests
{
    private static string[] Lines(string text) =>
        FrontEnd.LoadText("models/mine.kflow", text).Diagnostics.Select(d => d.ToString()).ToArray();

    [Fact]
    public void Smp_processor_id_suggests_this_cpu()
    {
        Assert.Equal(["models/mine.kflow:2:13: error KF0208: unknown function 'smp_processor_id'; did you mean this_cpu()? (kernel name)"],
            Lines("fn f() {\n    int c = smp_processor_id();\n    c = c;\n    done();\n}\n"));
    }

    [Fact]
    public void Native_wbinvd_suggests_wbinvd()
    {
        Assert.Equal(["models/mine.kflow:1:10: error KF0208: unknown function 'native_wbinvd'; did you mean wbinvd()? (kernel name)"],
            Lines("fn f() { native_wbinvd(); }\n"));
    }

    [Fact]
    public void Num_online_cpus_suggests_the_weight_of_the_online_mask()
    {
        Assert.Equal(["models/mine.kflow:1:30: error KF0208: unknown function 'num_online_cpus'; did you mean cpumask_weight(cpu_online_mask)? "
            + "(kernel name: declare 'shared cpumask cpu_online_mask = cpu_all_mask;' as linux/stop.kflow does)"],
            Lines("fn f() { wait_until(1 < 2 && num_online_cpus() == 1); }\n"));
    }

    [Fact]
    public void Read_once_says_a_plain_read_and_its_arguments_are_still_checked()
    {
        Assert.Equal([
            "models/mine.kflow:1:18: error KF0208: unknown function 'READ_ONCE'; did you mean a plain read of the variable? "
                + "(kernel name: every shared or percpu access is one visible action, sequentially consistent)",
            "models/mine.kflow:1:28: error KF0201: unknown name 'flg'",
        ], Lines("fn f() { int x = READ_ONCE(flg); x = x; }\n"));
    }

    [Fact]
    public void A_kernel_name_used_as_a_value_suggests_its_equivalent()
    {
        Assert.Equal(["models/mine.kflow:1:18: error KF0201: unknown name 'nr_cpu_ids'; did you mean nr_cpus()? (kernel name)"],
            Lines("fn f() { int n = nr_cpu_ids; n = n; }\n"));
    }

    [Fact]
    public void Kernel_feature_and_bug_constants_suggest_the_kflow_names()
    {
        Assert.Equal([
            "models/mine.kflow:1:22: error KF0215: unknown CPU feature 'X86_FEATURE_SME'; did you mean SME? (kernel name)",
            "models/mine.kflow:1:54: error KF0216: unknown CPU bug 'X86_BUG_TDX_PW_MCE'; did you mean TDX_PW_MCE? (kernel name)",
            "models/mine.kflow:2:44: error KF0215: unknown CPU feature 'X86_FEATURE_HYPERVISOR'; did you mean HYPERVISOR? (kernel name)",
        ], Lines("fn f() { if (cpu_has(X86_FEATURE_SME) && cpu_has_bug(X86_BUG_TDX_PW_MCE)) { wbinvd(); } done(); }\n"
            + "scenario \"s\" { platform { cpus 1; features X86_FEATURE_HYPERVISOR; } cpu 0 runs f(); }\n"));
    }

    [Fact]
    public void A_model_that_defines_a_kernel_name_uses_its_own()
    {
        Assert.Empty(Lines("fn smp_processor_id() -> int { return this_cpu(); }\nfn f() { int c = smp_processor_id(); c = c; done(); }\n"));
    }

    [Fact]
    public void No_kernel_name_is_a_kflow_intrinsic_or_listed_twice()
    {
        Assert.Empty(KernelNames.All.Where(n => Intrinsics.All.ContainsKey(n.Kernel)).Select(n => n.Kernel));
        Assert.Equal(KernelNames.All.Count, KernelNames.All.Select(n => n.Kernel).Distinct(StringComparer.Ordinal).Count());
    }
}
