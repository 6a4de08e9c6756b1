using System.Text.Json;
using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// <c>kexecsim simulate</c> and <c>kexecsim merge</c> (issue 10, items 1 and 2): the text and JSON reports, exit
/// codes, traces that replay, the same output for any number of workers, shards that merge into the
/// unsharded result, and the command-line errors.
/// </summary>
public sealed partial class SimulateCommandTests : CliFixture
{
    private static string Stop => Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow");

    /// <summary>The output without the figures that depend on the machine's speed.</summary>
    private static string Timeless(string output) => Timing().Replace(output, "#");

    [GeneratedRegex(@"(?m)^time: .*$|""(seconds|runsPerSecond|stepsPerSecond)"": [\d.E+-]+")]
    private static partial Regex Timing();

    private static (int Exit, string Out, string Err) Simulate(string scenario, params string[] more) =>
        Run(["simulate", Stop, "--scenario", scenario, "--seed", "1", .. more]);

    [Fact]
    public void Random_walk_text_report_of_an_expected_violation()
    {
        var (exit, stdout, stderr) = Simulate("stop-online-count-reboot", "--runs", "200", "--workers", "1");
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(
            $"""
            scenario "stop-online-count-reboot" ({Stop})
            simulation: random walk, seed 1, at most 10,000 steps per run, reduced (docs/reduction.md)
            runs: 200 done of 200 (run indices 0 to 199); steps: 3,141
            ended: 118 finished, 0 stopped at --max-steps, 82 with a violation
            violation RESET_HANG: 82 runs, first run 1 (16 steps)
            outcome: RESET_HANG; expected: RESET_HANG: met
            #

            """.Replace("\r\n", "\n", StringComparison.Ordinal), Timeless(stdout));

        // --reduce none walks the full machine: the runs of the build before the option (each stopped CPU's final
        // hlt() a step of its own).
        var (_, full, _) = Simulate("stop-online-count-reboot", "--runs", "200", "--workers", "1", "--reduce", "none");
        Assert.Equal(
            $"""
            scenario "stop-online-count-reboot" ({Stop})
            simulation: random walk, seed 1, at most 10,000 steps per run
            runs: 200 done of 200 (run indices 0 to 199); steps: 3,291
            ended: 101 finished, 0 stopped at --max-steps, 99 with a violation
            violation RESET_HANG: 99 runs, first run 0 (17 steps)
            outcome: RESET_HANG; expected: RESET_HANG: met
            #

            """.Replace("\r\n", "\n", StringComparison.Ordinal), Timeless(full));
    }

    [Fact]
    public void Reduce_all_does_not_go_with_timed_runs_which_are_never_reduced()
    {
        var (exit, stdout, stderr) = Simulate("stop-mask-reboot", "--runs", "2", "--timed", "--reduce", "all");
        Assert.Equal((ExitCodes.BadInput, string.Empty), (exit, stdout));
        Assert.Equal("kexecsim: --reduce all does not go with --timed: every step of a timed run takes time, none is merged\n", stderr);
        using var json = JsonDocument.Parse(Simulate("stop-mask-reboot", "--runs", "2", "--timed", "--format", "json").Out);
        Assert.Equal("none", json.RootElement.GetProperty("simulation").GetProperty("reduce").GetString());
    }

    [Fact]
    public void An_expect_pass_scenario_reports_its_finished_runs_and_a_violation_under_it_exits_1()
    {
        var (exit, stdout, _) = Simulate("stop-mask-reboot", "--runs", "100", "--strategy", "pct");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\nended: 100 finished, 0 stopped at --max-steps, 0 with a violation\n", stdout);
        Assert.Contains("\noutcome: pass; expected: pass: met\n", stdout);

        var (failed, text, _) = Simulate("stop-mask-reboot", "--runs", "100", "-D", "STOP_SCHEME=STOP_ONLINE_COUNT");
        Assert.Equal(ExitCodes.Violation, failed);
        Assert.Matches(@"\noutcome: RESET_HANG; expected: pass: not met\n", text);
    }

    [Fact]
    public void Json_is_the_same_for_one_and_two_workers_but_the_time()
    {
        foreach (var strategy in new[] { "random", "pct" })
        {
            var one = Simulate("stop-online-count-reboot", "--runs", "300", "--strategy", strategy, "--format", "json", "--workers", "1");
            var two = Simulate("stop-online-count-reboot", "--runs", "300", "--strategy", strategy, "--format", "json", "--workers", "2");
            Assert.Equal((ExitCodes.Success, ExitCodes.Success), (one.Exit, two.Exit));
            Assert.Equal(Timeless(one.Out), Timeless(two.Out));
        }
        using var json = JsonDocument.Parse(Simulate("stop-online-count-reboot", "--runs", "300", "--strategy", "pct", "--format", "json").Out);
        var root = json.RootElement;
        Assert.Equal(("kexecsim-simulation", 1), (root.GetProperty("schema").GetString(), root.GetProperty("version").GetInt32()));
        Assert.Equal("""{"strategy":"pct","seed":1,"runs":300,"maxSteps":10000,"pctDepth":3,"pctSteps":18,"reduce":"all"}""", Compact(root.GetProperty("simulation")));
        Assert.Equal("""[{"code":"RESET_HANG","count":43,"firstRun":4,"firstRunSteps":16}]""", Compact(root.GetProperty("violations")));
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);

    [Fact]
    public void Merged_shards_are_the_unsharded_result_but_the_time()
    {
        var whole = Simulate("stop-online-count-reboot", "--runs", "100", "--strategy", "pct", "--format", "json");
        var files = new List<string>();
        foreach (var k in new[] { 3, 1, 2 })
        {
            var shard = Simulate("stop-online-count-reboot", "--runs", "100", "--strategy", "pct", "--format", "json", "--shard", $"{k}/3");
            Assert.Equal(ExitCodes.Success, shard.Exit);
            files.Add(Write($"shard-{k}.json", shard.Out));
        }
        var (exit, merged, stderr) = Run(["merge", .. files, "--format", "json"]);
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(Timeless(whole.Out), Timeless(merged));

        // Two of three shards: a partial result that says which.
        var (_, partial, _) = Run("merge", files[0], files[1]);
        Assert.Contains("\nruns: 67 done of 67: shards 1/3, 3/3, the run indices i from 0 to 99 with i % 3 == 0 or 2; steps: ", partial);
    }

    [Fact]
    public void Merge_refuses_results_of_other_simulations_and_a_shard_twice()
    {
        var a = Write("a.json", Simulate("stop-online-count-reboot", "--runs", "20", "--format", "json", "--shard", "1/2").Out);
        var b = Write("b.json", Run("simulate", Stop, "--scenario", "stop-online-count-reboot", "--seed", "2", "--runs", "20", "--format", "json", "--shard", "2/2").Out);
        var c = Write("c.json", Simulate("stop-online-count-reboot", "--runs", "20", "--format", "json", "--shard", "2/3").Out);
        var d = Write("d.json", Simulate("stop-mask-reboot", "--runs", "20", "--format", "json", "--shard", "2/2").Out);
        var e = Write("e.json", Simulate("stop-online-count-reboot", "--runs", "20", "--format", "json", "--shard", "1/2", "--strategy", "pct").Out);
        var f = Write("f.json", Simulate("stop-online-count-reboot", "--runs", "20", "--format", "json", "--shard", "2/2", "--reduce", "none").Out);
        Assert.Equal((ExitCodes.BadInput, string.Empty, $"kexecsim: merge: {b}: the seed 2 differs from {a}'s: not shards of one simulation\n"), Run("merge", a, b));
        Assert.Equal($"kexecsim: merge: {c}: the shard count N=3 differs from {a}'s: not shards of one simulation\n", Run("merge", a, c).Err);
        Assert.Equal($"kexecsim: merge: {d}: the scenario \"stop-mask-reboot\" differs from {a}'s: not shards of one simulation\n", Run("merge", a, d).Err);
        Assert.Equal($"kexecsim: merge: {e}: the strategy pct differs from {a}'s: not shards of one simulation\n", Run("merge", a, e).Err);
        Assert.Equal($"kexecsim: merge: {f}: --reduce none differs from {a}'s: not shards of one simulation\n", Run("merge", a, f).Err);
        Assert.Equal((ExitCodes.BadInput, $"kexecsim: merge: {a}: shard 1/2 is already in {a}: each shard must be merged once\n"), Pick(Run("merge", a, a)));
        var trace = Write("t.json", "{ \"format\": \"kexecsim-trace\" }");
        Assert.Equal((ExitCodes.BadInput, $"kexecsim: merge: {trace}: not a kexecsim simulation result (schema '')\n"), Pick(Run("merge", trace)));

        static (int, string) Pick((int Exit, string Out, string Err) r) => (r.Exit, r.Err);
    }

    [Fact]
    public void The_trace_of_the_first_violating_run_replays_and_names_its_run()
    {
        var path = Path.Combine(Scratch, "t.json");
        var (exit, _, stderr) = Simulate("stop-online-count-reboot", "--runs", "50", "--strategy", "pct", "--trace", path);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal($"kexecsim: trace of \"stop-online-count-reboot\" written to {path}\n", stderr);
        using (var json = JsonDocument.Parse(File.ReadAllText(path)))
        {
            // The reduced run's 16 steps and the stopped CPU's hlt() it took with another, put back: a full-machine run.
            Assert.Equal("""{"strategy":"pct","seed":1,"run":4,"maxSteps":10000,"pctDepth":3,"pctSteps":18,"reduce":"all"}""", Compact(json.RootElement.GetProperty("simulation")));
            Assert.Equal(17, json.RootElement.GetProperty("steps").GetArrayLength());
        }
        var replay = Run("replay", path);
        Assert.Equal(ExitCodes.Success, replay.Exit);
        Assert.Contains("replay: confirmed: RESET_HANG at step 17\n", replay.Out);

        // check's traces are as before: no "simulation" field (replay reads files with and without it).
        var checkTrace = Path.Combine(Scratch, "check.json");
        Assert.Equal(ExitCodes.Success, Run("check", Stop, "--scenario", "stop-online-count-reboot", "--trace", checkTrace).Exit);
        using (var json = JsonDocument.Parse(File.ReadAllText(checkTrace)))
        {
            Assert.False(json.RootElement.TryGetProperty("simulation", out _));
        }
        Assert.Equal(ExitCodes.Success, Run("replay", checkTrace).Exit);

        // No violation, no trace (and no file).
        var none = Path.Combine(Scratch, "none.json");
        var (passExit, _, passErr) = Simulate("stop-mask-reboot", "--runs", "5", "--trace", none);
        Assert.Equal(ExitCodes.Success, passExit);
        Assert.Equal("kexecsim: \"stop-mask-reboot\": no run committed a violation: no trace written\n", passErr);
        Assert.False(File.Exists(none));
    }

    [Fact]
    public void A_time_limit_before_every_run_is_done_exits_3_with_the_figures_so_far()
    {
        var (exit, stdout, _) = Simulate("stop-mask-reboot", "--runs", "1000000000000", "--time-limit", "0.2");
        Assert.Equal(ExitCodes.LimitReached, exit);
        Assert.Contains("\nstopped: --time-limit 0.2 s reached\noutcome: limit; expected: pass: not met\n", stdout);
    }

    [Theory]
    [InlineData("0/2", "kexecsim: --shard 0/2: expected K/N, whole numbers with 1 <= K <= N <= 1000000\n")]
    [InlineData("3/2", "kexecsim: --shard 3/2: expected K/N, whole numbers with 1 <= K <= N <= 1000000\n")]
    [InlineData("x", "kexecsim: --shard x: expected K/N, whole numbers with 1 <= K <= N <= 1000000\n")]
    [InlineData("1/", "kexecsim: --shard 1/: expected K/N, whole numbers with 1 <= K <= N <= 1000000\n")]
    public void A_bad_shard_is_one_line_and_exit_2(string shard, string message)
    {
        var (exit, stdout, stderr) = Simulate("stop-mask-reboot", "--runs", "10", "--shard", shard);
        Assert.Equal((ExitCodes.BadInput, string.Empty, message), (exit, stdout, stderr));
    }

    [Fact]
    public void Bad_simulate_command_lines_exit_2_with_one_line()
    {
        Assert.Equal((ExitCodes.BadInput, "kexecsim: --pct-depth goes with --strategy pct\n"),
            Pick(Simulate("stop-mask-reboot", "--runs", "10", "--pct-depth", "2")));
        Assert.Equal((ExitCodes.BadInput, "kexecsim: --seed -1: expected a whole number from 0 to 18446744073709551615\n"),
            Pick(Run("simulate", Stop, "--scenario", "stop-mask-reboot", "--runs", "10", "--seed", "-1")));
        Assert.Equal((ExitCodes.BadInput, "kexecsim: --runs 0: expected a whole number of runs, 1 or more\n"),
            Pick(Simulate("stop-mask-reboot", "--runs", "0")));
        Assert.Equal((ExitCodes.BadInput, "kexecsim: --strategy dfs: expected random or pct\n"),
            Pick(Simulate("stop-mask-reboot", "--runs", "10", "--strategy", "dfs")));
        var several = Run("simulate", Stop, "--runs", "10", "--seed", "1");
        Assert.Equal(ExitCodes.BadInput, several.Exit);
        Assert.StartsWith($"kexecsim: {Stop} has 13 scenarios: simulate one with --scenario NAME (stop-online-count-reboot, stop-mask-reboot, ", several.Err);
        Assert.Equal(ExitCodes.BadInput, Run("simulate", Stop, "--scenario", "stop-mask-reboot", "--runs", "10").Exit);

        static (int, string) Pick((int Exit, string Out, string Err) r) => (r.Exit, r.Err);
    }
}
