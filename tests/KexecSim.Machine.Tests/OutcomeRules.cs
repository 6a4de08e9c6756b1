using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>LANGUAGE.md section 6, `expect CODE`: when CODE is never committed, the violation that was
/// found is the outcome, with its counterexample (issue 7, item 4).</summary>
public sealed class OutcomeRules
{
    [Fact]
    public void Expect_code_not_found_the_other_violation_is_the_outcome()
    {
        const string model = """
            fn f() { wait_until(false); done(); }
            scenario "s" { cpu 0 runs f(); expect EXEC_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DEADLOCK", check.Outcome);
        Assert.False(check.Result.ExpectationMet);
        Assert.Equal(Exploration.Verdict.Violation, check.Result.Verdict);
        Assert.NotNull(check.Result.Trace);
        Assert.Empty(check.Result.OtherViolations);
        Assert.Equal("no CPU can move and the run has not finished: CPU 0 waits at rule.kflow:1:10", check.Message);
    }

    [Fact]
    public void Expect_code_not_found_the_shortest_other_violation_is_the_outcome()
    {
        const string model = """
            fn f() {
                either { udelay(1); udelay(2); panic("long"); } or { bug_on(true); }
                done();
            }
            scenario "s" { cpu 0 runs f(); expect EXEC_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("BUG", check.Outcome);
        Assert.Equal(2, check.Steps);
        var other = Assert.Single(check.Result.OtherViolations);
        Assert.Equal(ViolationCode.Panic, other.Violation.Code);
    }

    [Fact]
    public void Expect_code_not_found_a_model_error_is_the_outcome()
    {
        // The MODEL_ERROR is further away than the BUG, but a broken model is what the user must see.
        const string model = """
            shared int zero;
            fn f() {
                either { udelay(1); udelay(2); int a = 1 / zero; a = a; } or { bug_on(true); }
                done();
            }
            scenario "s" { cpu 0 runs f(); expect EXEC_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("MODEL_ERROR", check.Outcome);
        Assert.False(check.Result.ExpectationMet);
        Assert.Equal(ViolationCode.Bug, Assert.Single(check.Result.OtherViolations).Violation.Code);
    }
}

/// <summary>What a trace records (LANGUAGE.md section 5, pr_err/pr_warn "recorded in the trace"), and where
/// its steps and violations point (issue 7, items 5 and 6).</summary>
public sealed class TraceRecordRules
{
    [Fact]
    public void Messages_before_the_first_visible_action_and_extra_values_are_recorded()
    {
        const string model = """
            shared int x;
            fn f() { int a = 7; pr_err("early %d", a); pr_warn("no placeholder", a, 9); x = 1; pr_err("later %d then %d", x, 3); assert(false, "stop"); }
            scenario "s" { init { pr_warn("init %d", 2); } cpu 0 runs f(); expect ASSERTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.Equal(["CPU 0: pr_warn: init 2", "CPU 0: pr_err: early 7", "CPU 0: pr_warn: no placeholder [7, 9]"], check.View!.InitialMessages);
        Assert.Equal(["CPU 0: pr_err: later 1 then 3"], check.View.Steps[1].Messages);
        var text = Reporting.TextReport.Full(check.Result, check.View);
        Assert.Contains("     0 the initial state\n       | CPU 0: pr_warn: init 2\n       | CPU 0: pr_err: early 7\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_violation_in_the_first_local_steps_is_not_blamed_on_init_blocks()
    {
        const string model = """
            fn f() { int zero = 0; int a = 1 / zero; a = a; done(); }
            scenario "s" { cpu 0 runs f(); expect MODEL_ERROR; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("MODEL_ERROR", check.Outcome);
        Assert.Equal(0, check.Steps);
        Assert.Equal("confirmed: MODEL_ERROR at step 0 (in CPU 0's first local steps, before its first visible action)", check.View!.Replay.Message);
    }

    [Fact]
    public void A_loop_back_edge_step_is_named_as_such()
    {
        const string model = """
            shared int x;
            fn f() {
                for (int i = 0; i < 2; i++) { pr_err("i %d", i); }
                bug_on(true);
            }
            scenario "s" { cpu 0 runs f(); expect BUG; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("BUG", check.Outcome);
        Assert.Equal(["loop back-edge (rule.kflow:3)", "loop back-edge (rule.kflow:3)", "bug_on(true)"], check.View!.Steps.Select(r => r.Action));
        Assert.Equal(["CPU 0: pr_err: i 0"], check.View.InitialMessages);
        Assert.Equal(["CPU 0: pr_err: i 1"], check.View.Steps[0].Messages);
    }
}
