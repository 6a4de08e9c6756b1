using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

public sealed record ToolInfo(string Name, string Version);

public sealed record ModelInfo(string Root, string Sha256, IReadOnlyList<string> Files);

public sealed record OptionsInfo(IReadOnlyDictionary<string, long> Defines, int? Cpus, IReadOnlyList<string> ModelPath);

public sealed record ViolationInfo(string Code, int Cpu, string Message, string? Location);

/// <summary>The run of <c>kexecsim simulate</c> a trace is (absent in traces of <c>check</c>): the strategy, the seed
/// and the run's index, with which the run is made again, and the settings it was made under.
/// <c>Reduce</c>: whether the run walked the reduced machine (<c>simulate --reduce</c>; the trace is a run of the full
/// machine either way); <c>none</c> in a trace written before the option.</summary>
public sealed record SimulationRunInfo(string Strategy, ulong Seed, long Run, long MaxSteps, int? PctDepth, long? PctSteps, string Reduce = "none");

/// <summary>One step of a trace file or JSON report; <paramref name="Messages"/> is what the step printed
/// (pr_err, pr_warn, WARNING, INIT, done), in order; <paramref name="Source"/> the CPU's position before the step
/// (file:line:col) and <paramref name="Values"/> what the step read, wrote and got, with the values (trace version 2).</summary>
public sealed record StepInfo(int Number, string Kind, int Cpu, int Arg, long Tag, int[] Choices, string Description, IReadOnlyList<string>? Messages = null,
    string? Source = null, IReadOnlyList<StepValueInfo>? Values = null)
{
    /// <summary>A replayed step as a trace file and the JSON report write it.</summary>
    public static StepInfo Of(ReportStep step) => new(step.Number, step.Kind.ToString(), step.Step.Transition.Cpu, step.Step.Transition.Arg,
        step.Step.Transition.Tag, step.Step.Choices, step.Description, step.Messages, step.Location?.ToString(),
        step.Values.Select(v => new StepValueInfo(v.Kind, v.Cpu, v.Name, v.Old, v.Value, v.Text)).ToList());
}

/// <summary>One value a step showed (<see cref="StepValue"/>): its kind, the CPU (a write-back: the cache), the name, the old
/// value of a write, the value, and the phrase the text report prints.</summary>
public sealed record StepValueInfo(string Kind, int Cpu, string Name, string? Old, string Value, string Text);

/// <summary>
/// A self-describing trace file (DESIGN.md "Outputs"; docs/trace-format.md): tool version, model hash,
/// scenario, options, and every step; <c>kexecsim replay</c> re-executes it. No timings: the same
/// input gives the same bytes.
/// </summary>
public sealed record TraceFile(
    string Format,
    int Version,
    ToolInfo Tool,
    ModelInfo Model,
    string Scenario,
    OptionsInfo Options,
    ViolationInfo? Violation,
    bool ViolationIsTerminal,
    int? CycleStart,
    IReadOnlyList<string>? InitialMessages,
    IReadOnlyList<StepInfo> Steps)
{
    public const string FormatName = "kexecsim-trace";
    public const int CurrentVersion = 2;

    /// <summary>The oldest version this kexecsim reads: version 1 files lack the steps' <c>source</c> and <c>values</c>,
    /// which are for readers only (replay re-derives them).</summary>
    public const int OldestVersion = 1;

    /// <summary>For a trace written by <c>kexecsim simulate</c>: which run it is (a field added in version 1 without a
    /// version change; replay ignores it, and reads files without it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SimulationRunInfo? Simulation { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string ToolVersion => typeof(TraceFile).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>SHA-256 over every file of the model (path and text), in path order.</summary>
    public static string HashModel(IEnumerable<SourceText> sources)
    {
        var builder = new StringBuilder();
        foreach (var source in sources.OrderBy(s => Path.GetFileName(s.Path), StringComparer.Ordinal).ThenBy(s => s.Text, StringComparer.Ordinal))
        {
            builder.Append(Path.GetFileName(source.Path)).Append('\0').Append(source.Text).Append('\0');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    /// <param name="sources">The model's files (the front end's compilation units' sources).</param>
    public static TraceFile Create(CompiledProgram program, Trace trace, string root, IReadOnlyList<SourceText> sources,
        IReadOnlyDictionary<string, long> defines, int? cpus, IReadOnlyList<string> modelPath)
    {
        // Only the steps in words: the explorer's own trace needs no second fairness search.
        return Create(ReportModel.Build(program, trace, checkFairness: false), root, sources, defines, cpus, modelPath);
    }

    /// <summary>The trace file of a counterexample's report model: the recorded trace, with each replayed step in words.</summary>
    /// <param name="sources">The model's files (the front end's compilation units' sources).</param>
    public static TraceFile Create(ReportModel model, string root, IReadOnlyList<SourceText> sources,
        IReadOnlyDictionary<string, long> defines, int? cpus, IReadOnlyList<string> modelPath)
    {
        var (program, trace, replayed) = (model.Program, model.Trace, model.Steps);
        var steps = trace.Steps.Select((s, i) => i < replayed.Count
            ? StepInfo.Of(replayed[i])
            : new StepInfo(i + 1, s.Transition.Kind.ToString(), s.Transition.Cpu, s.Transition.Arg, s.Transition.Tag, s.Choices, string.Empty, [], null, [])).ToList();
        var violation = trace.Violation is { } v ? new ViolationInfo(v.Code.Name(), v.Cpu, model.Narration.Text(v), v.Location?.ToString()) : null;
        return new TraceFile(FormatName, CurrentVersion, new ToolInfo("kexecsim", ToolVersion),
            new ModelInfo(root, HashModel(sources), sources.Select(s => s.Path).ToList()),
            program.ScenarioName,
            new OptionsInfo(new SortedDictionary<string, long>(defines.ToDictionary(), StringComparer.Ordinal), cpus, modelPath),
            violation, trace.ViolationIsTerminal, trace.CycleStart, model.InitialMessages, steps);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>A value of the file echoed in a refusal: control characters as C-style escapes, so that the
    /// refusal stays one line (finding 3 of the fuzzing harness, docs/fuzzing.md); long values cut.</summary>
    private static string Echo(string? value)
    {
        if (value is null)
        {
            return "null";
        }
        var builder = new StringBuilder();
        foreach (var c in value.Length > 80 ? string.Concat(value.AsSpan(0, 79), "\u2026") : value)
        {
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085' => c <= '\xff' ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }

    public static TraceFile Parse(string json)
    {
        var file = JsonSerializer.Deserialize<TraceFile>(json, Json) ?? throw new InvalidDataException("empty trace file");
        if (file.Format != FormatName)
        {
            throw new InvalidDataException($"not a kexecsim trace (format '{Echo(file.Format)}')");
        }
        if (file.Version < OldestVersion || file.Version > CurrentVersion)
        {
            throw new InvalidDataException(file.Version > CurrentVersion
                ? $"trace format version {file.Version} is newer than this kexecsim reads (versions {OldestVersion} to {CurrentVersion}): use the kexecsim that wrote it, or a newer one"
                : $"trace format version {file.Version} is not supported (this kexecsim reads versions {OldestVersion} to {CurrentVersion})");
        }
        // A hand-edited or truncated file names what is missing instead of failing later.
        if (file.Model?.Root is null || file.Model.Sha256 is null)
        {
            throw new InvalidDataException("the trace has no \"model\" with \"root\" and \"sha256\"");
        }
        if (file.Scenario is null)
        {
            throw new InvalidDataException("the trace has no \"scenario\"");
        }
        if (file.Options?.Defines is null || file.Options.ModelPath is null)
        {
            throw new InvalidDataException("the trace has no \"options\" with \"defines\" and \"modelPath\"");
        }
        // The trace's own field, named as such (not as a --cpus the user never passed).
        if (file.Options.Cpus is { } cpus && (cpus < 1 || cpus > Limits.MaxCpus))
        {
            throw new InvalidDataException($"\"options.cpus\" {cpus} is not between 1 and {Limits.MaxCpus}");
        }
        // Paths go to the file system: one that cannot name a file is the trace's fault, said here.
        if (file.Model.Root.Length == 0)
        {
            throw new InvalidDataException("\"model.root\" is empty");
        }
        if (file.Model.Root.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidDataException("\"model.root\" contains a NUL character");
        }
        for (var i = 0; i < file.Options.ModelPath.Count; i++)
        {
            if (file.Options.ModelPath[i] is not { Length: > 0 } directory || directory.Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"\"options.modelPath\" entry {i + 1} {(file.Options.ModelPath[i] is { Length: > 0 } ? "contains a NUL character" : "is empty")}");
            }
        }
        var trace = file.ToTrace();
        if (file.CycleStart is { } start && (start < 0 || start > trace.Steps.Count))
        {
            throw new InvalidDataException($"\"cycleStart\" {start} is outside the trace's {trace.Steps.Count} steps");
        }
        // The recorded verdict must be one this kexecsim knows, and a cycle must be a LIVELOCK's (and a
        // LIVELOCK must have its cycle): otherwise replay would confirm a claim it never checked.
        if (file.Violation is { } recorded)
        {
            if (recorded.Code is null)
            {
                throw new InvalidDataException("\"violation\" has no \"code\"");
            }
            if (!ViolationCodes.TryParse(recorded.Code, out _))
            {
                throw new InvalidDataException($"\"violation.code\" '{Echo(recorded.Code)}' is not a violation code");
            }
        }
        if (file.CycleStart is { } cycleStart)
        {
            if (trace.Violation?.Code != ViolationCode.Livelock)
            {
                throw new InvalidDataException($"\"cycleStart\" is set, so \"violation\" must be a LIVELOCK, not {Echo(file.Violation?.Code ?? "null")}");
            }
            if (cycleStart == trace.Steps.Count)
            {
                throw new InvalidDataException($"\"cycleStart\" {cycleStart} leaves no step in the cycle (the trace has {trace.Steps.Count} steps)");
            }
        }
        else if (trace.Violation?.Code == ViolationCode.Livelock)
        {
            throw new InvalidDataException("\"violation\" is a LIVELOCK, so \"cycleStart\" must say where its cycle starts");
        }
        return file;
    }

    /// <summary>The trace as the explorer's objects, to replay.</summary>
    public Trace ToTrace()
    {
        if (Steps is null)
        {
            throw new InvalidDataException("the trace has no \"steps\"");
        }
        var steps = new List<TraceStep>(Steps.Count);
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i] ?? throw new InvalidDataException($"step {i + 1} is null");
            // Names only: Enum.TryParse would also take a number, and with it kinds that do not exist.
            if (s.Kind is null || !Enum.GetNames<TransitionKind>().Contains(s.Kind, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"step {i + 1} has kind '{s.Kind}', which is not one of {string.Join(", ", Enum.GetNames<TransitionKind>())}");
            }
            steps.Add(new TraceStep(new Transition(Enum.Parse<TransitionKind>(s.Kind), s.Cpu, s.Arg, s.Tag), s.Choices ?? []));
        }
        Violation? violation = null;
        if (Violation is { Code: not null } v && ViolationCodes.TryParse(v.Code, out var code))
        {
            violation = new Violation(code, ViolationReason.Recorded, v.Cpu, null) { Text = v.Message ?? string.Empty };
        }
        return new Trace(steps, violation, ViolationIsTerminal) { CycleStart = CycleStart };
    }
}
