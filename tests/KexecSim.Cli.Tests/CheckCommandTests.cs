using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>kexecsim check, replay and explain: exit codes, reports, trace files.</summary>
public sealed class CheckCommandTests : CliFixture
{
    private string Write(string text) => Write("model.kflow", text);

    private const string Model = """
        region boot[1];
        region next_kernel = text;
        shared bool parked;
        handler nmi { parked = true; loop { hlt(); } }
        fn copy() in boot[0] { send_nmi(1); wait_until(parked); store(next_kernel[0], KEY_NONE, 1); done(); }
        fn idle() { loop { hlt(); } }
        scenario "safe" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs idle(); timeouts off; expect pass; }
        scenario "smi" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs idle(); timeouts off; inject smi 1; expect EXEC_CLOBBERED; }
        scenario "wrong" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs idle(); timeouts off; inject smi 1; expect pass; }
        """;

    [Fact]
    public void Check_exits_0_when_the_expectation_is_met()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--scenario", "smi");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("outcome: EXEC_CLOBBERED; expected: EXEC_CLOBBERED: met", stdout);
        Assert.Contains("violation: EXEC_CLOBBERED on CPU 1: CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step", stdout);
        Assert.Contains("replay: confirmed: EXEC_CLOBBERED", stdout);
    }

    [Fact]
    public void Check_exits_1_on_an_unmet_expectation()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--scenario", "wrong");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("outcome: EXEC_CLOBBERED; expected: pass: NOT met", stdout);
    }

    [Fact]
    public void Check_of_several_scenarios_prints_a_row_each()
    {
        var (exit, stdout, _) = Run("check", Write(Model));
        Assert.Equal(ExitCodes.Violation, exit);
        var rows = stdout.Split('\n').Where(l => l.StartsWith("ok ", StringComparison.Ordinal) || l.StartsWith("FAIL", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("ok    safe", rows[0]);
        Assert.StartsWith("ok    smi", rows[1]);
        Assert.StartsWith("FAIL  wrong", rows[2]);
    }

    [Fact]
    public void Check_exits_3_when_a_limit_stops_the_search()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--scenario", "safe", "--max-states", "5");
        Assert.Equal(ExitCodes.LimitReached, exit);
        Assert.Contains("stopped: --max-states 5 reached; no verdict", stdout);
        Assert.Contains("statistics: ", stdout);
    }

    [Fact]
    public void Cpus_override_never_stretches_the_boot_cpu_into_several_controllers()
    {
        // LANGUAGE.md §6: the boot CPU's range is not stretched; the added CPUs run nothing.
        const string model = """
            shared int controllers;
            fn kexec() { controllers = controllers + 1; assert(controllers == 1, "one controller"); done(); }
            scenario "alone" { platform { cpus 1; } cpu 0 runs kexec(); expect pass; }
            """;
        var (exit, stdout, _) = Run("check", Write(model), "--cpus", "4");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("outcome: pass; expected: pass: met", stdout);
    }

    [Fact]
    public void Check_exits_2_on_bad_input()
    {
        Assert.Equal(ExitCodes.BadInput, Run("check", Write("fn f( { }")).Exit);
    }

    [Fact]
    public void Json_report_holds_the_documented_fields()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--scenario", "smi", "--format", "json");
        Assert.Equal(ExitCodes.Success, exit);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var scenario = json.RootElement.GetProperty("scenarios")[0];
        Assert.Equal("kexecsim-report", json.RootElement.GetProperty("schema").GetString());
        Assert.Equal("smi", scenario.GetProperty("name").GetString());
        Assert.Equal("EXEC_CLOBBERED", scenario.GetProperty("expected").GetString());
        Assert.Equal("EXEC_CLOBBERED", scenario.GetProperty("outcome").GetString());
        Assert.True(scenario.GetProperty("expectationMet").GetBoolean());
        foreach (var field in new[] { "states", "transitions", "depth", "seconds", "statesPerSecond", "peakMemoryBytes", "collisionProbability" })
        {
            Assert.True(scenario.GetProperty("statistics").TryGetProperty(field, out _), field);
        }
        Assert.True(scenario.GetProperty("trace").GetArrayLength() > 0);
    }

    [Fact]
    public void Ktap_report_has_one_test_line_per_scenario()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--format", "ktap");
        Assert.Equal(ExitCodes.Violation, exit);
        var lines = stdout.Split('\n');
        Assert.Equal("KTAP version 1", lines[0]);
        Assert.Equal("1..3", lines[1]);
        Assert.Equal(["ok 1 safe", "ok 2 smi", "not ok 3 wrong"], lines.Where(l => l.StartsWith("ok ", StringComparison.Ordinal) || l.StartsWith("not ok", StringComparison.Ordinal)));
        Assert.Contains("# violation: EXEC_CLOBBERED on CPU 1:", stdout);
    }

    [Fact]
    public void Junit_report_marks_the_unmet_expectation_as_a_failure()
    {
        var (exit, stdout, _) = Run("check", Write(Model), "--format", "junit");
        Assert.Equal(ExitCodes.Violation, exit);
        var document = System.Xml.Linq.XDocument.Parse(stdout);
        var cases = document.Descendants("testcase").ToList();
        Assert.Equal(["safe", "smi", "wrong"], cases.Select(c => (string)c.Attribute("name")!));
        Assert.Equal("expected pass, got EXEC_CLOBBERED", (string)cases[2].Element("failure")!.Attribute("message")!);
        Assert.Equal("1", (string)document.Root!.Attribute("failures")!);
    }

    [Fact]
    public void Trace_files_replay_and_explain()
    {
        var trace = Path.Combine(Scratch, "out.json");
        Assert.Equal(ExitCodes.Success, Run("check", Write(Model), "--scenario", "smi", "--trace", trace).Exit);
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("replay: confirmed: EXEC_CLOBBERED at step", stdout);
        var explained = Run("explain", trace);
        Assert.Equal(ExitCodes.Success, explained.Exit);
        Assert.Contains("what happens (", explained.Out);
        Assert.Contains("\nWhy it is a bug on real hardware: the CPU fetches instructions from memory", explained.Out);
        Assert.Contains("counterexample (", Run("explain", trace, "--view", "table").Out);
    }

    [Fact]
    public void Replay_reports_a_changed_model_and_divergence()
    {
        var trace = Path.Combine(Scratch, "out.json");
        var model = Write(Model);
        Run("check", model, "--scenario", "smi", "--trace", trace);
        // The fix: the copy waits for nothing else, but CPU 1 parks outside text: the SMI resume is harmless.
        File.WriteAllText(model, Model.Replace("fn idle() { loop { hlt(); } }", "region park[1];\nfn idle() in park[0] { loop { hlt(); } }")
            .Replace("handler nmi {", "handler nmi in park[0] {"));
        var (exit, stdout, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("warning: the model changed since the trace was written", stderr);
        Assert.Contains("diverges", stdout);
    }

    [Fact]
    public void Check_without_files_runs_the_catalog()
    {
        var (exit, stdout, _) = Run("check");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("stop-online-count-reboot", stdout);
        Assert.DoesNotContain("FAIL", stdout);
    }

    [Fact]
    public void Check_over_the_catalog_applies_a_define_to_the_models_that_have_it_and_names_the_others()
    {
        // KICK_TRIES is a const of linux/parked.kflow only: the other models run without it.
        var (exit, stdout, stderr) = Run("check", "-D", "KICK_TRIES=0", "--scenario", "parked-mwait-kick-to-hlt");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal("kexecsim: warning KF0808: -D KICK_TRIES=0 applies to 1 of 7 catalog models; not to seed000-kasan-stack.kflow, "
            + "seed000-stop-wbinvd.kflow, seed001-tdx-incoherent-flag.kflow, seed001-tdx.kflow, seed003-snp-kdump.kflow, seed004-sme.kflow, "
            + "which have no constant 'KICK_TRIES'\n", stderr);
        // One scenario named in the catalog: its full report, as for a FILE.
        Assert.StartsWith("scenario \"parked-mwait-kick-to-hlt\" (", stdout);
        Assert.Contains("\noutcome: pass; expected: pass: met\n", stdout);
    }

    [Fact]
    public void Livelock_off_checks_safety_only_and_says_so_and_refuses_a_scenario_expecting_livelock()
    {
        const string Spinning = """
            shared bool flag;
            fn spinner() { while (!flag) { udelay(1); } done(); }
            fn other() { loop { hlt(); } }
            scenario "spins" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect pass; }
            scenario "expects" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect LIVELOCK; }
            """;
        var file = Write("spins.kflow", Spinning);
        var (exit, stdout, stderr) = Run("check", file, "--scenario", "spins", "--livelock", "off");
        Assert.Equal((ExitCodes.Success, string.Empty), (exit, stderr));
        Assert.Contains("\noutcome: pass; expected: pass: met\n", stdout, StringComparison.Ordinal);
        Assert.Contains("\nwarning: LIVELOCK was not looked for (--livelock off): every state is safe, but a run may still cycle forever without finishing\n", stdout, StringComparison.Ordinal);
        Assert.Contains("\noutcome: LIVELOCK; expected: pass: NOT met\n", Run("check", file, "--scenario", "spins").Out, StringComparison.Ordinal);

        (exit, stdout, stderr) = Run("check", file, "--livelock", "off");
        Assert.Equal((ExitCodes.BadInput, string.Empty), (exit, stdout));
        Assert.Equal("kexecsim: --livelock off: scenario \"expects\" expects LIVELOCK, which would not be looked for\n", stderr);
        Assert.Equal(ExitCodes.BadInput, Run("check", file, "--livelock", "maybe").Exit);

        // lean: the same LIVELOCK, found by a second pass without the graph; a breadth-first search's pass only.
        (exit, stdout, stderr) = Run("check", file, "--scenario", "expects", "--livelock", "lean");
        Assert.Equal((ExitCodes.Success, string.Empty), (exit, stderr));
        Assert.Contains("\noutcome: LIVELOCK; expected: LIVELOCK: met\n", stdout, StringComparison.Ordinal);
        (exit, stdout, stderr) = Run("check", file, "--livelock", "lean", "--strategy", "dfs");
        Assert.Equal((ExitCodes.BadInput, string.Empty), (exit, stdout));
        Assert.StartsWith("kexecsim: --livelock lean is a pass after a breadth-first search: it does not go with --strategy dfs (which keeps its graph as it goes)\n", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_over_the_catalog_with_a_define_no_model_has_exits_2()
    {
        var (exit, stdout, stderr) = Run("check", "-D", "X=1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0312: -D X=1: no model of the catalog has a constant 'X'\n", stderr);
        Assert.Empty(stdout);
    }

    [Fact]
    public void Check_over_the_catalog_names_the_model_a_define_value_does_not_fit()
    {
        var (exit, _, stderr) = Run("check", "-D", "KICK_TRIES=NOT_A_CONST");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("kexecsim: error KF0312: -D KICK_TRIES=NOT_A_CONST: 'NOT_A_CONST' is not a const or enum value of the model seed002-parked-cpus.kflow\n", stderr);
    }

    [Fact]
    public void A_define_by_name_is_recorded_in_the_trace_as_its_value_and_replays()
    {
        const string model = """
            const K = tdx_key(1);
            fn f() { assert(K != KEY_SME, "not the SME key"); done(); }
            scenario "keys" { platform { cpus 1; } cpu 0 runs f(); expect pass; }
            """;
        var trace = Path.Combine(Scratch, "keys.json");
        Assert.Equal(ExitCodes.Violation, Run("check", Write(model), "-D", "K=KEY_SME", "--trace", trace).Exit);
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(trace)))
        {
            Assert.Equal(1, json.RootElement.GetProperty("options").GetProperty("defines").GetProperty("K").GetInt64());
        }
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("replay: confirmed: ASSERTION at step", stdout);
    }

    [Fact]
    public void Replay_of_a_trace_whose_model_root_is_a_device_is_refused_without_reading_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // r15: the model root of a trace went through the loader that read /dev/zero until memory ran out.
        var trace = Path.Combine(Scratch, "t.json");
        var (_, _, _) = Run("check", Write(Model), "--scenario", "smi", "--trace", trace);
        var text = File.ReadAllText(trace);
        var root = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("model").GetProperty("root").GetString()!;
        File.WriteAllText(trace, text.Replace(System.Text.Json.JsonSerializer.Serialize(root), "\"/dev/zero\"", StringComparison.Ordinal));
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0405: /dev/zero: is a character device, not a regular file\n", stderr);
    }

    [Fact]
    public void Replay_of_a_trace_whose_scenario_is_gone_escapes_the_scenario_and_the_root_in_its_one_line()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // a file name with a control character
        }
        // The trace's scenario and model root are the trace's words: a control character in them must not split the line.
        var model = Write("m\u001b[2J\n.kflow", Model);
        var trace = Path.Combine(Scratch, "t.json");
        Run("check", model, "--scenario", "smi", "--trace", trace);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(trace))!;
        Assert.Equal(model, (string?)node["model"]!["root"]);
        node["scenario"] = "gone\r\u001b[2Jx";
        File.WriteAllText(trace, node.ToJsonString());
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: {Scratch}/m\\x1b[2J\\n.kflow has no scenario \"gone\\r\\x1b[2Jx\" any more\n", stderr);
    }

    [Fact]
    public void Replay_of_a_damaged_trace_file_says_what_is_wrong()
    {
        var trace = Path.Combine(Scratch, "out.json");
        Run("check", Write(Model), "--scenario", "smi", "--trace", trace);
        var json = File.ReadAllText(trace);

        // A kind that does not exist: input error (2), naming the step.
        File.WriteAllText(trace, json.Replace("\"kind\": \"Step\"", "\"kind\": \"Leap\""));
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: {trace}: step 1 has kind 'Leap', which is not one of Step, Deliver, WbinvdWriteBack, WbinvdFinish, Evict, Inject, Timeout\n", stderr);

        // A CPU the scenario does not have: the trace diverges at that step (1), described as recorded.
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["steps"]![0]!["cpu"] = 7;
        File.WriteAllText(trace, node.ToJsonString());
        var replayed = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, replayed.Exit);
        Assert.Contains($"replay: step 1 diverges: the recorded {node["steps"]![0]!["kind"]} (cpu 7, arg {node["steps"]![0]!["arg"]}, tag {node["steps"]![0]!["tag"]}) is not possible in this state", replayed.Out);

        // Truncated JSON: input error.
        File.WriteAllText(trace, json[..(json.Length / 2)]);
        Assert.Equal(ExitCodes.BadInput, Run("replay", trace).Exit);
    }

    private const string DeadlockModel = """
        fn f() { wait_until(false); done(); }
        scenario "hang" { cpu 0 runs f(); expect EXEC_CLOBBERED; }
        """;

    [Theory]
    [InlineData("text", "outcome: DEADLOCK; expected: EXEC_CLOBBERED: NOT met")]
    [InlineData("table", "FAIL  hang")]
    [InlineData("json", "\"outcome\": \"DEADLOCK\"")]
    [InlineData("ktap", "# hang (model.kflow): expected EXEC_CLOBBERED, outcome DEADLOCK")]
    [InlineData("junit", "expected EXEC_CLOBBERED, got DEADLOCK")]
    public void Check_expect_code_not_found_reports_the_violation_found_with_its_trace(string format, string expected)
    {
        // Two scenarios give the table; its trace files are named after each scenario.
        var model = Write(format == "table" ? DeadlockModel + "scenario \"met\" { cpu 0 runs f(); expect DEADLOCK; }\n" : DeadlockModel);
        var trace = Path.Combine(Path.GetDirectoryName(model)!, $"hang-{format}.json");
        var args = new List<string> { "check", model, "--trace", trace };
        if (format == "text")
        {
            args.AddRange(["--scenario", "hang"]);
        }
        else if (format != "table")
        {
            args.AddRange(["--format", format]);
        }
        var (exit, stdout, _) = Run([.. args]);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains(expected, stdout.Replace(Path.GetDirectoryName(model)! + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal));
        Assert.DoesNotContain("outcome: pass", stdout);
        if (format == "table")
        {
            trace = trace.Replace(".json", "-hang.json", StringComparison.Ordinal);
        }
        Assert.True(File.Exists(trace), "the trace of the DEADLOCK is written");
        var (replayExit, replayOut, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, replayExit);
        Assert.Contains("replay: confirmed: DEADLOCK at step 0", replayOut);
    }
}
