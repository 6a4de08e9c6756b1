using System.Globalization;
using System.Text;
using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>Text reports: one row per scenario for a catalog run, and the full counterexample for one.</summary>
public static class TextReport
{
    private const int ColumnWidth = 38;

    public static string Row(CheckResult result, int nameWidth)
    {
        var s = result.Statistics;
        var mark = result.ExpectationMet ? "ok  " : result.Verdict == Verdict.LimitReached ? "LIMIT" : "FAIL";
        return string.Create(CultureInfo.InvariantCulture,
            $"{mark,-5} {result.Program.ScenarioName.PadRight(nameWidth)}  {result.Expected.ToString(),-15} {result.Outcome,-15} {s.States,10:N0} states {s.Seconds,7:0.00} s");
    }

    public static string Header(int nameWidth) =>
        $"{"",-5} {"scenario".PadRight(nameWidth)}  {"expected",-15} {"outcome",-15} {"states",17} {"time",9}";

    /// <summary>The full report of one scenario: verdict, statistics, and the counterexample with a column per CPU.</summary>
    public static string Full(CheckResult result, ReportModel? view)
    {
        var builder = new StringBuilder();
        var program = result.Program;
        var s = result.Statistics;
        builder.AppendLine(CultureInfo.InvariantCulture, $"scenario \"{program.ScenarioName}\" ({program.ScenarioSpan})");
        if (program.Description.Length > 0)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"  {program.Description}");
        }
        var met = result.ExpectationMet ? "met" : "NOT met";
        builder.AppendLine(CultureInfo.InvariantCulture, $"outcome: {result.Outcome}; expected: {result.Expected}: {met}");
        if (result.LimitReason is { } limit)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"stopped: {limit}; no verdict");
        }
        builder.AppendLine(CultureInfo.InvariantCulture,
            $"statistics: {s.States:N0} states, {s.Transitions:N0} transitions, depth {s.Depth}, {s.Seconds:0.00} s, {s.StatesPerSecond:N0} states/s");
        if (SymmetryLine(result) is { } symmetry)
        {
            builder.AppendLine(symmetry);
        }
        if (ReductionLine(result) is { } reduction)
        {
            builder.AppendLine(reduction);
        }
        if (StrategyLine(result) is { } strategy)
        {
            builder.AppendLine(strategy);
        }
        var narration = view?.Narration ?? new Narration(result.Program);
        foreach (var (other, _) in result.OtherViolations)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"also found: {other.Code.Name()}: {narration.Text(other)}");
        }
        foreach (var warning in result.Warnings)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"warning: {warning}");
        }
        if (result.Coverage is { Exhaustive: true } coverage)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"coverage: {coverage.Reached} of {coverage.Statements} statements reached");
        }
        AppendCoverageWarnings(builder, result);
        if (view is not null)
        {
            builder.AppendLine();
            AppendCounterexample(builder, view);
        }
        return builder.ToString();
    }

    /// <summary>
    /// The report's search line, for a depth-first search only (a breadth-first report is unchanged): which
    /// search found the counterexample, that it is not necessarily a shortest one, and what <c>--shorten</c>
    /// did.
    /// </summary>
    public static string? StrategyLine(CheckResult result)
    {
        if (result.Strategy != SearchStrategy.DepthFirst)
        {
            return null;
        }
        if (result.Shortening is { } shortening)
        {
            var figures = string.Create(CultureInfo.InvariantCulture,
                $"{shortening.FirstSteps} -> {shortening.FinalSteps} steps; bounded re-search: {shortening.States:N0} states, {shortening.Seconds:0.00} s");
            return shortening.LimitReason is { } limit
                ? $"search: depth-first (--strategy dfs), shortened (--shorten) {figures}; stopped: {limit}; a shorter counterexample may exist"
                : $"search: depth-first (--strategy dfs), shortened (--shorten) {figures}; no shorter counterexample exists";
        }
        return result.Trace is null
            ? "search: depth-first (--strategy dfs)"
            : result.Violation?.Code == ViolationCode.Livelock
                ? "search: depth-first (--strategy dfs); LIVELOCK is looked for in the complete graph, its lasso is not shortened"
                : "search: depth-first (--strategy dfs); the counterexample is the first found, not necessarily a shortest one";
    }

    /// <summary>How the <c>symmetric</c> CPUs were used, as one word (null when the scenario declares none).</summary>
    public static string? SymmetryWord(SymmetryUse use) => use switch
    {
        SymmetryUse.Reduced => "reduced",
        SymmetryUse.Off => "off",
        SymmetryUse.Unusable => "unusable",
        SymmetryUse.LivelockUnreduced => "livelock-unreduced",
        _ => null,
    };

    /// <summary>The report's reduction line, when the search reduced something (docs/reduction.md).</summary>
    public static string? ReductionLine(CheckResult result)
    {
        if (result.Reduction == ReductionUse.None)
        {
            return null;
        }
        if (result.Reduction == ReductionUse.LivelockUnreduced)
        {
            return "reduction: not used: the reduced graph has a cycle, so LIVELOCK was looked for in the full graph";
        }
        var parts = new List<string>();
        var lines = result.UntrackedLines;
        if (lines.Count > 0)
        {
            const int Named = 4;
            var names = string.Join(", ", lines.Take(Named).Select(l => result.Program.Lines[l].Name));
            var more = lines.Count > Named ? $" and {lines.Count - Named} more" : string.Empty;
            parts.Add($"cache state not tracked for {lines.Count} {(lines.Count == 1 ? "line" : "lines")} no check can observe ({names}{more})");
        }
        if (result.MergedHalts)
        {
            parts.Add("a hlt() nothing can interrupt taken with the step that reaches it");
        }
        return $"reduction: {string.Join("; ", parts)}; --reduce none explores the full machine";
    }

    /// <summary>The reduction's word in JSON reports: null when nothing was reduced.</summary>
    public static string? ReductionWord(ReductionUse use) => use switch
    {
        ReductionUse.Reduced => "reduced",
        ReductionUse.LivelockUnreduced => "livelock-unreduced",
        _ => null,
    };

    /// <summary>The report's symmetry line, when the scenario declares symmetric CPUs.</summary>
    public static string? SymmetryLine(CheckResult result)
    {
        var cpus = string.Join(",", result.Program.Symmetry.Cpus);
        return result.Symmetry switch
        {
            SymmetryUse.Reduced => $"symmetry: CPUs {cpus} interchangeable; one state stored per permutation",
            SymmetryUse.Off => $"symmetry: off (--symmetry off); CPUs {cpus} declared",
            SymmetryUse.Unusable => $"symmetry: not used: {result.Program.Symmetry.UnusableReason}",
            SymmetryUse.LivelockUnreduced => $"symmetry: not used: the reduced graph has a cycle, so LIVELOCK was looked for in the full graph (CPUs {cpus} declared)",
            _ => null,
        };
    }

    /// <summary>The warnings that make a pass suspicious, one <c>file:line:col: warning KFnnnn: …</c> line each.</summary>
    public static void AppendCoverageWarnings(StringBuilder builder, CheckResult result)
    {
        foreach (var warning in result.CoverageWarnings)
        {
            builder.AppendLine(warning.ToString());
        }
    }

    /// <summary><c>check --coverage</c>: every statement never reached (and every wait that only timed out), by position.</summary>
    public static void AppendCoverageNotes(StringBuilder builder, CheckResult result)
    {
        if (result.Coverage is not { } coverage)
        {
            return;
        }
        if (!coverage.Exhaustive)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"coverage of \"{result.Program.ScenarioName}\" is partial: the search stopped before exploring every state");
        }
        foreach (var note in coverage.Notes)
        {
            builder.AppendLine(note.ToString());
        }
    }

    public static void AppendCounterexample(StringBuilder builder, ReportModel view)
    {
        var putBack = view.Trace.PutBackSteps;
        builder.AppendLine(putBack == 0
            ? string.Create(CultureInfo.InvariantCulture, $"counterexample ({view.Steps.Count} steps):")
            : string.Create(CultureInfo.InvariantCulture,
                $"counterexample ({view.Steps.Count} steps, {putBack} of them write-backs, evictions or hlt() steps the reduced search does not take; --reduce none finds the full machine's shortest):"));
        var header = new StringBuilder("  step ");
        for (var c = 0; c < view.Cpus; c++)
        {
            header.Append(Fit($"CPU {c}", ColumnWidth)).Append(' ');
        }
        header.Append("source / memory and environment");
        builder.AppendLine(header.ToString().TrimEnd());
        if (view.InitialMessages.Count > 0)
        {
            builder.AppendLine("     0 the initial state");
            foreach (var message in view.InitialMessages)
            {
                builder.AppendLine(CultureInfo.InvariantCulture, $"       | {message}");
            }
        }
        foreach (var row in view.Steps)
        {
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"  {row.Number,4} ");
            var environment = row.Lane < 0;
            for (var c = 0; c < view.Cpus; c++)
            {
                line.Append(Fit(!environment && c == row.Cpu ? row.Action : c == row.Cpu ? "*" : string.Empty, ColumnWidth)).Append(' ');
            }
            line.Append(environment ? row.Action : row.Where ?? string.Empty);
            builder.AppendLine(line.ToString().TrimEnd());
            foreach (var message in row.Messages)
            {
                builder.AppendLine(CultureInfo.InvariantCulture, $"       | {message}");
            }
        }
        var v = view.Violation;
        builder.AppendLine();
        if (v is null)
        {
            builder.AppendLine("violation: none");
        }
        else
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"violation: {v.Code.Name()}{(v.Cpu >= 0 ? $" on CPU {v.Cpu}" : string.Empty)}: {view.Rule}");
        }
        if (v?.Location is { } at)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"  at {at}: {at.Source.GetLine(at.Position.Line).Trim()}");
        }
        builder.AppendLine(CultureInfo.InvariantCulture, $"replay: {view.Narration.ReplayMessage(view.Replay)}");
    }

    private static string Fit(string text, int width) =>
        text.Length <= width ? text.PadRight(width) : text[..(width - 3)] + "...";
}
