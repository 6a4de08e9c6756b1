using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>The rendered report of one counterexample, compared with an approved copy (timings masked).</summary>
public sealed partial class ApprovalTests
{
    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s")]
    private static partial Regex Timing();

    [Fact]
    public void Report_of_the_first_example_matches_the_approved_text()
    {
        var file = Path.Combine(TestPaths.SharedExamples, "first.kflow");
        var stdout = new StringWriter();
        var exit = KexecSimCli.Run(["check", file, "--scenario", "nmi-then-jump-stray-smi"], stdout, new StringWriter());
        Assert.Equal(ExitCodes.Success, exit);
        var actual = Timing().Replace(stdout.ToString().ReplaceLineEndings("\n"), "<time>")
            .Replace(TestPaths.SharedExamples + Path.DirectorySeparatorChar, "<shared>/examples/", StringComparison.Ordinal);
        var approved = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "approvals", "first-stray-smi.txt")).ReplaceLineEndings("\n");
        Assert.Equal(approved, actual);
    }
}
