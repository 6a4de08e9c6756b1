using System.Text;

namespace KexecSim.Language.Tests;

/// <summary>Ctrl-C and SIGTERM interrupt the front end too (issue 12, item 2: a huge model was loaded to the end
/// before the interruption was looked at).</summary>
public sealed class FrontEndInterruptTests
{
    private const string Model = "shared int x;\nfn f() { x = 1; done(); }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); expect pass; }\n";

    [Fact]
    public void An_interrupted_load_throws_and_reads_nothing()
    {
        using var interrupt = new CancellationTokenSource();
        interrupt.Cancel();
        Assert.Throws<OperationCanceledException>(() => FrontEnd.LoadText("m.kflow", Model, new LoadOptions { Cancellation = interrupt.Token }));
    }

    [Fact]
    public void A_load_interrupted_while_it_runs_ends_at_once()
    {
        // 300,000 functions: seconds of work on any machine; the interruption comes 100 ms in.
        var builder = new StringBuilder("shared int x;\n");
        for (var i = 0; i < 300_000; i++)
        {
            builder.Append("fn F").Append(i).Append("() { F").Append(i + 1).Append("(); }\n");
        }
        builder.Append("fn F300000() { x = 1; }\nfn f() { loop { F0(); } }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); }\n");
        using var interrupt = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var load = Task.Run(() => FrontEnd.LoadText("chain.kflow", builder.ToString(), new LoadOptions { Cancellation = interrupt.Token }));
        var thrown = Assert.ThrowsAny<OperationCanceledException>(() => load.GetAwaiter().GetResult());
        Assert.Equal(interrupt.Token, thrown.CancellationToken);
    }

    [Fact]
    public void A_load_that_is_not_interrupted_gives_the_same_result_with_or_without_a_token()
    {
        using var interrupt = new CancellationTokenSource();
        var plain = FrontEnd.LoadText("m.kflow", Model);
        var watched = FrontEnd.LoadText("m.kflow", Model, new LoadOptions { Cancellation = interrupt.Token });
        Assert.Empty(plain.Diagnostics);
        Assert.Empty(watched.Diagnostics);
        Assert.Equal(plain.Scenarios.Single().ScenarioName, watched.Scenarios.Single().ScenarioName);
    }
}
