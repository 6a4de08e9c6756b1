using System.Globalization;
using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// The depth-first search (<c>--strategy dfs</c>) and <c>--shorten</c> (issue 9, item 5): the same verdict
/// as the breadth-first search on every pinned scenario (tests/golden/explore.tsv), the same states when
/// both explore everything, counterexamples that replay, and shortening down to the breadth-first length.
/// </summary>
public sealed class DepthFirstExplorerTests
{
    private static readonly CheckOptions Dfs = new() { Strategy = SearchStrategy.DepthFirst, MaxStates = 2_000_000, Symmetry = false, Reduce = Reduction.None };

    private static string GoldenPath => Path.Combine(TestPaths.RepositoryRoot, "tests", "golden", "explore.tsv");

    private static CompiledProgram Load(string name, string scenario)
    {
        var path = name.StartsWith("examples/", StringComparison.Ordinal)
            ? Path.Combine(TestPaths.SharedExamples, name["examples/".Length..])
            : Path.Combine(TestPaths.RepositoryRoot, name);
        return FrontEnd.Load(path, new LoadOptions { ModelPath = [TestPaths.Models] }).Scenarios.Single(s => s.ScenarioName == scenario);
    }

    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("d.kflow", text);
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return Assert.Single(result.Scenarios);
    }

    /// <summary>The counterexample replays: the same violation, at its last step.</summary>
    private static void AssertReplays(CheckResult result)
    {
        var trace = result.Trace!;
        var view = ReportModel.Build(result.Program, trace);
        Assert.True(view.Replay.Confirmed, $"{result.Program.ScenarioName}: {view.Replay.Message}");
        Assert.Equal(result.Violation!.Code, view.Replay.Violation!.Code);
        Assert.Equal(trace.Steps.Count, view.Replay.StepsReplayed);
    }

    /// <summary>Whether the pinned breadth-first search explored every state: a pass, or an <c>expect CODE</c>
    /// not met (concluded after a complete search).</summary>
    private static bool Complete(string expected, string outcome) => outcome == "pass" || (expected is not ("pass" or "-") && expected != outcome);

    [Fact]
    public void Every_pinned_scenario_gets_the_same_verdict_the_same_states_when_complete_and_a_replaying_trace()
    {
        var rows = File.ReadAllLines(GoldenPath).Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(64, rows.Count);
        var complete = 0;
        foreach (var row in rows)
        {
            var (name, scenario, expected, outcome, states) = (row[0], row[1], row[2], row[3], long.Parse(row[4], CultureInfo.InvariantCulture));
            var program = Load(name, scenario);
            var result = new DepthFirstExplorer(program, Dfs).Run();
            Assert.Equal(SearchStrategy.DepthFirst, result.Strategy);
            Assert.Null(result.Shortening);
            Assert.True(outcome == result.Outcome, $"{name} {scenario}: breadth-first {outcome}, depth-first {result.Outcome}");
            // A search that stops at its first counterexample may store fewer states than the breadth-first
            // one, or more (it went down other branches first): only complete searches are compared.
            if (Complete(expected, outcome))
            {
                complete++;
                Assert.True(states == result.Statistics.States, $"{scenario}: breadth-first {states} states, depth-first {result.Statistics.States}");
            }
            if (result.Trace is not null)
            {
                AssertReplays(result);
            }
            // With symmetry (the default) too: the same verdict, a trace in real CPU ids that replays.
            var reduced = new DepthFirstExplorer(program, Dfs with { Symmetry = true }).Run();
            Assert.Equal(outcome, reduced.Outcome);
            if (reduced.Trace is not null)
            {
                AssertReplays(reduced);
            }
        }
        Assert.Equal(31, complete);
    }

    [Fact]
    public void Shorten_brings_every_pinned_counterexample_to_the_breadth_first_length()
    {
        var rows = File.ReadAllLines(GoldenPath).Skip(1).Select(l => l.Split('\t')).Where(r => r[7] != "-").ToList();
        Assert.Equal(35, rows.Count);
        foreach (var row in rows)
        {
            var result = new DepthFirstExplorer(Load(row[0], row[1]), Dfs with { Shorten = true }).Run();
            Assert.Equal(row[3], result.Outcome);
            Assert.True(int.Parse(row[7], CultureInfo.InvariantCulture) == result.Trace!.Steps.Count,
                $"{row[1]}: breadth-first {row[7]} steps, shortened {result.Trace.Steps.Count}");
            var shortening = result.Shortening!;
            Assert.True(shortening.Shortest);
            Assert.Equal(result.Trace.Steps.Count, shortening.FinalSteps);
            Assert.True(shortening.FinalSteps <= shortening.FirstSteps);
            AssertReplays(result);
        }
    }

    // Long depth-first traces, shortened to the breadth-first length (pinned in tests/golden/explore.tsv);
    // "second" is concluded after a complete search (expect MACHINE_CHECK, DEADLOCK reported).
    [Theory]
    [InlineData("models/catalog/seed002-parked-cpus.kflow", "parked-hlt-stray-nmi", "EXEC_CLOBBERED", 65, 34)]
    [InlineData("models/catalog/seed002-parked-cpus.kflow", "parked-hlt-stray-mce", "MACHINE_CHECK", 39, 2)]
    [InlineData("models/catalog/seed002-parked-cpus.kflow", "parked-init-stray-mce", "MACHINE_CHECK", 34, 2)]
    [InlineData("models/catalog/seed000-kasan-stack.kflow", "sme-call-after-wbinvd", "CORRUPTION", 46, 40)]
    [InlineData("tests/corpus/clean/every_construct.kflow", "second", "DEADLOCK", 17, 14)]
    public void Shorten_brings_a_long_depth_first_trace_down_to_the_breadth_first_length(string file, string scenario, string code, int first, int shortest)
    {
        var program = Load(file, scenario);
        var found = new DepthFirstExplorer(program, Dfs).Run();
        Assert.Equal(code, found.Outcome);
        Assert.Equal(first, found.Trace!.Steps.Count);
        AssertReplays(found);

        var shortened = new DepthFirstExplorer(program, Dfs with { Shorten = true }).Run();
        Assert.Equal(code, shortened.Outcome);
        Assert.Equal(shortest, shortened.Trace!.Steps.Count);
        Assert.Equal((first, shortest, true), (shortened.Shortening!.FirstSteps, shortened.Shortening.FinalSteps, shortened.Shortening.Shortest));
        Assert.Equal(found.Statistics.States, shortened.Statistics.States); // the first search's figures
        AssertReplays(shortened);

        var breadthFirst = new BreadthFirstExplorer(program, new CheckOptions { Symmetry = false, Reduce = Reduction.None }).Run();
        Assert.Equal(shortest, breadthFirst.Trace!.Steps.Count);
    }

    [Fact]
    public void Every_catalog_counterexample_is_found_with_its_code_and_replays()
    {
        foreach (var row in CatalogTests.Scenarios())
        {
            var (file, scenario) = ((string)row[0], (string)row[1]);
            var program = Load($"models/catalog/{file}", scenario);
            var result = new DepthFirstExplorer(program).Run();
            Assert.True(result.ExpectationMet, $"{scenario}: expected {program.Expect}, got {result.Outcome}");
            Assert.Equal(program.Expect.Code is { } code ? code.Name() : "pass", result.Outcome);
            if (result.Trace is not null)
            {
                AssertReplays(result);
            }
        }
    }

    [Fact]
    public void A_limit_on_the_shortening_keeps_the_shortest_trace_found_so_far_and_says_so()
    {
        var program = Load("models/catalog/seed002-parked-cpus.kflow", "parked-hlt-stray-nmi");
        var result = new DepthFirstExplorer(program, Dfs with { Shorten = true, MaxStates = 1_000 }).Run();
        Assert.Equal(Verdict.Violation, result.Verdict);
        Assert.True(result.ExpectationMet);
        Assert.Equal(295, result.Statistics.States);
        var shortening = result.Shortening!;
        Assert.Equal("--max-states 1000 reached", shortening.LimitReason);
        Assert.False(shortening.Shortest);
        Assert.Equal(65, shortening.FirstSteps);
        Assert.Equal(shortening.FinalSteps, result.Trace!.Steps.Count);
        Assert.InRange(shortening.FinalSteps, 34, 65);
        AssertReplays(result);
        Assert.Contains("a shorter counterexample may exist", TextReport.StrategyLine(result));
    }

    [Fact]
    public void A_limit_stops_the_depth_first_search_without_a_verdict()
    {
        var program = Load("models/catalog/seed002-parked-cpus.kflow", "parked-init-stray-nmi-smi");
        var result = new DepthFirstExplorer(program, Dfs with { MaxStates = 500 }).Run();
        Assert.Equal(Verdict.LimitReached, result.Verdict);
        Assert.Equal("--max-states 500 reached", result.LimitReason);
        Assert.Null(result.Trace);
    }

    [Fact]
    public void The_search_is_deterministic()
    {
        var program = Load("models/catalog/seed002-parked-cpus.kflow", "parked-hlt-stray-nmi");
        CheckResult Run() => new DepthFirstExplorer(program, Dfs with { Shorten = true }).Run();
        var (a, b) = (Run(), Run());
        string Describe(CheckResult r) => string.Join(";", r.Trace!.Steps.Select(s => $"{s.Transition}/{string.Join(",", s.Choices)}"))
            + $" {r.Statistics.States} {r.Statistics.Transitions} {r.Statistics.Depth} {r.Shortening!.States} {r.Shortening.Transitions}";
        Assert.Equal(Describe(a), Describe(b));
    }

    [Fact]
    public void Livelock_is_found_in_the_complete_depth_first_graph()
    {
        var program = Compile("""
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect LIVELOCK; }
            """);
        var depthFirst = new DepthFirstExplorer(program, new CheckOptions { Shorten = true }).Run();
        var breadthFirst = new BreadthFirstExplorer(program).Run();
        Assert.Equal("LIVELOCK", depthFirst.Outcome);
        Assert.Equal(breadthFirst.Statistics.States, depthFirst.Statistics.States);
        Assert.Null(depthFirst.Shortening); // a lasso is not shortened
        Assert.NotNull(depthFirst.Trace!.CycleStart);
        AssertReplays(depthFirst);
        Assert.Contains("LIVELOCK is looked for in the complete graph", TextReport.StrategyLine(depthFirst));

        // A cycle CPU 1 can always leave (it sets the flag) is not fair: a pass, as breadth-first.
        var fair = Compile("""
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { flag = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect pass; }
            """);
        Assert.Equal("pass", new DepthFirstExplorer(fair).Run().Outcome);
    }

    [Fact]
    public void Livelock_with_symmetric_cpus_is_looked_for_in_the_full_graph_as_breadth_first()
    {
        var program = Compile("""
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 3; } cpu 0 runs spinner(); cpu 1..2 runs other(); symmetric 1..2; expect LIVELOCK; }
            """);
        var depthFirst = new DepthFirstExplorer(program).Run();
        var breadthFirst = new BreadthFirstExplorer(program).Run();
        Assert.Equal(SymmetryUse.LivelockUnreduced, breadthFirst.Symmetry);
        Assert.Equal(SymmetryUse.LivelockUnreduced, depthFirst.Symmetry);
        Assert.Equal("LIVELOCK", depthFirst.Outcome);
        Assert.Equal(breadthFirst.Statistics.States, depthFirst.Statistics.States);
        AssertReplays(depthFirst);
    }

    [Fact]
    public void A_step_commits_a_violation_and_the_depth_first_trace_goes_down_the_first_transition()
    {
        // Two CPUs each reach a bug_on: depth-first takes CPU 0's steps first; both traces are shortest here.
        var program = Compile("""
            fn a() { bug_on(true); }
            scenario "s" { platform { cpus 2; } cpu 0..1 runs a(); expect BUG; }
            """);
        var result = new DepthFirstExplorer(program).Run();
        Assert.Equal("BUG", result.Outcome);
        Assert.Equal(0, result.Violation!.Cpu);
        Assert.Equal([0], result.Trace!.Steps.Select(s => s.Transition.Cpu).ToArray());
        AssertReplays(result);
    }

    [Fact]
    public void The_livelock_graph_takes_nodes_expanded_in_any_order()
    {
        // Depth-first order: 0, then 2, then 1. Edges 0 -> 1, 0 -> 2; 2 -> 1; 1 -> 2.
        var graph = new LivelockGraph();
        for (var n = 0; n < 3; n++)
        {
            graph.AddNode(finished: false);
        }
        graph.BeginEdges(0);
        graph.AddEdge(1, Transition.Step(0));
        graph.AddEdge(2, Transition.Step(1));
        graph.BeginEdges(2);
        graph.AddEdge(1, Transition.Step(0));
        Assert.False(graph.Complete);
        graph.BeginEdges(1);
        graph.AddEdge(2, Transition.Step(1));
        Assert.True(graph.Complete);
        Assert.Equal((0, 2), (graph.EdgeStart(0), graph.EdgeEnd(0)));
        Assert.Equal((3, 4), (graph.EdgeStart(1), graph.EdgeEnd(1)));
        Assert.Equal((2, 3), (graph.EdgeStart(2), graph.EdgeEnd(2)));
        var detector = new LivelockDetector(graph);
        var component = Assert.Single(detector.FairComponents());
        Assert.Equal([1, 2], component);
        Assert.Equal([3, 2], detector.CycleFrom(1, [.. component]));
    }
}
