using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KexecSim.Cli.Tests;

/// <summary>
/// The job templates of docs/scale-out.md map the batch engine's index to <c>--shard K/N</c>: run with a stub
/// <c>kexecsim</c> that records its arguments, as the engine would run them.
/// </summary>
public sealed partial class DeployTemplateTests : CliFixture
{
    private static string Deploy => Path.Combine(TestPaths.RepositoryRoot, "deploy");

    /// <summary>A <c>kexecsim</c> that writes its arguments to args.txt and exits with <paramref name="exit"/>.</summary>
    private string Stub(int exit)
    {
        var bin = Directory.CreateDirectory(Path.Combine(Scratch, "bin")).FullName;
        var stub = Path.Combine(bin, "kexecsim");
        File.WriteAllText(stub, $"#!/bin/sh\necho \"$@\" > \"{Scratch}/args.txt\"\necho '{{}}'\nexit {exit}\n");
        // The templates are for Linux batch engines: the stub is a Unix executable.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return stub;
    }

    private (int Exit, string Args) RunScript(string shell, string script, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Scratch };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PATH"] = Path.Combine(Scratch, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        var args = Path.Combine(Scratch, "args.txt");
        return (process.ExitCode, File.Exists(args) ? File.ReadAllText(args).Trim() : string.Empty);
    }

    [Fact]
    public void The_slurm_array_task_id_is_the_shard_and_a_violation_is_a_result()
    {
        var stub = Stub(exit: 1);
        var environment = new Dictionary<string, string>
        {
            ["KEXECSIM"] = stub, ["SLURM_ARRAY_TASK_ID"] = "3", ["SLURM_ARRAY_TASK_MAX"] = "8", ["SLURM_ARRAY_TASK_MIN"] = "1",
            ["SLURM_CPUS_PER_TASK"] = "2", ["RESULTS"] = Path.Combine(Scratch, "results"), ["RUNS"] = "1000", ["SEED"] = "7",
        };
        var script = Path.Combine(Deploy, "slurm", "simulate-array.sh");
        var (exit, args) = RunScript("bash", $"\"{script}\"", environment);
        Assert.Equal(0, exit);
        Assert.Equal("simulate models/catalog/seed000-stop-wbinvd.kflow --scenario stop-online-count-reboot --cpus 192 --runs 1000 --seed 7 --strategy pct "
            + "--shard 3/8 --workers 2 --format json", args);
        Assert.True(File.Exists(Path.Combine(Scratch, "results", "shard-3.json")));

        Stub(exit: 2);
        Assert.Equal(2, RunScript("bash", $"\"{script}\"", environment).Exit);
        environment["SLURM_ARRAY_TASK_MIN"] = "0";
        Assert.Equal(2, RunScript("bash", $"\"{script}\"", environment).Exit);
    }

    [Fact]
    public void The_kubernetes_completion_index_plus_one_is_the_shard_of_completions_shards()
    {
        var yaml = File.ReadAllText(Path.Combine(Deploy, "kubernetes", "indexed-job.yaml"));
        Assert.Contains("completionMode: Indexed", yaml);
        var completions = Completions().Match(yaml).Groups[1].Value;
        Assert.Equal(completions, Shards().Match(yaml).Groups[1].Value);
        // The container's script, as the pod runs it (the volume's path put in the scratch folder).
        var lines = yaml[(yaml.IndexOf("- |", StringComparison.Ordinal) + 4)..].Split('\n');
        var indent = lines[0].Length - lines[0].TrimStart().Length;
        var script = string.Join('\n', lines.TakeWhile(l => l.Length == 0 || l.Length - l.TrimStart().Length >= indent).Select(l => l.Length >= indent ? l[indent..] : l))
            .Replace("/results/", Scratch + "/", StringComparison.Ordinal);
        Stub(exit: 1);
        var environment = new Dictionary<string, string>
        {
            ["JOB_COMPLETION_INDEX"] = "0", ["SHARDS"] = completions, ["MODEL"] = "m.kflow", ["SCENARIO"] = "s", ["CPUS"] = "192",
            ["RUNS"] = "1000", ["SEED"] = "1", ["STRATEGY"] = "pct",
        };
        var (exit, args) = RunScript("sh", script, environment);
        Assert.Equal(0, exit);
        Assert.Equal($"simulate m.kflow --scenario s --cpus 192 --runs 1000 --seed 1 --strategy pct --shard 1/{completions} --workers 2 --format json", args);
        Assert.True(File.Exists(Path.Combine(Scratch, "shard-1.json")));
        Stub(exit: 2);
        Assert.Equal(2, RunScript("sh", script, environment).Exit);
    }

    [GeneratedRegex(@"(?m)^\s*completions: (\d+)")]
    private static partial Regex Completions();

    [GeneratedRegex(@"name: SHARDS.*\n\s*value: ""(\d+)""")]
    private static partial Regex Shards();
}
