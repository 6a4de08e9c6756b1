using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// Issue 12: <c>--memory-limit</c> bounds the process's real resident set, not only the search's own structures
/// (before, a 64-CPU check under 300 MB peaked at 877 MB: the workers' successor buffers and GC slack were not
/// counted). A large check runs as a child process; its peak resident set (VmHWM) is read while it runs.
/// </summary>
public sealed class MemoryLimitTests : CliFixture
{
    [Fact]
    public async Task A_large_check_stays_under_its_memory_limit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // VmHWM is read from /proc
        }
        var model = Write("large.kflow", """
            fn idle() { loop { hlt(); } }
            scenario "large" { platform { cpus 64; } cpu 0..63 runs idle(); expect pass; }
            """);
        var (process, stdout, stderr) = ProcessRunner.StartKexecsim("check", model, "--reduce", "none", "--memory-limit", "300", "--workers", "2");
        using var _ = process;
        long peakKb = 0;
        var status = $"/proc/{process.Id}/status";
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (!process.HasExited && !timeout.IsCancellationRequested)
        {
            try
            {
                foreach (var line in await File.ReadAllLinesAsync(status))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        peakKb = Math.Max(peakKb, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (IOException)
            {
                break; // it exited between the check and the read
            }
            await Task.Delay(20);
        }
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        await stderr;
        Assert.Equal(ExitCodes.LimitReached, process.ExitCode);
        Assert.Contains("stopped: --memory-limit 300 MB reached", output, StringComparison.Ordinal);
        Assert.InRange(peakKb, 1, 300 * 1024);
    }
}
