using System.Diagnostics;
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
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "kexecsim.dll"), "check", model, "--reduce", "none"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        using (var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(ExitCodes.LimitReached, process.ExitCode);
        var output = await stdout;
        Assert.Contains("stopped: interrupted; no verdict", output);
        Assert.Contains("statistics: ", output);
        await stderr;
    }
}
