using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// Issue 9, item 4: <c>check --workers N</c> prints what <c>--workers 1</c> prints, byte for byte but
/// the measured time (text: "s" and "states/s"; JSON: <c>seconds</c> and <c>statesPerSecond</c>).
/// </summary>
public sealed partial class WorkersOutputTests : CliFixture
{
    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s|[0-9.]+ s$", RegexOptions.Multiline)]
    private static partial Regex TextTiming();

    [GeneratedRegex(@"""(seconds|statesPerSecond)"": [0-9.eE+-]+")]
    private static partial Regex JsonTiming();

    public static TheoryData<string, string, string> Counterexamples() => new()
    {
        // A counterexample of the expected code, 4,008 states over 28 levels (levels wide enough to
        // be expanded in parallel batches), and one of another code kept aside while searching.
        { "models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall", "text" },
        { "models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall", "json" },
        { "tests/corpus/clean/language_md_example.kflow", "tdx-kexec-erratum", "text" },
        { "tests/corpus/clean/language_md_example.kflow", "tdx-kexec-erratum", "json" },
    };

    [Theory]
    [MemberData(nameof(Counterexamples))]
    public void Two_workers_print_what_one_worker_prints(string model, string scenario, string format)
    {
        var file = Path.Combine(TestPaths.RepositoryRoot, model);
        var (exit1, out1, err1) = Run("check", file, "--scenario", scenario, "--format", format, "--workers", "1");
        var (exit2, out2, err2) = Run("check", file, "--scenario", scenario, "--format", format, "--workers", "2");
        Assert.Equal(exit1, exit2);
        Assert.Equal(err1, err2);
        var timing = format == "json" ? JsonTiming() : TextTiming();
        var one = timing.Replace(out1, "<time>");
        Assert.Contains("<time>", one);
        Assert.Contains(format == "json" ? "\"trace\": [" : "step", one);
        Assert.Equal(one, timing.Replace(out2, "<time>"));
    }

    [Fact]
    public void Workers_with_a_state_limit_stop_where_one_worker_stops()
    {
        var file = Path.Combine(TestPaths.RepositoryRoot, "tests/corpus/clean/every_construct.kflow");
        var (exit1, out1, _) = Run("check", file, "--scenario", "every-construct", "--format", "json", "--max-states", "5000", "--workers", "1");
        var (exit2, out2, _) = Run("check", file, "--scenario", "every-construct", "--format", "json", "--max-states", "5000", "--workers", "2");
        Assert.Equal(ExitCodes.LimitReached, exit1);
        Assert.Equal(exit1, exit2);
        Assert.Equal(JsonTiming().Replace(out1, "<time>"), JsonTiming().Replace(out2, "<time>"));
    }

    /// <summary>Several scenarios are searched side by side (up to --workers at once) and reported in order:
    /// the catalog's table and JSON are what one worker prints.</summary>
    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public void Several_scenarios_searched_side_by_side_print_what_one_at_a_time_prints(string format)
    {
        var (exit1, out1, _) = Run("check", "--format", format, "--workers", "1");
        var (exit3, out3, _) = Run("check", "--format", format, "--workers", "3");
        Assert.Equal(ExitCodes.Success, exit1);
        Assert.Equal(exit1, exit3);
        var timing = format == "json" ? JsonTiming() : TextTiming();
        var one = timing.Replace(out1, "<time>");
        Assert.Contains(format == "json" ? "\"name\": \"stop-mask-reboot\"" : "stop-mask-reboot", one);
        Assert.Equal(one, timing.Replace(out3, "<time>"));
    }
}
