using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// Issue 12, limits and signals: an interruption (Ctrl-C, SIGTERM) or a passed --time-limit stops the search at the
/// next state, not at the next of the every-4,096-transitions checks (with costly steps those were tens of seconds
/// apart).
/// </summary>
public sealed class LimitTests
{
    private static CompiledProgram Long()
    {
        // 16 independent CPUs that never stop: far more interleavings than the test waits for, and no deadlock
        // for a depth-first search to end on.
        var result = FrontEnd.LoadText("long.kflow", """
            percpu bool flag;
            fn spin() { loop { flag = !flag; } }
            scenario "long" { platform { cpus 16; } cpu 0..15 runs spin(); expect pass; }
            """);
        return Assert.Single(result.Scenarios);
    }

    [Theory]
    [InlineData(SearchStrategy.BreadthFirst, 1)]
    [InlineData(SearchStrategy.BreadthFirst, 2)]
    [InlineData(SearchStrategy.DepthFirst, 1)]
    public void An_interruption_stops_the_search_at_the_next_state(SearchStrategy strategy, int workers)
    {
        using var interrupt = new CancellationTokenSource();
        long transitionsAtInterrupt = -1;
        var options = new CheckOptions
        {
            Reduce = Reduction.None,
            Strategy = strategy,
            Workers = workers,
            Cancellation = interrupt.Token,
            // The first progress report (after a second) is where the interruption comes.
            Progress = p =>
            {
                if (transitionsAtInterrupt < 0)
                {
                    transitionsAtInterrupt = p.Transitions;
                    interrupt.Cancel();
                }
            },
        };
        var result = strategy == SearchStrategy.BreadthFirst
            ? new BreadthFirstExplorer(Long(), options).Run()
            : new DepthFirstExplorer(Long(), options).Run();
        Assert.Equal("interrupted", result.LimitReason);
        Assert.True(transitionsAtInterrupt > 0);
        // One more state at most: each has at most 32 transitions, a step per CPU and an eviction per cache (with
        // workers, the batch being expanded: its chunks' states). Before, up to 4,096 transitions more.
        var bound = workers == 1 ? 32 : 32 * options.ChunkStates * workers;
        Assert.InRange(result.Statistics.Transitions - transitionsAtInterrupt, 0, bound);
    }
}
