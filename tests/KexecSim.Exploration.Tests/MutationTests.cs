using System.Text.RegularExpressions;
using CsCheck;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// Models nobody wrote by hand: catalog files with lines deleted, duplicated, swapped or with their
/// numbers changed. Whatever still compiles must explore without throwing, and every counterexample
/// it finds must replay to the same violation. (This found the crash of `check` on a file with no scenario.)
/// </summary>
public sealed partial class MutationTests
{
    [GeneratedRegex(@"\b\d+\b")]
    private static partial Regex Number();

    private static readonly string[] CatalogFiles =
        Directory.GetFiles(Path.Combine(TestPaths.Models, "catalog"), "*.kflow").Order(StringComparer.Ordinal).ToArray();

    private static readonly long[] Numbers = [0, 1, 2, 3, 7, 64];

    /// <summary>One edit: kind (0 delete, 1 duplicate, 2 swap, 3 renumber), two line picks and a number pick.</summary>
    private static readonly Gen<(int File, (int Kind, int A, int B, int N)[] Edits)> Mutants =
        Gen.Select(Gen.Int[0, CatalogFiles.Length - 1], Gen.Select(Gen.Int[0, 3], Gen.Int[0, 10_000], Gen.Int[0, 10_000], Gen.Int[0, Numbers.Length - 1]).Array[1, 4]);

    private static string Mutate(string text, (int Kind, int A, int B, int N)[] edits)
    {
        var lines = text.Split('\n').ToList();
        foreach (var (kind, a, b, n) in edits)
        {
            var i = a % lines.Count;
            var j = b % lines.Count;
            switch (kind)
            {
                case 0 when lines.Count > 1: lines.RemoveAt(i); break;
                case 1: lines.Insert(j, lines[i]); break;
                case 2: (lines[i], lines[j]) = (lines[j], lines[i]); break;
                case 3: lines[i] = Number().Replace(lines[i], _ => Numbers[n].ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
        return string.Join('\n', lines);
    }

    [Fact]
    public void Mutated_catalog_models_explore_without_throwing_and_their_counterexamples_replay()
    {
        var options = new CheckOptions { MaxStates = 20_000 };
        var compiled = 0;
        Mutants.Sample(mutant =>
        {
            var file = CatalogFiles[mutant.File];
            var text = Mutate(File.ReadAllText(file), mutant.Edits);
            var loaded = FrontEnd.LoadText(file, text, new LoadOptions { ModelPath = [TestPaths.Models] });
            if (loaded.HasErrors)
            {
                return;
            }
            compiled++;
            foreach (var program in loaded.Scenarios.Take(3))
            {
                var result = new BreadthFirstExplorer(program, options).Run();
                if (result.Trace is { } trace && result.Violation is { } violation)
                {
                    var view = ReportModel.Build(program, trace);
                    Assert.True(view.Replay.Confirmed, $"{program.ScenarioName}: {view.Replay.Message}");
                    Assert.Equal(violation.Code, view.Replay.Violation!.Code);
                    Assert.Equal(trace.Steps.Count, view.Replay.StepsReplayed);
                }
            }
        }, iter: 200, threads: 1, seed: "0N0XIzNsQ0O2");
        Assert.True(compiled > 20, $"only {compiled} of 200 mutants compiled: the generator no longer exercises the checker");
    }
}
