using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Fuzz;

/// <summary>
/// The two fuzzing targets (docs/fuzzing.md). Each takes an input's bytes and returns normally when every
/// invariant holds; an unhandled exception of the tool, or an <see cref="InvariantViolation"/>, is a finding.
/// </summary>
public static partial class FuzzTargets
{
    /// <summary>The file name every front-end input is written under (in <see cref="Workspace"/>).</summary>
    public const string ModelFileName = "fuzz.kflow";

    private const string WorkspacePrefix = "kexecsim-fuzz-";

    private static readonly Lazy<string> WorkspaceDirectory = new(() =>
    {
        // One directory per process: the root file alone, so that an import finds nothing but the built-in models.
        // It goes when the process ends normally; one left by a process that was killed (AFL++ ends its target so)
        // goes when the next one starts.
        foreach (var stale in Directory.EnumerateDirectories(Path.GetTempPath(), WorkspacePrefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(stale).AsSpan(WorkspacePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && pid != Environment.ProcessId && !IsRunning(pid))
            {
                TryDelete(stale);
            }
        }
        var directory = Path.Combine(Path.GetTempPath(), $"{WorkspacePrefix}{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        // The root file is always there (an input that imports itself meets an import cycle, loaded from a file or not).
        File.WriteAllBytes(Path.Combine(directory, ModelFileName), []);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(directory);
        return directory;
    });

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's, or going away: left alone.
        }
    }

    private static readonly Lazy<string?> ModelsDirectory = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var models = Path.Combine(dir.FullName, "models");
            if (File.Exists(Path.Combine(dir.FullName, "KexecSim.slnx")) && Directory.Exists(models))
            {
                return models;
            }
        }
        return null;
    });

    /// <summary>The directory the front-end target writes its input to.</summary>
    public static string Workspace => WorkspaceDirectory.Value;

    /// <summary>
    /// The front end on the input: the bytes as text through <see cref="Language.FrontEnd.LoadText"/> (tests, a
    /// language server: no file, so no NUL-byte refusal first), and, with <paramref name="file"/> or when reading
    /// them from a file differs (a NUL byte, a byte order mark), as <c>kexecsim lint FILE</c> runs it: the bytes
    /// are the root file, imports may reach the built-in models/, every scenario is compiled. Invariants: no
    /// exception; every diagnostic is one line with the file, a line and a column inside the file (or, for a file
    /// the model cannot read, the import's position); a model with errors has no compiled scenario; bytes that read
    /// the same from a file give the same diagnostics from the file as from the text; the same input gives the
    /// same diagnostics twice (<paramref name="twice"/>). Returns the diagnostics (the file load's when there is one).
    /// Called from inside <see cref="Language.FrontEnd.RunOnLargeStack"/>, no load starts a thread.
    /// </summary>
    public static IReadOnlyList<string> FrontEnd(ReadOnlySpan<byte> input, bool twice = false, bool file = true)
    {
        var path = Path.Combine(Workspace, ModelFileName);
        var options = new LoadOptions { ModelPath = ModelsDirectory.Value is { } models ? [models] : [] };
        var text = Encoding.UTF8.GetString(input);
        var fromText = Check(Language.FrontEnd.LoadText(path, text, options));
        var readsTheSame = !input.Contains((byte)0) && !input.StartsWith(Utf8Bom);
        if (!file && readsTheSame)
        {
            if (twice)
            {
                Same(fromText, Check(Language.FrontEnd.LoadText(path, text, options)));
            }
            return fromText;
        }
        File.WriteAllBytes(path, input.ToArray());
        var fromFile = Check(Language.FrontEnd.Load(path, options));
        if (readsTheSame)
        {
            Same(fromFile, fromText, "the file and the text give different diagnostics");
        }
        if (twice)
        {
            Same(fromFile, Check(Language.FrontEnd.Load(path, options)));
        }
        return fromFile;
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The result's diagnostics as lines, each checked (<see cref="CheckDiagnostic"/>).</summary>
    private static List<string> Check(FrontEndResult result)
    {
        var lines = new List<string>(result.Diagnostics.Count);
        foreach (var diagnostic in result.Diagnostics)
        {
            lines.Add(CheckDiagnostic(diagnostic));
        }
        if (result.HasErrors && result.Scenarios.Count > 0)
        {
            throw new InvariantViolation("a model with errors returned compiled scenarios");
        }
        return lines;
    }

    private static void Same(List<string> first, List<string> second, string what = "two loads of the same input differ")
    {
        if (!first.SequenceEqual(second))
        {
            throw new InvariantViolation($"{what}:\n{string.Join('\n', first)}\n--\n{string.Join('\n', second)}");
        }
    }

    [GeneratedRegex(@"^(?<file>[^\r\n]+):(?<line>[0-9]+):(?<column>[0-9]+): (error|warning|note) KF[0-9]{4}: [^\r\n]+$")]
    private static partial Regex PositionedDiagnostic();

    /// <summary>The diagnostic's line, after checking it is one line with a position inside its file.</summary>
    public static string CheckDiagnostic(Diagnostic diagnostic)
    {
        var text = diagnostic.ToString();
        var match = PositionedDiagnostic().Match(text);
        if (!match.Success || diagnostic.Source is null)
        {
            throw new InvariantViolation($"a diagnostic is not one line with file:line:col: {Escape(text)}");
        }
        var (line, column) = diagnostic.Position;
        var lines = diagnostic.Source.Text.Split('\n');
        if (line < 1 || line > lines.Length || column < 1 || column > lines[line - 1].Length + 2)
        {
            throw new InvariantViolation($"a diagnostic's position {line}:{column} is outside its file ({lines.Length} lines): {Escape(text)}");
        }
        return text;
    }

    private static readonly Lazy<IReadOnlyList<CompiledProgram>> TracePrograms = new(() =>
    {
        using var stream = typeof(FuzzTargets).Assembly.GetManifestResourceStream("trace-model.kflow")!;
        using var reader = new StreamReader(stream);
        var loaded = Language.FrontEnd.LoadText("trace-model.kflow", reader.ReadToEnd());
        if (loaded.HasErrors)
        {
            throw new InvalidOperationException(string.Join('\n', loaded.Diagnostics));
        }
        return loaded.Scenarios;
    });

    /// <summary>The scenarios of the fixed model the trace target replays against (fuzz/trace-model.kflow).</summary>
    public static IReadOnlyList<CompiledProgram> TraceScenarios => TracePrograms.Value;

    /// <summary>How the trace target ended for one input.</summary>
    public enum TraceOutcome
    {
        /// <summary>Not a trace file (what <c>replay</c> refuses with one line, exit 2).</summary>
        Refused,

        /// <summary>A trace of a scenario the fixed model does not have.</summary>
        UnknownScenario,

        /// <summary>Replayed and confirmed.</summary>
        Confirmed,

        /// <summary>Replayed and diverged.</summary>
        Diverged,
    }

    /// <summary>
    /// A trace file as <c>kexecsim replay</c> and <c>explain</c> read it (strict UTF-8, a BOM allowed, then
    /// <see cref="TraceFile.Parse"/>, refusing what they refuse), replayed against the fixed model's scenario
    /// it names, then explained (narrative and table). Invariants: no exception other than a refusal; the
    /// refusal's words and the replay's verdict are one line each.
    /// </summary>
    public static TraceOutcome Trace(ReadOnlySpan<byte> input)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(input);
        }
        catch (DecoderFallbackException)
        {
            return TraceOutcome.Refused;
        }
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            return TraceOutcome.Refused;
        }
        TraceFile file;
        try
        {
            file = TraceFile.Parse(text);
        }
        catch (InvalidDataException e)
        {
            OneLine("a refusal", e.Message);
            return TraceOutcome.Refused;
        }
        catch (JsonException)
        {
            return TraceOutcome.Refused;
        }
        // The same list as ReplayCommand.ReadTrace's: what the serializer throws for a value of the wrong form.
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            return TraceOutcome.Refused;
        }
        var program = TraceScenarios.FirstOrDefault(s => s.ScenarioName == file.Scenario);
        if (program is null)
        {
            return TraceOutcome.UnknownScenario;
        }
        var trace = file.ToTrace();
        var timed = file.Simulation?.Strategy == "timed";
        var replay = new Replayer(program) { WaitsExpireByClock = timed }.Replay(trace);
        OneLine("the replay's verdict", new Narration(program).ReplayMessage(replay));
        var view = ReportModel.Build(program, trace, timed: timed);
        if (view.Replay.Confirmed != replay.Confirmed)
        {
            throw new InvariantViolation($"replay says {replay.Confirmed}, the explanation's replay {view.Replay.Confirmed}");
        }
        Explanation.Render(view);
        var table = new StringBuilder();
        TextReport.AppendCounterexample(table, view, TextView.Table, showCaches: true);
        return replay.Confirmed ? TraceOutcome.Confirmed : TraceOutcome.Diverged;
    }

    private static void OneLine(string what, string text)
    {
        if (text.Length == 0 || text.Contains('\n') || text.Contains('\r'))
        {
            throw new InvariantViolation($"{what} is not one line: {Escape(text)}");
        }
    }

    private static string Escape(string text) => text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
