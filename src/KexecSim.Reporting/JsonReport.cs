using System.Text.Json;
using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Reporting;

public sealed record StatisticsInfo(long States, long Transitions, int Depth, double Seconds, double StatesPerSecond, long PeakMemoryBytes, double CollisionProbability);

public sealed record ScenarioInfo(
    string Name,
    string File,
    string Expected,
    string Outcome,
    bool ExpectationMet,
    string? Limit,
    StatisticsInfo Statistics,
    ViolationInfo? Violation,
    IReadOnlyList<ViolationInfo> AlsoFound,
    bool? FinalEvaluated,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string>? InitialMessages,
    IReadOnlyList<StepInfo>? Trace)
{
    /// <summary>What the search reached (docs/coverage.md); null when the search made no state.</summary>
    public CoverageInfo? Coverage { get; init; }

    /// <summary>How the scenario's <c>symmetric</c> CPUs were used (docs/symmetry.md); absent when it declares none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Symmetry { get; init; }

    /// <summary>With <c>--bitstate</c>: the bit array and the estimate of missed states; absent for an exact search.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public BitstateInfo? Bitstate { get; init; }

    /// <summary>What <c>--reduce all</c> left out (docs/reduction.md); absent when nothing was.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ReductionInfo? Reduction { get; init; }

    /// <summary>"dfs" for a depth-first search (<c>--strategy dfs</c>); absent for the default breadth-first one.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Strategy { get; init; }

    /// <summary>What <c>--shorten</c> did; absent when it did not run.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ShorteningInfo? Shortening { get; init; }
}

/// <summary><c>--bitstate</c>: m bits, k bits per state, the hash factor m / n, and the probability that a new
/// state was taken for a visited one at the end of the search (1 minus it estimates the coverage).</summary>
public sealed record BitstateInfo(long Bits, int Hashes, double HashFactor, double OmissionProbability);

/// <summary><c>--reduce all</c>: "reduced", or "livelock-unreduced" (the search was run again in full for LIVELOCK),
/// the lines whose cache state was not tracked, whether some <c>hlt()</c> was taken with the step reaching it, and
/// how many steps of the reported trace the reduced search did not take (put back to make it a run of the full machine).</summary>
public sealed record ReductionInfo(string Use, IReadOnlyList<string> UntrackedLines, bool MergedHalts, int PutBackSteps);

/// <summary><c>--shorten</c>: the first counterexample's length, the reported one's, the bounded re-search's
/// figures, and whether the reported one is a shortest (false when a limit stopped the re-search).</summary>
public sealed record ShorteningInfo(int FirstSteps, int FinalSteps, long States, long Transitions, double Seconds, bool Shortest, string? Limit);

/// <summary>One coverage line: <c>location</c> is <c>file:line:col</c>.</summary>
public sealed record CoverageItemInfo(string Code, string Severity, string Location, string Function, string Message);

/// <summary>Coverage of one scenario: counts, the warnings of a pass, and (with --coverage) every note.</summary>
public sealed record CoverageInfo(bool Exhaustive, int Statements, int Reached, IReadOnlyList<CoverageItemInfo> Warnings, IReadOnlyList<CoverageItemInfo>? NeverReached);

/// <summary>The JSON report (docs/json-report.md): a versioned schema, one entry per scenario.</summary>
public sealed record JsonReport(string Schema, int Version, ToolInfo Tool, IReadOnlyList<ScenarioInfo> Scenarios)
{
    public const string SchemaName = "kexecsim-report";
    public const int CurrentVersion = 1;

    /// <summary>One scenario's entry; its trace is the scenario's report model (which a scenario with a trace must have).</summary>
    public static ScenarioInfo Describe(CheckedScenario scenario, bool coverageNotes = false)
    {
        var (result, file, model) = scenario;
        var s = result.Statistics;
        if (result.Trace is not null && model is null)
        {
            throw new ArgumentException("a scenario with a trace is described from its report model", nameof(scenario));
        }
        var steps = model?.Steps.Select(StepInfo.Of).ToList();
        var words = scenario.Narration;
        return new ScenarioInfo(
            result.Program.ScenarioName,
            file,
            result.Expected.ToString(),
            result.Outcome,
            result.ExpectationMet,
            result.LimitReason,
            new StatisticsInfo(s.States, s.Transitions, s.Depth, Math.Round(s.Seconds, 3), Math.Round(s.StatesPerSecond), s.PeakMemoryBytes, s.CollisionProbability),
            result.Violation is { } v ? new ViolationInfo(v.Code.Name(), v.Cpu, words.Text(v), v.Location?.ToString()) : null,
            result.OtherViolations.Select(o => new ViolationInfo(o.Violation.Code.Name(), o.Violation.Cpu, words.Text(o.Violation), o.Violation.Location?.ToString())).ToList(),
            result.Program.FinalFunction >= 0 ? result.FinalEvaluated : null,
            result.Warnings,
            model?.InitialMessages,
            steps)
        {
            Symmetry = TextReport.SymmetryWord(result.Symmetry),
            Strategy = result.Strategy == SearchStrategy.DepthFirst ? "dfs" : null,
            Bitstate = result.Bitstate is { } b ? new BitstateInfo(b.Bits, b.Hashes, Math.Round(b.HashFactor, 1), b.OmissionProbability) : null,
            Reduction = TextReport.ReductionWord(result.Reduction) is { } use
                ? new ReductionInfo(use, result.UntrackedLines.Select(l => result.Program.Lines[l].Name).ToList(), result.MergedHalts, result.Trace?.PutBackSteps ?? 0)
                : null,
            Shortening = result.Shortening is { } sh
                ? new ShorteningInfo(sh.FirstSteps, sh.FinalSteps, sh.States, sh.Transitions, Math.Round(sh.Seconds, 3), sh.Shortest, sh.LimitReason)
                : null,
            Coverage = result.Coverage is { } coverage
                ? new CoverageInfo(coverage.Exhaustive, coverage.Statements, coverage.Reached, coverage.Warnings.Select(Item).ToList(),
                    coverageNotes ? coverage.Notes.Select(Item).ToList() : null)
                : null,
        };
    }

    private static CoverageItemInfo Item(CoverageItem item) =>
        new(item.Code.Format(), item.Severity.Keyword(), item.Location.ToString(), item.Function, item.Message);

    public static string Render(IEnumerable<ScenarioInfo> scenarios) =>
        JsonSerializer.Serialize(new JsonReport(SchemaName, CurrentVersion, new ToolInfo("kexecsim", TraceFile.ToolVersion), scenarios.ToList()), TraceFile.Json) + "\n";
}
