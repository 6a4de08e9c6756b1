using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>Ctrl-C (SIGINT) and SIGTERM (what CI timeouts and Kubernetes send) end a long check like a limit: the
/// statistics so far, exit 3.</summary>
public sealed class InterruptTests : CliFixture
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_prints_the_statistics_so_far_and_exits_3(string signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SIGINT is sent with kill(1) below
        }
        // 64 independent CPUs: far more interleavings than the test will wait for.
        var model = Write("long.kflow", """
            fn idle() { loop { hlt(); } }
            scenario "long" { platform { cpus 64; } cpu 0..63 runs idle(); expect pass; }
            """);
        // --reduce none: with it, each hlt() would be taken at once and the run would end in a DEADLOCK.
        var (process, stdout, stderr) = ProcessRunner.StartKexecsim("check", model, "--reduce", "none");
        using var _ = process;
        await Task.Delay(TimeSpan.FromSeconds(3));
        ProcessRunner.Signal(process, signal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(ExitCodes.LimitReached, process.ExitCode);
        var output = await stdout;
        Assert.Contains("stopped: interrupted; no verdict", output);
        Assert.Contains("statistics: ", output);
        await stderr;
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_while_the_model_loads_says_so_and_exits_3(string signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // 400,000 chained functions: several seconds of front end on any machine; the signal comes 1.5 s in.
        var text = new System.Text.StringBuilder("shared int x;\n");
        for (var i = 0; i < 400_000; i++)
        {
            text.Append("fn F").Append(i).Append("() { F").Append(i + 1).Append("(); }\n");
        }
        text.Append("fn F400000() { x = 1; }\nfn f() { loop { F0(); } }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); }\n");
        var model = Write("huge.kflow", text.ToString());
        var (process, stdout, stderr) = ProcessRunner.StartKexecsim("check", model);
        using var _ = process;
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        ProcessRunner.Signal(process, signal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(string.Empty, await stdout);
        Assert.Equal("kexecsim: interrupted while loading the model; no verdict\n", (await stderr).ReplaceLineEndings("\n"));
        Assert.Equal(ExitCodes.LimitReached, process.ExitCode);
    }
}
