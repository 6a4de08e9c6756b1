using System.Text.RegularExpressions;
using KexecSim.Program;

namespace KexecSim.Language.Tests;

/// <summary>
/// One truth for "is <c>symmetric</c> usable" (docs/symmetry.md, docs/diagnostics.md): the warning KF0803
/// is reported, at the <c>symmetric</c> item and with the reason's file:line:col, exactly when the
/// compiled specification is unusable; each scenario-level rule (the boot CPU, <c>inject … on</c>,
/// <c>final</c>) has its text; and code that cannot run under the scenario (a branch under a constant
/// condition, the timeout branch of a <c>wait_until</c> that cannot time out) never makes it unusable.
/// </summary>
public sealed class SymmetryWarningTests
{
    private static (CompiledProgram Program, string[] Diagnostics) Load(string text)
    {
        var result = FrontEnd.LoadText("t.kflow", text, new LoadOptions { ModelPath = [TestPaths.Models] });
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        var program = Assert.Single(result.Scenarios);
        var diagnostics = result.Diagnostics.Select(d => d.ToString()).ToArray();
        AssertOneTruth(program, diagnostics);
        return (program, diagnostics);
    }

    /// <summary>The warning, the program's ignored reason and the specification say the same thing.</summary>
    private static void AssertOneTruth(CompiledProgram program, string[] diagnostics)
    {
        var spec = program.Symmetry;
        Assert.Equal(spec.UnusableReason, program.SymmetryIgnoredReason);
        var warnings = diagnostics.Where(d => d.Contains(" warning KF0803: ", StringComparison.Ordinal)).ToList();
        if (spec.Cpus.Count >= 2 && !spec.IsUsable)
        {
            var warning = Assert.Single(warnings);
            Assert.EndsWith($" is not used: {spec.UnusableReason}", warning);
        }
        else
        {
            Assert.Empty(warnings);
        }
    }

    // ───────────────────────────── The boot CPU ─────────────────────────────

    [Theory]
    [InlineData("cpus 3; bsp 1;", "1..2",
        "t.kflow:5:5: warning KF0803: 'symmetric 1..2' is not used: 'symmetric 1..2' at t.kflow:5:5: CPU 1 is the boot CPU (an INIT to it resets the platform)")]
    [InlineData("cpus 3;", "0..1",
        "t.kflow:5:5: warning KF0803: 'symmetric 0..1' is not used: 'symmetric 0..1' at t.kflow:5:5: CPU 0 is the boot CPU (an INIT to it resets the platform)")]
    public void The_boot_cpu_among_them_is_a_warning_at_the_symmetric_item(string platform, string set, string warning)
    {
        var (program, diagnostics) = Load($$"""
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { {{platform}} }
                cpu 0..2 runs idle();
                symmetric {{set}};
            }
            """);
        Assert.Equal([warning], diagnostics);
        Assert.False(program.Symmetry.IsUsable);
    }

    [Fact]
    public void The_boot_cpu_outside_them_keeps_the_declaration()
    {
        var (program, diagnostics) = Load("""
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 3; bsp 2; }
                cpu 0..2 runs idle();
                symmetric 0..1;
            }
            """);
        Assert.Empty(diagnostics);
        Assert.True(program.Symmetry.IsUsable);
    }

    // ───────────────────────────── inject … on ─────────────────────────────

    [Theory]
    [InlineData("inject nmi 1 on 0..1;", "'inject nmi 1 on 0..1;' at t.kflow:6:5: it may hit CPU 1 but not CPU 2")]
    [InlineData("inject smi 2 on 2;", "'inject smi 2 on 2;' at t.kflow:6:5: it may hit CPU 2 but not CPU 1")]
    [InlineData("inject nmi 1; inject mce 1 on 0, 2;", "'inject mce 1 on 0, 2;' at t.kflow:6:19: it may hit CPU 2 but not CPU 1")]
    public void An_inject_that_may_hit_some_of_them_but_not_all_is_a_warning_naming_it(string inject, string reason)
    {
        var (program, diagnostics) = Load($$"""
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 3; }
                cpu 0..2 runs idle();
                symmetric 1..2;
                {{inject}}
            }
            """);
        Assert.Equal([$"t.kflow:5:5: warning KF0803: 'symmetric 1..2' is not used: {reason}"], diagnostics);
        Assert.False(program.Symmetry.IsUsable);
    }

    [Theory]
    [InlineData("inject nmi 1 on 1..2;")]
    [InlineData("inject nmi 1 on 0;")]
    [InlineData("inject nmi 1;")]
    [InlineData("inject mce 0 on 1;")]
    public void An_inject_that_hits_all_of_them_none_of_them_or_nothing_keeps_the_declaration(string inject)
    {
        var (program, diagnostics) = Load($$"""
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 3; }
                cpu 0..2 runs idle();
                symmetric 1..2;
                {{inject}}
            }
            """);
        Assert.Empty(diagnostics);
        Assert.True(program.Symmetry.IsUsable);
    }

    // ───────────────────────────── final ─────────────────────────────

    private const string FinalModel = """
        shared int stopping_cpu = -1;
        shared cpumask stopped;
        percpu int count;
        region buf[1] percpu;
        fn worker() {
            cmpxchg(stopping_cpu, -1, this_cpu());
            cpumask_set_cpu(this_cpu(), stopped);
            count = 1;
            loop { hlt(); }
        }
        fn first_counted() -> bool { return count[1] == 1; }
        scenario "s" {
            platform { cpus 3; }
            cpu 0..2 runs worker();
            symmetric 1..2;
            final { FINAL }
        }
        """;

    [Theory]
    [InlineData("assert(count[1] == 1, \"counted\");",
        "'count[1]' at t.kflow:16:20: final reads CPU 1's instance of 'count', and CPU 1 is one of them")]
    [InlineData("assert(load(buf[2][0], KEY_NONE) == 0, \"clean\");",
        "'buf[2][0]' at t.kflow:16:25: final reads CPU 2's copy of 'buf', and CPU 2 is one of them")]
    [InlineData("assert(cpumask_test_cpu(1, stopped), \"stopped\");",
        "'cpumask_test_cpu(1, stopped)' at t.kflow:16:20: final names CPU 1, one of them, by number")]
    [InlineData("assert(stopping_cpu != 2, \"not 2\");",
        "'stopping_cpu != 2' at t.kflow:16:20: final compares a CPU id with a constant that tells them apart")]
    [InlineData("assert(first_counted(), \"counted\");",
        "'count[1]' at t.kflow:11:37: final reads CPU 1's instance of 'count', and CPU 1 is one of them")]
    public void A_final_block_that_tells_them_apart_is_a_warning_naming_the_code(string final, string reason)
    {
        var (program, diagnostics) = Load(FinalModel.Replace("FINAL", final, StringComparison.Ordinal));
        Assert.Equal([$"t.kflow:15:5: warning KF0803: 'symmetric 1..2' is not used: {reason}"], diagnostics);
        Assert.False(program.Symmetry.IsUsable);
    }

    [Theory]
    [InlineData("assert(count[0] == 1, \"counted\");")]
    [InlineData("assert(stopping_cpu != -1, \"someone stopped\");")]
    [InlineData("assert(cpumask_weight(stopped) == 3 && !cpumask_test_cpu(0, stopped) == false, \"all stopped\");")]
    [InlineData("assert(count == 1, \"CPU 0 counted\");")]
    [InlineData("assert(load(buf[0], KEY_NONE) == 0 && this_cpu() == 0, \"CPU 0's copy\");")]
    public void A_final_block_that_treats_them_alike_keeps_the_declaration(string final)
    {
        // CPU 0 is not one of them: final runs on it, so this_cpu() and unindexed percpu data are CPU 0's.
        var (program, diagnostics) = Load(FinalModel.Replace("FINAL", final, StringComparison.Ordinal));
        Assert.Empty(diagnostics);
        Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
    }

    [Theory]
    [InlineData("assert(count == 0, \"zero\");", "'count' at t.kflow:9:20: final runs on CPU 0, one of them, and reads its instance of 'count'")]
    [InlineData("assert(load(buf[0], KEY_NONE) == 0, \"clean\");", "'buf[0]' at t.kflow:9:25: final runs on CPU 0, one of them, and reads its copy of 'buf'")]
    [InlineData("assert(this_cpu() != 5, \"any\");", "'this_cpu()' at t.kflow:9:20: final runs on CPU 0, one of them, so this_cpu() singles it out")]
    public void A_final_block_reading_this_cpus_data_singles_out_cpu_0_when_it_is_one_of_them(string final, string reason)
    {
        var (program, diagnostics) = Load($$"""
            percpu int count;
            region buf[1] percpu;
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 3; bsp 2; }
                cpu 0..2 runs idle();
                symmetric 0..1;
                timeouts off;
                final { {{final}} }
            }
            """);
        Assert.Equal([$"t.kflow:7:5: warning KF0803: 'symmetric 0..1' is not used: {reason}"], diagnostics);
        Assert.False(program.Symmetry.IsUsable);
    }

    // ───────────────────────────── What the specification alone found ─────────────────────────────

    [Fact]
    public void A_use_only_the_specification_rejects_is_a_warning_too()
    {
        var (program, diagnostics) = Load("""
            fn worker() {
                store(data[0], KEY_NONE, this_cpu());
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 3; } cpu 0..2 runs worker(); symmetric 1..2; }
            """);
        Assert.Equal(["t.kflow:5:61: warning KF0803: 'symmetric 1..2' is not used: 'this_cpu()' at t.kflow:2:30: it passes a CPU id to store"], diagnostics);
        Assert.False(program.Symmetry.IsUsable);
    }

    // ───────────────────────────── Code that cannot run ─────────────────────────────

    private const string DeadModel = """
        const MODE = 0;
        shared cpumask m = cpu_all_mask;
        shared int target = -1;
        fn boss() {
            if (MODE == 1) {
                for_each_cpu (c in m) { send_nmi(c); }
            }
            target = MODE == 2 ? cpumask_first(m) : -1;
            done();
        }
        fn idle() { loop { hlt(); } }
        scenario "s" {
            platform { cpus 3; }
            cpu 0 runs boss();
            cpu 1..2 runs idle();
            symmetric 1..2;
            DEFINE
        }
        """;

    [Theory]
    [InlineData("", null)]
    [InlineData("define MODE = 3;", null)]
    [InlineData("define MODE = 1;", "'for_each_cpu (c in m) { send_nmi(c); }' at t.kflow:6:9: for_each_cpu visits CPUs in id order")]
    [InlineData("define MODE = 2;", "'cpumask_first(m)' at t.kflow:8:26: cpumask_first picks the lowest CPU id")]
    public void A_branch_under_a_constant_condition_counts_only_when_the_scenarios_constants_take_it(string define, string? reason)
    {
        var (program, diagnostics) = Load(DeadModel.Replace("DEFINE", define, StringComparison.Ordinal));
        if (reason is null)
        {
            Assert.Empty(diagnostics);
            Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        }
        else
        {
            Assert.Equal([$"t.kflow:16:5: warning KF0803: 'symmetric 1..2' is not used: {reason}"], diagnostics);
            Assert.False(program.Symmetry.IsUsable);
        }
    }

    [Theory]
    [InlineData("if (!wait_until(cpumask_empty(m), 100)) { NMIS }", "timeouts off;", false)]
    [InlineData("if (!wait_until(cpumask_empty(m), 100)) { NMIS }", "timeouts on;", true)]
    [InlineData("if (!wait_until(cpumask_empty(m), 100)) { NMIS }", "", true)]
    [InlineData("if (!wait_until(cpumask_empty(m))) { NMIS }", "timeouts on;", false)]
    [InlineData("if (wait_until(cpumask_empty(m), 100)) { done(); } else { NMIS }", "timeouts off;", false)]
    [InlineData("if (wait_until(cpumask_empty(m), 100)) { done(); } else { NMIS }", "timeouts on;", true)]
    [InlineData("if (!wait_until(cpumask_empty(m), 100) && cpumask_weight(m) > 1) { NMIS }", "timeouts off;", false)]
    [InlineData("if (!wait_until(cpumask_empty(m), 100) || cpumask_weight(m) > 1) { NMIS }", "timeouts off;", true)]
    public void The_timeout_branch_of_a_wait_that_cannot_time_out_cannot_run(string code, string timeouts, bool unusable)
    {
        const string nmis = "for_each_cpu (c in m) { send_nmi(c); }";
        var text = $$"""
            shared cpumask m = cpu_all_mask;
            fn boss() {
                {{code.Replace("NMIS", nmis, StringComparison.Ordinal)}}
                done();
            }
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 3; }
                cpu 0 runs boss();
                cpu 1..2 runs idle();
                symmetric 1..2;
                {{timeouts}}
            }
            """;
        var (program, diagnostics) = Load(text);
        if (unusable)
        {
            var column = code.IndexOf("NMIS", StringComparison.Ordinal) + 5;
            Assert.Equal([$"t.kflow:11:5: warning KF0803: 'symmetric 1..2' is not used: '{nmis}' at t.kflow:3:{column}: for_each_cpu visits CPUs in id order"], diagnostics);
            Assert.False(program.Symmetry.IsUsable);
        }
        else
        {
            Assert.Empty(diagnostics);
            Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        }
    }

    [Fact]
    public void A_comparison_that_tells_them_apart_stays_an_error_in_code_that_can_run_and_none_in_code_that_cannot()
    {
        const string text = """
            const DEBUG = false;
            fn idle() {
                if (DEBUG) {
                    if (this_cpu() == 1) { hlt(); }
                }
                if (this_cpu() == 2) { hlt(); }
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 3; } cpu 0..2 runs idle(); symmetric 1..2; }
            """;
        var diagnostics = FrontEnd.LoadText("t.kflow", text).Diagnostics.Select(d => d.ToString()).ToArray();
        Assert.Equal(
            [
                "t.kflow:6:9: error KF0304: 'this_cpu() == 2' compares a CPU id with a constant, so CPUs 1..2 are not interchangeable (scenario \"s\" declares them symmetric)",
                "t.kflow:9:59: error KF0304: 'symmetric 1..2' is not true: 'this_cpu() == 2' at t.kflow:6:9 compares a CPU id with a constant",
            ],
            diagnostics);
    }

    // ───────────────────────────── The stop protocol of the catalog ─────────────────────────────

    /// <summary>The catalog file seed000-stop-wbinvd.kflow, copied with only its <c>stop-mask-reboot</c>
    /// scenario, to which <c>symmetric 1..2;</c> is added and whose <c>timeouts</c> item is as given.</summary>
    private static string StopMaskReboot(string timeouts)
    {
        var catalog = File.ReadAllText(Path.Combine(TestPaths.Models, "catalog", "seed000-stop-wbinvd.kflow")).ReplaceLineEndings("\n");
        const string pattern = "scenario \"[^\"]*\" \\{.*?\\n\\}\\n?";
        var scenario = Regex.Matches(catalog, pattern, RegexOptions.Singleline).Single(m => m.Value.StartsWith("scenario \"stop-mask-reboot\"", StringComparison.Ordinal)).Value;
        Assert.Contains("    timeouts off;\n", scenario);
        scenario = scenario.Replace("    timeouts off;\n", $"    symmetric 1..2;\n    {timeouts}\n", StringComparison.Ordinal);
        var rest = Regex.Replace(catalog, pattern, string.Empty, RegexOptions.Singleline);
        return rest + scenario;
    }

    [Fact]
    public void The_stop_protocol_with_timeouts_off_has_a_usable_spec_and_no_warning()
    {
        var (program, diagnostics) = Load(StopMaskReboot("timeouts off;"));
        Assert.Empty(diagnostics);
        Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        Assert.Equal([1, 2], program.Symmetry.Cpus);
    }

    [Fact]
    public void The_stop_protocol_with_timeouts_on_warns_at_its_nmi_loop()
    {
        var text = StopMaskReboot("timeouts on;");
        var line = Array.IndexOf(text.Split('\n'), "    symmetric 1..2;") + 1;
        var (program, diagnostics) = Load(text);
        var stop = Path.Combine(TestPaths.Models, "linux", "stop.kflow");
        var warning = Assert.Single(diagnostics);
        Assert.Matches(
            "^t\\.kflow:" + line + ":5: warning KF0803: 'symmetric 1\\.\\.2' is not used: 'for_each_cpu \\(cpu in cpus_stop_mask\\) \\{ send_nmi\\(cpu\\); \\}' at [^ ]*linux/stop\\.kflow:119:13: for_each_cpu visits CPUs in id order$",
            warning);
        Assert.True(File.Exists(stop));
        Assert.False(program.Symmetry.IsUsable);
    }
}
