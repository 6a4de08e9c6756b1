using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>Every scenario of the built-in catalog meets its expectation; every counterexample replays.</summary>
public sealed class CatalogTests
{
    public static TheoryData<string, string> Scenarios()
    {
        var data = new TheoryData<string, string>();
        var models = TestPaths.Models;
        foreach (var file in Directory.GetFiles(Path.Combine(models, "catalog"), "*.kflow").Order(StringComparer.Ordinal))
        {
            var loaded = FrontEnd.Load(file, new LoadOptions { ModelPath = [models] });
            foreach (var scenario in loaded.Scenarios)
            {
                data.Add(Path.GetFileName(file), scenario.ScenarioName);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Catalog_scenario_meets_its_expectation(string file, string scenario)
    {
        var models = TestPaths.Models;
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", file), new LoadOptions { ModelPath = [models] });
        var program = loaded.Scenarios.Single(s => s.ScenarioName == scenario);
        Assert.True(program.Expect.IsStated, "every catalog scenario states what it expects");
        var result = new BreadthFirstExplorer(program).Run();
        Assert.True(result.ExpectationMet, $"{scenario}: expected {program.Expect}, got {result.Outcome} {result.Violation}");
        if (result.Trace is { } trace)
        {
            var view = ReportModel.Build(program, trace);
            Assert.True(view.Replay.Confirmed, view.Replay.Message);
            Assert.Equal(result.Violation!.Code, view.Replay.Violation!.Code);
        }
    }
}
