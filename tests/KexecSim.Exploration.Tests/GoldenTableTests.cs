using System.Globalization;
using System.Text;
using KexecSim.Language;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// The safety net of the engine rebuild (issue 8): every scenario of the catalog, the corpus and the
/// contract's examples, with its verdict, state count, transition count, depth and counterexample
/// length, as the engine gives them today, pinned in <c>tests/golden/explore.tsv</c>. A change that
/// moves any figure fails here with the rows that moved; a change meant to move them regenerates the
/// table (<c>KEXECSIM_UPDATE_GOLDEN=1 dotnet test --filter GoldenTable</c>) and says why in its commit.
/// </summary>
public sealed class GoldenTableTests
{
    private const string Header = "file\tscenario\texpected\toutcome\tstates\ttransitions\tdepth\tsteps";

    /// <summary>Scenarios larger than this are pinned as "limit" (none is today).</summary>
    private const long MaxStates = 2_000_000;

    private static string GoldenPath => Path.Combine(TestPaths.RepositoryRoot, "tests", "golden", "explore.tsv");

    /// <summary>Every model with scenarios, by a path relative to the repository (or "examples/" for the contract's).</summary>
    private static IEnumerable<(string Name, string Path)> Models()
    {
        var root = TestPaths.RepositoryRoot;
        foreach (var folder in new[] { Path.Combine("models", "catalog"), Path.Combine("tests", "corpus", "clean"), Path.Combine("tests", "corpus", "warnings") })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(root, folder), "*.kflow").Order(StringComparer.Ordinal))
            {
                yield return (Path.GetRelativePath(root, file).Replace('\\', '/'), file);
            }
        }
        foreach (var file in Directory.GetFiles(TestPaths.SharedExamples, "*.kflow").Order(StringComparer.Ordinal))
        {
            yield return ($"examples/{Path.GetFileName(file)}", file);
        }
    }

    /// <summary>The table; pinned without symmetry or semantics-aware reduction (the engine's full graph).</summary>
    private static string Table(bool symmetry = false, Reduction reduce = Reduction.None, List<(string Scenario, CheckResult Result)>? results = null)
    {
        var table = new StringBuilder(Header).Append('\n');
        foreach (var (name, path) in Models())
        {
            var loaded = FrontEnd.Load(path, new LoadOptions { ModelPath = [TestPaths.Models] });
            foreach (var program in loaded.Scenarios)
            {
                var result = new BreadthFirstExplorer(program, new CheckOptions { MaxStates = MaxStates, Symmetry = symmetry, Reduce = reduce }).Run();
                results?.Add(($"{name} {program.ScenarioName}", result));
                var s = result.Statistics;
                table.Append(CultureInfo.InvariantCulture,
                    $"{name}\t{program.ScenarioName}\t{program.Expect}\t{result.Outcome}\t{s.States}\t{s.Transitions}\t{s.Depth}\t{result.Trace?.Steps.Count.ToString(CultureInfo.InvariantCulture) ?? "-"}\n");
            }
        }
        return table.ToString();
    }

    [Fact]
    public void Every_scenario_gives_the_pinned_verdict_states_and_trace_length()
    {
        var actual = Table();
        if (Environment.GetEnvironmentVariable("KEXECSIM_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(GoldenPath, actual);
        }
        var expected = File.ReadAllText(GoldenPath).ReplaceLineEndings("\n");
        var moved = actual.Split('\n').Except(expected.Split('\n')).ToList();
        var gone = expected.Split('\n').Except(actual.Split('\n')).ToList();
        Assert.True(moved.Count == 0 && gone.Count == 0,
            $"rows that moved (now):\n{string.Join('\n', moved)}\nwere:\n{string.Join('\n', gone)}");
        Assert.Equal(expected, actual);
    }

    /// <summary>Issue 9's soundness check: with symmetry reduction (the default) every scenario gives the
    /// pinned verdict and counterexample length, with at most the pinned number of states; the scenarios
    /// that declare usable symmetric CPUs store fewer.</summary>
    [Fact]
    public void Symmetry_reduction_keeps_every_pinned_verdict_and_counterexample_length()
    {
        var pinned = File.ReadAllLines(GoldenPath).Skip(1).Select(l => l.Split('\t')).ToDictionary(r => (r[0], r[1]));
        var reduced = Table(symmetry: true).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(pinned.Count, reduced.Count);
        var fewer = new List<string>();
        foreach (var row in reduced)
        {
            var was = pinned[(row[0], row[1])];
            Assert.Equal((was[3], was[7]), (row[3], row[7]));
            Assert.True(long.Parse(row[4], CultureInfo.InvariantCulture) <= long.Parse(was[4], CultureInfo.InvariantCulture), $"{row[1]}: {row[4]} states, pinned {was[4]}");
            if (row[4] != was[4])
            {
                fewer.Add($"{row[1]} {was[4]}->{row[4]}");
            }
        }
        Assert.Equal(["every-construct 40745->9254", "tdx-kexec-erratum 12648->10008"], fewer);
    }

    /// <summary>Issue 9's soundness check of <c>--reduce all</c> (docs/reduction.md), alone and with symmetry:
    /// every scenario gives the pinned verdict with at most the pinned number of states, and every
    /// counterexample is a run of the full machine (it replays); the scenarios whose lines' cache state is
    /// left out are exactly these, and some hlt() is merged in most.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Semantic_reduction_keeps_every_pinned_verdict_and_its_traces_replay(bool symmetry)
    {
        var pinned = File.ReadAllLines(GoldenPath).Skip(1).Select(l => l.Split('\t')).ToDictionary(r => (r[0], r[1]));
        var results = new List<(string Scenario, CheckResult Result)>();
        var reduced = Table(symmetry, Reduction.All, results).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(pinned.Count, reduced.Count);
        var untracked = new List<string>();
        foreach (var row in reduced)
        {
            var was = pinned[(row[0], row[1])];
            Assert.Equal(was[3], row[3]);
            // An exhaustive search stores no more states (a search that stops at a violation may store more
            // before it: its levels are cut differently).
            Assert.True(row[3] != "pass" || long.Parse(row[4], CultureInfo.InvariantCulture) <= long.Parse(was[4], CultureInfo.InvariantCulture), $"{row[1]}: {row[4]} states, pinned {was[4]}");
        }
        foreach (var (scenario, result) in results)
        {
            if (result.UntrackedLines.Count > 0)
            {
                untracked.Add($"{scenario}: {string.Join(",", result.UntrackedLines.Select(l => result.Program.Lines[l].Name))}");
            }
            foreach (var trace in new[] { result.Trace }.Concat(result.OtherViolations.Select(o => o.Trace)).OfType<Trace>())
            {
                var replay = new Replayer(result.Program).Replay(trace);
                Assert.True(replay.Confirmed, $"{scenario}: {replay.Message}");
            }
        }
        Assert.Equal(ExpectedUntracked, untracked);
    }

    // The catalog's models copy the image over their data (next_kernel = text, data): every line is tracked.
    private static readonly string[] ExpectedUntracked =
    [
        "tests/corpus/clean/c_habits_for_bool.kflow s: data[0]",
        "tests/corpus/clean/every_construct.kflow second: parked_lines[0][0],parked_lines[1][0]",
        "tests/corpus/clean/every_construct.kflow no-expect: parked_lines[0][0]",
        "tests/corpus/clean/key_constant_and_line_variable.kflow s: data[0]",
        "tests/corpus/warnings/symmetry_ignored.kflow s: data[0]",
        "tests/corpus/warnings/symmetry_ignored_multiline_code.kflow s: data[0]",
    ];

    [Fact]
    public void The_table_covers_every_catalog_scenario()
    {
        var rows = File.ReadAllLines(GoldenPath).Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.All(rows, r => Assert.Equal(8, r.Length));
        foreach (var row in CatalogTests.Scenarios())
        {
            var (file, scenario) = ((string)row[0], (string)row[1]);
            Assert.Contains(rows, r => r[0] == $"models/catalog/{file}" && r[1] == scenario);
        }
    }
}
