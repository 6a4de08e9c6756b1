using System.Text.Json;
using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// <c>check --strategy bfs|dfs</c> and <c>--shorten</c> (issue 9, item 5): the report says which search
/// found the trace, JSON gains fields only when they are used, traces replay, outputs are deterministic.
/// The contract's first example, scenario "nmi-then-jump-stray-smi": breadth-first 7 steps, the
/// depth-first search's first counterexample 16, shortened to 7.
/// </summary>
public sealed partial class StrategyOptionTests : CliFixture
{
    private static string First => Path.Combine(TestPaths.SharedExamples, "first.kflow");

    private const string Scenario = "nmi-then-jump-stray-smi";

    /// <summary>The output without the figures that depend on the machine's speed.</summary>
    private static string Timeless(string output) => Timing().Replace(output, "#");

    [GeneratedRegex(@"[\d.,]+ s\b|[\d,]+ states/s|""(seconds|statesPerSecond)"": [\d.]+")]
    private static partial Regex Timing();

    private static JsonElement Json(params string[] more)
    {
        var (exit, stdout, _) = Run(["check", First, "--scenario", Scenario, "--format", "json", .. more]);
        Assert.Equal(ExitCodes.Success, exit);
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.GetProperty("scenarios")[0].Clone();
    }

    [Fact]
    public void Dfs_text_report_says_the_trace_is_not_necessarily_shortest()
    {
        var (exit, stdout, stderr) = Run("check", First, "--scenario", Scenario, "--strategy", "dfs");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(string.Empty, stderr);
        Assert.Contains("outcome: EXEC_CLOBBERED; expected: EXEC_CLOBBERED: met\n", stdout);
        Assert.Contains("\nsearch: depth-first (--strategy dfs); the counterexample is the first found, not necessarily a shortest one\n", stdout);
    }

    [Fact]
    public void Dfs_with_shorten_reports_both_lengths_and_that_none_is_shorter()
    {
        var (exit, stdout, _) = Run("check", First, "--scenario", Scenario, "--strategy", "dfs", "--shorten");
        Assert.Equal(ExitCodes.Success, exit);
        var line = Assert.Single(stdout.Split('\n'), l => l.StartsWith("search: ", StringComparison.Ordinal));
        Assert.Equal("search: depth-first (--strategy dfs), shortened (--shorten) 16 -> 7 steps; bounded re-search: 195 states, #; no shorter counterexample exists",
            Timeless(line));
    }

    [Fact]
    public void Json_has_strategy_and_shortening_only_when_used()
    {
        var bfs = Json();
        Assert.False(bfs.TryGetProperty("strategy", out _));
        Assert.False(bfs.TryGetProperty("shortening", out _));
        Assert.Equal(7, bfs.GetProperty("trace").GetArrayLength());

        var dfs = Json("--strategy", "dfs");
        Assert.Equal("dfs", dfs.GetProperty("strategy").GetString());
        Assert.False(dfs.TryGetProperty("shortening", out _));
        Assert.Equal("EXEC_CLOBBERED", dfs.GetProperty("outcome").GetString());
        Assert.Equal(16, dfs.GetProperty("trace").GetArrayLength());

        var shortened = Json("--strategy", "dfs", "--shorten");
        Assert.Equal(7, shortened.GetProperty("trace").GetArrayLength());
        var shortening = shortened.GetProperty("shortening");
        Assert.Equal(16, shortening.GetProperty("firstSteps").GetInt32());
        Assert.Equal(7, shortening.GetProperty("finalSteps").GetInt32());
        Assert.Equal(195, shortening.GetProperty("states").GetInt64());
        Assert.True(shortening.GetProperty("shortest").GetBoolean());
        Assert.Equal(JsonValueKind.Null, shortening.GetProperty("limit").ValueKind);
    }

    [Fact]
    public void Shorten_with_bfs_changes_nothing_and_bfs_is_the_default()
    {
        var plain = Run("check", First);
        var bfs = Run("check", First, "--strategy", "bfs", "--shorten");
        Assert.Equal((plain.Exit, Timeless(plain.Out), plain.Err), (bfs.Exit, Timeless(bfs.Out), bfs.Err));
        var json = Run("check", First, "--format", "json");
        var jsonBfs = Run("check", First, "--format", "json", "--strategy", "bfs", "--shorten");
        Assert.Equal(Timeless(json.Out), Timeless(jsonBfs.Out));
    }

    [Fact]
    public void Dfs_output_is_deterministic()
    {
        var a = Run("check", First, "--strategy", "dfs", "--shorten", "--format", "json");
        var b = Run("check", First, "--strategy", "dfs", "--shorten", "--format", "json");
        Assert.Equal(ExitCodes.Success, a.Exit);
        Assert.Equal(Timeless(a.Out), Timeless(b.Out));
    }

    [Fact]
    public void A_dfs_trace_file_replays_and_the_catalog_passes_depth_first()
    {
        var path = Path.Combine(Scratch, "t.json");
        var (exit, _, stderr) = Run("check", First, "--scenario", Scenario, "--strategy", "dfs", "--trace", path);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal($"kexecsim: trace of \"{Scenario}\" written to {path}\n", stderr);
        var (replay, stdout, _) = Run("replay", path);
        Assert.Equal(ExitCodes.Success, replay);
        Assert.Contains("replay: confirmed: EXEC_CLOBBERED", stdout);

        var symmetric = Path.Combine(TestPaths.RepositoryRoot, "bench", "models", "stop-spin.kflow");
        var (cex, _, _) = Run("check", symmetric, "--scenario", "A_cex", "--cpus", "4", "--strategy", "dfs", "--trace", path);
        Assert.Equal(ExitCodes.Success, cex);
        Assert.Equal(ExitCodes.Success, Run("replay", path).Exit);
    }

    [Fact]
    public void Dfs_over_the_catalog_meets_every_expectation()
    {
        var (exit, stdout, _) = Run("check", "--strategy", "dfs", "--shorten");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.DoesNotContain("FAIL", stdout);
    }
}
