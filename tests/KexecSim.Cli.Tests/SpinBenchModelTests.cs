using System.Text.Json;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// bench/models/stop-spin.kflow, the stop protocol at the SPIN model's granularity that bench/scale.sh and
/// bench/vs-spin.sh measure (docs/benchmarks.md, "SPIN's question"): it lints cleanly and every scenario meets
/// its expectation at 2 and 3 CPUs. The state counts and counterexample lengths are golden figures of the
/// unreduced breadth-first search; a reduction that changes them updates them here and in the model's header.
/// </summary>
public sealed class SpinBenchModelTests : CliFixture
{
    private static string Model => Path.Combine(TestPaths.RepositoryRoot, "bench", "models", "stop-spin.kflow");

    [Fact]
    public void The_model_lints_without_a_diagnostic()
    {
        var (exit, stdout, stderr) = Run("lint", Model);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public void With_two_cpus_symmetric_names_one_cpu_and_only_warns()
    {
        var (exit, stdout, _) = Run("lint", Model, "--cpus", "2");
        Assert.Equal(ExitCodes.Success, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines[..4], l => Assert.EndsWith(": warning KF0804: 'symmetric' names 1 CPU: nothing to interchange", l));
        Assert.Equal("0 errors, 4 warnings", lines[4]);
    }

    // At 2 CPUs one CPU is symmetric: nothing to interchange, and no "symmetry" field. With --reduce all
    // (the default) the cache state of data[0] and of every CPU's pdata lines is not tracked: nothing
    // names them, so no check can observe it; and each CPU's hlt() is taken with the step that reaches it
    // (timeouts off: no NMI can be sent, and the handler runs with IF = 0) (docs/reduction.md).
    [Theory]
    [InlineData("A_noTO", 2, "on", "none", 92, 207, null)]
    [InlineData("A_noTO", 3, "off", "none", 1_920, 7_680, "off")]
    [InlineData("A_noTO", 3, "on", "none", 990, 3_944, "reduced")]
    [InlineData("A_noTO", 2, "on", "all", 13, 12, null)]
    [InlineData("A_noTO", 3, "off", "all", 43, 67, "off")]
    [InlineData("A_noTO", 3, "on", "all", 28, 42, "reduced")]
    public void A_noTO_is_proved_with_the_golden_state_count(string scenario, int cpus, string symmetry, string reduce, long states, long transitions, string? use)
    {
        var report = Check(scenario, cpus, "--symmetry", symmetry, "--reduce", reduce);
        Assert.Equal(use, report.TryGetProperty("symmetry", out var field) ? field.GetString() : null);
        if (reduce == "all")
        {
            var reduction = report.GetProperty("reduction");
            Assert.Equal("reduced", reduction.GetProperty("use").GetString());
            Assert.True(reduction.GetProperty("mergedHalts").GetBoolean());
            var lines = reduction.GetProperty("untrackedLines").EnumerateArray().Select(l => l.GetString()!).ToArray();
            Assert.Equal(["data[0]", .. Enumerable.Range(0, cpus).SelectMany(c => new[] { $"pdata[{c}][0]", $"pdata[{c}][1]" })], lines);
        }
        else
        {
            Assert.False(report.TryGetProperty("reduction", out _));
        }
        Assert.Equal("pass", report.GetProperty("outcome").GetString());
        Assert.True(report.GetProperty("expectationMet").GetBoolean());
        Assert.Equal(states, report.GetProperty("statistics").GetProperty("states").GetInt64());
        Assert.Equal(transitions, report.GetProperty("statistics").GetProperty("transitions").GetInt64());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("trace").ValueKind);
    }

    // SPIN's shortest trails: A 8N (16, 24), B 5N+3 (13, 18); the model's header explains each difference.
    // With --reduce all the search's path (its depth) is shorter, and the trace is that path with the
    // write-backs of the untracked dirty lines put back before each WBINVD completes (docs/reduction.md).
    [Theory]
    [InlineData("A_cex", 2, "none", 16, 16)]
    [InlineData("A_cex", 3, "none", 22, 22)]
    [InlineData("B_cex", 2, "none", 11, 11)]
    [InlineData("B_cex", 3, "none", 14, 14)]
    [InlineData("B_noTO", 2, "none", 13, 13)]
    [InlineData("B_noTO", 3, "none", 15, 15)]
    [InlineData("A_cex", 2, "all", 13, 16)]
    [InlineData("A_cex", 3, "all", 18, 23)]
    [InlineData("B_cex", 2, "all", 10, 13)]
    [InlineData("B_cex", 3, "all", 13, 16)]
    [InlineData("B_noTO", 2, "all", 10, 13)]
    [InlineData("B_noTO", 3, "all", 13, 16)]
    public void The_counterexample_scenarios_clobber_the_handler_code_in_the_golden_number_of_steps(string scenario, int cpus, string reduce, int depth, int steps)
    {
        var report = Check(scenario, cpus, "--reduce", reduce);
        Assert.Equal("EXEC_CLOBBERED", report.GetProperty("outcome").GetString());
        Assert.True(report.GetProperty("expectationMet").GetBoolean());
        Assert.Equal(steps, report.GetProperty("trace").GetArrayLength());
        Assert.Equal(depth, report.GetProperty("statistics").GetProperty("depth").GetInt32());
        Assert.Equal(steps - depth, reduce == "all" ? report.GetProperty("reduction").GetProperty("putBackSteps").GetInt32() : 0);
        Assert.StartsWith("CPU ", report.GetProperty("violation").GetProperty("message").GetString());
        Assert.Contains("fetched text[0] after CPU 0 (through next_kernel) overwrote it", report.GetProperty("violation").GetProperty("message").GetString());
    }

    [Fact]
    public void Check_says_how_symmetry_was_used_and_refuses_an_unknown_value()
    {
        var (exit, stdout, _) = Run("check", Model, "--scenario", "A_noTO", "--cpus", "4");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\nsymmetry: CPUs 1,2,3 interchangeable; one state stored per permutation\n"
            + "reduction: cache state not tracked for 9 lines no check can observe (data[0], pdata[0][0], pdata[0][1], pdata[1][0] and 5 more); "
            + "a hlt() nothing can interrupt taken with the step that reaches it; --reduce none explores the full machine\n",
            stdout.ReplaceLineEndings("\n"));
        var (bad, _, error) = Run("check", Model, "--symmetry", "maybe");
        Assert.Equal(ExitCodes.BadInput, bad);
        Assert.Contains("--symmetry maybe: expected on or off", error);
        (bad, _, error) = Run("check", Model, "--reduce", "some");
        Assert.Equal(ExitCodes.BadInput, bad);
        Assert.Contains("--reduce some: expected all or none", error);
    }

    [Fact]
    public void Bitstate_gives_the_exact_count_with_room_enough_its_figures_and_refuses_dfs()
    {
        var exact = Check("A_noTO", 4, "--reduce", "none");
        var bits = Check("A_noTO", 4, "--reduce", "none", "--bitstate", "16");
        Assert.Equal(exact.GetProperty("statistics").GetProperty("states").GetInt64(), bits.GetProperty("statistics").GetProperty("states").GetInt64());
        Assert.False(exact.TryGetProperty("bitstate", out _));
        var bitstate = bits.GetProperty("bitstate");
        Assert.Equal(16L * 1024 * 1024 * 8, bitstate.GetProperty("bits").GetInt64());
        Assert.Equal(3, bitstate.GetProperty("hashes").GetInt32());
        Assert.True(bitstate.GetProperty("omissionProbability").GetDouble() < 1e-6);
        Assert.Contains(bits.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("LIVELOCK was not looked for", StringComparison.Ordinal));
        var (exit, _, error) = Run("check", Model, "--strategy", "dfs", "--bitstate", "4");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--bitstate is a breadth-first search's visited set: it does not go with --strategy dfs", error);
        (exit, _, error) = Run("check", Model, "--bitstate", "0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--bitstate 0: expected a whole number of megabytes from 1 to 8192", error);
    }

    private static JsonElement Check(string scenario, int cpus, params string[] more)
    {
        var (exit, stdout, _) = Run(["check", Model, "--scenario", scenario, "--cpus", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "json", .. more]);
        Assert.Equal(ExitCodes.Success, exit);
        using var json = JsonDocument.Parse(stdout);
        var scenarios = json.RootElement.GetProperty("scenarios");
        Assert.Equal(1, scenarios.GetArrayLength());
        return scenarios[0].Clone();
    }
}
