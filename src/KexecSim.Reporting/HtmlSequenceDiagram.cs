using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// The HTML report's sequence diagram and step data, from a report model: time runs down, a row per step (runs of
/// uneventful steps collapsed into one row), a lane per CPU with its mode as a coloured band, a lane per memory
/// line the run changes (in memory or in a cache) and a firmware lane; IPIs, NMIs, INITs, stray faults, monitor
/// wake-ups, write-backs, stores and firmware commands as arrows. Built as an XML tree: the writer escapes every
/// text and attribute.
/// </summary>
public sealed class HtmlSequenceDiagram
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    // Geometry, in SVG user units (pixels at 100%).
    private const int RowHeight = 30, HeaderHeight = 64, NumberWidth = 44, LeftPad = 64, CpuLaneWidth = 150, LineLaneWidth = 124, FirmwareLaneWidth = 124;
    private const int TextGap = 16, MinTextWidth = 360, BandWidth = 14, ExplanationChars = 110;

    /// <summary>A run of at least this many uneventful steps is drawn as one row.</summary>
    public const int CollapseAtLeast = 3;

    /// <summary>The SVG element, serialized.</summary>
    public required string Svg { get; init; }

    /// <summary>What the step-through shows, serialized as JSON by the report.</summary>
    public required DiagramData Data { get; init; }

    /// <summary>The source files the steps are in, in the order first met.</summary>
    public required IReadOnlyList<(string Path, IReadOnlyList<string> Lines)> Sources { get; init; }

    /// <summary>The lanes, left to right: CPUs, memory lines, then firmware.</summary>
    public required IReadOnlyList<Lane> Lanes { get; init; }

    /// <summary>One lane: its kind ("cpu", "line", "firmware"), its title and its centre.</summary>
    public sealed record Lane(string Kind, string Title, int Index, double X);

    public static HtmlSequenceDiagram Build(ReportModel model) => new Builder(model).Build();

    private sealed class Builder(ReportModel model)
    {
        private readonly List<MachineSnapshot> _snapshots = Enumerable.Range(0, model.Steps.Count + 1).Select(model.SnapshotAfter).ToList();
        private readonly List<IReadOnlyList<CpuSnapshot>> _cpus = Enumerable.Range(0, model.Steps.Count + 1).Select(model.CpusAfter).ToList();
        private readonly List<SourceText> _sources = [];
        private readonly Dictionary<int, double> _lineX = [];
        private readonly List<Lane> _lanes = [];
        private double _firmwareX = -1;
        private double _width;

        public HtmlSequenceDiagram Build()
        {
            var violationStep = model.Violation is not null && model.Steps.Count > 0 ? model.Steps[^1].Number : 0;
            LayOutLanes();
            var rows = Rows(violationStep);
            var rowOfStep = new int[model.Steps.Count + 1];
            for (var r = 0; r < rows.Count; r++)
            {
                for (var s = rows[r].First; s <= rows[r].Last; s++)
                {
                    rowOfStep[s] = r;
                }
            }
            var explanation = model.Violation is { } violated && violationStep > 0
                ? Wrap($"✖ {violated.Code.Name()}{(model.Trace.ViolationIsTerminal ? " (after this step)" : string.Empty)}: {model.Rule}", ExplanationChars)
                : [];
            var explanationHeight = 8 + explanation.Count * 17;
            var rowY = new double[rows.Count];
            var y = (double)HeaderHeight;
            for (var r = 0; r < rows.Count; r++)
            {
                rowY[r] = y;
                y += RowHeight + (rows[r].Last == violationStep && violationStep > 0 ? explanationHeight : 0);
            }
            var height = y + 8;
            var textX = _width + TextGap;
            // Monospace text at 12.5px is about 7.6px a character: the column is as wide as its longest row.
            var longest = model.Steps.Max(s => (s.Lane >= 0 ? $"CPU {s.Cpu}: {s.Action}" : s.Action).Length + (s.Where?.Length ?? 0) + 2);
            var totalWidth = Math.Max(textX + Math.Max(MinTextWidth, longest * 7.6 + 24), NumberWidth + ExplanationChars * 7.2);

            var svg = new XElement(SvgNs + "svg",
                new XAttribute("id", "diagram"),
                new XAttribute("width", F(totalWidth)),
                new XAttribute("height", F(height)),
                new XAttribute("viewBox", $"0 0 {F(totalWidth)} {F(height)}"),
                new XAttribute("role", "img"),
                new XAttribute("aria-label", $"sequence diagram of {model.Program.ScenarioName}: {model.Steps.Count} steps"),
                Definitions());

            // Lane titles and guide lines.
            var lanes = new XElement(SvgNs + "g", new XAttribute("class", "lanes"));
            foreach (var lane in _lanes)
            {
                lanes.Add(new XElement(SvgNs + "g",
                    new XAttribute("class", $"lane lane-{lane.Kind}"),
                    new XAttribute("data-lane", lane.Title),
                    new XElement(SvgNs + "line", Attr("x1", lane.X), Attr("x2", lane.X), Attr("y1", HeaderHeight - 8), Attr("y2", height - 4), new XAttribute("class", "guide")),
                    Text(lane.X, 22, lane.Title, "lane-title"),
                    Text(lane.X, 40, lane.Kind switch { "cpu" => "CPU", "line" => "memory line", _ => "SEV firmware" }, "lane-kind")));
            }
            svg.Add(lanes);

            // Row backgrounds (the hit areas of a click, and where the highlight goes).
            var rowsGroup = new XElement(SvgNs + "g", new XAttribute("class", "rows"));
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                var collapsed = row.Last > row.First;
                var isViolation = row.Last == violationStep && violationStep > 0;
                var group = new XElement(SvgNs + "g",
                    new XAttribute("class", "step" + (collapsed ? " collapsed" : string.Empty) + (isViolation ? " violation" : string.Empty) + (row.First == 0 ? " initial" : string.Empty)),
                    new XAttribute("id", row.First == 0 ? "step-0" : collapsed ? $"steps-{row.First}-{row.Last}" : $"step-{row.First}"),
                    new XAttribute("data-first", row.First.ToString(CultureInfo.InvariantCulture)),
                    new XAttribute("data-last", row.Last.ToString(CultureInfo.InvariantCulture)),
                    new XAttribute("data-row", N(r)),
                    new XElement(SvgNs + "rect", new XAttribute("class", "row-bg"), Attr("x", 0), Attr("y", rowY[r]), Attr("width", totalWidth),
                        Attr("height", RowHeight + (isViolation ? explanationHeight : 0))),
                    Text(NumberWidth - 10, rowY[r] + 19, row.First == 0 ? "init" : collapsed ? $"{row.First}–{row.Last}" : row.First.ToString(CultureInfo.InvariantCulture), "step-number", "end"));
                if (collapsed)
                {
                    // A collapsed row is a toggle (click, Enter or Space): the script lays the steps inside out under it.
                    group.Add(new XAttribute("tabindex", "0"), new XAttribute("role", "button"), new XAttribute("aria-expanded", "false"),
                        new XAttribute("aria-label", $"steps {row.First} to {row.Last}, collapsed: expand"));
                }
                rowsGroup.Add(group);
            }
            svg.Add(rowsGroup);

            // Mode bands: one rectangle per run of rows in which a CPU keeps its mode.
            var bands = new XElement(SvgNs + "g", new XAttribute("class", "bands"));
            for (var cpu = 0; cpu < model.Cpus; cpu++)
            {
                var start = 0;
                for (var r = 1; r <= rows.Count; r++)
                {
                    if (r < rows.Count && ModeName(_cpus[rows[r].Last][cpu]) == ModeName(_cpus[rows[start].Last][cpu]))
                    {
                        continue;
                    }
                    var mode = ModeName(_cpus[rows[start].Last][cpu]);
                    var top = rowY[start] + 3;
                    var bottom = (r < rows.Count ? rowY[r] : height - 8) + 3;
                    // The band runs just left of the lane's line, so that arrows and markers on the line leave its label clear.
                    var x = _lanes[cpu].X - BandWidth / 2.0 - 6;
                    // The band's rows (first, last): an expanded row inside stretches it, one above moves it down.
                    var band = new XElement(SvgNs + "g", new XAttribute("class", "band-run"), new XAttribute("data-from", N(start)), new XAttribute("data-to", N(r - 1)));
                    bands.Add(band);
                    band.Add(new XElement(SvgNs + "rect",
                        new XAttribute("class", $"band mode-{ModeClass(mode)}"),
                        Attr("x", x - BandWidth / 2.0), Attr("y", top), Attr("width", BandWidth), Attr("height", Math.Max(2, bottom - top - 6)), Attr("rx", 3),
                        new XElement(SvgNs + "title", $"CPU {cpu}: {mode} (rows {start}–{r - 1})")));
                    // The mode's name runs down inside its band, where the band is long enough to hold it.
                    if (bottom - top - 6 >= mode.Length * 6.2 + 8)
                    {
                        var label = Text(x, top + 4, mode, "band-label", "start");
                        label.Add(new XAttribute("transform", $"rotate(90 {F(x)} {F(top + 4)})"), new XAttribute("dy", "3.2"));
                        band.Add(label);
                    }
                    start = r;
                }
            }
            svg.Add(bands);

            // Memory-line states: a thin band from the row a line is clobbered or poisoned.
            var marks = new XElement(SvgNs + "g", new XAttribute("class", "line-marks"));
            foreach (var (line, x) in _lineX.OrderBy(p => p.Value))
            {
                for (var r = 0; r < rows.Count; r++)
                {
                    var state = _snapshots[rows[r].Last].Lines[line];
                    if (state.Clobbered || state.Poisoned)
                    {
                        marks.Add(new XElement(SvgNs + "rect", new XAttribute("class", state.Poisoned ? "line-poisoned" : "line-clobbered"), new XAttribute("data-row", N(r)),
                            Attr("x", x - 3), Attr("y", rowY[r]), Attr("width", 6), Attr("height", RowHeight)));
                    }
                }
            }
            svg.Add(marks);

            // Each row's arrows and markers, then its words.
            var arrows = new XElement(SvgNs + "g", new XAttribute("class", "arrows"));
            var words = new XElement(SvgNs + "g", new XAttribute("class", "words"));
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                var mid = rowY[r] + RowHeight / 2.0;
                // A row's words and arrows in a group of its own, which the script moves down when a row above expands.
                var rowWords = new XElement(SvgNs + "g", new XAttribute("data-row", N(r)));
                var rowArrows = new XElement(SvgNs + "g", new XAttribute("data-row", N(r)));
                words.Add(rowWords);
                if (row.First == 0)
                {
                    rowWords.Add(Text(textX, mid + 4, model.InitialMessages.Count > 0 ? $"initial state · {string.Join(" · ", model.InitialMessages)}" : "initial state (after the init blocks)", "what", "start"));
                    continue;
                }
                if (row.Last > row.First)
                {
                    var who = model.Steps.Skip(row.First - 1).Take(row.Last - row.First + 1).Select(s => s.Cpu).Distinct().Order().Select(c => $"CPU {c}");
                    rowWords.Add(Text(textX, mid + 4, $"⋯ {row.Last - row.First + 1} uneventful steps ({string.Join(", ", who)}): nothing sent, written or changed mode", "what collapsed-text", "start"));
                    continue;
                }
                var step = model.Steps[row.First - 1];
                DrawStep(rowArrows, step, mid);
                if (rowArrows.HasElements)
                {
                    arrows.Add(rowArrows);
                }
                var label = step.Lane >= 0 ? $"CPU {step.Cpu}: {step.Action}" : step.Action;
                var where = step.Where is null ? string.Empty : $"  {step.Where}";
                var text = Text(textX, mid + 4, label, "what", "start");
                text.Add(new XAttribute("data-step", N(step.Number)));
                text.Add(new XElement(SvgNs + "tspan", new XAttribute("class", "where"), where));
                text.AddFirst(new XElement(SvgNs + "title", $"step {step.Number}: {step.Description}{where}"));
                rowWords.Add(text);
                if (row.Last == violationStep && violationStep > 0)
                {
                    var note = new XElement(SvgNs + "g", new XAttribute("id", "violation-explanation"), new XAttribute("data-step", N(row.First)));
                    for (var l = 0; l < explanation.Count; l++)
                    {
                        note.Add(Text(NumberWidth, mid + 28 + l * 17, explanation[l], "violation-text", "start"));
                    }
                    rowWords.Add(note);
                }
            }
            svg.Add(arrows);
            svg.Add(words);

            var sourceIndex = new Dictionary<SourceText, int>();
            foreach (var source in _sources)
            {
                sourceIndex[source] = sourceIndex.Count;
            }
            return new HtmlSequenceDiagram
            {
                Svg = Serialize(svg),
                Lanes = _lanes,
                Sources = _sources.Select(s => (s.Path, (IReadOnlyList<string>)s.Text.ReplaceLineEndings("\n").Split('\n'))).ToList(),
                Data = new DiagramData(
                    model.Program.ScenarioName,
                    violationStep,
                    model.Steps.Select(s => StepData(s, rowOfStep[s.Number], sourceIndex)).Prepend(InitialData()).ToList(),
                    _snapshots.Select((snapshot, i) => SnapshotData(snapshot, _cpus[i])).ToList(),
                    new LayoutData(RowHeight, NumberWidth - 10, textX)),
            };
        }

        private void LayOutLanes()
        {
            var x = (double)NumberWidth + LeftPad;
            for (var cpu = 0; cpu < model.Cpus; cpu++)
            {
                _lanes.Add(new Lane("cpu", $"CPU {cpu}", cpu, x + CpuLaneWidth / 2.0));
                x += CpuLaneWidth;
            }
            // Memory lanes: every line the run changes in memory or writes into a cache, and the line the violation names.
            var touched = new SortedSet<int>();
            if (model.Violation is { Line: >= 0 } v)
            {
                touched.Add(v.Line);
            }
            for (var i = 1; i < _snapshots.Count; i++)
            {
                foreach (var line in ChangedLines(i))
                {
                    touched.Add(line);
                }
                foreach (var (_, entry) in Stores(i))
                {
                    touched.Add(entry.Line);
                }
            }
            foreach (var line in touched)
            {
                _lineX[line] = x + LineLaneWidth / 2.0;
                _lanes.Add(new Lane("line", _snapshots[0].Lines[line].Name, line, x + LineLaneWidth / 2.0));
                x += LineLaneWidth;
            }
            var firmware = model.Program.Platform.FeatureFlags.HasFlag(PlatformFeatures.SevSnp)
                || model.Steps.Any(s => s.Events.OfType<FirmwareCommandRun>().Any());
            if (firmware)
            {
                _firmwareX = x + FirmwareLaneWidth / 2.0;
                _lanes.Add(new Lane("firmware", "firmware", 0, _firmwareX));
                x += FirmwareLaneWidth;
            }
            _width = x;
            foreach (var step in model.Steps)
            {
                if (step.Location is { } at && !_sources.Contains(at.Source))
                {
                    _sources.Add(at.Source);
                }
            }
            if (model.Violation?.Location is { } where && !_sources.Contains(where.Source))
            {
                _sources.Add(where.Source);
            }
        }

        /// <summary>The lines whose memory (value, key, marks) step <paramref name="i"/> changed.</summary>
        private IEnumerable<int> ChangedLines(int i)
        {
            var before = _snapshots[i - 1].Lines;
            var after = _snapshots[i].Lines;
            for (var l = 0; l < after.Count; l++)
            {
                if (before[l] != after[l])
                {
                    yield return l;
                }
            }
        }

        /// <summary>The dirty cache entries step <paramref name="i"/> made or changed: stores (cache index, entry).</summary>
        private IEnumerable<(int Cache, CachedLine Entry)> Stores(int i)
        {
            var before = _snapshots[i - 1].Caches;
            var after = _snapshots[i].Caches;
            for (var c = 0; c < after.Count; c++)
            {
                foreach (var entry in after[c].Entries)
                {
                    if (entry.Dirty && !before[c].Entries.Contains(entry))
                    {
                        yield return (c, entry);
                    }
                }
            }
        }

        private bool ModeChanged(int i)
        {
            for (var cpu = 0; cpu < model.Cpus; cpu++)
            {
                if (ModeName(_cpus[i - 1][cpu]) != ModeName(_cpus[i][cpu]))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>A step with nothing to draw but its CPU's own step: no event but the step and its fetches, choices and the values it read or computed, no change of mode, memory or dirty cache entries, nothing printed.</summary>
        private bool Uneventful(ReportStep step, int violationStep) =>
            step.Number != violationStep
            && step.Kind == TransitionKind.Step
            && step.Messages.Count == 0
            && step.Events.All(e => e is CpuStepped or LineFetched or ChoiceTaken or VariableRead or LocalAssigned or FunctionCalled
                or IntrinsicReturned or FunctionReturned
                || e is LineAccessed { Access: LineAccess.Load })
            && !ModeChanged(step.Number)
            && !ChangedLines(step.Number).Any()
            && !Stores(step.Number).Any();

        /// <summary>The rows: the initial state, then a row per step, a run of <see cref="CollapseAtLeast"/> or more uneventful steps as one.</summary>
        private List<(int First, int Last)> Rows(int violationStep)
        {
            var rows = new List<(int First, int Last)> { (0, 0) };
            var i = 0;
            while (i < model.Steps.Count)
            {
                var j = i;
                while (j < model.Steps.Count && Uneventful(model.Steps[j], violationStep))
                {
                    j++;
                }
                if (j - i >= CollapseAtLeast)
                {
                    rows.Add((model.Steps[i].Number, model.Steps[j - 1].Number));
                    i = j;
                    continue;
                }
                rows.Add((model.Steps[i].Number, model.Steps[i].Number));
                i++;
            }
            return rows;
        }

        private void DrawStep(XElement arrows, ReportStep step, double mid)
        {
            var n = step.Number;
            var from = step.Lane >= 0 ? _lanes[step.Lane].X : NumberWidth;
            var planned = new List<(double From, double To, string Kind, string Label)>();
            if (step.Lane >= 0)
            {
                arrows.Add(new XElement(SvgNs + "circle", new XAttribute("class", "actor"), Attr("cx", from), Attr("cy", mid), Attr("r", 5)));
            }
            foreach (var e in step.Events)
            {
                switch (e)
                {
                    case EventSent sent:
                        var name = sent.Kind switch
                        {
                            SentEvent.Vector => $"IPI {model.Narration.VectorName(sent.VectorIndex)}",
                            SentEvent.Nmi => "NMI",
                            _ => "INIT",
                        };
                        planned.Add((_lanes[sent.Cpu].X, _lanes[sent.Target].X, sent.Kind switch { SentEvent.Vector => "ipi", SentEvent.Nmi => "nmi", _ => "init" }, name));
                        break;
                    case FaultInjected fault:
                        planned.Add((NumberWidth, _lanes[fault.Cpu].X, "fault", $"stray {fault.Kind.ToString().ToUpperInvariant()}"));
                        break;
                    case EventDelivered delivered:
                        arrows.Add(Marker(_lanes[delivered.Cpu].X, mid, "delivered", delivered.Kind switch
                        {
                            EventKind.Vector => $"takes {model.Narration.VectorName(delivered.VectorIndex)}",
                            EventKind.Nmi => "takes NMI",
                            EventKind.Smi => "takes SMI",
                            _ => "takes #MC",
                        }));
                        break;
                    case InitApplied init:
                        arrows.Add(Marker(_lanes[init.Target].X, mid, "init-applied", "INIT → wait-for-SIPI"));
                        break;
                    case InitHeldPending held:
                        arrows.Add(Marker(_lanes[held.Target].X, mid, "init-held", "INIT held pending"));
                        break;
                    case LineWrittenBack wb when _lineX.TryGetValue(wb.Line, out var lineX):
                        planned.Add((CacheLaneX(wb.Cache, step), lineX, "writeback", $"write-back {BuiltinValues.FormatKey(wb.Key)}"));
                        break;
                    case FirmwareCommandRun command when _firmwareX >= 0:
                        planned.Add((_lanes[command.Cpu].X, _firmwareX, "firmware", $"{Narration.FirmwareCommand(command.Command)} → {Narration.FirmwareStatus(command.Status)}"));
                        break;
                    case NextKernelBooted booted:
                        arrows.Add(Marker(_lanes[booted.Cpu].X, mid, "next-kernel", "boots next kernel"));
                        break;
                    case RunFinished finished:
                        arrows.Add(Marker(_lanes[finished.Cpu].X, mid, "finished", finished.PlatformReset ? "platform_reset()" : "done()"));
                        break;
                    case WarningHit warning:
                        arrows.Add(Marker(_lanes[warning.Cpu].X, mid, "warning", "WARN"));
                        break;
                }
            }
            // Monitor wake-ups: a CPU in MWAIT before the step and out of it after, woken by another lane's step.
            for (var cpu = 0; cpu < model.Cpus; cpu++)
            {
                if (cpu != step.Cpu && _cpus[n - 1][cpu].Mode == CpuMode.Mwait && _cpus[n][cpu].Mode != CpuMode.Mwait)
                {
                    planned.Add((from, _lanes[cpu].X, "wake", "monitor wake-up"));
                }
            }
            // Memory changes that are not write-backs (stores through to memory, image copies, the next kernel's
            // writes, clobbering, poison), and stores into a cache.
            var writtenBack = step.Events.OfType<LineWrittenBack>().Select(w => w.Line).ToHashSet();
            foreach (var line in ChangedLines(n))
            {
                if (writtenBack.Contains(line) || !_lineX.TryGetValue(line, out var lineX))
                {
                    continue;
                }
                var (before, after) = (_snapshots[n - 1].Lines[line], _snapshots[n].Lines[line]);
                var written = $"{BuiltinValues.FormatValue(after.NewValue ?? after.Value)} · {BuiltinValues.FormatKey(after.NewKey ?? after.Key)}";
                var (kind, words) = after.Poisoned && !before.Poisoned ? ("poison", "poisons")
                    : after.Clobbered && !before.Clobbered ? ("clobber", $"clobbers: {written}")
                    : ("write", $"writes {written}");
                planned.Add((from, lineX, kind, words));
            }
            foreach (var (cache, entry) in Stores(n))
            {
                if (_lineX.TryGetValue(entry.Line, out var lineX) && step.Lane >= 0)
                {
                    planned.Add((CacheLaneX(cache, step), lineX, "store", $"store (cached) · {entry.KeyName}"));
                }
            }
            // Arrows of one step between the same two lanes are one arrow (a copy that clobbers a line in memory
            // and leaves it dirty in the cache), its labels joined: labels of one row then seldom overlap.
            var slot = 0;
            foreach (var same in planned.GroupBy(a => (a.From, a.To)))
            {
                arrows.Add(Arrow(same.Key.From, same.Key.To, mid, same.First().Kind, string.Join(" + ", same.Select(a => a.Label)), slot++));
            }
        }

        /// <summary>The lane of the CPU a cache belongs to (a shared cache: the CPU whose step it is).</summary>
        private double CacheLaneX(int cache, ReportStep step)
        {
            var cpus = _snapshots[0].Caches[cache].Cpus;
            var cpu = cpus.Count == 1 ? cpus[0] : step.Cpu >= 0 ? step.Cpu : cpus[0];
            return _lanes[cpu].X;
        }

        private XElement Arrow(double x1, double x2, double y, string kind, string label, int slot)
        {
            // Several arrows in one row are spread a little apart vertically, with labels above each.
            // The first arrow sits on the row's middle with its label above; a second just below with its label
            // under it; a third above the first.
            // Their labels sit at different points along the arrows, so that labels of one row do not overlap.
            var (dy, labelDy, along) = (slot % 3) switch { 0 => (0, -5, 0.42), 1 => (6, 17, 0.74), _ => (-7, -11, 0.58) };
            var ay = y + dy;
            var group = new XElement(SvgNs + "g", new XAttribute("class", $"arrow arrow-{kind}"));
            if (Math.Abs(x2 - x1) < 1)
            {
                // To itself: a small loop.
                group.Add(new XElement(SvgNs + "path", new XAttribute("d", $"M {F(x1 + 6)} {F(ay - 6)} C {F(x1 + 30)} {F(ay - 14)} {F(x1 + 30)} {F(ay + 10)} {F(x1 + 8)} {F(ay + 4)}"),
                    new XAttribute("marker-end", $"url(#head-{kind})")));
                group.Add(Text(x1 + 34, ay + 4, label, "arrow-label", "start"));
            }
            else
            {
                var direction = Math.Sign(x2 - x1);
                group.Add(new XElement(SvgNs + "line", Attr("x1", x1 + direction * 6), Attr("y1", ay), Attr("x2", x2 - direction * 7), Attr("y2", ay),
                    new XAttribute("marker-end", $"url(#head-{kind})")));
                group.Add(Text(x1 + (x2 - x1) * along, ay + labelDy, label, "arrow-label"));
            }
            group.AddFirst(new XElement(SvgNs + "title", label));
            return group;
        }

        private XElement Marker(double x, double y, string kind, string label) =>
            new(SvgNs + "g", new XAttribute("class", $"marker marker-{kind}"),
                new XElement(SvgNs + "title", label),
                new XElement(SvgNs + "rect", Attr("x", x - 5), Attr("y", y - 5), Attr("width", 10), Attr("height", 10), Attr("rx", 2), new XAttribute("transform", $"rotate(45 {F(x)} {F(y)})")),
                Text(x - 2 * BandWidth - 4, y + 4, label, "marker-label", "end"));

        private static XElement Definitions()
        {
            var defs = new XElement(SvgNs + "defs");
            foreach (var kind in new[] { "ipi", "nmi", "init", "fault", "writeback", "firmware", "wake", "write", "clobber", "poison", "store" })
            {
                defs.Add(new XElement(SvgNs + "marker",
                    new XAttribute("id", $"head-{kind}"), new XAttribute("class", $"head head-{kind}"),
                    new XAttribute("viewBox", "0 0 10 10"), new XAttribute("refX", "8"), new XAttribute("refY", "5"),
                    new XAttribute("markerWidth", "7"), new XAttribute("markerHeight", "7"), new XAttribute("orient", "auto-start-reverse"),
                    new XElement(SvgNs + "path", new XAttribute("d", "M 0 0 L 10 5 L 0 10 z"))));
            }
            return defs;
        }

        private StepData InitialData() => new(0, 0, -1, "Initial", "the initial state, after the init blocks and the CPUs' first local steps", "initial state", null, -1, 0, [.. model.InitialMessages], []);

        private StepData StepData(ReportStep step, int row, Dictionary<SourceText, int> sources)
        {
            var (file, line) = step.Location is { } at ? (sources[at.Source], at.Position.Line) : (-1, 0);
            return new StepData(step.Number, row, step.Cpu, step.Kind.ToString(), step.Description, step.Action, step.Where, file, line, [.. step.Messages],
                [.. step.Values.Select(v => v.Text)]);
        }

        private static SnapshotData SnapshotData(MachineSnapshot snapshot, IReadOnlyList<CpuSnapshot> cpus) => new(
            cpus.Select(c => ModeName(c)).ToList(),
            snapshot.Caches.Select(c => new CacheData(c.Index, [.. c.Cpus], c.Entries.Select(e => new EntryData(e.Name, e.KeyName, BuiltinValues.FormatValue(e.Value), e.Dirty)).ToList())).ToList(),
            snapshot.Lines.Select(l => new LineData(l.Name, BuiltinValues.FormatValue(l.Value), l.KeyName, LineMarks(l))).ToList());

        private static List<string> LineMarks(LineSnapshot line)
        {
            var marks = new List<string>();
            if (line.Clobbered)
            {
                marks.Add("clobbered");
            }
            if (line.Poisoned)
            {
                marks.Add("poisoned");
            }
            if (line.TdOwned)
            {
                marks.Add("TD-owned");
            }
            if (line.NewValue is { } value)
            {
                marks.Add($"expects {BuiltinValues.FormatValue(value)} ({BuiltinValues.FormatKey(line.NewKey ?? 0)})");
            }
            return marks;
        }
    }

    /// <summary>A CPU's mode as the report names it: the next kernel's running CPUs apart from the old kernel's.</summary>
    public static string ModeName(CpuSnapshot cpu) => cpu.Mode switch
    {
        CpuMode.Running when cpu.NextKernel => "NEXT_KERNEL",
        CpuMode.Running => "RUNNING",
        CpuMode.Halted => "HALTED",
        CpuMode.Mwait => "MWAIT",
        CpuMode.WaitForSipi => "WAIT_FOR_SIPI",
        CpuMode.InWbinvd => "IN_WBINVD",
        _ => "FINISHED",
    };

    private static string ModeClass(string mode) => mode.ToLowerInvariant().Replace('_', '-');

    /// <summary>Words in lines of at most <paramref name="width"/> characters (a longer word on a line of its own).</summary>
    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            line.Append(line.Length > 0 ? " " : string.Empty).Append(word);
        }
        if (line.Length > 0)
        {
            lines.Add(line.ToString());
        }
        return lines;
    }

    private static string N(int number) => number.ToString(CultureInfo.InvariantCulture);

    private static XElement Text(double x, double y, string text, string cssClass, string anchor = "middle") =>
        new(SvgNs + "text", Attr("x", x), Attr("y", y), new XAttribute("class", cssClass), new XAttribute("text-anchor", anchor), text);

    private static XAttribute Attr(string name, double value) => new(name, F(value));

    private static string F(double value) => Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Serialize(XElement svg)
    {
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Indent = false, NewLineHandling = NewLineHandling.Entitize };
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        using (var xml = XmlWriter.Create(writer, settings))
        {
            svg.WriteTo(xml);
        }
        return writer.ToString();
    }
}

/// <summary>What the report's script steps through: every step and the machine after it (index 0: the initial state).</summary>
public sealed record DiagramData(string Scenario, int ViolationStep, IReadOnlyList<StepData> Steps, IReadOnlyList<SnapshotData> Snapshots, LayoutData Layout);

/// <summary>Where the script draws the steps of an expanded row: the row height, the step number's right edge and the words' left edge.</summary>
public sealed record LayoutData(double RowHeight, double NumberX, double TextX);

/// <summary>One step for the script: its row in the diagram, its words and the source line it ran (file -1: none).</summary>
public sealed record StepData(int Number, int Row, int Cpu, string Kind, string Description, string Action, string? Where, int File, int Line, IReadOnlyList<string> Messages,
    IReadOnlyList<string> Values);

/// <summary>The machine after a step, for the script: each CPU's mode, each cache's entries, each memory line.</summary>
public sealed record SnapshotData(IReadOnlyList<string> Modes, IReadOnlyList<CacheData> Caches, IReadOnlyList<LineData> Lines);

public sealed record CacheData(int Index, IReadOnlyList<int> Cpus, IReadOnlyList<EntryData> Entries);

public sealed record EntryData(string Line, string Key, string Value, bool Dirty);

public sealed record LineData(string Name, string Value, string Key, IReadOnlyList<string> Marks);
