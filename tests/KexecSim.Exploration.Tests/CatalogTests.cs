using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>Every scenario of the built-in catalog meets its expectation; every counterexample replays.</summary>
public sealed class CatalogTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KexecSim.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("no repository root");
    }

    public static TheoryData<string, string> Scenarios()
    {
        var data = new TheoryData<string, string>();
        var models = Path.Combine(Root(), "models");
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
        var models = Path.Combine(Root(), "models");
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", file), new LoadOptions { ModelPath = [models] });
        var program = loaded.Scenarios.Single(s => s.ScenarioName == scenario);
        Assert.True(program.Expect.IsStated, "every catalog scenario states what it expects");
        var result = new BreadthFirstExplorer(program).Run();
        Assert.True(result.ExpectationMet, $"{scenario}: expected {program.Expect}, got {result.Outcome} {result.Violation}");
        if (result.Trace is { } trace)
        {
            var view = CounterexampleView.Build(program, trace);
            Assert.True(view.Replay.Confirmed, view.Replay.Message);
            Assert.Equal(result.Violation!.Code, view.Replay.Violation!.Code);
        }
    }
}
