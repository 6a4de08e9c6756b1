using KexecSim.Language.Syntax;

namespace KexecSim.Language.Tests;

/// <summary>
/// <see cref="FrontEnd.RunOnLargeStack"/>: a caller that loads many models in a row (the fuzzing harness) starts one
/// pipeline thread for all of them; a load outside it still starts its own.
/// </summary>
public sealed class FrontEndLargeStackTests
{
    private const string Model = "shared int x;\nfn f() { x = 1; done(); }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); expect pass; }\n";

    private const string Broken = "fn f() { x = ; }\n";

    /// <summary>Nesting at the parser's limit: the deepest recursion a model can cause.</summary>
    private static readonly string Deep =
        "fn f() { int v = " + new string('(', Parser.MaxNesting - 8) + "1" + new string(')', Parser.MaxNesting - 8) + "; }\n";

    private static string[] Lines(FrontEndResult result) => result.Diagnostics.Select(d => d.ToString()).ToArray();

    [Fact]
    public void A_load_outside_starts_one_thread_and_loads_inside_start_none()
    {
        var before = FrontEnd.ThreadsStartedByThisThread;
        FrontEnd.LoadText("m.kflow", Model);
        Assert.Equal(1, FrontEnd.ThreadsStartedByThisThread - before);

        var (inside, caller) = FrontEnd.RunOnLargeStack(() =>
        {
            var start = FrontEnd.ThreadsStartedByThisThread;
            FrontEnd.LoadText("m.kflow", Model);
            FrontEnd.LoadText("b.kflow", Broken);
            FrontEnd.RunOnLargeStack(() => FrontEnd.LoadText("d.kflow", Deep));
            return (FrontEnd.ThreadsStartedByThisThread - start, Environment.CurrentManagedThreadId);
        });
        Assert.Equal(0, inside);
        Assert.NotEqual(Environment.CurrentManagedThreadId, caller);
        Assert.Equal(2, FrontEnd.ThreadsStartedByThisThread - before);
    }

    [Fact]
    public void Loads_inside_give_the_same_results_as_loads_outside()
    {
        var outside = new[] { Model, Broken, Deep }.Select(text => FrontEnd.LoadText("m.kflow", text)).ToArray();
        var inside = FrontEnd.RunOnLargeStack(() => new[] { Model, Broken, Deep }.Select(text => FrontEnd.LoadText("m.kflow", text)).ToArray());
        Assert.Equal(["s"], inside[0].Scenarios.Select(s => s.ScenarioName));
        Assert.Equal(["m.kflow:1:10: error KF0201: unknown name 'x'", "m.kflow:1:13: error KF0103: expected an expression before ';'"], Lines(inside[1]));
        Assert.Equal(Lines(outside[1]), Lines(inside[1]));
        Assert.Equal(Lines(outside[2]), Lines(inside[2]));
        Assert.Equal(Lines(outside[0]), Lines(inside[0]));
    }

    [Fact]
    public void An_exception_of_the_work_is_rethrown_to_the_caller_and_a_cancelled_load_inside_throws()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => FrontEnd.RunOnLargeStack<int>(() => throw new InvalidOperationException("mine")));
        Assert.Equal("mine", thrown.Message);
        using var interrupt = new CancellationTokenSource();
        interrupt.Cancel();
        Assert.Throws<OperationCanceledException>(() => FrontEnd.RunOnLargeStack(
            () => FrontEnd.LoadText("m.kflow", Model, new LoadOptions { Cancellation = interrupt.Token })));
    }
}
