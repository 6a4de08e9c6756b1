using KexecSim.Exploration;
using KexecSim.Language.Diagnostics;
using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>Coverage after a check (docs/coverage.md): no vacuous pass.</summary>
public sealed class CoverageTests
{
    // Line numbers matter: the tests assert file:line:col.
    internal const string Model = """
        const REBOOT_VECTOR = 0xf8;
        shared bool stopped;
        handler vector REBOOT_VECTOR { stopped = true; loop { hlt(); } }
        fn boot_cpu() {
            send_ipi(1, REBOOT_VECTOR);
            wait_until(stopped, 100);
            done();
        }
        fn boot_cpu_waits() {
            send_ipi(1, REBOOT_VECTOR);
            wait_until(stopped);
            done();
        }
        fn other_cpu() { loop { hlt(); } }
        fn fixed_cpu() {
            local_irq_enable();
            loop { hlt(); }
            pr_err("never: after a loop without break");
        }
        scenario "if-zero" { platform { cpus 2; } cpu 0 runs boot_cpu(); cpu 1 runs other_cpu(); expect pass; }
        scenario "irq-on" { platform { cpus 2; } cpu 0 runs boot_cpu(); cpu 1 runs fixed_cpu(); expect pass; }
        scenario "hang" { platform { cpus 2; } cpu 0 runs boot_cpu_waits(); cpu 1 runs other_cpu(); expect DEADLOCK; }
        """;

    private static CheckResult Check(string text, string scenario)
    {
        var loaded = FrontEnd.LoadText("e.kflow", text);
        Assert.DoesNotContain(loaded.Diagnostics, d => d.IsError);
        return new BreadthFirstExplorer(loaded.Scenarios.Single(s => s.ScenarioName == scenario)).Run();
    }

    [Fact]
    public void A_reboot_handler_never_delivered_because_IF_stays_0_warns_on_the_pass()
    {
        var result = Check(Model, "if-zero");
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.True(result.ExpectationMet);
        Assert.Equal(
            ["e.kflow:3:1: warning KF0951: handler vector REBOOT_VECTOR never ran in scenario \"if-zero\": REBOOT_VECTOR was sent but never "
                + "delivered: a CPU takes a maskable interrupt only with IF = 1 and GIF = 1, and every CPU starts with IF = 0 (call local_irq_enable()); clgi() clears GIF until stgi()"],
            result.CoverageWarnings.Select(w => w.ToString()));
        Assert.Equal(8, result.Coverage!.Statements);
        Assert.Equal(5, result.Coverage.Reached);
    }

    [Fact]
    public void Coverage_lists_every_statement_never_reached_by_source_position()
    {
        var result = Check(Model, "if-zero");
        Assert.Equal(
        [
            "e.kflow:3:32: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:3:48: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:3:55: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:6:5: note KF0954: wait_until never returned true in scenario \"if-zero\": it only timed out",
            "e.kflow:10:5: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:11:5: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:12:5: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:16:5: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:17:5: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:17:12: note KF0950: never reached in scenario \"if-zero\"",
            "e.kflow:18:5: note KF0950: never reached in scenario \"if-zero\"",
        ], result.Coverage!.Notes.Select(n => n.ToString()));
    }

    [Fact]
    public void Full_coverage_gives_no_warning_and_dead_code_after_an_endless_loop_does_not_count()
    {
        var result = Check(Model, "irq-on");
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Empty(result.CoverageWarnings);
        Assert.Equal(9, result.Coverage!.Statements);
        Assert.Equal(9, result.Coverage.Reached);
        // The pr_err after loop { } is listed (nothing reached it), but only by --coverage.
        Assert.Contains("e.kflow:18:5: note KF0950: never reached in scenario \"irq-on\"", result.Coverage.Notes.Select(n => n.ToString()));
    }

    [Fact]
    public void A_deadlock_says_which_event_is_pending_and_masked()
    {
        var result = Check(Model, "hang");
        Assert.Equal(ViolationCode.Deadlock, result.Violation!.Code);
        Assert.Equal(
            "no CPU can move and the run has not finished: CPU 0 waits at e.kflow:11:5; CPU 1 is halted at e.kflow:14:18 with REBOOT_VECTOR pending and IF = 0",
            new KexecSim.Reporting.Narration(result.Program).Text(result.Violation));
        // Not a pass: the search stopped at the violation, so nothing is warned about.
        Assert.False(result.Coverage!.Exhaustive);
        Assert.Empty(result.CoverageWarnings);
    }

    [Theory]
    [InlineData("send_ipi(1, KICK);", "KICK pending and GIF = 0")]
    [InlineData("send_nmi(1);", "an NMI pending and GIF = 0")]
    public void A_deadlock_names_an_event_held_back_by_gif_0(string send, string held)
    {
        // IF = 1, but GIF = 0 holds maskable interrupts and NMIs as well (SEMANTICS.md section 4).
        var model = $$"""
            enum V { KICK = 0xf8 }
            shared bool woke;
            handler vector KICK { woke = true; }
            handler nmi { woke = true; }
            fn cpu0() { {{send}} wait_until(woke); done(); }
            fn cpu1() { local_irq_enable(); clgi(); loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; } timeouts off; cpu 0 runs cpu0(); cpu 1 runs cpu1(); expect DEADLOCK; }
            """;
        var result = Check(model, "s");
        Assert.Equal(ViolationCode.Deadlock, result.Violation!.Code);
        Assert.EndsWith($"CPU 1 is halted at e.kflow:6:41 with {held}", new KexecSim.Reporting.Narration(result.Program).Text(result.Violation));
    }

    [Fact]
    public void A_handler_held_back_by_gif_0_names_gif_in_its_warning()
    {
        const string model = """
            enum V { KICK = 0xf8 }
            shared bool kicked;
            shared bool ready;
            handler vector KICK { kicked = true; }
            fn cpu0() { wait_until(ready); send_ipi(1, KICK); done(); }
            fn cpu1() { local_irq_enable(); clgi(); ready = true; loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; } timeouts off; cpu 0 runs cpu0(); cpu 1 runs cpu1(); expect pass; }
            """;
        var result = Check(model, "s");
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Contains(result.CoverageWarnings, w => w.Message.EndsWith(
            "KICK was sent but never delivered: a CPU takes a maskable interrupt only with IF = 1 and GIF = 1, and every CPU starts with IF = 0 (call local_irq_enable()); clgi() clears GIF until stgi()",
            StringComparison.Ordinal));
    }

    [Fact]
    public void A_deadlock_names_an_NMI_held_back_by_the_NMI_handler_that_never_returns()
    {
        const string model = """
            shared bool taken;
            shared bool never;
            handler nmi { taken = true; loop { hlt(); } }
            fn cpu0() { send_nmi(1); wait_until(taken); send_nmi(1); wait_until(never); }
            fn cpu1() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs cpu0(); cpu 1 runs cpu1(); expect DEADLOCK; }
            """;
        var result = Check(model, "s");
        Assert.Equal(ViolationCode.Deadlock, result.Violation!.Code);
        Assert.Equal(
            "no CPU can move and the run has not finished: CPU 0 waits at e.kflow:4:58; CPU 1 is halted at e.kflow:3:29 with an NMI pending, blocked until the NMI handler returns",
            new KexecSim.Reporting.Narration(result.Program).Text(result.Violation));
    }

    [Fact]
    public void A_wait_that_never_ends_while_the_run_finishes_warns_and_so_do_the_statements_after_it()
    {
        const string model = """
            shared bool go;
            fn finisher() { done(); }
            fn waiter() {
                wait_until(go);
                pr_err("after the wait");
            }
            scenario "s" { platform { cpus 2; } cpu 0 runs finisher(); cpu 1 runs waiter(); expect pass; }
            """;
        var result = Check(model, "s");
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal(
        [
            "e.kflow:4:5: warning KF0953: wait_until never returned true and never timed out in scenario \"s\"",
            "e.kflow:5:5: warning KF0952: waiter(): 1 of 2 statements never reached in scenario \"s\"",
        ], result.CoverageWarnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Branches_on_constants_features_and_waits_that_cannot_time_out_are_dead_code_not_warnings()
    {
        const string model = """
            const NEW_WAY = false;
            shared bool go;
            fn helper() { go = true; }
            fn cpu0() {
                if (NEW_WAY && cpu_has(SME)) {
                    pr_err("new way");
                }
                if (!cpu_has(SME)) {
                    helper();
                }
                if (!wait_until(go)) {
                    pr_err("cannot time out");
                }
                done();
            }
            scenario "s" { platform { cpus 1; } cpu 0 runs cpu0(); timeouts off; expect pass; }
            """;
        var result = Check(model, "s");
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Empty(result.CoverageWarnings);
        Assert.Equal(6, result.Coverage!.Statements);
        Assert.Equal(6, result.Coverage.Reached);
        Assert.Equal(
        [
            "e.kflow:6:9: note KF0950: never reached in scenario \"s\"",
            "e.kflow:12:9: note KF0950: never reached in scenario \"s\"",
        ], result.Coverage.Notes.Select(n => n.ToString()));
    }

    [Fact]
    public void A_handler_whose_event_never_comes_is_not_part_of_the_scenario()
    {
        // handler mce: no machine check can happen here; it is listed by --coverage, not warned about.
        const string model = """
            handler mce { pr_err("mce"); }
            fn cpu0() { done(); }
            scenario "s" { platform { cpus 1; } cpu 0 runs cpu0(); expect pass; }
            """;
        var result = Check(model, "s");
        Assert.Empty(result.CoverageWarnings);
        Assert.Equal(["e.kflow:1:15: note KF0950: never reached in scenario \"s\""], result.Coverage!.Notes.Select(n => n.ToString()));
    }

    /// <summary>The catalog passes that warn, each for a real reason (docs/coverage.md, "The catalog").</summary>
    public static TheoryData<string, string, string> CatalogWarnings() => new()
    {
        { "seed001-tdx-incoherent-flag.kflow", "tdx-flag-before-seamcall", "tdx.kflow:141:9: KF0952: kernel_kexec_tdx(): 1 of 9 statements never reached" },
        { "seed001-tdx-incoherent-flag.kflow", "tdx-syscore-flush", "tdx.kflow:141:9: KF0952: kernel_kexec_tdx(): 1 of 10 statements never reached" },
        { "seed001-tdx.kflow", "tdx-erratum-reset-pamt-no-guests", "tdx.kflow:141:9: KF0952: kernel_kexec_tdx(): 1 of 10 statements never reached" },
        { "seed001-tdx.kflow", "tdx-erratum-refuse", "" },
        { "seed002-parked-cpus.kflow", "parked-init-xapic-skip-invalid-ids", "parked.kflow:157:9: KF0952: kexec_after_cpus_parked(): 1 of 3 statements never reached" },
        { "seed003-snp-kdump.kflow", "snp-kdump-meet-all-answer", "crash.kflow:38:9: KF0952: handler nmi: 1 of 10 statements never reached" },
        { "seed004-sme.kflow", "sme-relocate-wbinvd", "" },
    };

    [Theory]
    [MemberData(nameof(CatalogWarnings))]
    public void Catalog_passes_warn_only_for_real_reasons(string file, string scenario, string expected)
    {
        var models = TestPaths.Models;
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", file), new LoadOptions { ModelPath = [models] });
        var result = new BreadthFirstExplorer(loaded.Scenarios.Single(s => s.ScenarioName == scenario)).Run();
        Assert.Equal(Verdict.Pass, result.Verdict);
        var warnings = result.CoverageWarnings.Select(w =>
            $"{Path.GetFileName(w.Location.Source.Path)}:{w.Location.Position.Line}:{w.Location.Position.Column}: {w.Code.Format()}: "
            + w.Message.Replace($" in scenario \"{scenario}\"", string.Empty, StringComparison.Ordinal));
        Assert.Equal(expected.Length == 0 ? [] : [expected], warnings);
    }

    [Fact]
    public void Coverage_is_the_same_on_every_run()
    {
        var first = Check(Model, "if-zero").Coverage!;
        var second = Check(Model, "if-zero").Coverage!;
        Assert.Equal(first.Notes.Select(n => n.ToString()), second.Notes.Select(n => n.ToString()));
        Assert.Equal(first.Warnings.Select(n => n.ToString()), second.Warnings.Select(n => n.ToString()));
    }
}
