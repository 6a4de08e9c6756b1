using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md sections 2, 7 and 8: transitions, violations, the end of a run.</summary>
public sealed class RunRules
{
    [Fact]
    public void Transition_evictions_write_back_dirty_lines_only_when_on()
    {
        const string model = """
            region buf[1] key KEY_SME;
            fn f() { store(buf[0], KEY_NONE, 1); loop { clflush(buf[0], KEY_SME); if (load(buf[0], KEY_SME) == GARBAGE) break; } done(); }
            scenario "s" { platform { evictions on; } cpu 0 runs f(); expect pass; }
            """;
        // With evictions the C=0 line reaches memory and the C=1 read sees ciphertext (a cycle that never
        // lets the eviction happen is not fair); without evictions it never does: the spin is a livelock.
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        var off = RuleHarness.Check(model.Replace("evictions on", "evictions off").Replace("expect pass", "expect LIVELOCK"));
        Assert.Equal("LIVELOCK", off.Outcome);
    }

    [Fact]
    public void Transition_injected_faults_respect_their_budget_and_cpus()
    {
        const string model = """
            percpu int hits;
            handler nmi { hits++; }
            fn boss() { wait_until(hits[1] == 2); done(); }
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs idle(); inject nmi BUDGET on CPUS; timeouts off; expect EXPECT; }
            """;
        string With(string budget, string cpus, string expect) => model.Replace("BUDGET", budget).Replace("CPUS", cpus).Replace("EXPECT", expect);
        // Two stray NMIs on CPU 1: its handler counts to two.
        Assert.Equal("pass", RuleHarness.Check(With("2", "1", "pass")).Outcome);
        // A budget of one never gets there.
        Assert.Equal("DEADLOCK", RuleHarness.Check(With("1", "1", "DEADLOCK")).Outcome);
        // Faults only where 'on' allows: none reaches CPU 1.
        Assert.Equal("DEADLOCK", RuleHarness.Check(With("2", "0", "DEADLOCK")).Outcome);
    }

    [Fact]
    public void Transition_timeouts_on_let_a_wait_expire_and_off_never()
    {
        const string model = """
            shared bool answered;
            fn boss() { if (!wait_until(answered, 1000)) panic("timed out"); done(); }
            fn slow() { answered = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs slow(); timeouts on; expect PANIC; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("PANIC", check.Outcome);
        Assert.Equal(2, check.Steps);
        Assert.Equal("wait times out", check.View!.Steps[0].Action);
        Assert.Equal("pass", RuleHarness.Check(model.Replace("timeouts on; expect PANIC", "timeouts off; expect pass")).Outcome);
    }

    [Fact]
    public void Transition_a_true_condition_cannot_time_out()
    {
        const string model = """
            shared bool answered = true;
            fn boss() { if (!wait_until(answered, 1000)) panic("timed out"); done(); }
            scenario "s" { cpu 0 runs boss(); timeouts on; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Either_and_choose_are_explored_exhaustively()
    {
        const string model = """
            fn f() {
                int a = choose(3);
                either { a = a + 10; } or { a = a + 20; }
                assert(a != 22, "found the one combination");
                done();
            }
            scenario "s" { cpu 0 runs f(); expect ASSERTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.Equal([[2], [1], []], check.Result.Trace!.Steps.Select(s => s.Choices).ToArray());
    }

    [Fact]
    public void Violation_panic_bug_and_model_error_report_their_position()
    {
        const string template = """
            fn f() {
                int zero = 0;
                BODY
                done();
            }
            scenario "s" { cpu 0 runs f(); }
            """;
        var panic = RuleHarness.Check(template.Replace("BODY", "panic(\"oops %d\", 42);"));
        Assert.Equal(("PANIC", "CPU 0 panicked: oops 42", (3, 5)), (panic.Outcome, panic.Message, panic.Where!.Value));
        var bug = RuleHarness.Check(template.Replace("BODY", "bug_on(zero == 0);"));
        Assert.Equal(("BUG", (3, 5)), (bug.Outcome, bug.Where!.Value));
        var error = RuleHarness.Check(template.Replace("BODY", "int x = 1 / zero; x = x;"));
        Assert.Equal(("MODEL_ERROR", "division by zero", (3, 13)), (error.Outcome, error.Message, error.Where!.Value));
    }

    [Fact]
    public void Reset_hang_platform_reset_while_a_cpu_is_in_wbinvd()
    {
        const string model = """
            region buf[1];
            shared bool flushing;
            fn resetter() { wait_until(flushing); platform_reset(); }
            fn flusher() { store(buf[0], KEY_NONE, 1); flushing = true; wbinvd(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs resetter(); cpu 1 runs flusher(); timeouts off; expect RESET_HANG; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("RESET_HANG", check.Outcome);
        Assert.Equal("CPU 0 reset the platform while CPU 1 was still in WBINVD: the platform hangs", check.Message);
    }

    [Fact]
    public void End_of_run_final_block_is_checked_in_terminal_states()
    {
        const string model = """
            region image[1];
            fn f() { store(image[0], KEY_NONE, 3); done(); }
            scenario "s" { cpu 0 runs f(); final { assert(load(image[0], KEY_NONE) == 4, "image intact"); } expect ASSERTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.True(check.Result.Trace!.ViolationIsTerminal);
        Assert.Equal("pass", RuleHarness.Check(model.Replace("== 4", "== 3").Replace("expect ASSERTION", "expect pass")).Outcome);
    }

    [Fact]
    public void End_of_run_a_terminal_state_that_has_not_finished_is_a_deadlock()
    {
        const string model = """
            fn f() { wait_until(false); done(); }
            scenario "s" { cpu 0 runs f(); expect DEADLOCK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DEADLOCK", check.Outcome);
        Assert.Equal(0, check.Steps);
        Assert.Equal("no CPU can move and the run has not finished: CPU 0 waits at rule.kflow:1:10", check.Message);
    }

    [Fact]
    public void Expect_searches_past_other_violations_for_the_expected_code()
    {
        const string model = """
            fn f() {
                either { panic("first"); } or { udelay(1); udelay(2); bug_on(true); }
                done();
            }
            scenario "s" { cpu 0 runs f(); expect BUG; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("BUG", check.Outcome);
        Assert.True(check.Result.ExpectationMet);
        var other = Assert.Single(check.Result.OtherViolations);
        Assert.Equal(ViolationCode.Panic, other.Violation.Code);
    }

    [Fact]
    public void Expect_pass_fails_on_the_shortest_violation()
    {
        const string model = """
            fn f() {
                either { udelay(1); udelay(2); panic("long"); } or { bug_on(true); }
                done();
            }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("BUG", check.Outcome);
        Assert.False(check.Result.ExpectationMet);
        Assert.Equal(2, check.Steps);
    }

    [Fact]
    public void Limits_end_the_search_without_a_verdict()
    {
        const string model = """
            shared int x;
            fn f() { loop { x++; if (x > 1000) break; } done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        var check = RuleHarness.Check(model, options: new CheckOptions { MaxStates = 50 });
        Assert.Equal(Verdict.LimitReached, check.Result.Verdict);
        Assert.Equal("--max-states 50 reached", check.Result.LimitReason);
        Assert.False(check.Result.ExpectationMet);
    }
}

/// <summary>SEMANTICS.md section 7: LIVELOCK.</summary>
public sealed class LivelockRules
{
    [Fact]
    public void Livelock_a_fair_cycle_along_which_the_run_never_finishes()
    {
        const string model = """
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect LIVELOCK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("LIVELOCK", check.Outcome);
        // The first read caches data[0]; from then on two steps repeat.
        Assert.Equal(2, check.Result.Trace!.CycleStart);
        Assert.Equal(4, check.Steps);
        Assert.Equal("the run never finishes: a cycle of 2 step(s) repeats forever (CPU 0 at rule.kflow:2:32)", check.Message);
    }

    [Fact]
    public void Livelock_none_when_the_cycle_can_be_left_by_a_transition_enabled_throughout()
    {
        // CPU 1 can always set the flag: a cycle that never lets it is not fair.
        const string model = """
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { flag = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Livelock_none_once_the_run_has_finished()
    {
        const string model = """
            fn spinner() { loop { udelay(1); } }
            fn finisher() { done(); }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs finisher(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>LIVELOCK fairness for interrupts.</summary>
public sealed class InterruptFairnessRules
{
    [Fact]
    public void Livelock_none_when_a_pending_interrupt_is_unmasked_on_every_turn()
    {
        // CPU 1 toggles IF in a loop; the IPI is deliverable in some states of the cycle only, and the
        // hardware takes it when unmasked: the cycle that never delivers it is not fair.
        const string model = """
            enum V { KICK = 0x40 }
            shared bool kicked;
            handler vector KICK { kicked = true; }
            fn boss() { send_ipi(1, KICK); wait_until(kicked); done(); }
            fn toggler() { loop { local_irq_disable(); udelay(1); local_irq_enable(); udelay(2); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs toggler(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>SEMANTICS.md section 8: what the final block sees.</summary>
public sealed class FinalBlockRules
{
    [Fact]
    public void Final_block_observes_memory_not_a_stale_clean_copy()
    {
        // CPU 0 keeps a clean C=0 copy of buf[0]; CPU 1's C=1 line reaches memory later. The final
        // block sees memory (C=1 data reads as ciphertext with C=0), not CPU 0's stale copy.
        const string model = """
            region buf[1];
            shared bool read_done;
            fn reader() { int v = load(buf[0], KEY_NONE); v = v; read_done = true; done(); }
            fn writer() { wait_until(read_done); store(buf[0], KEY_SME, 5); loop { hlt(); } }
            scenario "s" {
                platform { cpus 2; }
                cpu 0 runs reader(); cpu 1 runs writer();
                timeouts off;
                final { assert(load(buf[0], KEY_NONE) == GARBAGE, "memory holds the C=1 line"); }
                expect pass;
            }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>SEMANTICS.md section 8: `final` is checked wherever the finished run has settled.</summary>
public sealed class SettledFinalRules
{
    [Fact]
    public void End_of_run_final_is_checked_once_the_finished_run_has_settled()
    {
        // CPU 1 spins forever after done() (the kernel's cpu_relax() loop), so no state is terminal;
        // once the dirty line is written back nothing final observes can change, and final runs.
        const string model = """
            region image[1];
            fn f() { store(image[0], KEY_NONE, 3); done(); }
            fn spin() { loop { udelay(1); } }
            scenario "s" {
                platform { cpus 2; }
                cpu 0 runs f(); cpu 1 runs spin();
                final { assert(load(image[0], KEY_NONE) == 4, "image intact"); }
                expect ASSERTION;
            }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.Equal("assertion failed: image intact", check.Message);
        // store, done, write-back (evictions on): settled.
        Assert.Equal(3, check.Steps);
        Assert.True(check.Result.Trace!.ViolationIsTerminal);
        var pass = RuleHarness.Check(model.Replace("== 4", "== 3").Replace("expect ASSERTION", "expect pass"));
        Assert.Equal("pass", pass.Outcome);
        Assert.True(pass.Result.FinalEvaluated);
    }

    [Fact]
    public void End_of_run_final_never_evaluated_is_reported()
    {
        // Evictions off: the dirty line is never written back and CPU 1 never stops, so the run
        // never settles; the pass must say final was never checked.
        const string model = """
            region image[1];
            fn f() { store(image[0], KEY_NONE, 3); done(); }
            fn spin() { loop { udelay(1); } }
            scenario "s" {
                platform { cpus 2; evictions off; }
                cpu 0 runs f(); cpu 1 runs spin();
                final { assert(false, "never"); }
                expect pass;
            }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
        Assert.False(check.Result.FinalEvaluated);
        Assert.Equal(["the final block was never evaluated: no run reached a settled end (a dirty line or a CPU that can still act was always left)"], check.Result.Warnings);
    }

    [Fact]
    public void End_of_run_final_waits_for_a_cpu_that_can_still_write()
    {
        // After done() CPU 1 still stores; final must not run in the states before that store is in
        // memory (it would see OLD_CONTENT), only once CPU 1 spins quietly and the line is written back.
        const string model = """
            region image[1];
            fn f() { done(); }
            fn late() { udelay(1); store(image[0], KEY_NONE, 4); loop { udelay(1); } }
            scenario "s" {
                platform { cpus 2; }
                cpu 0 runs f(); cpu 1 runs late();
                final { assert(load(image[0], KEY_NONE) == 4, "the late store is in memory"); }
                expect pass;
            }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
        Assert.True(check.Result.FinalEvaluated);
        Assert.Empty(check.Result.Warnings);
    }

    [Fact]
    public void End_of_run_final_waits_for_a_handler_that_can_still_act()
    {
        // CPU 1 is halted with IF = 1 and a KICK pending; its handler writes, so the state after
        // done() is not settled until the handler ran.
        const string model = """
            enum V { KICK = 0xf8 }
            shared int kicked;
            handler vector KICK { kicked = 1; }
            fn f() { send_ipi(1, KICK); done(); }
            fn idle() { local_irq_enable(); loop { hlt(); } }
            scenario "s" {
                platform { cpus 2; }
                cpu 0 runs f(); cpu 1 runs idle();
                final { assert(kicked == 1, "the handler ran"); }
                expect pass;
            }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
        Assert.True(check.Result.FinalEvaluated);
    }
}
