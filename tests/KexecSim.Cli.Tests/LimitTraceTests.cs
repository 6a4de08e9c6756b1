using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// Issue 12, limits: nothing found before a limit is lost. Without a verdict, <c>--trace OUT.json</c> takes the
/// shortest violation found so far; <c>--trace DIR</c> takes every violation found, one file each, and each replays.
/// </summary>
public sealed class LimitTraceTests : CliFixture
{
    // DEADLOCK is expected; an ASSERTION (3 steps) and a PANIC are met on the way and kept; --max-depth 10 stops the
    // search before CPU 1's 50 increments end.
    private const string Model = """
        shared int x;
        shared int n;
        fn a() { x = 1; assert(x == 2, "x is two"); }
        fn b() { while (n < 50) { n = n + 1; } loop { hlt(); } }
        fn c() { udelay(1); udelay(1); panic("late"); }
        scenario "s" { platform { cpus 3; } cpu 0 runs a(); cpu 1 runs b(); cpu 2 runs c(); expect DEADLOCK; }
        """;

    [Fact]
    public void A_limit_writes_the_shortest_violation_found_so_far()
    {
        var model = Write("m.kflow", Model);
        var trace = Path.Combine(Scratch, "out.json");
        var (exit, stdout, stderr) = Run("check", model, "--max-depth", "10", "--trace", trace);
        Assert.Equal(ExitCodes.LimitReached, exit);
        Assert.Contains("stopped: --max-depth 10 reached; no verdict\n", stdout, StringComparison.Ordinal);
        Assert.Equal(
            "kexecsim: \"s\": no verdict; the trace written is the shortest violation found so far (ASSERTION)\n"
            + $"kexecsim: trace of \"s\" written to {trace}\n", stderr);
        var (replayed, output, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, replayed);
        Assert.Contains("violation: ASSERTION on CPU 0 at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_takes_every_violation_found_and_each_replays()
    {
        var model = Write("m.kflow", Model);
        var directory = Path.Combine(Scratch, "traces");
        Directory.CreateDirectory(directory);
        var (exit, _, stderr) = Run("check", model, "--max-depth", "10", "--trace", directory);
        Assert.Equal(ExitCodes.LimitReached, exit);
        Assert.Equal(
            "kexecsim: \"s\": no verdict; the trace written is the shortest violation found so far (ASSERTION)\n"
            + $"kexecsim: trace of \"s\" written to {Path.Combine(directory, "s.json")}\n"
            + $"kexecsim: trace of \"s\" written to {Path.Combine(directory, "s.PANIC.json")}\n", stderr);
        Assert.Equal(["s.PANIC.json", "s.json"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("violation: ASSERTION on CPU 0 at ", Run("replay", Path.Combine(directory, "s.json")).Out, StringComparison.Ordinal);
        Assert.Contains("violation: PANIC on CPU 2 at ", Run("replay", Path.Combine(directory, "s.PANIC.json")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_that_does_not_exist_is_refused_before_the_search()
    {
        var model = Write("m.kflow", Model);
        var (exit, stdout, stderr) = Run("check", model, "--trace", Path.Combine(Scratch, "none") + "/");
        Assert.Equal((ExitCodes.BadInput, string.Empty), (exit, stdout));
        Assert.Equal($"kexecsim: --trace {Path.Combine(Scratch, "none")}/trace.json: no such directory {Path.Combine(Scratch, "none")}\n", stderr);
    }
}
