using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// A <c>choose()</c> inside a <c>wait_until</c> condition (finding 1 of the model generator, docs/fuzzing.md):
/// the poll is enabled when some choice makes the condition true, as the explorer explores it. The replayer
/// took a step that needs a choice for enabled without trying the choices (a real DEADLOCK did not replay),
/// and the simulator took one random draw that left the wait false for a DEADLOCK (one no other search finds).
/// </summary>
public sealed class ChoiceInWaitTests
{
    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("w.kflow", text);
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return result.Scenarios.Single();
    }

    /// <summary>The minimized model: no choice makes the condition true while <c>flag</c> is false.</summary>
    private const string Blocked = """
        shared bool flag;
        fn g() { wait_until(choose(2) == 1 && flag); done(); }
        scenario "s" { platform { cpus 1; } cpu 0 runs g(); }
        """;

    /// <summary>Choice 1 makes the condition true: the wait passes, the run finishes.</summary>
    private const string Passes = """
        fn g() { wait_until(choose(2) == 1); done(); }
        scenario "s" { platform { cpus 1; } cpu 0 runs g(); expect pass; }
        """;

    [Fact]
    public void A_DEADLOCK_in_a_wait_whose_every_choice_is_false_replays()
    {
        var program = Compile(Blocked);
        var result = new BreadthFirstExplorer(program).Run();
        Assert.Equal((Verdict.Violation, ViolationCode.Deadlock, 0), (result.Verdict, result.Violation!.Code, result.Trace!.Steps.Count));
        var replay = new Replayer(program).Replay(result.Trace);
        Assert.Equal((true, "confirmed: DEADLOCK at step 0"), (replay.Confirmed, replay.Message));
    }

    [Fact]
    public void A_trace_that_ends_where_some_choice_passes_the_wait_is_no_DEADLOCK()
    {
        var program = Compile(Passes);
        Assert.Equal(Verdict.Pass, new BreadthFirstExplorer(program).Run().Verdict);
        var replay = new Replayer(program).Replay(new Trace([], new Violation(ViolationCode.Deadlock, ViolationReason.NoCpuCanMove, -1, null), violationIsTerminal: true));
        Assert.Equal((false, "diverges: after 0 steps there is no DEADLOCK"), (replay.Confirmed, replay.Message));
    }

    [Fact]
    public void The_simulator_finds_no_DEADLOCK_where_another_choice_passes_the_wait()
    {
        var program = Compile(Passes);
        var result = new Simulator(program, new SimulationOptions { Strategy = SimulationStrategy.Random, Runs = 50, Seed = 1, Workers = 1 }).Run();
        Assert.Equal((50L, 50L, ""), (result.RunsDone, result.Finished, string.Join(";", result.Violations)));
    }
}
