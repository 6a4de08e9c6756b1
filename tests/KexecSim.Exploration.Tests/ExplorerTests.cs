using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

public sealed class ExplorerTests
{
    private static CompiledProgram Compile(string text, string scenario)
    {
        var result = FrontEnd.LoadText("e.kflow", text);
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return result.Scenarios.Single(s => s.ScenarioName == scenario);
    }

    private static string First => File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow"));

    [Fact]
    public void First_example_both_scenarios_meet_their_expectations()
    {
        var safe = new BreadthFirstExplorer(Compile(First, "nmi-then-jump"), new CheckOptions { Reduce = Reduction.None }).Run();
        Assert.Equal(Verdict.Pass, safe.Verdict);
        Assert.True(safe.ExpectationMet);
        Assert.Equal(142, safe.Statistics.States);
        // --reduce all (the default): the parked CPUs' hlt() is taken with the step that reaches it.
        var reduced = new BreadthFirstExplorer(Compile(First, "nmi-then-jump")).Run();
        Assert.Equal((Verdict.Pass, 74L, true), (reduced.Verdict, reduced.Statistics.States, reduced.MergedHalts));

        var smi = new BreadthFirstExplorer(Compile(First, "nmi-then-jump-stray-smi")).Run();
        Assert.Equal(ViolationCode.ExecClobbered, smi.Violation!.Code);
        Assert.True(smi.ExpectationMet);
        Assert.Equal(7, smi.Trace!.Steps.Count);
        var replay = new Replayer(smi.Program).Replay(smi.Trace);
        Assert.True(replay.Confirmed);
        Assert.Equal("confirmed: EXEC_CLOBBERED at step 7", replay.Message);
    }

    [Fact]
    public void Breadth_first_finds_a_shortest_counterexample()
    {
        // Two ways to the violation: 4 steps on CPU 0, or 1 step on CPU 1. BFS reports the 1-step one.
        const string model = """
            fn long_way() { udelay(1); udelay(2); udelay(3); bug_on(true); }
            fn short_way() { bug_on(true); }
            scenario "s" { platform { cpus 2; } cpu 0 runs long_way(); cpu 1 runs short_way(); }
            """;
        var result = new BreadthFirstExplorer(Compile(model, "s")).Run();
        Assert.Single(result.Trace!.Steps);
        Assert.Equal(1, result.Violation!.Cpu);
    }

    [Fact]
    public void Same_input_gives_byte_identical_trace_files_and_reports()
    {
        var outputs = Enumerable.Range(0, 2).Select(_ =>
        {
            var loaded = FrontEnd.LoadText("first.kflow", First);
            var program = loaded.Scenarios.Single(s => s.ScenarioName == "nmi-then-jump-stray-smi");
            var result = new BreadthFirstExplorer(program).Run();
            var trace = TraceFile.Create(program, result.Trace!, "first.kflow", loaded.Units.Select(u => u.Source).ToList(), new Dictionary<string, long>(), null, []).ToJson();
            var report = System.Text.RegularExpressions.Regex.Replace(TextReport.Full(result, ReportModel.Build(program, result.Trace!)),
                @"[0-9.,]+ s, [0-9,]+ states/s", "<time>");
            return (trace, report);
        }).ToList();
        Assert.Equal(outputs[0].trace, outputs[1].trace);
        Assert.Equal(outputs[0].report, outputs[1].report);
    }

    [Fact]
    public void Trace_files_round_trip_and_replay()
    {
        var loaded = FrontEnd.LoadText("first.kflow", First);
        var program = loaded.Scenarios.Single(s => s.ScenarioName == "nmi-then-jump-stray-smi");
        var result = new BreadthFirstExplorer(program).Run();
        var json = TraceFile.Create(program, result.Trace!, "first.kflow", loaded.Units.Select(u => u.Source).ToList(), new Dictionary<string, long>(), null, []).ToJson();
        var parsed = TraceFile.Parse(json);
        Assert.Equal("kexecsim-trace", parsed.Format);
        Assert.Equal("nmi-then-jump-stray-smi", parsed.Scenario);
        Assert.Equal(TraceFile.HashModel(loaded.Units.Select(u => u.Source)), parsed.Model.Sha256);
        Assert.Equal(7, parsed.Steps.Count);
        Assert.Equal("a stray SMI arrives for CPU 1", parsed.Steps[5].Description);
        var replay = new Replayer(program).Replay(parsed.ToTrace());
        Assert.True(replay.Confirmed, replay.Message);
    }

    [Fact]
    public void Replay_says_exactly_where_a_trace_diverges()
    {
        var loaded = FrontEnd.LoadText("first.kflow", First);
        var program = loaded.Scenarios.Single(s => s.ScenarioName == "nmi-then-jump-stray-smi");
        var result = new BreadthFirstExplorer(program).Run();
        var steps = result.Trace!.Steps.ToList();
        // Drop the SMI's arrival: its delivery (step 6 now) is impossible.
        steps.RemoveAt(5);
        var broken = new Trace(steps, result.Violation, violationIsTerminal: false);
        var replay = new Replayer(program).Replay(broken);
        Assert.False(replay.Confirmed);
        Assert.Equal(new ReplayDivergence(6, replay.Divergence!.Action, Blocked: false), replay.Divergence);
        Assert.Equal((TransitionKind.Deliver, 1, EventKind.Smi, false), (replay.Divergence.Action.Kind, replay.Divergence.Action.Cpu, replay.Divergence.Action.Event, replay.Divergence.Action.Recorded));
        Assert.Equal("step 6 diverges: CPU 1 takes an SMI is not possible in this state", new Narration(program).ReplayMessage(replay));
    }

    [Fact]
    public void Replay_says_when_a_step_of_the_trace_is_blocked()
    {
        const string model = """
            shared bool go;
            fn waiter() { wait_until(go); done(); }
            fn setter() { go = true; done(); }
            scenario "s" { platform { cpus 2; } cpu 0 runs waiter(); cpu 1 runs setter(); }
            """;
        var program = Compile(model, "s");
        var replay = new Replayer(program).Replay(new Trace([new TraceStep(Transition.Step(0), [])], null, violationIsTerminal: false));
        Assert.False(replay.Confirmed);
        Assert.Equal(new ReplayDivergence(1, new StepAction(Transition.Step(0)), Blocked: true), replay.Divergence);
        Assert.Equal("step 1 diverges: CPU 0 steps is blocked in this state", new Narration(program).ReplayMessage(replay));
    }

    [Fact]
    public void A_violation_in_the_init_block_is_reported_with_an_empty_trace()
    {
        const string model = """
            fn bad() { bug_on(true); }
            fn f() { done(); }
            scenario "s" { init { bad(); } cpu 0 runs f(); expect BUG; }
            """;
        var result = new BreadthFirstExplorer(Compile(model, "s")).Run();
        Assert.Equal(ViolationCode.Bug, result.Violation!.Code);
        Assert.Empty(result.Trace!.Steps);
        Assert.True(result.ExpectationMet);
    }

    [Fact]
    public void Cancellation_stops_with_the_statistics_so_far()
    {
        const string model = """
            shared int x;
            fn f() { loop { x++; } }
            scenario "s" { cpu 0 runs f(); }
            """;
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var result = new BreadthFirstExplorer(Compile(model, "s"), new CheckOptions { Cancellation = cancel.Token }).Run();
        Assert.Equal(Verdict.LimitReached, result.Verdict);
        Assert.Equal("interrupted", result.LimitReason);
        // Limits are checked after a state's successors are generated: the initial state and its one successor.
        Assert.Equal(2, result.Statistics.States);
    }

    [Fact]
    public void Fingerprint_set_finds_what_it_stored_and_grows()
    {
        var set = new FingerprintSet(16);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(set.TryAdd((ulong)i * 0x9E3779B97F4A7C15UL, i, out _));
        }
        for (var i = 0; i < 10_000; i++)
        {
            Assert.False(set.TryAdd((ulong)i * 0x9E3779B97F4A7C15UL, -1, out var existing));
            Assert.Equal(i, existing);
        }
        Assert.Equal(10_000, set.Count);
    }

    [Fact]
    public void State_encoding_round_trips()
    {
        var program = Compile(First, "nmi-then-jump");
        var machine = new Machine.Machine(program);
        var state = machine.NewState();
        machine.CreateInitial(state);
        var copy = machine.NewState();
        copy.Decode(state.Span);
        Assert.Equal(state.Span.ToArray(), copy.Span.ToArray());
    }
}

public sealed class ShortestAcrossKindsTests
{
    [Fact]
    public void A_terminal_violation_of_a_level_beats_a_step_violation_one_step_further()
    {
        // After the either: one state whose next step commits BUG (2 steps), and one state that is a
        // DEADLOCK already (1 step). The shortest counterexample is the deadlock.
        const string model = """
            fn f() { either { bug_on(true); } or { wait_until(false); } done(); }
            scenario "s" { cpu 0 runs f(); }
            """;
        var result = FrontEnd.LoadText("s.kflow", model);
        var explored = new BreadthFirstExplorer(result.Scenarios.Single()).Run();
        Assert.Equal(ViolationCode.Deadlock, explored.Violation!.Code);
        Assert.Single(explored.Trace!.Steps);
    }
}
