using System.Text.Json;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>Coverage in the reports: the warnings of a pass, <c>check --coverage</c>, JSON, KTAP, JUnit (docs/coverage.md).</summary>
public sealed class CoverageCommandTests : CliFixture
{
    // Line numbers matter: the tests assert file:line:col.
    private const string Model = """
        const REBOOT_VECTOR = 0xf8;
        shared bool stopped;
        handler vector REBOOT_VECTOR { stopped = true; loop { hlt(); } }
        fn boot_cpu() {
            send_ipi(1, REBOOT_VECTOR);
            wait_until(stopped, 100);
            done();
        }
        fn other_cpu() { loop { hlt(); } }
        fn fixed_cpu() { local_irq_enable(); loop { hlt(); } }
        scenario "if-zero" { platform { cpus 2; } cpu 0 runs boot_cpu(); cpu 1 runs other_cpu(); expect pass; }
        scenario "irq-on" { platform { cpus 2; } cpu 0 runs boot_cpu(); cpu 1 runs fixed_cpu(); expect pass; }
        """;

    private static string Warning(string path) =>
        $"{path}:3:1: warning KF0951: handler vector REBOOT_VECTOR never ran in scenario \"if-zero\": REBOOT_VECTOR was sent but never "
        + "delivered: a CPU takes a maskable interrupt only with IF = 1 and GIF = 1, and every CPU starts with IF = 0 (call local_irq_enable()); clgi() clears GIF until stgi()";

    private static string[] Notes(string path) =>
    [
        $"{path}:3:32: note KF0950: never reached in scenario \"if-zero\"",
        $"{path}:3:48: note KF0950: never reached in scenario \"if-zero\"",
        $"{path}:3:55: note KF0950: never reached in scenario \"if-zero\"",
        $"{path}:6:5: note KF0954: wait_until never returned true in scenario \"if-zero\": it only timed out",
        $"{path}:10:18: note KF0950: never reached in scenario \"if-zero\"",
        $"{path}:10:38: note KF0950: never reached in scenario \"if-zero\"",
        $"{path}:10:45: note KF0950: never reached in scenario \"if-zero\"",
    ];

    [Fact]
    public void A_pass_with_a_handler_never_delivered_prints_the_warning_and_still_exits_0()
    {
        var path = Write("model.kflow", Model);
        var (exit, stdout, _) = Run("check", path, "--scenario", "if-zero");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("outcome: pass; expected: pass: met\n", stdout);
        Assert.Contains("coverage: 5 of 8 statements reached\n", stdout);
        Assert.Contains($"\n{Warning(path)}\n", stdout);
        Assert.DoesNotContain("note KF0950", stdout);
    }

    [Fact]
    public void Catalog_style_rows_are_followed_by_the_warnings_of_each_pass()
    {
        var path = Write("model.kflow", Model);
        var (exit, stdout, _) = Run("check", path);
        Assert.Equal(ExitCodes.Success, exit);
        var lines = stdout.Split('\n');
        var row = Array.FindIndex(lines, l => l.StartsWith("ok    if-zero", StringComparison.Ordinal));
        Assert.Equal(Warning(path), lines[row + 1]);
        Assert.StartsWith("ok    irq-on", lines[row + 2]);
        Assert.Single(lines, l => l.Contains("warning KF", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_coverage_lists_every_statement_never_reached_as_notes_sorted_by_position()
    {
        var path = Write("model.kflow", Model);
        var (exit, stdout, _) = Run("check", path, "--scenario", "if-zero", "--coverage");
        Assert.Equal(ExitCodes.Success, exit);
        var notes = stdout.Split('\n').Where(l => l.Contains(": note KF", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Notes(path), notes);
    }

    [Fact]
    public void Json_report_holds_the_warnings_and_with_coverage_the_same_list_of_notes()
    {
        var path = Write("model.kflow", Model);
        var (exit, stdout, _) = Run("check", path, "--scenario", "if-zero", "--format", "json", "--coverage");
        Assert.Equal(ExitCodes.Success, exit);
        using var json = JsonDocument.Parse(stdout);
        var coverage = json.RootElement.GetProperty("scenarios")[0].GetProperty("coverage");
        Assert.True(coverage.GetProperty("exhaustive").GetBoolean());
        Assert.Equal(8, coverage.GetProperty("statements").GetInt32());
        Assert.Equal(5, coverage.GetProperty("reached").GetInt32());
        var warning = Assert.Single(coverage.GetProperty("warnings").EnumerateArray());
        Assert.Equal("KF0951", warning.GetProperty("code").GetString());
        Assert.Equal("warning", warning.GetProperty("severity").GetString());
        Assert.Equal($"{path}:3:1", warning.GetProperty("location").GetString());
        Assert.Equal("handler vector REBOOT_VECTOR", warning.GetProperty("function").GetString());
        var notes = coverage.GetProperty("neverReached").EnumerateArray()
            .Select(n => $"{n.GetProperty("location").GetString()}: {n.GetProperty("severity").GetString()} {n.GetProperty("code").GetString()}: {n.GetProperty("message").GetString()}")
            .ToArray();
        Assert.Equal(Notes(path), notes);

        var (_, plain, _) = Run("check", path, "--scenario", "if-zero", "--format", "json");
        using var withoutList = JsonDocument.Parse(plain);
        var summary = withoutList.RootElement.GetProperty("scenarios")[0].GetProperty("coverage");
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("neverReached").ValueKind);
        Assert.Single(summary.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public void Ktap_and_junit_carry_the_warnings_of_a_pass()
    {
        var path = Write("model.kflow", Model);
        var (_, ktap, _) = Run("check", path, "--format", "ktap");
        Assert.Contains($"# {Warning(path)}\nok 1 if-zero\n", ktap);
        var (_, junit, _) = Run("check", path, "--format", "junit");
        var document = System.Xml.Linq.XDocument.Parse(junit);
        var output = document.Descendants("testcase").First(t => (string?)t.Attribute("name") == "if-zero").Element("system-out")!.Value;
        Assert.Contains(Warning(path), output);
    }
}
