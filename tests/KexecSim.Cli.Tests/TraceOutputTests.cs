using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// <c>check --trace OUT.json</c> (issue 7, item 9): a place that cannot take the trace is refused before
/// any search with one line naming the option and the path (exit 2); a write that fails at the end
/// keeps the verdict already printed; a trace replaces the previous one atomically.
/// </summary>
public sealed class TraceOutputTests : CliFixture
{
    // Scenario "choices" has a counterexample (an ASSERTION); "safe" has none.
    private const string Model = """
        shared int x;
        fn a() {
            int v = choose(3);
            either { x = 1; } or { x = 2; }
            assert(v != 2 || x != 2, "v=2 and x=2");
            done();
        }
        fn ok() { done(); }
        scenario "choices" { platform { cpus 1; } cpu 0 runs a(); }
        scenario "safe" { platform { cpus 1; } cpu 0 runs ok(); expect pass; }
        """;

    private string ModelFile => Write("model.kflow", Model);

    [Fact]
    public void Trace_into_a_missing_directory_is_refused_before_the_search()
    {
        var path = Path.Combine(Scratch, "no", "such", "dir", "t.json");
        var (exit, stdout, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", path);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: --trace {path}: no such directory {Path.Combine(Scratch, "no", "such", "dir")}\n", stderr);
    }

    [Fact]
    public void Trace_onto_a_directory_writes_the_counterexample_there()
    {
        // An existing directory takes the traces (issue 12: every violation found, a file each).
        var path = Directory.CreateDirectory(Path.Combine(Scratch, "dir.json")).FullName;
        var (exit, _, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", path);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Equal($"kexecsim: trace of \"choices\" written to {Path.Combine(path, "choices.json")}\n", stderr);
        Assert.Equal(["choices.json"], Directory.GetFiles(path).Select(Path.GetFileName));
    }

    [Fact]
    public void Trace_onto_a_directory_with_several_scenarios_writes_each_counterexample()
    {
        var path = Directory.CreateDirectory(Path.Combine(Scratch, "out")).FullName + "/";
        var (exit, _, stderr) = Run("check", ModelFile, "--trace", path);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Equal($"kexecsim: trace of \"choices\" written to {Path.Combine(path, "choices.json")}\n", stderr);
        Assert.Equal(["choices.json"], Directory.GetFiles(path).Select(Path.GetFileName));
    }

    [Fact]
    public void Trace_onto_an_empty_path_is_refused_before_the_search()
    {
        var (exit, stdout, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", "");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("kexecsim: --trace \"\": expected a file name\n", stderr);
    }

    [Fact]
    public void Trace_under_a_file_is_refused_before_the_search()
    {
        var file = Write("plain.txt", "x");
        var path = Path.Combine(file, "t.json");
        var (exit, stdout, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", path);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: --trace {path}: no such directory {file}\n", stderr);
    }

    [Fact]
    public void Trace_into_a_directory_that_takes_no_files_is_refused_before_the_search()
    {
        if (!File.Exists("/proc/version"))
        {
            return; // Linux only: procfs takes no new files
        }
        var (exit, stdout, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", "/proc/version");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("kexecsim: --trace /proc/version: cannot create a file in /proc: no such file or directory\n", stderr);
    }

    [Fact]
    public void A_trace_write_that_fails_at_the_end_keeps_the_verdict_and_exits_2()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // Linux only: /dev/full takes no bytes
        }
        var (exit, stdout, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", "/dev/full");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("outcome: ASSERTION", stdout);
        Assert.Contains("replay: confirmed: ASSERTION", stdout);
        Assert.Equal("kexecsim: --trace /dev/full: cannot write: no space left on device\n", stderr);
    }

    [Fact]
    public void A_trace_replaces_the_previous_one_atomically()
    {
        var path = Path.Combine(Scratch, "t.json");
        File.WriteAllText(path, "previous good trace");
        // A second name for the old file: an in-place write would change it too; a rename leaves it.
        var link = Path.Combine(Scratch, "old.json");
        if (!HardLink(path, link))
        {
            return; // no ln(1): not a Unix
        }
        var (exit, _, stderr) = Run("check", ModelFile, "--scenario", "choices", "--trace", path);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Equal($"kexecsim: trace of \"choices\" written to {path}\n", stderr);
        Assert.Equal("previous good trace", File.ReadAllText(link));
        Assert.StartsWith("{", File.ReadAllText(path));
        Assert.Equal(["model.kflow", "old.json", "t.json"], Directory.GetFiles(Scratch).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(ExitCodes.Success, Run("replay", path).Exit);
    }

    [Fact]
    public void A_trace_through_a_symbolic_link_replaces_the_file_it_names()
    {
        var target = Path.Combine(Directory.CreateDirectory(Path.Combine(Scratch, "real")).FullName, "t.json");
        File.WriteAllText(target, "previous");
        var link = Path.Combine(Scratch, "t.json");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(ExitCodes.Violation, Run("check", ModelFile, "--scenario", "choices", "--trace", link).Exit);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.StartsWith("{", File.ReadAllText(target));
    }

    [Fact]
    public void The_report_comes_before_the_trace_message()
    {
        var path = Path.Combine(Scratch, "t.json");
        var (exit, stdout, stderr) = Run("check", ModelFile, "--trace", path, "--format", "json");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.StartsWith("{", stdout);
        Assert.Equal($"kexecsim: trace of \"choices\" written to {Path.Combine(Scratch, "t-choices.json")}\n", stderr);
    }

    private static bool HardLink(string existing, string link)
    {
        try
        {
            using var ln = System.Diagnostics.Process.Start("ln", [existing, link]);
            ln.WaitForExit();
            return ln.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
