using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KexecSim.Cli;
using KexecSim.Reporting;

namespace KexecSim.Cli.Tests;

/// <summary>
/// The text views of a counterexample (issue 11): values in every step, the 100-column table, <c>--view compact</c>,
/// <c>--show-caches</c>, the catalog's summary and file lines, <c>explain</c>'s narrative, trace version 2, and the same
/// bytes under any culture.
/// </summary>
public sealed partial class ReportViewTests : CliFixture
{
    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s")]
    private static partial Regex Timing();

    private static string FirstExample => Path.Combine(TestPaths.SharedExamples, "first.kflow");

    private static string Masked(string text) => Timing().Replace(text, "<time>")
        .Replace(TestPaths.SharedExamples + Path.DirectorySeparatorChar, "<shared>/examples/", StringComparison.Ordinal);

    private static string Approved(string name) =>
        File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "approvals", name)).ReplaceLineEndings("\n");

    [Fact]
    public void Compact_view_with_caches_of_the_first_example_matches_the_approved_text()
    {
        var (exit, stdout, _) = Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--view", "compact", "--show-caches");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(Approved("first-stray-smi-compact.txt"), Masked(stdout));
    }

    [Fact]
    public void Explain_of_the_first_example_matches_the_approved_narrative()
    {
        var trace = Path.Combine(Scratch, "first.json");
        Assert.Equal(ExitCodes.Success, Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--trace", trace).Exit);
        var (exit, stdout, stderr) = Run("explain", trace);
        Assert.Equal((ExitCodes.Success, string.Empty), (exit, stderr));
        Assert.Equal(Approved("first-stray-smi-explain.txt"), Masked(stdout));
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    [InlineData("ar-SA")]
    public void Outputs_are_the_same_bytes_across_runs_and_under_another_culture(string culture)
    {
        var trace = Path.Combine(Scratch, "t.json");
        string[][] commands =
        [
            ["check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--show-caches"],
            ["check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--view", "compact", "--show-caches"],
            ["check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--format", "json"],
            ["check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--trace", trace],
            ["explain", trace],
            ["explain", trace, "--view", "table", "--show-caches"],
            ["list"],
        ];
        var other = CultureInfo.GetCultureInfo(culture);
        // A real culture, not the invariant one under another name: its numbers differ from the invariant culture's.
        Assert.NotEqual(1234.5.ToString("N1", CultureInfo.InvariantCulture), 1234.5.ToString("N1", other));
        var invariant = RunAll(CultureInfo.InvariantCulture);
        Assert.Equal(invariant, RunAll(CultureInfo.InvariantCulture));
        Assert.Equal(invariant, RunAll(other));

        List<string> RunAll(CultureInfo how)
        {
            var (saved, savedUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
            CultureInfo.CurrentCulture = how;
            CultureInfo.CurrentUICulture = how;
            try
            {
                var outputs = new List<string>();
                foreach (var command in commands)
                {
                    var (exit, stdout, _) = Run(command);
                    // The measured time is the one figure that may differ between runs.
                    outputs.Add($"{exit}\n{MaskJsonTimes(Masked(stdout))}");
                    if (command[0] == "check" && command.Contains("--trace"))
                    {
                        outputs.Add(File.ReadAllText(trace));
                    }
                }
                return outputs;
            }
            finally
            {
                CultureInfo.CurrentCulture = saved;
                CultureInfo.CurrentUICulture = savedUi;
            }
        }
    }

    [GeneratedRegex("\"(seconds|statesPerSecond|peakMemoryBytes)\": [0-9.E+-]+")]
    private static partial Regex JsonTimes();

    private static string MaskJsonTimes(string text) => JsonTimes().Replace(text, "\"$1\": 0");

    [Fact]
    public void The_table_fits_100_columns_and_wraps_a_cell_without_cutting_it()
    {
        // Four CPU columns of 17 characters (the source column names the library flow as linux/stop.kflow): long calls
        // and values wrap inside them.
        var (exit, stdout, _) = Run("check", "--scenario", "stop-online-count-reboot", "--cpus", "4", "--show-caches");
        Assert.Equal(ExitCodes.Success, exit);
        var table = stdout[stdout.IndexOf("counterexample (", StringComparison.Ordinal)..stdout.IndexOf("\nviolation: ", StringComparison.Ordinal)];
        var lines = table.Split('\n').Skip(1).ToList();
        Assert.True(lines.Count > 20);
        Assert.All(lines, line => Assert.True(line.Length <= TextReport.Width, $"{line.Length} columns: {line}"));
        Assert.DoesNotContain("...", table);
        Assert.Equal("  step CPU 0             CPU 1             CPU 2             CPU 3             source", lines[0]);
        Assert.Contains(
            "     4                   cpumask_clear_cpu                                     linux/stop.kflow:61\n"
            + "                         (this_cpu(),\n"
            + "                          cpu_online_mask)\n"
            + "                           cpu_online_mask\n"
            + "                         : {0-3} → {0,2-3}\n"
            + "                           stop_this_cpu_n\n"
            + "                         eeds_wbinvd()\n"
            + "                            returns true\n"
            + "       ~ dirty: CPU 1: data[0] (KEY_NONE) = OLD_CONTENT\n", table);
    }

    [Fact]
    public void A_firmware_command_shows_its_status_and_a_write_back_its_value_in_the_compact_view()
    {
        var (exit, stdout, _) = Run("check", "--scenario", "snp-kdump-meet-slow-cpu", "--view", "compact");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\n11 CPU0 sev_cmd(SNP_DF_FLUSH) [sev_cmd(SNP_DF_FLUSH, 0) → WBINVD_REQUIRED]  linux/crash.kflow:88\n  | CPU 0: pr_err: SEV-SNP: DF_FLUSH failed\n", stdout);
        Assert.Contains("\n8 CPU0 WBINVD writes back data[0] (KEY_NONE) at SNP_RULE [write-back data[0] (KEY_NONE) ← OLD_CONTENT]  linux/crash.kflow:85\n", stdout);
    }


    [Theory]
    [InlineData("cpumask_clear_cpu(this_cpu(), cpus_stop_mask)", 12)]
    [InlineData("a_very_long_identifier_without_any_space_in_it", 10)]
    [InlineData("x", 4)]
    public void Wrap_keeps_every_character_within_the_width(string text, int width)
    {
        var lines = TextReport.Wrap(text, width);
        Assert.All(lines, line => Assert.True(line.Length <= width));
        Assert.Equal(text.Replace(" ", string.Empty, StringComparison.Ordinal), string.Concat(lines).Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void Wrap_breaks_a_long_call_after_its_parenthesis_and_at_spaces()
    {
        Assert.Equal(["cmpxchg(", "stopping_cpu, -1,", " this_cpu())"], TextReport.Wrap("cmpxchg(stopping_cpu, -1, this_cpu())", 18));
        Assert.Equal(["cpu_online_mask:", " {0-3} → {0,2-3}"], TextReport.Wrap("cpu_online_mask: {0-3} → {0,2-3}", 17));
        Assert.Equal(["  a: b", "   → c"], TextReport.Wrap("a: b → c", 6, "  "));
    }

    [Fact]
    public void Json_steps_carry_the_source_span_and_the_values()
    {
        var (exit, stdout, _) = Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--format", "json");
        Assert.Equal(ExitCodes.Success, exit);
        var step3 = JsonNode.Parse(stdout)!["scenarios"]![0]!["trace"]![2]!;
        Assert.Equal($"{FirstExample}:12:5", (string?)step3["source"]);
        Assert.Equal("""[{"kind":"write","cpu":1,"name":"parked","old":"false","value":"true","text":"parked: false \u2192 true"}]""",
            step3["values"]!.ToJsonString());
    }

    [Fact]
    public void A_memory_write_shows_its_old_and_new_value_in_the_table_the_compact_view_and_json()
    {
        var table = Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi").Out;
        Assert.Contains(
            "     5 store(l, KEY_NONE, IMAGE)                                                     first.kflow:17\n"
            + "         store text[0] (KEY_NONE):\n"
            + "          OLD_CONTENT → 100\n", table);
        Assert.Contains("\n5 CPU0 store(l, KEY_NONE, IMAGE) [store text[0] (KEY_NONE): OLD_CONTENT → 100, l = data[0]]  first.kflow:17\n",
            Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--view", "compact").Out);
        var json = Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--format", "json").Out;
        Assert.Equal(
            """{"kind":"store","cpu":0,"name":"text[0] (KEY_NONE)","old":"OLD_CONTENT","value":"100","text":"store text[0] (KEY_NONE): OLD_CONTENT \u2192 100"}""",
            JsonNode.Parse(json)!["scenarios"]![0]!["trace"]![4]!["values"]![0]!.ToJsonString());
    }

    [Fact]
    public void A_movdir64b_and_a_dma_write_show_what_a_load_would_have_seen_before_them()
    {
        // TDX_PW_MCE: the PAMT reset (movdir64b over TD-private ciphertext), then a DMA under KeyID 0 into PAMT (now
        // KEY_NONE's 0) and into a TD guest's page (still the guest's key: GARBAGE under KEY_NONE).
        var (exit, stdout, _) = Run("check", "--scenario", "tdx-erratum-reset-pamt-guest-pages", "--view", "compact");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\n7 CPU0 movdir64b(l, KEY_NONE, 0) [movdir64b pamt[0] (KEY_NONE): GARBAGE → 0]  linux/tdx.kflow:95\n", stdout);
        Assert.Contains("\n12 CPU0 dma_write(l, 7) [dma_write pamt[0] (KEY_NONE): 0 → 7, l = td_private[0]]  linux/tdx.kflow:103\n", stdout);
        Assert.Contains("\n13 CPU0 dma_write(l, 7) [dma_write td_private[0] (KEY_NONE): GARBAGE → 7, l = pamt[0]]  linux/tdx.kflow:106\n", stdout);
    }

    [Fact]
    public void Firmware_and_platform_queries_and_return_values_show_their_values()
    {
        var cpuid = Run("check", "--scenario", "stop-raw-cpuid-intel-reboot", "--view", "compact").Out;
        Assert.Contains("\n4 CPU1 cpumask_clear_cpu(this_cpu(), cpu_online_mask) [cpu_online_mask: {0-2} → {0,2}, cpuid(0x8000001f) → 1, "
            + "stop_this_cpu_needs_wbinvd() returns true]  linux/stop.kflow:61\n", cpuid);
        Assert.Contains("\n8 CPU0 wait_until(cpumask_weight(cpu_online_mask) <= 1, 1_000_000) [cpu_online_mask → {0}, "
            + "cpumask_weight(cpu_online_mask) → 1]  linux/stop.kflow:105\n", cpuid);
        var snp = Run("check", "--scenario", "snp-kdump-meet-slow-cpu", "--view", "compact").Out;
        Assert.Contains("\n13 CPU0 snp_state() [snp_state() → SNP_STATE_INIT]  linux/crash.kflow:29\n", snp);
        var json = JsonNode.Parse(Run("check", "--scenario", "snp-kdump-meet-slow-cpu", "--format", "json").Out)!;
        Assert.Equal("""[{"kind":"result","cpu":0,"name":"snp_state()","old":null,"value":"SNP_STATE_INIT","text":"snp_state() \u2192 SNP_STATE_INIT"}]""",
            json["scenarios"]![0]!["trace"]![12]!["values"]!.ToJsonString());
    }

    [Fact]
    public void A_version_1_trace_still_replays_and_a_newer_one_is_refused_in_one_line()
    {
        var trace = Path.Combine(Scratch, "t.json");
        Assert.Equal(ExitCodes.Success, Run("check", FirstExample, "--scenario", "nmi-then-jump-stray-smi", "--trace", trace).Exit);
        var node = JsonNode.Parse(File.ReadAllText(trace))!;
        Assert.Equal(2, (int)node["version"]!);
        Assert.Equal("parked → true", (string?)node["steps"]![3]!["values"]![0]!["text"]);
        // Version 1 wrote neither "source" nor "values".
        node["version"] = 1;
        foreach (var step in node["steps"]!.AsArray())
        {
            step!.AsObject().Remove("source");
            step.AsObject().Remove("values");
        }
        File.WriteAllText(trace, node.ToJsonString());
        var (exit, stdout, stderr) = Run("replay", trace);
        Assert.Equal((ExitCodes.Success, string.Empty), (exit, stderr));
        Assert.Contains("replay: confirmed: EXEC_CLOBBERED at step 7\n", stdout);
        Assert.Contains("parked: false → true", Run("explain", trace, "--view", "compact").Out);
        node["version"] = 3;
        File.WriteAllText(trace, node.ToJsonString());
        Assert.Equal((ExitCodes.BadInput, string.Empty,
            $"kexecsim: {trace}: trace format version 3 is newer than this kexecsim reads (versions 1 to 2): use the kexecsim that wrote it, or a newer one\n"),
            Run("replay", trace));
    }

    [Fact]
    public void The_catalog_table_names_each_file_and_ends_with_a_summary_line()
    {
        var listed = Run("list");
        Assert.Equal(ExitCodes.Success, listed.Exit);
        var files = Catalog.ScenarioFiles();
        var scenarios = listed.Out.Split('\n').Count(l => l.Length > 0 && !l.StartsWith("file: ", StringComparison.Ordinal)) - 1;
        Assert.EndsWith($"\n{scenarios} scenarios in {files.Count} files\n", listed.Out);
        var (exit, stdout, _) = Run("check", "--workers", "2");
        Assert.Equal(ExitCodes.Success, exit);
        foreach (var file in files)
        {
            var name = "file: catalog/" + Path.GetFileName(file);
            Assert.Contains($"\n{name}\n", "\n" + listed.Out);
            Assert.Contains($"\n{name}\n", stdout);
        }
        Assert.EndsWith($"\n{scenarios} scenarios: {scenarios} ok\n", stdout);
        // Every line of the table fits 100 columns: a long scenario name wraps inside its cell after a '-', nothing is
        // cut. The coverage warnings between rows are compiler-style diagnostics (file:line:col: warning KFnnnn: …),
        // one line each so that editors and CI can read them: they are not the table's.
        var table = stdout.Split('\n').Where(l => !Diagnostic().IsMatch(l)).ToList();
        Assert.All(table, line => Assert.True(line.Length <= TextReport.Width, $"{line.Length} columns: {line}"));
        Assert.Equal("      scenario                          expected        outcome                     states      time", table[0]);
        Assert.Contains("\nok    tdx-erratum-reset-pamt-guest-     MACHINE_CHECK   MACHINE_CHECK            45 states  <time> s\n      pages\n",
            RowTimes().Replace(stdout, "  <time> s"));
        Assert.Contains("\nok    incoherent-flag-sme-active-next-  pass            pass                    180 states  <time> s\n      inactive\n",
            RowTimes().Replace(stdout, "  <time> s"));
        var names = table.Where(l => l.StartsWith("ok    ", StringComparison.Ordinal)).Select(l => l[6..38].TrimEnd()).ToList();
        var wrapped = table.Where(l => l.StartsWith("      ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("scenario", StringComparison.Ordinal)).ToList();
        Assert.Equal(scenarios, names.Count);
        Assert.True(wrapped.Count >= 2, string.Join("\n", wrapped));
    }

    [GeneratedRegex(@"^\S+:\d+:\d+: (warning|error) KF\d{4}: ")]
    private static partial Regex Diagnostic();

    [GeneratedRegex(@" +[0-9.]+ s(?=\n)")]
    private static partial Regex RowTimes();

    [Theory]
    [InlineData("incoherent-flag-sme-inactive-next-active", 32, new[] { "incoherent-flag-sme-inactive-", "next-active" })]
    [InlineData("short", 32, new[] { "short" })]
    [InlineData("abcdefghij", 4, new[] { "abcd", "efgh", "ij" })]
    [InlineData("ab-cdefgh", 4, new[] { "ab-", "cdef", "gh" })]
    public void A_long_scenario_name_wraps_after_a_dash_and_loses_no_character(string name, int width, string[] lines)
    {
        Assert.Equal(lines, TextReport.NameLines(name, width));
    }

    [Fact]
    public void Summary_counts_ok_fail_and_limit()
    {
        var model = Write("m.kflow", """
            shared bool x;
            fn f() { x = true; done(); }
            fn g() { assert(false, "no"); }
            scenario "good" { cpu 0 runs f(); expect pass; }
            scenario "bad" { cpu 0 runs g(); expect pass; }
            """);
        var (exit, stdout, _) = Run("check", model);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains($"\nfile: {model}\n", stdout);
        Assert.EndsWith("\n2 scenarios: 1 ok, 1 FAIL\n", stdout);
    }
}
