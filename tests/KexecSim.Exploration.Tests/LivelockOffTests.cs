using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary><c>check --livelock off</c> (<see cref="CheckOptions.Livelock"/>): the safety of every state only, no graph kept.</summary>
public sealed class LivelockOffTests
{
    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("livelock.kflow", text);
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        return Assert.Single(result.Scenarios);
    }

    // CPU 0 spins until a flag no one sets: a fair cycle of unfinished states (a LIVELOCK), and no unsafe state.
    private static readonly string Spinning = KexecSim.Tests.LivelockModels.Spinner.Replace("expect LIVELOCK;", "expect pass;", StringComparison.Ordinal);

    // Four CPUs each writing its own line three times: 1,296 states, 4,856 transitions (unreduced), no cycle.
    private const string Writers = """
        shared int a; shared int b; shared int c; shared int d;
        fn w0() { a = 1; a = 2; a = 3; done(); }
        fn w1() { b = 1; b = 2; b = 3; }
        fn w2() { c = 1; c = 2; c = 3; }
        fn w3() { d = 1; d = 2; d = 3; }
        scenario "s" { platform { cpus 4; } cpu 0 runs w0(); cpu 1 runs w1(); cpu 2 runs w2(); cpu 3 runs w3(); expect pass; }
        """;

    [Theory]
    [InlineData(SearchStrategy.BreadthFirst)]
    [InlineData(SearchStrategy.DepthFirst)]
    public void With_livelock_off_a_cycling_run_passes_with_a_warning_and_the_same_states(SearchStrategy strategy)
    {
        var program = Compile(Spinning);
        // Unreduced (a reduced graph with a cycle makes the search run again in full for LIVELOCK: docs/reduction.md).
        var on = Check(program, new CheckOptions { Strategy = strategy, Reduce = Reduction.None });
        var off = Check(program, new CheckOptions { Strategy = strategy, Reduce = Reduction.None, Livelock = false });
        Assert.Equal(("LIVELOCK", "pass"), (on.Outcome, off.Outcome));
        Assert.Equal((on.Statistics.States, on.Statistics.Transitions), (off.Statistics.States, off.Statistics.Transitions));
        Assert.True(off.LivelockOff);
        Assert.Equal(["LIVELOCK was not looked for (--livelock off): every state is safe, but a run may still cycle forever without finishing"], off.Warnings);
        Assert.DoesNotContain(on.Warnings, w => w.Contains("LIVELOCK", StringComparison.Ordinal));
    }

    [Fact]
    public void With_livelock_off_the_search_keeps_no_graph_of_its_transitions()
    {
        // Many transitions per state: the graph's bytes per transition are most of what an exact search holds.
        var program = Compile(Writers);
        var options = new CheckOptions { Workers = 1, Reduce = Reduction.None };
        var on = new BreadthFirstExplorer(program, options).Run();
        var off = new BreadthFirstExplorer(program, options with { Livelock = false }).Run();
        Assert.Equal(("pass", "pass"), (on.Outcome, off.Outcome));
        Assert.Equal(on.Statistics.States, off.Statistics.States);
        // What the graph held: 8 bytes per transition and per node, at least.
        Assert.True(on.Statistics.PeakMemoryBytes - off.Statistics.PeakMemoryBytes >= 8 * on.Statistics.Transitions,
            $"{on.Statistics.PeakMemoryBytes} - {off.Statistics.PeakMemoryBytes} < 8 x {on.Statistics.Transitions}");
    }

    [Fact]
    public void With_livelock_off_a_safety_violation_is_still_found()
    {
        var program = Compile("""
            shared int x;
            fn a() { x = 1; bug_on(x == 1); }
            scenario "s" { platform { cpus 1; } cpu 0 runs a(); expect pass; }
            """);
        var result = new BreadthFirstExplorer(program, new CheckOptions { Livelock = false }).Run();
        Assert.Equal("BUG", result.Outcome);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void A_memory_limit_the_graph_is_much_of_says_so_and_how_to_do_without_it()
    {
        Assert.Equal("--memory-limit 3 MB reached; 1 MB of it was the LIVELOCK graph: --livelock lean looks for LIVELOCK without one, --livelock off checks every state's safety alone",
            SearchLimits.WithGraphHint("--memory-limit 3 MB reached", 1L << 20, 3L << 20));
        Assert.Equal("--memory-limit 3 MB reached", SearchLimits.WithGraphHint("--memory-limit 3 MB reached", 1L << 19, 3L << 20));
        Assert.Equal("--memory-limit 1 MB reached; 0.8 MB of it was the LIVELOCK graph: --livelock lean looks for LIVELOCK without one, --livelock off checks every state's safety alone",
            SearchLimits.WithGraphHint("--memory-limit 1 MB reached", 800_000, 1L << 20));
        Assert.Equal("--memory-limit 1 MB reached", SearchLimits.WithGraphHint("--memory-limit 1 MB reached", 1L << 17, 1L << 18)); // under 256 KB
        Assert.Equal("--max-states 9 reached", SearchLimits.WithGraphHint("--max-states 9 reached", 3L << 20, 3L << 20));

        // The graph's first chunks (0.9 MB) are much of 2 MB (without it the search's own structures peak at 1.5 MB
        // breadth-first, 2.0 MB depth-first).
        var program = Compile(Writers);
        var options = new CheckOptions { Workers = 1, Reduce = Reduction.None, MemoryLimitBytes = 2_000_000 };
        foreach (var strategy in new[] { SearchStrategy.BreadthFirst, SearchStrategy.DepthFirst })
        {
            var limited = Check(program, options with { Strategy = strategy });
            Assert.Equal("limit", limited.Outcome);
            Assert.StartsWith("--memory-limit 1 MB reached", limited.LimitReason, StringComparison.Ordinal);
            if (strategy == SearchStrategy.BreadthFirst)
            {
                // The breadth-first search lets the graph go and goes on (LivelockLeanTests); this process's resident set
                // is past the limit anyway, so it stops there, saying so.
                Assert.True(limited.LivelockGraphDropped);
                Assert.EndsWith(" MB) let go: --livelock off checks every state's safety in less", limited.LimitReason, StringComparison.Ordinal);
                Assert.Contains("the search reached the memory limit with the LIVELOCK graph much of its memory: it let the graph go and went on without it", limited.Warnings);
                continue;
            }
            // A depth-first search keeps its graph: it stops and says how to do without it (lean is a breadth-first pass).
            Assert.EndsWith(" MB of it was the LIVELOCK graph: --livelock off checks every state's safety without one", limited.LimitReason, StringComparison.Ordinal);
            // Without the graph nothing is said of one (this test process's own resident set is past 2.4 MB: it stops too).
            Assert.DoesNotContain("LIVELOCK graph", Check(program, options with { Strategy = strategy, Livelock = false }).LimitReason ?? "", StringComparison.Ordinal);
        }
    }

    private static CheckResult Check(CompiledProgram program, CheckOptions options) =>
        options.Strategy == SearchStrategy.DepthFirst ? new DepthFirstExplorer(program, options).Run() : new BreadthFirstExplorer(program, options).Run();
}
