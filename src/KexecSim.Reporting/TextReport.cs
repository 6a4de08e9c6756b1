using System.Globalization;
using System.Text;
using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>Text reports: one row per scenario for a catalog run, and the full counterexample for one.</summary>
public static class TextReport
{
    /// <summary>
    /// The widest the scenario column of the catalog table gets: with the mark, the expectation, the outcome, the states
    /// (up to 999,999,999) and the time, a row is then <see cref="Width"/> columns. A longer name wraps inside its cell
    /// (<see cref="NameWidth"/>, <see cref="Row"/>).
    /// </summary>
    public const int MaxNameWidth = Width - 68;

    /// <summary>The scenario column's width for these names: the longest, at most <see cref="MaxNameWidth"/>.</summary>
    public static int NameWidth(IEnumerable<string> names) => Math.Min(MaxNameWidth, Math.Max(8, names.Max(n => n.Length)));

    /// <summary>
    /// A scenario's row of the catalog table, one line or more: a name wider than <paramref name="nameWidth"/> wraps inside
    /// its cell after a '-' (mid-word only when no '-' fits), the other cells on its first line; nothing is cut.
    /// </summary>
    public static string Row(CheckResult result, int nameWidth)
    {
        var s = result.Statistics;
        var mark = result.ExpectationMet ? "ok  " : result.Verdict == Verdict.LimitReached ? "LIMIT" : "FAIL";
        var name = NameLines(result.Program.ScenarioName, nameWidth);
        var row = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{mark,-5} {name[0].PadRight(nameWidth)}  {result.Expected.ToString(),-15} {result.Outcome,-15} {s.States,11:N0} states {s.Seconds,7:0.00} s"));
        foreach (var more in name.Skip(1))
        {
            row.AppendLine().Append(' ', 6).Append(more);
        }
        return row.ToString();
    }

    /// <summary>A scenario name in lines of at most <paramref name="width"/>, each broken after a '-' where one fits.</summary>
    public static IReadOnlyList<string> NameLines(string name, int width)
    {
        var lines = new List<string>();
        while (name.Length > width)
        {
            var cut = name.LastIndexOf('-', width - 1);
            var take = cut > 0 ? cut + 1 : width;
            lines.Add(name[..take]);
            name = name[take..];
        }
        lines.Add(name);
        return lines;
    }

    /// <summary>The line that names the file of the scenarios listed after it (<c>file: catalog/seed004-sme.kflow</c>).</summary>
    public static string FileLine(string file) => $"file: {file}";

    /// <summary>The line after a table of scenarios: how many, and how many met their expectation, failed, or stopped at a limit
    /// (<c>51 scenarios: 51 ok</c>).</summary>
    public static string Summary(IReadOnlyCollection<CheckResult> results)
    {
        var ok = results.Count(r => r.ExpectationMet);
        var limit = results.Count(r => !r.ExpectationMet && r.Verdict == Verdict.LimitReached);
        var failed = results.Count - ok - limit;
        var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{ok} ok") };
        if (failed > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{failed} FAIL"));
        }
        if (limit > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{limit} LIMIT"));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{results.Count} {(results.Count == 1 ? "scenario" : "scenarios")}: {string.Join(", ", parts)}");
    }

    public static string Header(int nameWidth) =>
        $"{"",-5} {"scenario".PadRight(nameWidth)}  {"expected",-15} {"outcome",-15} {"states",18} {"time",9}";

    /// <summary>The full report of one scenario: verdict, statistics, and the counterexample with a column per CPU.</summary>
    public static string Full(CheckResult result, ReportModel? view, TextView textView = TextView.Table, bool showCaches = false)
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
            AppendCounterexample(builder, view, textView, showCaches);
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

    /// <summary>The width the text views fit in (a mail, a patch review): cells wrap inside it, nothing is cut.</summary>
    public const int Width = 100;

    /// <summary>The narrowest a CPU column gets: past that, a trace with many CPUs is wider than <see cref="Width"/>.</summary>
    public const int MinColumnWidth = 12;

    /// <summary>The widest the source column gets.</summary>
    private const int MaxSourceWidth = 24;

    /// <summary>
    /// The counterexample: the table (a column per CPU that acts in it, every cell wrapped to fit <see cref="Width"/>
    /// columns, the values of each step under its action), or with <see cref="TextView.Compact"/> one line per step;
    /// with <paramref name="showCaches"/>, the dirty cache lines after each step. Then the violation and the replay.
    /// </summary>
    public static void AppendCounterexample(StringBuilder builder, ReportModel view, TextView textView = TextView.Table, bool showCaches = false)
    {
        var putBack = view.Trace.PutBackSteps;
        builder.AppendLine(putBack == 0
            ? string.Create(CultureInfo.InvariantCulture, $"counterexample ({view.Steps.Count} steps):")
            : string.Create(CultureInfo.InvariantCulture,
                $"counterexample ({view.Steps.Count} steps, {putBack} of them write-backs, evictions or hlt() steps the reduced search does not take; --reduce none finds the full machine's shortest):"));
        if (textView == TextView.Compact)
        {
            AppendCompact(builder, view, showCaches);
        }
        else
        {
            AppendTable(builder, view, showCaches);
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

    /// <summary>The CPUs that have a lane in the table: every CPU a step is about (the others do nothing in the trace).</summary>
    public static IReadOnlyList<int> Lanes(ReportModel view)
    {
        var lanes = new SortedSet<int>();
        foreach (var step in view.Steps)
        {
            if (step.Cpu >= 0)
            {
                lanes.Add(step.Cpu);
            }
        }
        if (lanes.Count == 0)
        {
            lanes.Add(0);
        }
        return lanes.ToList();
    }

    private static void AppendTable(StringBuilder builder, ReportModel view, bool showCaches)
    {
        var lanes = Lanes(view);
        var sourceWidth = Math.Clamp(view.Steps.Where(s => s.Lane >= 0).Select(s => s.Where?.Length ?? 0).DefaultIfEmpty(0).Max(), "source".Length, MaxSourceWidth);
        // "  step " then a column per lane and one space after each, then the source column.
        const int StepWidth = 7;
        var columnWidth = Math.Max(MinColumnWidth, ((Width - StepWidth - sourceWidth) / lanes.Count) - 1);
        var idle = Enumerable.Range(0, view.Cpus).Where(c => !lanes.Contains(c)).ToList();
        if (idle.Count > 0)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"  (no step of {CpuList(idle)}: {(idle.Count == 1 ? "it has" : "they have")} no column)");
        }
        var header = new StringBuilder("  step ");
        foreach (var c in lanes)
        {
            header.Append(string.Create(CultureInfo.InvariantCulture, $"CPU {c}").PadRight(columnWidth)).Append(' ');
        }
        header.Append("source");
        builder.AppendLine(header.ToString().TrimEnd());
        if (view.InitialMessages.Count > 0)
        {
            builder.AppendLine("     0 the initial state");
            AppendMessages(builder, view.InitialMessages);
        }
        foreach (var row in view.Steps)
        {
            var environment = row.Lane < 0;
            if (environment)
            {
                // Memory and the environment (an eviction, a stray fault) across the row: no CPU's column is theirs.
                var lines = Wrap(string.Join("; ", row.Values.Select(x => x.Text).Prepend(row.Action)), Width - StepWidth);
                for (var line = 0; line < lines.Count; line++)
                {
                    builder.Append(line == 0 ? string.Create(CultureInfo.InvariantCulture, $"  {row.Number,4} ") : "       ").AppendLine(lines[line]);
                }
                AppendMessages(builder, row.Messages);
                if (showCaches)
                {
                    AppendDirtyLines(builder, view, row.Number, "       ");
                }
                continue;
            }
            var cells = new List<string>[lanes.Count];
            for (var i = 0; i < lanes.Count; i++)
            {
                var c = lanes[i];
                cells[i] = c == row.Cpu ? CellLines(row, columnWidth) : [];
            }
            var source = Wrap(row.Where ?? string.Empty, sourceWidth);
            var height = Math.Max(source.Count, cells.Max(c => c.Count));
            for (var line = 0; line < height; line++)
            {
                var text = new StringBuilder(line == 0 ? string.Create(CultureInfo.InvariantCulture, $"  {row.Number,4} ") : "       ");
                foreach (var cell in cells)
                {
                    text.Append((line < cell.Count ? cell[line] : string.Empty).PadRight(columnWidth)).Append(' ');
                }
                text.Append(line < source.Count ? source[line] : string.Empty);
                builder.AppendLine(text.ToString().TrimEnd());
            }
            AppendMessages(builder, row.Messages);
            if (showCaches)
            {
                AppendDirtyLines(builder, view, row.Number, "       ");
            }
        }
    }

    /// <summary>A CPU's cell: the action, then each value the step showed, every one wrapped to the column.</summary>
    private static List<string> CellLines(ReportStep row, int width)
    {
        var lines = Wrap(row.Action, width);
        foreach (var value in row.Values)
        {
            lines.AddRange(Wrap(value.Text, width, "  "));
        }
        return lines;
    }

    private static void AppendMessages(StringBuilder builder, IEnumerable<string> messages)
    {
        foreach (var message in messages)
        {
            foreach (var line in Wrap(message, Width - "       | ".Length))
            {
                builder.Append("       | ").AppendLine(line);
            }
        }
    }

    /// <summary>One line per step: number, lane, what it did with its values, and its source (<c>12 CPU1 wbinvd() … stop.kflow:93</c>).</summary>
    private static void AppendCompact(StringBuilder builder, ReportModel view, bool showCaches)
    {
        if (view.InitialMessages.Count > 0)
        {
            foreach (var message in view.InitialMessages)
            {
                builder.AppendLine(CultureInfo.InvariantCulture, $"0 init {message}");
            }
        }
        foreach (var row in view.Steps)
        {
            builder.AppendLine(CompactLine(row));
            foreach (var message in row.Messages)
            {
                builder.AppendLine(CultureInfo.InvariantCulture, $"  | {message}");
            }
            if (showCaches)
            {
                AppendDirtyLines(builder, view, row.Number, "  ");
            }
        }
    }

    /// <summary>A step in one line: <c>12 CPU1 WBINVD writes back data[0] (KEY_SME) at wbinvd() [write-back data[0] (KEY_SME) ← 1]  stop.kflow:93</c>.</summary>
    public static string CompactLine(ReportStep row)
    {
        var lane = row.Lane < 0 ? "env" : string.Create(CultureInfo.InvariantCulture, $"CPU{row.Cpu}");
        var what = row.Kind == Machine.TransitionKind.Step || row.Source is null ? row.Action : $"{row.Action} at {row.Source}";
        var values = row.Values.Count == 0 ? string.Empty : " [" + string.Join(", ", row.Values.Select(v => v.Text)) + "]";
        var where = row.Where is null ? string.Empty : "  " + row.Where;
        return string.Create(CultureInfo.InvariantCulture, $"{row.Number} {lane} {what}{values}{where}");
    }

    /// <summary>The dirty cache lines after step <paramref name="step"/>, per cache (its CPUs) and key.</summary>
    private static void AppendDirtyLines(StringBuilder builder, ReportModel view, int step, string indent)
    {
        var snapshot = view.SnapshotAfter(step);
        var parts = new List<string>();
        foreach (var cache in snapshot.Caches)
        {
            var dirty = cache.Entries.Where(e => e.Dirty).Select(e => $"{e.Name} ({e.KeyName}) = {BuiltinValues.FormatValue(e.Value)}").ToList();
            if (dirty.Count > 0)
            {
                parts.Add($"{CpuList(cache.Cpus)}: {string.Join(", ", dirty)}");
            }
        }
        var text = parts.Count == 0 ? "dirty: none" : "dirty: " + string.Join("; ", parts);
        foreach (var line in Wrap(text, Width - indent.Length - 2))
        {
            builder.Append(indent).Append("~ ").AppendLine(line);
        }
    }

    /// <summary>CPUs in words: <c>CPU 1</c>, <c>CPUs 0-3</c>, <c>CPUs 1,3</c>.</summary>
    public static string CpuList(IReadOnlyList<int> cpus)
    {
        if (cpus.Count == 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"CPU {cpus[0]}");
        }
        var parts = new List<string>();
        for (var i = 0; i < cpus.Count; i++)
        {
            var j = i;
            while (j + 1 < cpus.Count && cpus[j + 1] == cpus[j] + 1)
            {
                j++;
            }
            parts.Add(j == i ? cpus[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{cpus[i]}-{cpus[j]}"));
            i = j;
        }
        return "CPUs " + string.Join(",", parts);
    }

    /// <summary>
    /// <paramref name="text"/> in lines of at most <paramref name="width"/> characters, broken at spaces; a word longer than
    /// a line goes on over the next ones (nothing is cut), broken after a '(', '[' or ',' where one fits. Lines after the first start with <paramref name="indent"/> too
    /// when it is given for them.
    /// </summary>
    public static List<string> Wrap(string text, int width, string firstIndent = "")
    {
        var lines = new List<string>();
        width = Math.Max(width, 4);
        var current = new StringBuilder(firstIndent);
        var fresh = true;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var needed = fresh ? word.Length : current.Length + 1 + word.Length;
            if (!fresh && needed > width)
            {
                lines.Add(current.ToString());
                current.Clear().Append(firstIndent.Length > 0 ? firstIndent + " " : " ");
                fresh = true;
            }
            if (!fresh)
            {
                current.Append(' ');
            }
            var rest = word;
            while (current.Length + rest.Length > width)
            {
                var room = width - current.Length;
                if (room <= 0)
                {
                    lines.Add(current.ToString());
                    current.Clear();
                    continue;
                }
                // Break after an opening parenthesis, bracket or comma when one fits (a call's name stays whole), else at the edge.
                var cut = rest.AsSpan(0, room).LastIndexOfAny("([,") + 1;
                if (cut <= 0 || (current.Length == 0 && cut < room / 3))
                {
                    cut = room;
                }
                current.Append(rest[..cut]);
                lines.Add(current.ToString());
                current.Clear();
                rest = rest[cut..];
            }
            current.Append(rest);
            fresh = false;
        }
        if (current.Length > 0 || lines.Count == 0)
        {
            lines.Add(current.ToString());
        }
        return lines;
    }
}

/// <summary>How the text report shows a counterexample: a table with a column per CPU, or one line per step.</summary>
public enum TextView
{
    Table,
    Compact,
}
