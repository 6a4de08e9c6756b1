using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// <c>check --max-depth N</c> (issue 12, limits): the breadth-first search does not expand the states N steps from the
/// initial state; states left there end it without a verdict (exit 3, the statistics so far); a counterexample
/// within the bound is found as without it; the bound does not go with a depth-first search.
/// </summary>
public sealed class MaxDepthTests : CliFixture
{
    private static string Stop => Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow");

    [Fact]
    public void States_left_at_the_bound_stop_the_search_without_a_verdict()
    {
        var (exit, stdout, stderr) = Run("check", Stop, "--scenario", "kexec-stop-mask-late-reboot-nmi", "--max-depth", "10");
        Assert.Equal((ExitCodes.LimitReached, string.Empty), (exit, stderr));
        var text = stdout.ReplaceLineEndings("\n");
        Assert.Contains("\nstopped: --max-depth 10 reached; no verdict\nstatistics: 81 states, 143 transitions, depth 10,", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_counterexample_within_the_bound_is_found_as_without_it()
    {
        var bounded = Run("check", Stop, "--scenario", "kexec-stop-mask-late-reboot-nmi", "--max-depth", "100", "--format", "json");
        var unbounded = Run("check", Stop, "--scenario", "kexec-stop-mask-late-reboot-nmi", "--format", "json");
        Assert.Equal(ExitCodes.Success, bounded.Exit);
        Assert.Equal(Timeless(unbounded.Out), Timeless(bounded.Out));
    }

    [Theory]
    [InlineData("0", "kexecsim: --max-depth 0: expected a whole number of steps, 1 or more\n")]
    [InlineData("x", "kexecsim: --max-depth x: expected a whole number of steps, 1 or more\n")]
    public void A_bad_bound_is_one_line_and_exit_2(string value, string message)
    {
        var (exit, stdout, stderr) = Run("check", Stop, "--max-depth", value);
        Assert.Equal((ExitCodes.BadInput, string.Empty, message), (exit, stdout, stderr.ReplaceLineEndings("\n")));
    }

    [Fact]
    public void The_bound_does_not_go_with_a_depth_first_search()
    {
        var (exit, _, stderr) = Run("check", Stop, "--max-depth", "3", "--strategy", "dfs");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("kexecsim: --max-depth bounds a breadth-first search: it does not go with --strategy dfs", stderr, StringComparison.Ordinal);
    }

    private static string Timeless(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"(seconds|statesPerSecond|transitionsPerSecond|peakMemoryBytes|elapsed[A-Za-z]*)\": [0-9.eE+-]+", "\"$1\": 0");
}
