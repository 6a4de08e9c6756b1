using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// Issue 12, item 3: <c>check --checkpoint DIR</c> and <c>--resume DIR</c> (docs/checkpoint.md). A check
/// killed with SIGKILL and resumed prints what an uninterrupted check prints but the time; a checkpoint of
/// another search, or a damaged one, is refused with exit 2 and what differs.
/// </summary>
public sealed partial class CheckpointCommandTests : CliFixture
{
    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s")]
    private static partial Regex TextTiming();

    // Six workers writing six values each and a seventh waiting for all of them: about 262,000 states over
    // 38 levels, the ASSERTION at the last one (the shortest counterexample is the longest run).
    private const string BigModel = """
        shared int d1;
        shared int d2;
        shared int d3;
        shared int d4;
        shared int d5;
        shared int d6;
        fn w1() { d1 = 1; d1 = 2; d1 = 3; d1 = 4; d1 = 5; d1 = 6; done(); }
        fn w2() { d2 = 1; d2 = 2; d2 = 3; d2 = 4; d2 = 5; d2 = 6; done(); }
        fn w3() { d3 = 1; d3 = 2; d3 = 3; d3 = 4; d3 = 5; d3 = 6; done(); }
        fn w4() { d4 = 1; d4 = 2; d4 = 3; d4 = 4; d4 = 5; d4 = 6; done(); }
        fn w5() { d5 = 1; d5 = 2; d5 = 3; d5 = 4; d5 = 5; d5 = 6; done(); }
        fn w6() { d6 = 1; d6 = 2; d6 = 3; d6 = 4; d6 = 5; d6 = 6; done(); }
        fn boss() { wait_until(d1 + d2 + d3 + d4 + d5 + d6 == 36); assert(false, "every worker finished"); }
        scenario "big" {
            platform { cpus 7; }
            cpu 0 runs boss(); cpu 1 runs w1(); cpu 2 runs w2(); cpu 3 runs w3(); cpu 4 runs w4(); cpu 5 runs w5(); cpu 6 runs w6();
            timeouts off;
            expect pass;
        }
        """;

    private const string SmallModel = """
        const N = 1;
        shared int x;
        shared int y;
        fn a() { x = N; y = x; x = 2; y = 3; done(); }
        scenario "s" { platform { cpus 2; } cpu 0..1 runs a(); expect pass; }
        scenario "t" { platform { cpus 2; } cpu 0..1 runs a(); expect pass; }
        """;

    /// <summary>The level a checkpoint in <paramref name="directory"/> holds, or -1 while there is none.</summary>
    private static int CheckpointDepth(string directory)
    {
        try
        {
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "manifest.json")));
            return manifest.RootElement.GetProperty("depth").GetInt32();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return -1; // none yet (the manifest is renamed into place whole, but be lenient with the file system)
        }
    }

    [Fact]
    public async Task A_check_killed_with_sigkill_and_resumed_prints_what_an_uninterrupted_check_prints()
    {
        var model = Write("big.kflow", BigModel);
        var directory = Path.Combine(Scratch, "checkpoint");
        var (exit, uninterrupted, _) = Run("check", model, "--workers", "1");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("outcome: ASSERTION; expected: pass: NOT met", uninterrupted);
        Assert.Contains("counterexample (38 steps):", uninterrupted);

        var start = new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "kexecsim.dll"), "check", model, "--workers", "1", "--checkpoint", directory, "--checkpoint-every", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using (var process = Process.Start(start)!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // Polled, not slept: a loaded machine may take long to reach level 10 (of 38).
            var waited = Stopwatch.StartNew();
            while (CheckpointDepth(directory) < 10 && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
            if (process.HasExited)
            {
                Assert.Fail($"the check ended before it was killed: {await stdout}{await stderr}");
            }
            Assert.InRange(CheckpointDepth(directory), 10, 37);
            process.Kill(); // SIGKILL: nothing of the process runs after it
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(137, process.ExitCode); // 128 + SIGKILL
            // Killed before its report: a check that ran to its end would have printed the counterexample.
            Assert.Equal(string.Empty, await stdout);
            await stderr;
        }

        var saved = CheckpointDepth(directory);
        var (resumedExit, resumed, resumedErr) = Run("check", model, "--workers", "1", "--resume", directory);
        Assert.Equal(string.Empty, resumedErr);
        Assert.Equal(ExitCodes.Violation, resumedExit);
        Assert.Equal(TextTiming().Replace(uninterrupted, "<time>"), TextTiming().Replace(resumed, "<time>"));

        // Resumed into the same directory, with checkpoints on: the same again, and the directory holds the last level.
        var (againExit, again, _) = Run("check", model, "--workers", "2", "--resume", directory, "--checkpoint", directory, "--checkpoint-every", "0");
        Assert.Equal(ExitCodes.Violation, againExit);
        Assert.Equal(TextTiming().Replace(uninterrupted, "<time>"), TextTiming().Replace(again, "<time>"));
        Assert.True(CheckpointDepth(directory) > saved, $"level {CheckpointDepth(directory)} saved after resuming at {saved}");
    }

    /// <summary>A checkpoint of <see cref="SmallModel"/>'s scenario "s" stopped at its third level.</summary>
    private (string Model, string Directory) SmallCheckpoint()
    {
        var model = Write("small.kflow", SmallModel);
        var directory = Path.Combine(Scratch, "small");
        var (exit, _, stderr) = Run("check", model, "--scenario", "s", "--checkpoint", directory, "--checkpoint-every", "0", "--max-states", "8");
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(ExitCodes.LimitReached, exit);
        Assert.True(CheckpointDepth(directory) > 0);
        return (model, directory);
    }

    [Fact]
    public void A_resumed_small_check_finishes_as_an_uninterrupted_one()
    {
        var (model, directory) = SmallCheckpoint();
        var (exit, whole, _) = Run("check", model, "--scenario", "s", "--format", "json");
        var (resumedExit, resumed, _) = Run("check", model, "--scenario", "s", "--format", "json", "--resume", directory);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(exit, resumedExit);
        var measured = new Regex(@"""(seconds|statesPerSecond|peakMemoryBytes)"": [0-9.eE+-]+");
        Assert.Equal(measured.Replace(whole, "<measured>"), measured.Replace(resumed, "<measured>"));
    }

    [Fact]
    public void Resuming_another_search_is_refused_with_what_differs()
    {
        var (model, directory) = SmallCheckpoint();
        const string Hash = "[0-9a-f]{32}";
        var prefix = Regex.Escape($"kexecsim: --resume {directory}: the checkpoint is of another search: ");

        var (exit, stdout, stderr) = Run("check", model, "--scenario", "s", "--resume", directory, "--cpus", "3");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Matches($"^{prefix}compiled program was {Hash}, is now {Hash}; --cpus was the model's, is now 3\n$", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--resume", directory, "-D", "N=2");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches($"^{prefix}compiled program was {Hash}, is now {Hash}; -D was none, is now N=2\n$", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--resume", directory, "--reduce", "none", "--symmetry", "off");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: --resume {directory}: the checkpoint is of another search: --reduce was all, is now none; --symmetry was on, is now off\n", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "t", "--resume", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches($"^{prefix}scenario was s, is now t; compiled program was {Hash}, is now {Hash}\n$", stderr);

        // The model's text changed (a comment: the same compiled program, another source).
        File.AppendAllText(model, "// edited\n");
        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--resume", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches($"^{prefix}model sources was {Hash}, is now {Hash}\n$", stderr);
    }

    [Fact]
    public void A_damaged_checkpoint_is_refused()
    {
        var (model, directory) = SmallCheckpoint();
        var manifest = Path.Combine(directory, "manifest.json");
        var text = File.ReadAllText(manifest);
        // A checksum changed in the manifest.
        var changed = Regex.Replace(text, @"(""store"": ""frontier"",\s*""name"": ""[^""]+"",\s*""bytes"": [0-9]+,\s*""xxh128"": "")([0-9a-f])", m => m.Groups[1].Value + (m.Groups[2].Value == "0" ? "1" : "0"));
        Assert.NotEqual(text, changed);
        File.WriteAllText(manifest, changed);
        var (exit, stdout, stderr) = Run("check", model, "--scenario", "s", "--resume", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Matches($"^{Regex.Escape($"kexecsim: --resume {directory}: the checkpoint is damaged: frontier-")}[0-9]+\\.bin has checksum [0-9a-f]{{32}}, the manifest says [0-9a-f]{{32}}\n$", stderr);

        // A manifest cut short (a file system that lost its end).
        File.WriteAllText(manifest, text[..(text.Length / 2)]);
        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--resume", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"kexecsim: --resume {directory}: the checkpoint is damaged: manifest.json is not a checkpoint manifest (", stderr);

        File.Delete(manifest);
        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--resume", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: --resume {directory}: no checkpoint there (no manifest.json)\n", stderr);
    }

    [Fact]
    public void A_checkpoint_is_of_one_scenario_of_a_breadth_first_search()
    {
        var model = Write("small.kflow", SmallModel);
        var directory = Path.Combine(Scratch, "several");
        var (exit, _, stderr) = Run("check", model, "--checkpoint", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: --checkpoint saves one scenario's search; 2 are selected: give --scenario NAME\n", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--checkpoint", directory, "--strategy", "dfs");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--checkpoint and --resume save and continue a breadth-first search: they do not go with --strategy dfs", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--checkpoint-every", "5");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--checkpoint-every says how often --checkpoint DIR saves the search: give --checkpoint too", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--checkpoint", directory, "--checkpoint-every", "x");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--checkpoint-every x: expected a number of seconds, from 0 to 86400", stderr);

        (exit, _, stderr) = Run("check", model, "--scenario", "s", "--checkpoint", model);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: --checkpoint {model}: is a file, not a directory\n", stderr);
    }
}
