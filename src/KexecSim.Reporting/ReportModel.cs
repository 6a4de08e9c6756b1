using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// A counterexample replayed once into what every writer renders (text, JSON, trace files; KTAP and JUnit
/// through <see cref="CheckedScenario"/>): the steps with their lanes, spans and typed events, what the
/// initial state printed, the violation and its rule in words, and the replay's verdict; and, on demand, the
/// caches and memory lines after any step (<see cref="SnapshotAfter"/>).
/// </summary>
public sealed class ReportModel
{
    /// <summary>The scenario's program.</summary>
    public required CompiledProgram Program { get; init; }

    /// <summary>The trace the model was replayed from.</summary>
    public required Trace Trace { get; init; }

    /// <summary>The steps replayed (all of them unless the replay diverged).</summary>
    public required IReadOnlyList<ReportStep> Steps { get; init; }

    /// <summary>The violation replayed (else the one recorded); null for a trace that records none and commits none.</summary>
    public required Violation? Violation { get; init; }

    /// <summary>The violation's rule in words, with the step that clobbered its line when there is one.</summary>
    public required string Rule { get; init; }

    public required ReplayResult Replay { get; init; }

    /// <summary>How many CPU lanes the model has.</summary>
    public required int Cpus { get; init; }

    /// <summary>What the init blocks and the CPUs' first local steps did, before step 1.</summary>
    public required IReadOnlyList<StepEvent> InitialEvents { get; init; }

    /// <summary>What was printed before step 1 (init blocks, the CPUs' first local steps).</summary>
    public required IReadOnlyList<string> InitialMessages { get; init; }

    // The state vector after each step replayed (index 0: the initial state), decoded by SnapshotAfter.
    private readonly List<long[]> _states = [];

    private MachineLayout? _layout;

    /// <summary>The narration table of the model's program.</summary>
    public required Narration Narration { get; init; }

    /// <summary>Replays <paramref name="trace"/> once and builds the model.</summary>
    /// <param name="checkFairness">Whether a LIVELOCK's fairness is re-checked (see <see cref="Replayer.CheckFairness"/>).</param>
    /// <param name="timed">A trace of a timed run: its waits may time out by the clock (<see cref="Replayer.WaitsExpireByClock"/>).</param>
    public static ReportModel Build(CompiledProgram program, Trace trace, bool checkFairness = true, bool timed = false)
    {
        var replayer = new Replayer(program) { CheckFairness = checkFairness, WaitsExpireByClock = timed };
        var narration = new Narration(program);
        var steps = new List<ReportStep>();
        var clobberedAt = new Dictionary<int, int>();
        var states = new List<long[]>();
        var sourcePaths = new Dictionary<string, string>(StringComparer.Ordinal);
        string SourcePathOf(string path)
        {
            if (!sourcePaths.TryGetValue(path, out var shown))
            {
                sourcePaths[path] = shown = SourcePath(program, path);
            }
            return shown;
        }
        var replay = replayer.Replay(trace, (step, state) =>
        {
            states.Add(state.Span.ToArray());
            var kind = step.Step.Transition.Kind;
            // The path of the file that ran, as the diagnostics show it: a patched copy of a library flow and
            // the built-in one are told apart.
            var where = step.Location is { } l ? $"{SourcePathOf(l.Source.Path)}:{l.Position.Line}" : null;
            var source = step.Location is { } at ? (step.AtBackEdge ? $"loop back-edge ({where})" : Snippet(at)) : null;
            var action = kind == TransitionKind.Step && source is not null ? source : narration.DescribeInLane(step.Action);
            var cpu = kind == TransitionKind.Evict ? -1 : step.Cpu;
            var lane = kind is TransitionKind.Evict or TransitionKind.Inject ? -1 : cpu;
            steps.Add(new ReportStep(step.Number, step.Step, cpu, lane, step.Location, step.Function, step.Action, narration.Describe(step.Action), action,
                kind == TransitionKind.Step ? null : source, where, step.AtBackEdge, step.Events, narration.Messages(step.Events), narration.Values(step.Events)));
            for (var i = 0; i < state.Lines.Length; i++)
            {
                if ((state.Lines[i].Flags & LineFlags.Clobbered) != 0 && !clobberedAt.ContainsKey(i))
                {
                    clobberedAt[i] = step.Number;
                }
            }
        }, initial => states.Add(initial.Span.ToArray()));
        var violation = replay.Violation ?? trace.Violation;
        var rule = violation is null ? string.Empty : narration.Text(violation);
        if (violation is not null && violation.Line >= 0 && clobberedAt.TryGetValue(violation.Line, out var clobbered)
            && violation.Code is ViolationCode.ExecClobbered or ViolationCode.DataClobbered)
        {
            rule += $" at step {clobbered}";
        }
        var model = new ReportModel
        {
            Program = program,
            Trace = trace,
            Steps = steps,
            Violation = violation,
            Rule = rule,
            Replay = replay,
            Cpus = program.Platform.Cpus,
            InitialEvents = replay.InitialEvents,
            InitialMessages = narration.Messages(replay.InitialEvents),
            Narration = narration,
        };
        model._states.AddRange(states);
        return model;
    }

    /// <summary>
    /// The machine's caches and memory lines after step <paramref name="step"/> (0: the initial state,
    /// before step 1), decoded on demand from the state vector the replay kept for that step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no state after that step (beyond the steps replayed).</exception>
    public MachineSnapshot SnapshotAfter(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, _states.Count);
        _layout ??= new MachineLayout(Program);
        var state = new MachineState(_layout);
        state.Decode(_states[step]);
        var caches = new List<CacheSnapshot>(state.Caches.Length);
        foreach (var cache in state.Caches)
        {
            var entries = new List<CachedLine>(cache.Count);
            foreach (var entry in cache)
            {
                entries.Add(new CachedLine(entry.Line, _layout.LineName(entry.Line), entry.Key, BuiltinValues.FormatKey(entry.Key), entry.Value, entry.Dirty));
            }
            IReadOnlyList<int> cpus = _layout.CacheCount == 1 ? Enumerable.Range(0, _layout.Cpus).ToArray() : [cache.Index];
            caches.Add(new CacheSnapshot(cache.Index, cpus, entries));
        }
        var lines = new List<LineSnapshot>(state.Lines.Length);
        for (var i = 0; i < state.Lines.Length; i++)
        {
            var line = state.Lines[i];
            var written = (line.Flags & LineFlags.NewWritten) != 0;
            lines.Add(new LineSnapshot(i, _layout.LineName(i), line.Value, line.Key, BuiltinValues.FormatKey(line.Key),
                Poisoned: (line.Flags & LineFlags.Poisoned) != 0,
                TdOwned: (line.Flags & LineFlags.TdOwned) != 0,
                Clobbered: (line.Flags & LineFlags.Clobbered) != 0,
                NewValue: written ? line.NewValue : null,
                NewKey: written ? line.NewKey : null));
        }
        var cpuSnapshots = state.Cpus.Select(c => new CpuSnapshot(c.Id, c.Mode, c.Has(CpuFlags.NextKernel), c.MonitorLine)).ToList();
        return new MachineSnapshot(step, caches, lines) { Cpus = cpuSnapshots };
    }

    /// <summary>
    /// A source file as a step's source column names it: relative to the scenario's own directory when the file is
    /// in that tree (the scenario's file by its name, a patched copy beside it as <c>linux/stop.kflow</c>); a file
    /// elsewhere (a library flow) by its directory and name (<c>linux/stop.kflow</c>), unless a file of that
    /// name is in the scenario's tree too: then as the diagnostics show it (relative to the working directory, or
    /// whole), so that a patched copy and the flow it shadows are always told apart.
    /// </summary>
    public static string SourcePath(CompiledProgram program, string path)
    {
        var root = Path.GetDirectoryName(Path.GetFullPath(program.ScenarioSpan.Source.Path));
        var full = Path.GetFullPath(path);
        if (root is null)
        {
            return path;
        }
        if (full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return Path.GetRelativePath(root, full);
        }
        var directory = Path.GetFileName(Path.GetDirectoryName(full)) ?? string.Empty;
        var name = directory.Length == 0 ? Path.GetFileName(full) : $"{directory}/{Path.GetFileName(full)}";
        return File.Exists(Path.Combine(root, name)) ? path : name;
    }

    /// <summary>
    /// Every CPU's mode after step <paramref name="step"/> (0: the initial state), decoded on demand like
    /// <see cref="SnapshotAfter"/> (the HTML report's mode bands and monitor wake-ups).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The model has no state after that step (beyond the steps replayed).</exception>
    public IReadOnlyList<CpuSnapshot> CpusAfter(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, _states.Count);
        _layout ??= new MachineLayout(Program);
        var state = new MachineState(_layout);
        state.Decode(_states[step]);
        return state.Cpus.Select(c => new CpuSnapshot(c.Id, c.Mode, c.Has(CpuFlags.NextKernel), c.MonitorLine)).ToList();
    }

    /// <summary>The first line of the instruction's source text, trimmed.</summary>
    public static string Snippet(DebugSpan span)
    {
        var text = span.Source.ToString(span.Span);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0)
        {
            text = text[..newline].TrimEnd() + " ...";
        }
        return text.Trim();
    }
}
