using KexecSim.Exploration;

namespace KexecSim.Machine.Tests;

/// <summary>
/// The reduction of steps behind <c>--reduce all</c> (docs/reduction.md, "hlt() taken with the step that
/// reaches it"): a CPU that reaches a <c>hlt()</c> nothing can keep it from executes it in the same
/// transition; one condition at a time keeps it a step of its own.
/// </summary>
public sealed class HaltMergingTests
{
    private static string Model(string before = "", string other = "", string scenario = "", string handlers = "") => $$"""
        shared int x;
        {{handlers}}
        fn main() {
            {{before}}
            x = 1;
            loop { hlt(); }
        }
        fn other() {
            {{other}}
            x = 2;
        }
        scenario "s" {
            platform { vendor intel; cpus 2; }
            cpu 0 runs main();
            cpu 1 runs other();
            {{scenario}}
        }
        """;

    /// <summary>CPU 0's mode after its first step (x = 1), on the machine with halt merging.</summary>
    private static CpuMode AfterFirstStep(string model)
    {
        var program = RuleHarness.Compile(model);
        var machine = new Machine(program, halts: new HaltMerging(program));
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
        return state.Cpus[0].Mode;
    }

    [Fact]
    public void A_hlt_with_interrupts_off_and_no_nmi_anyone_can_send_is_taken_with_the_step_that_reaches_it()
    {
        Assert.Equal(CpuMode.Halted, AfterFirstStep(Model()));
        // The full machine: the hlt() is a step of its own.
        var program = RuleHarness.Compile(Model());
        var machine = new Machine(program);
        var state = machine.NewState();
        machine.CreateInitial(state);
        machine.Apply(state, Transition.Step(0), null);
        Assert.Equal(CpuMode.Running, state.Cpus[0].Mode);
    }

    [Fact]
    public void Interrupts_on_keep_the_hlt_a_step() =>
        Assert.Equal(CpuMode.Running, AfterFirstStep(Model(before: "local_irq_enable();")));

    [Fact]
    public void An_nmi_some_code_can_send_keeps_the_hlt_a_step() =>
        Assert.Equal(CpuMode.Running, AfterFirstStep(Model(other: "send_nmi(0);")));

    [Fact]
    public void An_nmi_send_in_code_that_cannot_run_does_not() =>
        Assert.Equal(CpuMode.Halted, AfterFirstStep(Model(other: "if (false) { send_nmi(0); }")));

    [Theory]
    [InlineData("inject nmi 1 on 0;", CpuMode.Running)]
    [InlineData("inject smi 1 on 0;", CpuMode.Running)]
    [InlineData("inject mce 1 on 0;", CpuMode.Running)]
    [InlineData("inject nmi 1 on 1;", CpuMode.Halted)]
    public void A_fault_that_can_be_injected_into_the_cpu_keeps_the_hlt_a_step(string inject, CpuMode mode) =>
        Assert.Equal(mode, AfterFirstStep(Model(scenario: inject)));

    [Fact]
    public void An_init_some_code_can_send_turns_the_merging_off()
    {
        var program = RuleHarness.Compile(Model(other: "send_init(0);"));
        Assert.False(new HaltMerging(program).Enabled);
        Assert.Null(new Machine(program, halts: new HaltMerging(program)).Halts);
    }

    [Fact]
    public void Inside_an_nmi_handler_nmis_are_blocked_so_its_hlt_is_merged_even_when_nmis_can_be_sent()
    {
        var model = Model(other: "send_nmi(0);", handlers: "handler nmi { x = 3; loop { hlt(); } }");
        var program = RuleHarness.Compile(model);
        var machine = new Machine(program, halts: new HaltMerging(program));
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(1), null)); // send_nmi(0)
        Assert.Equal(Outcome.Ok, machine.Apply(state, new Transition(TransitionKind.Deliver, 0, (int)EventKind.Nmi, 0), null));
        Assert.Equal(CpuMode.Running, state.Cpus[0].Mode); // at x = 3
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
        Assert.Equal(CpuMode.Halted, state.Cpus[0].Mode);
    }

    [Fact]
    public void A_reported_run_has_the_merged_hlt_as_a_step_of_its_own_and_replays()
    {
        // CPU 1 halts at once; CPU 0 waits for it forever: a DEADLOCK whose run halts CPU 1 explicitly (and
        // evicts x's line, which the reduced machine does not track, to reach the full machine's terminal state).
        const string model = """
            shared int x;
            fn main() { wait_until(x == 5); done(); }
            fn other() { x = 2; loop { hlt(); } }
            scenario "s" { platform { vendor intel; cpus 2; } cpu 0 runs main(); cpu 1 runs other(); expect DEADLOCK; }
            """;
        var reduced = RuleHarness.Check(model);
        Assert.True(reduced.Result.MergedHalts);
        Assert.Equal([TransitionKind.Step, TransitionKind.Step, TransitionKind.Evict], reduced.Result.Trace!.Steps.Select(s => s.Transition.Kind));
        Assert.Equal([1, 1], reduced.Result.Trace.Steps.Take(2).Select(s => s.Transition.Cpu));
        var full = RuleHarness.Check(model, options: new CheckOptions { Reduce = Reduction.None });
        Assert.Equal(full.Outcome, reduced.Outcome);
        Assert.Equal(full.Steps, reduced.Steps);
        Assert.True(reduced.Result.Statistics.States < full.Result.Statistics.States);
    }
}
