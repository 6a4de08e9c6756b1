using System.Globalization;
using System.Text;
using System.Text.Json;
using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>How the runs were made: everything a run depends on besides the model and its index.</summary>
/// <param name="Strategy"><c>random</c> or <c>pct</c>.</param>
/// <param name="Runs">The run space: run indices 0 to Runs - 1.</param>
/// <param name="PctDepth">PCT's depth d; null for random.</param>
/// <param name="PctSteps">PCT's run-length estimate k (the change points are drawn over [1, k]); null for random.</param>
/// <param name="Reduce"><c>all</c>: the runs walk the machine <c>check --reduce all</c> explores (docs/reduction.md);
/// <c>none</c>: the full machine (always for timed runs; a result written before the option had none).</param>
public sealed record SimulationSettings(string Strategy, ulong Seed, long Runs, long MaxSteps, int? PctDepth, long? PctSteps, string Reduce = "none");

/// <summary>Which runs of the run space a result holds: the indices i with i % Count == K - 1 for each K of
/// <paramref name="Indices"/>; the whole space is <c>{ "count": 1, "indices": [1] }</c>.</summary>
public sealed record ShardInfo(int Count, IReadOnlyList<int> Indices);

/// <summary>The runs' figures; <c>seconds</c>, <c>runsPerSecond</c> and <c>stepsPerSecond</c> are the only ones
/// that depend on the machine and the number of workers.</summary>
public sealed record SimulationStatistics(long RunsDone, long Steps, long Finished, long MaxStepsReached, double Seconds, double RunsPerSecond, double StepsPerSecond);

/// <summary>The runs that committed one code: how many, the first (lowest index) and its length in steps.</summary>
public sealed record ViolationTallyInfo(string Code, long Count, long FirstRun, long FirstRunSteps);

/// <summary>
/// The result of <c>kexecsim simulate</c>, and of <c>kexecsim merge</c> over the results of its shards
/// (docs/simulate.md): a versioned schema. One report model for the text and the JSON writers.
/// </summary>
public sealed record SimulationReport(
    string Schema,
    int Version,
    ToolInfo Tool,
    ModelInfo Model,
    string Scenario,
    OptionsInfo Options,
    SimulationSettings Simulation,
    ShardInfo Shard,
    string Expected,
    string Outcome,
    bool ExpectationMet,
    string? Limit,
    SimulationStatistics Statistics,
    IReadOnlyList<ViolationTallyInfo> Violations,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    TimedInfo? Timed = null)
{
    public const string SchemaName = "kexecsim-simulation";
    public const int CurrentVersion = 1;

    /// <summary>The report of a simulation of the model whose files are <paramref name="sources"/>, checked as
    /// <paramref name="root"/>, with the command line's -D values, --cpus and --model-path.</summary>
    public static SimulationReport Create(SimulationResult result, string root, IReadOnlyList<SourceText> sources,
        IReadOnlyDictionary<string, long> defines, int? cpus, IReadOnlyList<string> modelPath)
    {
        var options = result.Options;
        var pct = options.Strategy == SimulationStrategy.Pct && options.Timed is null;
        var violations = result.Violations.Select(v => new ViolationTallyInfo(v.Code.Name(), v.Count, v.FirstRun, v.FirstRunSteps)).ToList();
        var expected = result.Program.Expect.ToString();
        var (outcome, met) = Verdict(expected, violations, result.LimitReason);
        return new SimulationReport(SchemaName, CurrentVersion, new ToolInfo("kexecsim", TraceFile.ToolVersion),
            new ModelInfo(root, TraceFile.HashModel(sources), sources.Select(s => s.Path).ToList()),
            result.Program.ScenarioName,
            new OptionsInfo(new SortedDictionary<string, long>(defines.ToDictionary(), StringComparer.Ordinal), cpus, modelPath),
            new SimulationSettings(options.Timed is not null ? "timed" : pct ? "pct" : "random", options.Seed, options.Runs, options.MaxSteps, pct ? options.PctDepth : null, result.PctSteps,
                options.Reduced ? "all" : "none"),
            new ShardInfo(options.ShardCount, [options.ShardIndex]),
            expected, outcome, met, result.LimitReason,
            Figures(result.RunsDone, result.Steps, result.Finished, result.MaxStepsReached, result.Seconds),
            violations,
            result.Timed is { } timed ? TimedInfo.Create(timed, options.Timed!, result.Program.Platform.WbinvdMicroseconds) : null);
    }

    private static SimulationStatistics Figures(long runs, long steps, long finished, long maxSteps, double seconds) =>
        new(runs, steps, finished, maxSteps, Math.Round(seconds, 3),
            seconds > 0 ? Math.Round(runs / seconds) : 0, seconds > 0 ? Math.Round(steps / seconds) : 0);

    /// <summary>
    /// The outcome and whether the expectation is met. <c>expect CODE</c> is met when some run committed CODE;
    /// <c>expect pass</c> (or no <c>expect</c>) when every run of the result was done and none committed a
    /// violation. The outcome is the expected code when found, else a MODEL_ERROR, else the code of the lowest
    /// run index that committed one; <c>limit</c> when a limit stopped the runs before any of those; else
    /// <c>pass</c>.
    /// </summary>
    public static (string Outcome, bool Met) Verdict(string expected, IReadOnlyList<ViolationTallyInfo> violations, string? limit)
    {
        var wantsCode = expected is not ("pass" or "-");
        if (wantsCode && violations.Any(v => v.Code == expected))
        {
            return (expected, true);
        }
        if (violations.Count > 0)
        {
            var modelError = ViolationCode.ModelError.Name();
            return (violations.Any(v => v.Code == modelError) ? modelError : violations.MinBy(v => v.FirstRun)!.Code, false);
        }
        if (limit is not null)
        {
            return ("limit", false);
        }
        return ("pass", !wantsCode);
    }

    /// <summary>The exit code's meaning: met, a violation or unmet expectation, or a limit before a verdict.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool LimitBeforeVerdict => !ExpectationMet && Outcome == "limit";

    /// <summary>The run whose trace <c>--trace</c> writes: the first run that committed the expected code, else
    /// the lowest run index that committed any; null when no run committed one.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long? TracedRun =>
        Violations.FirstOrDefault(v => v.Code == Expected) is { } expected ? expected.FirstRun
        : Violations.Count > 0 ? Violations.MinBy(v => v.FirstRun)!.FirstRun
        : null;

    /// <summary>How many run indices the shards of this result hold (<see cref="SimulationOptions.ShardRuns"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long ShardRuns => Shard.Indices.Sum(k => Simulation.Runs >= k ? ((Simulation.Runs - k) / Shard.Count) + 1 : 0);

    public string ToJson() => JsonSerializer.Serialize(this, TraceFile.Json) + "\n";

    /// <summary>The text report; the time figures are all on the last line.</summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var s = Simulation;
        var b = new StringBuilder();
        b.AppendLine(inv, $"scenario \"{Scenario}\" ({Model.Root})");
        var how = s.Strategy == "timed" ? "timed (docs/timed.md)" : s.Strategy == "pct"
            ? string.Create(inv, $"pct (depth {s.PctDepth}, change points over {s.PctSteps:N0} steps)")
            : "random walk";
        b.AppendLine(inv, $"simulation: {how}, seed {s.Seed}, at most {s.MaxSteps:N0} steps per run{(s.Reduce == "all" ? ", reduced (docs/reduction.md)" : string.Empty)}");
        var last = string.Create(inv, $"{s.Runs - 1:N0}");
        var runs = Shard.Count == 1
            ? string.Create(inv, $"{s.Runs:N0} (run indices 0 to {last})")
            : string.Create(inv, $"{ShardRuns:N0}: shard{(Shard.Indices.Count == 1 ? string.Empty : "s")} {string.Join(", ", Shard.Indices.Select(k => $"{k}/{Shard.Count}"))}, the run indices i from 0 to {last} with i % {Shard.Count} == {string.Join(" or ", Shard.Indices.Select(k => k - 1))}");
        b.AppendLine(inv, $"runs: {Statistics.RunsDone:N0} done of {runs}; steps: {Statistics.Steps:N0}");
        b.AppendLine(inv, $"ended: {Statistics.Finished:N0} finished, {Statistics.MaxStepsReached:N0} stopped at --max-steps, {Violations.Sum(v => v.Count):N0} with a violation");
        foreach (var v in Violations)
        {
            b.AppendLine(inv, $"violation {v.Code}: {v.Count:N0} run{(v.Count == 1 ? string.Empty : "s")}, first run {v.FirstRun} ({v.FirstRunSteps:N0} steps)");
        }
        Timed?.AppendText(b);
        if (Limit is not null)
        {
            b.AppendLine(inv, $"stopped: {Limit}");
        }
        b.AppendLine(inv, $"outcome: {Outcome}; expected: {Expected}: {(ExpectationMet ? "met" : "not met")}");
        b.AppendLine(inv, $"time: {Statistics.Seconds:0.000} s, {Statistics.RunsPerSecond:N0} runs/s, {Statistics.StepsPerSecond:N0} steps/s");
        return b.ToString();
    }

    /// <summary>A simulation report read from JSON; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static SimulationReport Parse(string json)
    {
        var report = JsonSerializer.Deserialize<SimulationReport>(json, TraceFile.Json) ?? throw new InvalidDataException("empty");
        if (report.Schema != SchemaName)
        {
            throw new InvalidDataException($"not a kexecsim simulation result (schema '{report.Schema}')");
        }
        if (report.Version != CurrentVersion)
        {
            throw new InvalidDataException($"simulation result version {report.Version} is not supported (this kexecsim reads version {CurrentVersion})");
        }
        if (report.Tool is null || report.Model?.Sha256 is null || report.Scenario is null || report.Options?.Defines is null
            || report.Simulation?.Strategy is null || report.Shard?.Indices is null || report.Statistics is null || report.Violations is null || report.Expected is null)
        {
            throw new InvalidDataException("a field of the simulation result is missing");
        }
        if (report.Shard.Count < 1 || report.Shard.Indices.Count == 0 || report.Shard.Indices.Any(k => k < 1 || k > report.Shard.Count))
        {
            throw new InvalidDataException($"\"shard\" does not name shards K/N with 1 <= K <= N");
        }
        return report;
    }

    /// <summary>
    /// The shards' results as one (<c>kexecsim merge</c>): runs, steps and counts summed, each code's first run the
    /// lowest, the verdict drawn again; the time figures are summed over the jobs (job-seconds, and rates per
    /// job-second). A set of shards that covers the whole run space is reported as one unsharded simulation, so
    /// that it reads exactly as the single job would (but the time). Null, with the reason, when the results are
    /// not disjoint shards of one simulation (the same tool version, model, scenario, options, settings and
    /// shard count).
    /// </summary>
    /// <param name="reports">Each result with the name of its file (for messages).</param>
    public static (SimulationReport? Merged, string? Problem) Merge(IReadOnlyList<(string Name, SimulationReport Report)> reports)
    {
        if (reports.Count == 0)
        {
            return (null, "nothing to merge");
        }
        var (firstName, first) = reports[0];
        var owner = new Dictionary<int, string>();
        foreach (var (name, report) in reports)
        {
            if (Mismatch(first, report) is { } what)
            {
                return (null, $"{name}: {what} differs from {firstName}'s: not shards of one simulation");
            }
            foreach (var k in report.Shard.Indices)
            {
                if (owner.TryGetValue(k, out var other))
                {
                    return (null, $"{name}: shard {k}/{report.Shard.Count} is already in {other}: each shard must be merged once");
                }
                owner[k] = name;
            }
        }
        var count = first.Shard.Count;
        var indices = owner.Keys.Order().ToList();
        var shard = indices.Count == count ? new ShardInfo(1, [1]) : new ShardInfo(count, indices);
        var violations = reports.SelectMany(r => r.Report.Violations)
            .GroupBy(v => v.Code, StringComparer.Ordinal)
            .Select(g =>
            {
                var firstRun = g.MinBy(v => v.FirstRun)!;
                return new ViolationTallyInfo(g.Key, g.Sum(v => v.Count), firstRun.FirstRun, firstRun.FirstRunSteps);
            })
            .OrderBy(v => v.FirstRun)
            .ToList();
        var limit = reports.Select(r => r.Report.Limit).FirstOrDefault(l => l is not null);
        var (outcome, met) = Verdict(first.Expected, violations, limit);
        var all = reports.Select(r => r.Report.Statistics).ToList();
        var statistics = Figures(all.Sum(x => x.RunsDone), all.Sum(x => x.Steps), all.Sum(x => x.Finished), all.Sum(x => x.MaxStepsReached), all.Sum(x => x.Seconds));
        var timed = first.Timed is null ? null : TimedInfo.Merge([.. reports.Select(r => r.Report.Timed!)]);
        return (first with { Shard = shard, Outcome = outcome, ExpectationMet = met, Limit = limit, Statistics = statistics, Violations = violations, Timed = timed }, null);
    }

    /// <summary>What makes <paramref name="other"/> a result of another simulation than <paramref name="first"/>, or null.</summary>
    private static string? Mismatch(SimulationReport first, SimulationReport other)
    {
        static string Defines(OptionsInfo o) => string.Join(",", o.Defines.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}"));
        if (other.Tool.Version != first.Tool.Version)
        {
            return $"the kexecsim version {other.Tool.Version}";
        }
        if (other.Model.Sha256 != first.Model.Sha256)
        {
            return "the model (sha256)";
        }
        if (other.Scenario != first.Scenario)
        {
            return $"the scenario \"{other.Scenario}\"";
        }
        if (Defines(other.Options) != Defines(first.Options))
        {
            return "the -D values";
        }
        if (other.Options.Cpus != first.Options.Cpus)
        {
            return "--cpus";
        }
        var (a, b) = (first.Simulation, other.Simulation);
        if (b.Strategy != a.Strategy)
        {
            return $"the strategy {b.Strategy}";
        }
        if (b.Seed != a.Seed)
        {
            return $"the seed {b.Seed}";
        }
        if (b.Runs != a.Runs)
        {
            return $"--runs {b.Runs}";
        }
        if (b.MaxSteps != a.MaxSteps)
        {
            return $"--max-steps {b.MaxSteps}";
        }
        if (b.Reduce != a.Reduce)
        {
            return $"--reduce {b.Reduce}";
        }
        if (b.PctDepth != a.PctDepth || b.PctSteps != a.PctSteps)
        {
            return "the PCT depth or run-length estimate";
        }
        if (other.Expected != first.Expected)
        {
            return "the expectation";
        }
        if ((other.Timed is null) != (first.Timed is null) || (other.Timed is { } t && t.ParameterLine != first.Timed!.ParameterLine))
        {
            return "timed mode or its parameters";
        }
        if (other.Shard.Count != first.Shard.Count)
        {
            return $"the shard count N={other.Shard.Count}";
        }
        return null;
    }
}
