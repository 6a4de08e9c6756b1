using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// docs/questions.md (c): docs/questions/parallel-kick.kflow, the parallel MWAIT kick the answer compares with the
/// kernel's sequential one. It must be as safe (checked exhaustively at 2 and 3 CPUs) and, timed at 65 CPUs, much
/// faster: the figures the answer quotes come from bench/questions.sh with more runs; here a few runs pin them.
/// </summary>
public sealed class QuestionModelTests : CliFixture
{
    private static string ParallelKick => Path.Combine(TestPaths.RepositoryRoot, "docs", "questions", "parallel-kick.kflow");

    private static string Parked => Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed002-parked-cpus.kflow");

    [Theory]
    [InlineData("2")]
    [InlineData("3")]
    public void The_parallel_kick_is_safe(string cpus)
    {
        var (exit, stdout, stderr) = Run("check", ParallelKick, "--cpus", cpus);
        Assert.Equal((ExitCodes.Success, string.Empty), (exit, stderr));
        Assert.Contains("outcome: pass; expected: pass: met\n", stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_parallel_kick_overlaps_the_wake_ups_of_64_parked_cpus()
    {
        var (exit, parallel, _) = Run("simulate", ParallelKick, "--timed", "--cpus", "65", "--runs", "4", "--seed", "1", "--max-steps", "100000", "--workers", "1");
        Assert.Equal(ExitCodes.Success, exit);
        var (exit2, sequential, _) = Run("simulate", Parked, "--scenario", "parked-mwait-kick-to-hlt", "--timed", "--cpus", "65", "--runs", "4", "--seed", "1", "--max-steps", "100000", "--workers", "1");
        Assert.Equal(ExitCodes.Success, exit2);
        Assert.Contains("\ntime to finish: 4 runs reached done(); min 533.0 µs, p50 548.1 µs, p90 548.1 µs, p99 548.1 µs, max 548.1 µs, mean 544.3 µs\n", parallel.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\ntime to finish: 4 runs reached done(); min 13.681 ms, p50 14.063 ms, p90 14.657 ms, p99 14.657 ms, max 14.657 ms, mean 14.209 ms\n", sequential.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
