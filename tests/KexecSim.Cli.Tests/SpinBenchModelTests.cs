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

    // At 2 CPUs one CPU is symmetric: nothing to interchange, and no "symmetry" field.
    [Theory]
    [InlineData("A_noTO", 2, "on", 92, 207, null)]
    [InlineData("A_noTO", 3, "off", 1_920, 7_680, "off")]
    [InlineData("A_noTO", 3, "on", 990, 3_944, "reduced")]
    public void A_noTO_is_proved_with_the_golden_state_count(string scenario, int cpus, string symmetry, long states, long transitions, string? use)
    {
        var report = Check(scenario, cpus, "--symmetry", symmetry);
        Assert.Equal(use, report.TryGetProperty("symmetry", out var field) ? field.GetString() : null);
        Assert.Equal("pass", report.GetProperty("outcome").GetString());
        Assert.True(report.GetProperty("expectationMet").GetBoolean());
        Assert.Equal(states, report.GetProperty("statistics").GetProperty("states").GetInt64());
        Assert.Equal(transitions, report.GetProperty("statistics").GetProperty("transitions").GetInt64());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("trace").ValueKind);
    }

    // SPIN's shortest trails: A 8N (16, 24), B 5N+3 (13, 18); the model's header explains each difference.
    [Theory]
    [InlineData("A_cex", 2, 16)]
    [InlineData("A_cex", 3, 22)]
    [InlineData("B_cex", 2, 11)]
    [InlineData("B_cex", 3, 14)]
    [InlineData("B_noTO", 2, 13)]
    [InlineData("B_noTO", 3, 15)]
    public void The_counterexample_scenarios_clobber_the_handler_code_in_the_golden_number_of_steps(string scenario, int cpus, int steps)
    {
        var report = Check(scenario, cpus);
        Assert.Equal("EXEC_CLOBBERED", report.GetProperty("outcome").GetString());
        Assert.True(report.GetProperty("expectationMet").GetBoolean());
        Assert.Equal(steps, report.GetProperty("trace").GetArrayLength());
        Assert.Equal(steps, report.GetProperty("statistics").GetProperty("depth").GetInt32());
        Assert.StartsWith("CPU ", report.GetProperty("violation").GetProperty("message").GetString());
        Assert.Contains("fetched text[0] after CPU 0 (through next_kernel) overwrote it", report.GetProperty("violation").GetProperty("message").GetString());
    }

    [Fact]
    public void Check_says_how_symmetry_was_used_and_refuses_an_unknown_value()
    {
        var (exit, stdout, _) = Run("check", Model, "--scenario", "A_noTO", "--cpus", "4");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\nsymmetry: CPUs 1,2,3 interchangeable; one state stored per permutation\n", stdout.ReplaceLineEndings("\n"));
        var (bad, _, error) = Run("check", Model, "--symmetry", "maybe");
        Assert.Equal(ExitCodes.BadInput, bad);
        Assert.Contains("--symmetry maybe: expected on or off", error);
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
