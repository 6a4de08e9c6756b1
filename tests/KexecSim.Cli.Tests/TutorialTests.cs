using System.Text.RegularExpressions;

namespace KexecSim.Cli.Tests;

/// <summary>
/// The outputs the docs show stay true: docs/language.md's "A first model" (every console block run
/// with the real kexecsim in docs/tutorial/), its "Checking a patch" workflow, and the README's
/// ten-line model. Measured seconds are masked on both sides.
/// </summary>
public sealed partial class TutorialTests : IDisposable
{
    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s")]
    private static partial Regex Timing();

    private readonly string _dir = Directory.CreateTempSubdirectory("kexecsim-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Page(string relative) => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, relative)).ReplaceLineEndings("\n");

    private static string Section(string page, string heading)
    {
        var start = page.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section '{heading}'");
        var end = page.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? page[start..] : page[start..end];
    }

    /// <summary>The fenced blocks of a kind (```console, ```c …) in order, each without its fences and with the indentation of its opening fence removed.</summary>
    private static List<string> Blocks(string text, string kind)
    {
        var blocks = new List<string>();
        foreach (Match m in Regex.Matches(text, $@"^(?<indent> *)```{kind}\n(?<body>.*?)^\k<indent>```$", RegexOptions.Multiline | RegexOptions.Singleline))
        {
            var indent = m.Groups["indent"].Value.Length;
            blocks.Add(string.Join('\n', m.Groups["body"].Value.TrimEnd('\n').Split('\n').Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())));
        }
        return blocks;
    }

    private static string Mask(string text) => Timing().Replace(text, "<time>");

    [Fact]
    public void Every_command_of_the_first_model_prints_what_the_tutorial_shows()
    {
        var tutorial = Path.Combine(TestPaths.RepositoryRoot, "docs", "tutorial");
        var blocks = Blocks(Section(Page("docs/language.md"), "A first model"), "console");
        Assert.Equal(5, blocks.Count);
        var exits = new List<int>();
        foreach (var block in blocks)
        {
            var lines = block.Split('\n');
            Assert.StartsWith("$ kexecsim ", lines[0], StringComparison.Ordinal);
            var (exit, stdout, stderr) = ProcessRunner.Kexecsim(tutorial, lines[0]["$ kexecsim ".Length..].Split(' '));
            Assert.Equal(Mask(string.Join('\n', lines[1..])), Mask((stdout + stderr).TrimEnd('\n')));
            exits.Add(exit);
        }
        Assert.Equal([2, 0, 1, 0, 1], exits);
    }

    [Fact]
    public void The_tutorial_quotes_step_1_whole_and_each_later_step_is_step_1_with_the_changes_shown()
    {
        var tutorial = Path.Combine(TestPaths.RepositoryRoot, "docs", "tutorial");
        var code = Blocks(Section(Page("docs/language.md"), "A first model"), "c");
        Assert.Equal(File.ReadAllText(Path.Combine(tutorial, "step1.kflow")).ReplaceLineEndings("\n").TrimEnd('\n'), code[0]);
        foreach (var (step, quoted) in new[] { ("step2", code[1]), ("step3", code[2]) })
        {
            Assert.Contains(quoted, File.ReadAllText(Path.Combine(tutorial, step + ".kflow")).ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Checking_a_patch_runs_the_patched_copy_names_the_shadowed_flow_and_shows_the_lines_of_the_guide()
    {
        var section = Section(Page("docs/language.md"), "Checking a patch");
        var patch = Directory.CreateDirectory(Path.Combine(_dir, "patch", "linux")).Parent!.FullName;
        File.Copy(Path.Combine(TestPaths.Models, "catalog", "seed000-stop-wbinvd.kflow"), Path.Combine(patch, "seed000-stop-wbinvd.kflow"));
        // The guide's diff, applied to the copy: its '-' and ' ' lines are the original, its '+' and ' ' lines the patched text.
        var diff = Blocks(section, "diff").Single().Split('\n');
        var before = string.Join('\n', diff.Where(l => l[0] is ' ' or '-').Select(l => l[1..]));
        var after = string.Join('\n', diff.Where(l => l[0] is ' ' or '+').Select(l => l[1..]));
        var original = File.ReadAllText(Path.Combine(TestPaths.Models, "linux", "stop.kflow")).ReplaceLineEndings("\n");
        Assert.Contains(before, original, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(patch, "linux", "stop.kflow"), original.Replace(before, after, StringComparison.Ordinal));

        var console = Blocks(section, "console").Single().Split('\n');
        var (exit, stdout, stderr) = ProcessRunner.Kexecsim(patch, console[0]["$ kexecsim ".Length..].Split(' '));
        Assert.Equal(1, exit);
        var output = (stdout + stderr).Replace(TestPaths.Models, "MODELS", StringComparison.Ordinal).Split('\n');
        Assert.All(console[1..], shown => Assert.Contains(shown, output));
    }

    [Fact]
    public void A_copy_right_beside_the_scenario_is_named_with_where_it_must_go()
    {
        var patch = Directory.CreateDirectory(Path.Combine(_dir, "patch")).FullName;
        File.Copy(Path.Combine(TestPaths.Models, "catalog", "seed000-stop-wbinvd.kflow"), Path.Combine(patch, "seed000-stop-wbinvd.kflow"));
        File.Copy(Path.Combine(TestPaths.Models, "linux", "stop.kflow"), Path.Combine(patch, "stop.kflow"));
        var (exit, _, stderr) = ProcessRunner.Kexecsim(patch, "check", "seed000-stop-wbinvd.kflow", "--scenario", "stop-mask-reboot");
        Assert.Equal(0, exit);
        Assert.Equal($"{TestPaths.Models}/linux/kexec.kflow:3:8: warning KF0809: import \"linux/stop.kflow\" is {TestPaths.Models}/linux/stop.kflow; "
            + "stop.kflow beside the model, of the same file name, is not used (to use it, put it at linux/stop.kflow)\n", stderr);
    }

    [Fact]
    public void The_readme_model_in_ten_lines_is_clobbered_then_fixed_as_it_says()
    {
        var readme = Page("README.md");
        var model = Blocks(Section(readme, "Install as a .NET tool"), "c").Single();
        Assert.True(model.Split('\n').Length <= 10);
        File.WriteAllText(Path.Combine(_dir, "kexec.kflow"), model + "\n");
        var (exit, stdout, _) = ProcessRunner.Kexecsim(_dir, "check", "kexec.kflow");
        Assert.Equal(1, exit);
        Assert.Contains("outcome: EXEC_CLOBBERED; expected: pass: NOT met\n", stdout, StringComparison.Ordinal);
        Assert.Contains("`kexecsim check kexec.kflow` answers `outcome: EXEC_CLOBBERED; expected: pass: NOT met` (exit 1)", readme.Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);

        const string Fixed = "fn kexec() { send_nmi(1); wait_until(stopped); copy_and_jump(); }";
        Assert.Contains($"`{Fixed}`", readme, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "kexec.kflow"), model.Replace("fn kexec() { send_nmi(1); copy_and_jump(); }", Fixed, StringComparison.Ordinal) + "\n");
        var fixedRun = ProcessRunner.Kexecsim(_dir, "check", "kexec.kflow");
        Assert.Equal(0, fixedRun.Exit);
        Assert.Contains("outcome: pass; expected: pass: met\n", fixedRun.Out, StringComparison.Ordinal);
    }
}
