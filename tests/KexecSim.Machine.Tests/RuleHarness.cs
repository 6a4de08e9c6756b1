using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Machine.Tests;

/// <summary>Runs a small model's scenario through the checker, and every counterexample through replay.</summary>
public static class RuleHarness
{
    public sealed record Checked(CheckResult Result, ReportModel? View)
    {
        public string Outcome => Result.Outcome;

        public int Steps => Result.Trace?.Steps.Count ?? 0;

        public (int Line, int Column)? Where => Result.Violation?.Location?.Position;

        public string Message => Result.Violation is { } v ? new Narration(Result.Program).Text(v) : string.Empty;
    }

    public static CompiledProgram Compile(string model, string? scenario = null)
    {
        var result = FrontEnd.LoadText("rule.kflow", model);
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        return scenario is null ? Assert.Single(result.Scenarios) : result.Scenarios.Single(s => s.ScenarioName == scenario);
    }

    /// <summary>Checks the scenario (by the options' strategy, breadth-first by default); a counterexample
    /// must replay to the same violation at the same step.</summary>
    public static Checked Check(string model, string? scenario = null, CheckOptions? options = null)
    {
        var program = Compile(model, scenario);
        var result = Search.Create(program, options ?? CheckOptions.Default).Run();
        ReportModel? view = null;
        if (result.Trace is { } trace)
        {
            view = ReportModel.Build(program, trace);
            Assert.True(view.Replay.Confirmed, view.Replay.Message);
            Assert.Equal(result.Violation!.Code, view.Replay.Violation!.Code);
            Assert.Equal(trace.Steps.Count, view.Replay.StepsReplayed);
        }
        return new Checked(result, view);
    }
}
