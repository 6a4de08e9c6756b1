using System.Globalization;
using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Reporting;

namespace KexecSim.Cli.Tests;

/// <summary>
/// The HTML report (docs/html-report.md): its structure parsed as a browser would (AngleSharp), the escaping of
/// every string a model can choose, the collapsing of long runs, byte-identical output, and <c>--report</c> on
/// <c>check</c> and <c>replay</c>. tests/browser opens a report in Chromium.
/// </summary>
public sealed class HtmlReportTests : CliFixture
{
    private const string Hostile = "</script><img src=x onerror=alert(1)>";

    // The first example's stray SMI, with a scenario name, a message and an assertion text that try to end the
    // report's script element and inject an element; a read loop of SPINS steps that touch nothing new.
    private static readonly string HostileModel = """
        const IMAGE = 100;
        const SPINS = 3;
        shared bool parked;
        shared int spins;
        region boot_code[1];
        region next_kernel = text, data;

        handler nmi {
            parked = true;
            loop { hlt(); }
        }

        fn jump() in boot_code[0] {
            for_each_line (l in next_kernel) store(l, KEY_NONE, IMAGE);
            boot_next_kernel(start);
        }

        fn start() {
            pr_err("HOSTILE %d", 7);
            assert(load(text[0], KEY_NONE) == 5, "HOSTILE");
            done();
        }

        fn boot_cpu() {
            send_nmi(1);
            wait_until(parked);
            int seen = 0;
            for (int i = 0; i < SPINS; i = i + 1) { seen = seen + spins; }
            jump();
        }

        fn other_cpu() { loop { hlt(); } }

        scenario "HOSTILE" {
            platform { vendor intel; cpus 2; }
            cpu 0 runs boot_cpu();
            cpu 1 runs other_cpu();
            expect ASSERTION;
        }
        """.Replace("HOSTILE", Hostile.Replace("\"", "\\\"", StringComparison.Ordinal), StringComparison.Ordinal);

    private static (ReportModel Model, CheckResult Result, KexecSim.Program.CompiledProgram Program) FirstStraySmi()
    {
        var loaded = FrontEnd.LoadText("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var program = loaded.Scenarios.Single(s => s.ScenarioName == "nmi-then-jump-stray-smi");
        var result = new BreadthFirstExplorer(program).Run();
        return (ReportModel.Build(program, result.Trace!), result, program);
    }

    private static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    [Fact]
    public void Report_of_the_stray_smi_has_a_lane_per_cpu_and_per_line_written_and_highlights_step_7()
    {
        var (model, result, program) = FirstStraySmi();
        var document = Parse(HtmlReport.Render(model, result, program, "first.kflow"));

        Assert.Equal(["CPU 0", "CPU 1"], document.QuerySelectorAll("#diagram .lane-cpu .lane-title").Select(e => e.TextContent));
        Assert.Equal(["text[0]", "data[0]"], document.QuerySelectorAll("#diagram .lane-line .lane-title").Select(e => e.TextContent));
        Assert.Equal(4, document.QuerySelectorAll("#diagram .lane").Length);
        Assert.Empty(document.QuerySelectorAll("#diagram .lane-firmware"));

        var violation = Assert.Single(document.QuerySelectorAll("#diagram .step.violation"));
        Assert.Equal("step-7", violation.Id);
        Assert.Equal("7", document.GetElementById("violation-explanation")!.GetAttribute("data-step"));
        Assert.Equal("✖ EXEC_CLOBBERED: CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 5",
            string.Join(" ", document.QuerySelectorAll("#violation-explanation text").Select(e => e.TextContent)));
        Assert.Equal("EXEC_CLOBBERED", document.GetElementById("verdict")!.TextContent);
        Assert.Equal("expected EXEC_CLOBBERED: met", document.GetElementById("expectation")!.TextContent);

        // A row per step (none uneventful enough to collapse) and the initial state.
        Assert.Equal(["step-0", "step-1", "step-2", "step-3", "step-4", "step-5", "step-6", "step-7"],
            document.QuerySelectorAll("#diagram .step").Select(e => e.Id));
        // The NMI from CPU 0 to CPU 1, CPU 1's store of parked, CPU 0's image copy (clobbering text[0] in memory,
        // dirty in its cache: one arrow), the stray SMI from outside.
        Assert.Equal(["NMI", "store (cached) · KEY_NONE", "clobbers: 100 · KEY_NONE + store (cached) · KEY_NONE", "stray SMI"],
            document.QuerySelectorAll("#diagram .arrow > title").Select(e => e.TextContent));
        Assert.Equal(["arrow arrow-nmi", "arrow arrow-store", "arrow arrow-clobber", "arrow arrow-fault"],
            document.QuerySelectorAll("#diagram .arrow").Select(e => e.GetAttribute("class")));

        // Statistics and coverage, without the clock (the file is the same from run to run).
        var statistics = document.QuerySelectorAll("#statistics div").Select(d => d.QuerySelector("dt")!.TextContent + "=" + d.QuerySelector("dd")!.TextContent).ToList();
        Assert.Equal($"states={result.Statistics.States.ToString("N0", CultureInfo.InvariantCulture)}", statistics[2]);
        Assert.Equal(["CPUs=2", "steps=7"], statistics.Take(2));
        Assert.DoesNotContain(statistics, s => s.StartsWith("time", StringComparison.Ordinal) || s.Contains(" s", StringComparison.Ordinal));
        Assert.Equal($"statements reached={result.Coverage!.Reached} of {result.Coverage.Statements} ({result.Coverage.Reached * 100.0 / result.Coverage.Statements:0.0}%)",
            document.QuerySelector("#coverage div dt")!.TextContent + "=" + document.QuerySelector("#coverage div dd")!.TextContent);

        // Nothing is fetched: no external script, style, image or link.
        Assert.Empty(document.QuerySelectorAll("script[src], link, img, iframe, object"));
        Assert.Contains("default-src 'none'", document.QuerySelector("meta[http-equiv=Content-Security-Policy]")!.GetAttribute("content"), StringComparison.Ordinal);
    }

    [Fact]
    public void Step_data_gives_every_step_its_row_source_line_and_the_machine_after_it()
    {
        var (model, result, program) = FirstStraySmi();
        var document = Parse(HtmlReport.Render(model, result, program, "first.kflow"));
        using var data = JsonDocument.Parse(document.GetElementById("kexecsim-data")!.TextContent);
        var root = data.RootElement;
        Assert.Equal(7, root.GetProperty("violationStep").GetInt32());
        var steps = root.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(8, steps.Count);
        Assert.Equal(("CPU 1 takes an SMI", 7, 13), (steps[7].GetProperty("description").GetString(), steps[7].GetProperty("row").GetInt32(), steps[7].GetProperty("line").GetInt32()));
        // The source line a step links to is in the embedded source.
        var line = document.GetElementById($"src-{steps[7].GetProperty("file").GetInt32()}-13")!;
        Assert.Equal("13    loop { hlt(); }", line.TextContent);
        // After step 3 (CPU 1: parked = true), CPU 1's cache holds data[0] dirty; CPU 1 runs, in its NMI handler.
        var after3 = root.GetProperty("snapshots")[3];
        Assert.Equal(["RUNNING", "RUNNING"], after3.GetProperty("modes").EnumerateArray().Select(m => m.GetString()));
        var entry = Assert.Single(after3.GetProperty("caches")[1].GetProperty("entries").EnumerateArray());
        Assert.Equal(("data[0]", "KEY_NONE", "OLD_CONTENT", true),
            (entry.GetProperty("line").GetString(), entry.GetProperty("key").GetString(), entry.GetProperty("value").GetString(), entry.GetProperty("dirty").GetBoolean()));
        // After step 5 the image copy has clobbered text[0].
        var text0 = root.GetProperty("snapshots")[5].GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "text[0]");
        Assert.Equal(["clobbered", "expects 100 (KEY_NONE)"], text0.GetProperty("marks").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void A_hostile_scenario_name_message_and_assertion_are_text_everywhere_and_240_quiet_steps_are_one_row()
    {
        var model = Write("hostile.kflow", HostileModel);
        var report = Path.Combine(Scratch, "hostile.html");
        var (exit, _, err) = Run("check", model, "-D", "SPINS=240", "--report", report);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains($"kexecsim: report of \"{Hostile}\" written to {report}", err, StringComparison.Ordinal);
        var html = File.ReadAllText(report);

        // No element comes from the model's strings: the raw file never has them unescaped.
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, html.Split("</script>").Length - 1);
        var document = Parse(html);
        Assert.Empty(document.QuerySelectorAll("img"));
        Assert.Equal(2, document.QuerySelectorAll("script").Length);
        // ...and a reader sees them as written.
        Assert.Equal(Hostile, document.GetElementById("scenario-name")!.TextContent);
        Assert.StartsWith(Hostile, document.Title, StringComparison.Ordinal);
        Assert.StartsWith($"ASSERTION: assertion failed: {Hostile}at {model}:", document.GetElementById("rule")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(document.QuerySelectorAll(".src-line"), l => l.TextContent.Contains($"assert(load(text[0], KEY_NONE) == 5, \"{Hostile.Replace("\"", "\\\"", StringComparison.Ordinal)}\");", StringComparison.Ordinal));
        using var data = JsonDocument.Parse(document.GetElementById("kexecsim-data")!.TextContent);
        Assert.Equal(Hostile, data.RootElement.GetProperty("scenario").GetString());
        Assert.Contains(data.RootElement.GetProperty("steps").EnumerateArray(),
            s => s.GetProperty("messages").EnumerateArray().Any(m => m.GetString() == $"CPU 0: pr_err: {Hostile} 7"));

        // 250 steps: the 241 steps of the read loop that send, write and change nothing are one row.
        Assert.Equal(250, data.RootElement.GetProperty("violationStep").GetInt32());
        Assert.Equal(["step-0", "step-1", "step-2", "step-3", "step-4", "steps-5-245", "step-246", "step-247", "step-248", "step-249", "step-250"],
            document.QuerySelectorAll("#diagram .step").Select(e => e.Id));
        Assert.Equal("step-250", Assert.Single(document.QuerySelectorAll("#diagram .step.violation")).Id);
        Assert.Equal(241, data.RootElement.GetProperty("steps").EnumerateArray().Count(s => s.GetProperty("row").GetInt32() == 5));
    }

    [Fact]
    public void The_step_panel_data_carries_each_steps_values_as_the_text_report_shows_them()
    {
        var (model, result, program) = FirstStraySmi();
        var document = Parse(HtmlReport.Render(model, result, program, "first.kflow"));
        using var data = JsonDocument.Parse(document.GetElementById("kexecsim-data")!.TextContent);
        var steps = data.RootElement.GetProperty("steps");
        Assert.Equal(["store text[0] (KEY_NONE): OLD_CONTENT → 100", "l = data[0]"], steps[5].GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(["parked: false → true"], steps[3].GetProperty("values").EnumerateArray().Select(v => v.GetString()));
        Assert.Empty(steps[0].GetProperty("values").EnumerateArray());
        Assert.NotNull(document.GetElementById("step-values"));
        var layout = data.RootElement.GetProperty("layout");
        Assert.Equal(30, layout.GetProperty("rowHeight").GetDouble());
    }

    [Fact]
    public void The_report_carries_the_explain_narrative_with_the_rule_broken_and_why()
    {
        var (model, result, program) = FirstStraySmi();
        var document = Parse(HtmlReport.Render(model, result, program, "first.kflow"));
        var items = document.QuerySelectorAll("#narrative > li");
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7"], items.Select(li => li.GetAttribute("value")));
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7"], items.Select(li => li.GetAttribute("data-step")));
        Assert.Equal("CPU 0 runs `store(l, KEY_NONE, IMAGE)` in jump() (first.kflow:17): stores 100 into text[0] (KEY_NONE) (a cached write), "
            + "replacing OLD_CONTENT; l = data[0].", items[4].TextContent);
        Assert.Equal(model.Steps.Select(step => Explanation.Sentence(model, step)), items.Select(li => li.TextContent));
        Assert.Equal("The rule broken: EXEC_CLOBBERED on CPU 1: CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 5.",
            document.GetElementById("rule-broken")!.TextContent);
        Assert.Equal("Why it is a bug on real hardware: " + Explanation.WhyItMatters(KexecSim.Program.ViolationCode.ExecClobbered), document.GetElementById("why")!.TextContent);
    }

    [Fact]
    public void A_collapsed_row_is_a_keyboard_toggle_and_every_row_and_band_says_where_it_is()
    {
        var model = Write("hostile.kflow", HostileModel);
        var report = Path.Combine(Scratch, "hostile.html");
        Assert.Equal(ExitCodes.Success, Run("check", model, "-D", "SPINS=240", "--report", report).Exit);
        var document = Parse(File.ReadAllText(report));
        var collapsed = Assert.Single(document.QuerySelectorAll("#diagram .step.collapsed"));
        Assert.Equal(("steps-5-245", "0", "button", "false", "steps 5 to 245, collapsed: expand", "5"),
            (collapsed.Id, collapsed.GetAttribute("tabindex"), collapsed.GetAttribute("role"), collapsed.GetAttribute("aria-expanded"),
                collapsed.GetAttribute("aria-label"), collapsed.GetAttribute("data-row")));
        // Rows, their words and arrows and the line marks move with their row; mode bands know their first and last row.
        Assert.Equal(Enumerable.Range(0, 11).Select(r => r.ToString(CultureInfo.InvariantCulture)), document.QuerySelectorAll("#diagram .rows > .step").Select(e => e.GetAttribute("data-row")));
        Assert.Equal(11, document.QuerySelectorAll("#diagram .words > g[data-row]").Length);
        Assert.All(document.QuerySelectorAll("#diagram .arrows > g"), g => Assert.NotNull(g.GetAttribute("data-row")));
        Assert.All(document.QuerySelectorAll("#diagram .band-run"), g => Assert.True(int.Parse(g.GetAttribute("data-from")!, CultureInfo.InvariantCulture) <= int.Parse(g.GetAttribute("data-to")!, CultureInfo.InvariantCulture)));
        Assert.Equal("0", document.QuerySelectorAll("#diagram .band-run").First().GetAttribute("data-from"));
        // The script builds the expanded lines from the step data with textContent only.
        var script = document.QuerySelectorAll("script").Last().TextContent;
        Assert.DoesNotContain(".innerHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("insertAdjacentHTML", script, StringComparison.Ordinal);
        Assert.Contains("textContent", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_writes_the_same_report_as_replay_and_prints_its_narrative()
    {
        var model = Write("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var trace = Path.Combine(Scratch, "t.json");
        var replayReport = Path.Combine(Scratch, "replay.html");
        var explainReport = Path.Combine(Scratch, "explain.html");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--scenario", "nmi-then-jump-stray-smi", "--trace", trace).Exit);
        Assert.Equal(ExitCodes.Success, Run("replay", trace, "--report", replayReport).Exit);
        var (exit, stdout, err) = Run("explain", trace, "--report", explainReport);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\n 5. CPU 0 runs `store(l, KEY_NONE, IMAGE)` in jump()", stdout, StringComparison.Ordinal);
        Assert.Equal($"kexecsim: report of \"nmi-then-jump-stray-smi\" written to {explainReport}\n", err);
        Assert.Equal(File.ReadAllText(replayReport), File.ReadAllText(explainReport));
        Assert.Equal(7, Parse(File.ReadAllText(explainReport)).QuerySelectorAll("#narrative > li").Length);
        // A report path it cannot write is refused before the trace is read.
        Assert.Equal((ExitCodes.BadInput, $"kexecsim: --report {Scratch}: is a directory\n"), (Run("explain", trace, "--report", Scratch).Exit, Run("explain", trace, "--report", Scratch).Err));
    }

    [Fact]
    public void The_report_is_byte_identical_across_runs_and_under_another_culture()
    {
        var (model, result, program) = FirstStraySmi();
        var first = HtmlReport.Render(model, result, program, "first.kflow");
        var (again, againResult, againProgram) = FirstStraySmi();
        var before = CultureInfo.CurrentCulture;
        var beforeUi = CultureInfo.CurrentUICulture;
        // A culture that writes numbers the other way round (1.234,5) and a minus sign of its own.
        var other = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        other.NumberFormat.NumberDecimalSeparator = ",";
        other.NumberFormat.NumberGroupSeparator = ".";
        other.NumberFormat.NegativeSign = "\u2212";
        try
        {
            CultureInfo.CurrentCulture = other;
            CultureInfo.CurrentUICulture = other;
            var second = HtmlReport.Render(again, againResult, againProgram, "first.kflow");
            Assert.Equal(first, second);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
            CultureInfo.CurrentUICulture = beforeUi;
        }
        Assert.DoesNotContain("\r", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_report_equals_the_steps_of_the_check_report_and_names_no_search()
    {
        var model = Write("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var trace = Path.Combine(Scratch, "t.json");
        var checkReport = Path.Combine(Scratch, "check.html");
        var replayReport = Path.Combine(Scratch, "replay.html");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--scenario", "nmi-then-jump-stray-smi", "--trace", trace, "--report", checkReport).Exit);
        var (exit, stdout, err) = Run("replay", trace, "--report", replayReport);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("replay: confirmed: EXEC_CLOBBERED at step 7", stdout, StringComparison.Ordinal);
        Assert.Contains($"written to {replayReport}", err, StringComparison.Ordinal);
        var fromCheck = Parse(File.ReadAllText(checkReport));
        var fromReplay = Parse(File.ReadAllText(replayReport));
        Assert.Equal(fromCheck.GetElementById("diagram")!.OuterHtml, fromReplay.GetElementById("diagram")!.OuterHtml);
        Assert.Equal(fromCheck.GetElementById("kexecsim-data")!.TextContent, fromReplay.GetElementById("kexecsim-data")!.TextContent);
        Assert.Equal(["CPUs=2", "steps=7"], fromReplay.QuerySelectorAll("#statistics div").Select(d => d.QuerySelector("dt")!.TextContent + "=" + d.QuerySelector("dd")!.TextContent));
        Assert.Null(fromReplay.GetElementById("coverage"));
    }

    [Fact]
    public void A_sev_snp_counterexample_has_a_firmware_lane_with_each_command_and_its_status()
    {
        var report = Path.Combine(Scratch, "snp.html");
        var model = Path.Combine(TestPaths.Models, "catalog", "seed003-snp-kdump.kflow");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--scenario", "snp-kdump-wbinvd-before-decommission", "--report", report).Exit);
        var document = Parse(File.ReadAllText(report));
        Assert.Equal("firmware", Assert.Single(document.QuerySelectorAll("#diagram .lane-firmware")).GetAttribute("data-lane"));
        Assert.Equal(["SNP_DECOMMISSION → SEV_OK", "SNP_DF_FLUSH → WBINVD_REQUIRED"],
            document.QuerySelectorAll("#diagram .arrow-firmware > title").Select(e => e.TextContent));
    }

    [Fact]
    public void Simulate_writes_the_report_of_the_run_it_traces()
    {
        var model = Write("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var trace = Path.Combine(Scratch, "t.json");
        var report = Path.Combine(Scratch, "sim.html");
        var (exit, _, err) = Run("simulate", model, "--scenario", "nmi-then-jump-stray-smi", "--runs", "200", "--seed", "1", "--workers", "1", "--trace", trace, "--report", report);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains($"kexecsim: report of \"nmi-then-jump-stray-smi\" written to {report}", err, StringComparison.Ordinal);
        var document = Parse(File.ReadAllText(report));
        Assert.Equal("EXEC_CLOBBERED", document.GetElementById("verdict")!.TextContent);
        using var traced = JsonDocument.Parse(File.ReadAllText(trace));
        var steps = traced.RootElement.GetProperty("steps").GetArrayLength();
        Assert.Equal($"step-{steps}", Assert.Single(document.QuerySelectorAll("#diagram .step.violation")).Id);
        Assert.Equal(2, document.QuerySelectorAll("#diagram .lane-cpu").Length);
    }

    [Fact]
    public void Check_refuses_a_report_path_it_cannot_write_before_searching()
    {
        var model = Write("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var (exit, stdout, err) = Run("check", model, "--report", Scratch);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"kexecsim: --report {Scratch}: is a directory\n", err);
    }

    [Fact]
    public void Check_of_several_scenarios_writes_a_report_per_counterexample_and_one_scenario_without_one_gets_its_verdict()
    {
        var model = Write("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var report = Path.Combine(Scratch, "r.html");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--report", report).Exit);
        Assert.Equal(["r-nmi-then-jump-stray-smi.html"], Directory.GetFiles(Scratch, "r*.html").Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var pass = Path.Combine(Scratch, "pass.html");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--scenario", "nmi-then-jump", "--report", pass).Exit);
        var document = Parse(File.ReadAllText(pass));
        Assert.Equal("pass", document.GetElementById("verdict")!.TextContent);
        Assert.Null(document.GetElementById("diagram"));
        Assert.Equal("search=exhaustive", document.QuerySelectorAll("#coverage div").Select(d => d.QuerySelector("dt")!.TextContent + "=" + d.QuerySelector("dd")!.TextContent).Last());
    }
}
