using System.CommandLine;
using System.Text;
using KexecSim.Exploration;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Loading;
using KexecSim.Language;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim replay TRACE.json</c> and <c>kexecsim explain TRACE.json</c>.</summary>
public static class ReplayCommand
{
    public static Command CreateReplay(TextWriter stdout, TextWriter stderr)
    {
        var traceArgument = new Argument<string>("TRACE") { Description = "A trace file written by 'kexecsim check --trace'." };
        var reportOut = KexecSimCli.ReportOption("Write the HTML report of the replayed trace: its sequence diagram, the caches and memory at every step.");
        var command = new Command("replay", "Re-execute a trace and confirm its violation at the same step, or say where it diverges.") { traceArgument, reportOut };
        command.SetAction(result =>
        {
            var report = result.GetValue(reportOut);
            if (report is not null && !OutputFile.CheckPath("--report", report, stderr))
            {
                return ExitCodes.BadInput;
            }
            if (Load(result.GetValue(traceArgument)!, stderr) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }
            var (file, program, trace) = loaded;
            if (report is not null)
            {
                var model = ReportModel.Build(program, trace, timed: file.Simulation?.Strategy == "timed");
                if (!CheckRun.WriteHtmlReport(report, HtmlReport.Render(model, null, program, file.Model.Root), file.Scenario, stderr))
                {
                    return ExitCodes.BadInput;
                }
            }
            var replay = new Replayer(program) { WaitsExpireByClock = file.Simulation?.Strategy == "timed" }.Replay(trace);
            stdout.WriteLine($"scenario \"{file.Scenario}\": {trace.Steps.Count} steps");
            stdout.WriteLine($"replay: {new Narration(program).ReplayMessage(replay)}");
            if (replay.Violation is { } v)
            {
                stdout.WriteLine($"violation: {new Narration(program).Line(v)}");
            }
            return replay.Confirmed ? ExitCodes.Success : ExitCodes.Violation;
        });
        return command;
    }

    public static Command CreateExplain(TextWriter stdout, TextWriter stderr)
    {
        var traceArgument = new Argument<string>("TRACE") { Description = "A trace file written by 'kexecsim check --trace'." };
        var viewOption = KexecSimCli.ChoiceOption("--view",
            "narrative: numbered sentences in kernel terms, ending with the rule broken and why it is a bug on real hardware; table: a column per CPU; compact: one line per step.",
            "narrative", "table", "compact");
        var showCaches = CheckCommand.ShowCachesOption();
        var reportOut = KexecSimCli.ReportOption("Also write the HTML report of the trace: its sequence diagram, this narrative, the caches and memory at every step.");
        var command = new Command("explain", "Explain a trace: a numbered narrative of what each CPU does, with the values, the rule broken and why it is a bug on real hardware.")
        {
            traceArgument, viewOption, showCaches, reportOut,
        };
        command.SetAction(result =>
        {
            var report = result.GetValue(reportOut);
            if (report is not null && !OutputFile.CheckPath("--report", report, stderr))
            {
                return ExitCodes.BadInput;
            }
            if (Load(result.GetValue(traceArgument)!, stderr) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }
            var (file, program, trace) = loaded;
            var view = ReportModel.Build(program, trace, timed: file.Simulation?.Strategy == "timed");
            if (report is not null && !CheckRun.WriteHtmlReport(report, HtmlReport.Render(view, null, program, file.Model.Root), file.Scenario, stderr))
            {
                return ExitCodes.BadInput;
            }
            var builder = new StringBuilder();
            var how = result.GetValue(viewOption);
            if (how == "narrative")
            {
                builder.Append(Explanation.Render(view));
            }
            else
            {
                builder.AppendLine($"scenario \"{file.Scenario}\" ({program.ScenarioSpan})");
                TextReport.AppendCounterexample(builder, view, how == "compact" ? TextView.Compact : TextView.Table, result.GetValue(showCaches));
            }
            stdout.Write(builder.ToString());
            return view.Replay.Confirmed ? ExitCodes.Success : ExitCodes.Violation;
        });
        return command;
    }

    /// <summary>The most a trace file may hold: far beyond any trace check writes, far below a machine's memory.</summary>
    internal const int MaxTraceBytes = 256 * 1024 * 1024;

    /// <summary>Reads a trace file and compiles the scenario it was recorded against.</summary>
    private static (TraceFile File, CompiledProgram Program, Trace Trace)? Load(string path, TextWriter stderr)
    {
        if (ReadTrace(path, stderr) is not { } file)
        {
            return null;
        }
        var root = file.Model.Root;
        if (!File.Exists(root))
        {
            var besideTrace = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", root);
            if (File.Exists(besideTrace))
            {
                root = besideTrace;
            }
        }
        var options = KexecSimCli.LoadOptionsFrom(file.Options.ModelPath.ToArray(), file.Options.Defines.ToDictionary(), file.Options.Cpus, null);
        var loaded = FrontEnd.Load(root, options);
        if (loaded.HasErrors)
        {
            KexecSimCli.Print(loaded.Diagnostics, stderr);
            return null;
        }
        var program = loaded.Scenarios.FirstOrDefault(s => s.ScenarioName == file.Scenario);
        if (program is null)
        {
            // The trace's words: a control character in them is escaped, so that the error stays one line.
            stderr.WriteLine($"kexecsim: {DiagnosticText.Escape(root)} has no scenario \"{DiagnosticText.Escape(file.Scenario)}\" any more");
            return null;
        }
        if (TraceFile.HashModel(loaded.Units.Select(u => u.Source)) != file.Model.Sha256)
        {
            stderr.WriteLine($"kexecsim: warning: the model changed since the trace was written (sha256 differs); replaying anyway");
        }
        return (file, program, file.ToTrace());
    }

    /// <summary>A trace file parsed, or null with one line on <paramref name="stderr"/> naming the file and what is wrong.</summary>
    private static TraceFile? ReadTrace(string path, TextWriter stderr)
    {
        var (text, problem) = ReadText(path);
        if (problem is null)
        {
            try
            {
                return TraceFile.Parse(text!);
            }
            catch (InvalidDataException e)
            {
                problem = e.Message; // TraceFile's own words, naming the field
            }
            catch (System.Text.Json.JsonException e)
            {
                // The serializer wraps the reader's errors (bad syntax); one of its own is a value the
                // trace's shape does not allow ("cpu": "zero"), at a JSON path.
                var at = $"line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}";
                problem = e.InnerException is not System.Text.Json.JsonException && e.Path is { } field
                    ? $"not a trace file: {field} has a value of the wrong type ({at})"
                    : $"not a trace file: malformed JSON at {at}";
            }
            catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
            {
                problem = "not a trace file: a value has the wrong form";
            }
        }
        stderr.WriteLine($"kexecsim: {path}: {problem}");
        return null;
    }

    /// <summary>
    /// The text of a trace file, or why there is none (one line): only a regular file is read (never a
    /// device such as /dev/zero, or a FIFO that blocks), and through a byte budget (procfs files lie
    /// about their size).
    /// </summary>
    private static (string? Text, string? Problem) ReadText(string path)
    {
        var read = InputFile.Read(path, path, MaxTraceBytes);
        if (!read.Succeeded)
        {
            return (null, read.Problem switch
            {
                InputFileProblem.Directory => "is a directory, not a trace file",
                InputFileProblem.NotFound => "no such file",
                InputFileProblem.NotRegularFile => "is not a regular file, not a trace file",
                InputFileProblem.TooLarge => $"is larger than {MaxTraceBytes / (1024 * 1024)} MB, not a trace file",
                _ => read.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? read.Message[(path.Length + 2)..] : read.Message,
            });
        }
        try
        {
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(read.Bytes!);
            if (text.StartsWith('\uFEFF'))
            {
                text = text[1..];
            }
            return string.IsNullOrWhiteSpace(text) ? (null, "not a trace file: it is empty") : (text, null);
        }
        catch (DecoderFallbackException)
        {
            return (null, "not a trace file: it is not UTF-8 text");
        }
    }
}
