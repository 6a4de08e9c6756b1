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

    /// <summary>
    /// simulate's default walk (the machine check --reduce all explores) over every catalog scenario: the first run of
    /// each code it meets, random and PCT, made again alone, is a run of the full machine (the steps the reduced
    /// machine took with others put back) that replays with that code; a code an exhaustive check of the full
    /// machine reports as impossible (expect pass met) is never met.
    /// </summary>
    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Catalog_scenario_simulated_reduced_gives_full_machine_runs_that_replay(string file, string scenario)
    {
        var models = TestPaths.Models;
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", file), new LoadOptions { ModelPath = [models] });
        var program = loaded.Scenarios.Single(s => s.ScenarioName == scenario);
        foreach (var strategy in new[] { SimulationStrategy.Random, SimulationStrategy.Pct })
        {
            var options = new SimulationOptions { Strategy = strategy, Runs = 40, Seed = 3, Workers = 1 };
            var simulator = new Simulator(program, options);
            var result = simulator.Run();
            Assert.Equal(40, result.RunsDone);
            if (program.Expect.ToString() == "pass")
            {
                Assert.Empty(result.Violations);
            }
            foreach (var tally in result.Violations)
            {
                var (outcome, trace) = simulator.Reproduce(tally.FirstRun);
                Assert.Equal((tally.Code, tally.FirstRunSteps), (outcome.Code, outcome.Steps));
                Assert.Equal(tally.FirstRunSteps + trace.PutBackSteps, trace.Steps.Count);
                var replay = new Replayer(program).Replay(trace);
                Assert.True(replay.Confirmed, $"{scenario} {strategy} run {tally.FirstRun}: {replay.Message}");
                Assert.Equal((tally.Code, trace.Steps.Count), (replay.Violation!.Code, replay.StepsReplayed));
            }
        }
    }
}
