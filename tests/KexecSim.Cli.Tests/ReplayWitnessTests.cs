using System.Text.Json.Nodes;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// <c>replay</c> is a sound witness check and <c>replay</c>/<c>explain</c> never throw (issue 7, item 10):
/// every recorded choice in range and none left over, the recorded violation present, known and
/// re-derived; a damaged trace is one line and exit 2, or a divergence and exit 1. The r* cases are
/// the fuzzer's reproducers (shared/cases/robustness), each with its exact verdict.
/// </summary>
public sealed class ReplayWitnessTests : CliFixture
{
    /// <summary>Copies a reproducer and the models it names into the scratch folder; its path there.</summary>
    private string Case(string name)
    {
        foreach (var model in new[] { "r06-choices.kflow", "r14-ll.kflow" })
        {
            File.Copy(Path.Combine(TestPaths.RobustnessCases, model), Path.Combine(Scratch, model), overwrite: true);
        }
        var path = Path.Combine(Scratch, name);
        File.Copy(Path.Combine(TestPaths.RobustnessCases, name), path, overwrite: true);
        return path;
    }

    /// <summary>A trace written by check, of scenario <paramref name="scenario"/> of a reproducer model.</summary>
    private string Checked(string model, string scenario)
    {
        Case("r06-choices.kflow");
        var trace = Path.Combine(Scratch, $"{scenario}.json");
        Run("check", Path.Combine(Scratch, model), "--scenario", scenario, "--trace", trace);
        return trace;
    }

    private static void Edit(string trace, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(trace))!;
        edit(node);
        File.WriteAllText(trace, node.ToJsonString());
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void An_either_choice_out_of_range_diverges_r06(string command)
    {
        var (exit, stdout, stderr) = Run(command, Case("r06-replay-either-choice-out-of-range.json"));
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: step 2 diverges: recorded choice 1 is 7, but the step's choice there has 2 options (0 to 1)\n", stdout);
        Assert.DoesNotContain("Exception", stdout + stderr);
    }

    [Fact]
    public void A_choose_value_the_model_cannot_return_diverges_r07()
    {
        var trace = Case("r07-replay-confirms-impossible-choose-value.json");
        Assert.Equal(ExitCodes.Success, Run("check", Path.Combine(Scratch, "r06-choices.kflow"), "--scenario", "never").Exit);
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Equal("scenario \"never\": 3 steps\nreplay: step 1 diverges: recorded choice 1 is 5, but the step's choice there has 2 options (0 to 1)\n", stdout);
    }

    [Fact]
    public void A_negative_choice_diverges()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["steps"]![0]!["choices"] = new JsonArray(-1));
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: step 1 diverges: recorded choice 1 is -1, but the step's choice there has 3 options (0 to 2)\n", stdout);
    }

    [Fact]
    public void Left_over_choices_diverge()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Assert.Equal(ExitCodes.Success, Run("replay", trace).Exit);
        Edit(trace, n => n["steps"]![0]!["choices"]!.AsArray().Add(0));
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: step 1 diverges: it makes 1 choice, the trace records 2\n", stdout);
    }

    [Fact]
    public void Too_few_choices_diverge()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["steps"]![0]!["choices"] = new JsonArray());
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: step 1 diverges: it needs more choices than the trace records\n", stdout);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void An_empty_model_root_is_an_input_error_r14a(string command)
    {
        var trace = Case("r14a-trace-empty-root.json");
        var (exit, stdout, stderr) = Run(command, trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {trace}: \"model.root\" is empty\n", stderr);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void A_nul_in_a_model_path_is_an_input_error_r14b(string command)
    {
        var trace = Case("r14b-trace-nul-in-modelpath.json");
        var (exit, stdout, stderr) = Run(command, trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {trace}: \"options.modelPath\" entry 1 contains a NUL character\n", stderr);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void A_cycle_with_no_violation_is_an_input_error_r14c(string command)
    {
        var trace = Case("r14c-trace-violation-null-explain.json");
        var (exit, stdout, stderr) = Run(command, trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {trace}: \"cycleStart\" is set, so \"violation\" must be a LIVELOCK, not null\n", stderr);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void An_unknown_violation_code_is_an_input_error_r14d(string command)
    {
        var trace = Case("r14d-trace-unknown-violation-code-explain.json");
        var (exit, stdout, stderr) = Run(command, trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {trace}: \"violation.code\" 'NOPE' is not a violation code\n", stderr);
    }

    [Fact]
    public void A_livelock_trace_written_by_check_replays()
    {
        Case("r14-ll.kflow");
        var trace = Path.Combine(Scratch, "ll.json");
        Assert.Equal(ExitCodes.Success, Run("check", Path.Combine(Scratch, "r14-ll.kflow"), "--trace", trace).Exit);
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("replay: confirmed: LIVELOCK: steps 2 to 3 return to the state after step 1\n", stdout);
        Assert.Equal(ExitCodes.Success, Run("explain", trace).Exit);
    }

    [Theory]
    [InlineData("ASSERTION", 1, "\"cycleStart\" is set, so \"violation\" must be a LIVELOCK, not ASSERTION")]
    [InlineData("LIVELOCK", null, "\"violation\" is a LIVELOCK, so \"cycleStart\" must say where its cycle starts")]
    [InlineData("LIVELOCK", 3, "\"cycleStart\" 3 leaves no step in the cycle (the trace has 3 steps)")]
    [InlineData(null, 1, "\"violation\" has no \"code\"")]
    public void A_livelock_claim_that_does_not_hold_together_is_an_input_error(string? code, int? cycleStart, string message)
    {
        Case("r14-ll.kflow");
        var trace = Path.Combine(Scratch, "ll.json");
        Run("check", Path.Combine(Scratch, "r14-ll.kflow"), "--trace", trace);
        Edit(trace, n =>
        {
            n["violation"]!["code"] = code;
            n["cycleStart"] = cycleStart;
        });
        foreach (var command in new[] { "replay", "explain" })
        {
            var (exit, stdout, stderr) = Run(command, trace);
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Equal(string.Empty, stdout);
            Assert.Equal($"kexecsim: {trace}: {message}\n", stderr);
        }
    }

    [Fact]
    public void A_livelock_with_interrupts_and_injected_faults_written_by_check_replays()
    {
        // Its fairness is re-checked on the states reachable from the cycle (deliveries strongly fair).
        var model = Write("irq.kflow", LivelockModels.InterruptsNmiEvictions);
        var trace = Path.Combine(Scratch, "irq.json");
        Assert.Equal(ExitCodes.Success, Run("check", model, "--trace", trace).Exit);
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("replay: confirmed: LIVELOCK: steps 10 to 10 return to the state after step 9\n", stdout);
    }

    [Fact]
    public void An_unfair_cycle_is_no_livelock()
    {
        // CPU 0 spins until CPU 1 sets the flag: check proves it (a fair scheduler runs CPU 1), and a
        // forged trace of CPU 0 spinning alone returns to its state but is no LIVELOCK.
        var model = Write("unfair.kflow", """
            shared bool flag;
            fn spin() { loop { if (flag) { done(); } } }
            fn setter() { flag = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs spin(); cpu 1 runs setter(); expect pass; }
            """);
        Assert.Equal(ExitCodes.Success, Run("check", model).Exit);
        var step = new JsonObject { ["number"] = 1, ["kind"] = "Step", ["cpu"] = 0, ["arg"] = 0, ["tag"] = 0, ["choices"] = new JsonArray(), ["description"] = "" };
        var trace = new JsonObject
        {
            ["format"] = "kexecsim-trace",
            ["version"] = 1,
            ["tool"] = new JsonObject { ["name"] = "kexecsim", ["version"] = "0.1.0" },
            ["model"] = new JsonObject { ["root"] = "unfair.kflow", ["sha256"] = "forged", ["files"] = new JsonArray("unfair.kflow") },
            ["scenario"] = "s",
            ["options"] = new JsonObject { ["defines"] = new JsonObject(), ["cpus"] = null, ["modelPath"] = new JsonArray() },
            ["violation"] = new JsonObject { ["code"] = "LIVELOCK", ["cpu"] = 0, ["message"] = "forged", ["location"] = null },
            ["violationIsTerminal"] = true,
            ["cycleStart"] = 1,
            ["steps"] = new JsonArray(step.DeepClone(), step.DeepClone(), step.DeepClone()),
        };
        var path = Write("forged.json", trace.ToJsonString());
        var (exit, stdout, _) = Run("replay", path);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Equal("scenario \"s\": 3 steps\nreplay: diverges: steps 2 to 3 return to the state after step 1, but no fair cycle runs through it (a fair scheduler leaves it): no LIVELOCK\n", stdout);
    }

    [Fact]
    public void A_recorded_violation_the_model_does_not_commit_diverges()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["violation"]!["code"] = "DEADLOCK");
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: diverges: step 5 commits ASSERTION, the trace records DEADLOCK\n", stdout);
    }

    [Fact]
    public void A_recorded_violation_on_another_cpu_diverges()
    {
        // The replay re-derives the CPU that commits the violation as well as its code.
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["violation"]!["cpu"] = 5);
        var (exit, stdout, _) = Run("replay", trace);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay: diverges: step 5 commits ASSERTION on CPU 0, the trace records it on CPU 5\n", stdout);
    }

    [Fact]
    public void A_cpu_count_out_of_range_is_the_trace_s_input_error()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["options"]!["cpus"] = 100000);
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: {trace}: \"options.cpus\" 100000 is not between 1 and 1024\n", stderr);
    }

    [Fact]
    public void Explain_of_a_trace_that_records_no_violation_does_not_throw()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n =>
        {
            n["violation"] = null;
            var steps = n["steps"]!.AsArray();
            steps.RemoveAt(steps.Count - 1);
        });
        var (exit, stdout, stderr) = Run("explain", trace);
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("\nThe run breaks no rule.\n", stdout);
        Assert.Contains("replay: replayed 4 steps, no violation, as recorded\n", stdout);
        Assert.Contains("violation: none\n", Run("explain", trace, "--view", "table").Out);
    }

    [Theory]
    [InlineData("replay")]
    [InlineData("explain")]
    public void A_file_that_is_not_json_is_one_line_without_dotnet_text(string command)
    {
        var trace = Write("t.json", "hello, world\n");
        var (exit, stdout, stderr) = Run(command, trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {trace}: not a trace file: malformed JSON at line 1, column 1\n", stderr);
    }

    [Fact]
    public void Truncated_json_is_one_line()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        var text = File.ReadAllText(trace);
        File.WriteAllText(trace, text[..(text.Length / 2)]);
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches(@"^kexecsim: .*: not a trace file: malformed JSON at line \d+, column \d+\n$", stderr);
    }

    [Fact]
    public void An_empty_file_is_one_line()
    {
        var trace = Write("t.json", "");
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: {trace}: not a trace file: it is empty\n", stderr);
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_where_it_is()
    {
        var trace = Checked("r06-choices.kflow", "choices");
        Edit(trace, n => n["steps"]![0]!["cpu"] = "zero");
        var (exit, _, stderr) = Run("replay", trace);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Matches(@"^kexecsim: .*: not a trace file: \$\.steps\[0\]\.cpu has a value of the wrong type \(line \d+, column \d+\)\n$", stderr);
    }

    [Fact]
    public void A_trace_that_is_a_directory_or_missing_is_one_line()
    {
        var directory = Directory.CreateDirectory(Path.Combine(Scratch, "d.json")).FullName;
        Assert.Equal((ExitCodes.BadInput, string.Empty, $"kexecsim: {directory}: is a directory, not a trace file\n"), Run("replay", directory));
        var missing = Path.Combine(Scratch, "none.json");
        Assert.Equal((ExitCodes.BadInput, string.Empty, $"kexecsim: {missing}: no such file\n"), Run("explain", missing));
    }

    [Fact]
    public void A_trace_that_is_a_device_is_refused_without_reading_it()
    {
        if (!File.Exists("/dev/zero"))
        {
            return; // Linux only
        }
        Assert.Equal((ExitCodes.BadInput, string.Empty, "kexecsim: /dev/zero: is not a regular file, not a trace file\n"), Run("replay", "/dev/zero"));
    }
}
