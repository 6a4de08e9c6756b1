using System.Text.RegularExpressions;
using KexecSim.Language;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// <c>--livelock lean</c> (docs/livelock.md): the breadth-first search keeps no graph, and a second pass finds the
/// strongly connected components on the fly. It must give what the graph gives: verdict, statistics but the time and
/// memory, the LIVELOCK lasso step by step (and every other counterexample), on every model of the golden table, with
/// symmetry and without (the reduced graph's cycle check, which runs the search again unreduced, included).
/// </summary>
public sealed partial class LivelockLeanTests
{
    public static TheoryData<string, bool> Models() => WorkersTests.Models();

    private static CheckResult Check(KexecSim.Program.CompiledProgram program, bool symmetry, bool lean, int workers = 1) =>
        new BreadthFirstExplorer(program, new CheckOptions { Symmetry = symmetry, LivelockLean = lean, Workers = workers, MinParallelBatch = 1, ChunkStates = 5 }).Run();

    [GeneratedRegex(" memory=[0-9]+")]
    private static partial Regex Memory();

    internal static string WithoutMemory(CheckResult result) => Memory().Replace(WorkersTests.Describe(result), string.Empty);

    /// <summary>Models with cycles: fair and unfair ones, a self-loop, an interrupt that is strongly fair, symmetric CPUs,
    /// several components (the one with the smallest node is reported), and a cycle in the reduced graph only.</summary>
    public static TheoryData<string, string> Cycles() => new()
    {
        { "a spin that a halted CPU never ends", LivelockModels.Spinner },
        { "a spin another CPU ends (no fair cycle)", """
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn setter() { udelay(1); flag = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs setter(); expect pass; }
            """ },
        { "interrupts, an NMI and evictions", LivelockModels.InterruptsNmiEvictions },
        { "two components before the cycle", LivelockModels.TwoComponents },
        { "symmetric spinners", """
            shared int turn;
            fn waiter() { while (turn != 7) { udelay(1); } done(); }
            scenario "s" { platform { cpus 3; } cpu 0 runs waiter(); cpu 1 runs waiter(); cpu 2 runs waiter(); symmetric 0, 1, 2; expect LIVELOCK; }
            """ },
        { "a cycle of the reduced graph only", LivelockModels.ReducedGraphCycle },
    };

    [Theory]
    [MemberData(nameof(Cycles))]
    public void The_lean_pass_finds_the_graph_s_livelock_and_its_lasso(string name, string text)
    {
        var loaded = FrontEnd.LoadText("c.kflow", text);
        Assert.False(loaded.HasErrors, $"{name}: {string.Join('\n', loaded.Diagnostics)}");
        var program = loaded.Scenarios.Single();
        foreach (var symmetry in new[] { true, false })
        {
            foreach (var workers in new[] { 1, 2 })
            {
                var graph = Check(program, symmetry, lean: false, workers);
                var lean = Check(program, symmetry, lean: true, workers);
                Assert.Equal(WithoutMemory(graph), WithoutMemory(lean));
                Assert.Equal(program.Expect.Code is { } code ? code.Name() : "pass", graph.Outcome);
                if (lean.Trace is { } trace)
                {
                    var view = ReportModel.Build(program, trace);
                    Assert.True(view.Replay.Confirmed, view.Replay.Message);
                }
            }
        }
    }

    // Nothing lost at --memory-limit for the graph's sake: a limit the graph's search passes and a lean one does not makes
    // the search let the graph go and go on; the report is the graph's (a LIVELOCK's lasso too) with one line more. The
    // resident set is left out (the test process's own is far past these limits): the search's structures decide.
    [Theory]
    [InlineData("a spin that a halted CPU never ends")]
    [InlineData("two components before the cycle")]
    [InlineData("a spin another CPU ends (no fair cycle)")]
    public void At_the_memory_limit_the_search_lets_the_graph_go_and_finds_what_it_would_have(string name)
    {
        var text = (string)Cycles().Single(row => (string)row[0] == name)[1];
        var program = FrontEnd.LoadText("m.kflow", text).Scenarios.Single();
        var options = new CheckOptions { Workers = 1, Reduce = Reduction.None, Symmetry = false, ResidentSet = () => 0 };
        var graph = new BreadthFirstExplorer(program, options).Run();
        var lean = new BreadthFirstExplorer(program, options with { LivelockLean = true }).Run();
        Assert.True(lean.Statistics.PeakMemoryBytes < graph.Statistics.PeakMemoryBytes,
            $"{lean.Statistics.PeakMemoryBytes} vs {graph.Statistics.PeakMemoryBytes}");
        var limit = (lean.Statistics.PeakMemoryBytes + graph.Statistics.PeakMemoryBytes) / 2;
        var dropped = new BreadthFirstExplorer(program, options with { MemoryLimitBytes = limit }).Run();
        Assert.True(dropped.LivelockGraphDropped);
        Assert.False(graph.LivelockGraphDropped);
        Assert.Equal(WithoutMemory(graph), WithoutMemory(dropped));
        Assert.Equal([.. graph.Warnings, "the search reached the memory limit with the LIVELOCK graph much of its memory: it let the graph go, went on, and looked for LIVELOCK in a second pass (as --livelock lean does)"],
            dropped.Warnings);
        // Under a limit the search without the graph passes too, it stops as before.
        var stopped = new BreadthFirstExplorer(program, options with { MemoryLimitBytes = lean.Statistics.PeakMemoryBytes / 4 }).Run();
        Assert.Equal("limit", stopped.Outcome);
        Assert.True(stopped.LivelockGraphDropped && !stopped.LeanPassRan);
        Assert.EndsWith(" MB) let go: --livelock off checks every state's safety in less", stopped.LimitReason, StringComparison.Ordinal);
        Assert.Contains("the search reached the memory limit with the LIVELOCK graph much of its memory: it let the graph go and went on without it", stopped.Warnings);
        // With two workers the graph is let go inside a parallel batch's merge: the same report.
        var parallel = new BreadthFirstExplorer(program, options with { MemoryLimitBytes = limit, Workers = 2, MinParallelBatch = 1, ChunkStates = 3 }).Run();
        Assert.True(parallel.LivelockGraphDropped);
        Assert.Equal(WithoutMemory(graph), WithoutMemory(parallel));
    }

    // The pass is bounded by the memory limit too: past it (here the resident set a test makes up once the pass has begun)
    // the search stops without a verdict, saying where.
    [Fact]
    public void The_lean_pass_stops_at_the_memory_limit_and_says_so()
    {
        var program = FrontEnd.LoadText("p.kflow", LivelockModels.Spinner).Scenarios.Single();
        var inPass = false;
        var result = new BreadthFirstExplorer(program, new CheckOptions
        {
            Reduce = Reduction.None, Symmetry = false, Workers = 1, LivelockLean = true, MemoryLimitBytes = 1L << 30,
            ResidentSet = () => inPass ? 1L << 40 : 0,
            Progress = p => inPass |= p.Phase is not null,
            ProgressInterval = TimeSpan.Zero,
        }).Run();
        Assert.Equal(("limit", "--memory-limit 1024 MB reached (resident set 1048576 MB) in the LIVELOCK pass"), (result.Outcome, result.LimitReason));
    }

    // The pass is told about like the search (a pass over millions of states takes minutes): as a phase of its own, with
    // the states walked again of those stored; a model with no finished state walks them all, and makes every transition.
    [Fact]
    public void The_lean_pass_reports_its_progress_as_a_phase_of_its_own()
    {
        var program = FrontEnd.LoadText("p.kflow", LivelockModels.Spinner).Scenarios.Single();
        var reports = new List<Progress>();
        var result = new BreadthFirstExplorer(program, new CheckOptions
        {
            Reduce = Reduction.None, Symmetry = false, Workers = 1, LivelockLean = true, Progress = reports.Add, ProgressInterval = TimeSpan.Zero,
        }).Run();
        Assert.Equal("LIVELOCK", result.Outcome);
        var pass = reports.Where(r => r.Phase == "LIVELOCK pass").ToList();
        Assert.NotEmpty(pass);
        var last = pass[^1];
        Assert.Equal((result.Statistics.States, result.Statistics.States, result.Statistics.Transitions, 0, 0),
            (last.States, last.Of, last.Transitions, last.Depth, last.Queue));
        Assert.All(reports.Where(r => r.Phase is null), r => Assert.True(r.States <= result.Statistics.States));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_lean_pass_finds_what_the_graph_finds(string model, bool symmetry)
    {
        var path = model.StartsWith("examples/", StringComparison.Ordinal)
            ? Path.Combine(TestPaths.SharedExamples, model["examples/".Length..])
            : Path.Combine(TestPaths.RepositoryRoot, model);
        var loaded = FrontEnd.Load(path, new LoadOptions { ModelPath = [TestPaths.Models] });
        foreach (var program in loaded.Scenarios)
        {
            var graph = Check(program, symmetry, lean: false);
            var lean = Check(program, symmetry, lean: true);
            Assert.Equal(WithoutMemory(graph), WithoutMemory(lean));
            if (lean.Trace is { } trace)
            {
                var view = ReportModel.Build(program, trace);
                Assert.True(view.Replay.Confirmed, view.Replay.Message);
            }
        }
    }
}
