using System.CommandLine;
using System.Text;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Language.Compilation;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim replay TRACE.json</c> and <c>kexecsim explain TRACE.json</c>.</summary>
public static class ReplayCommand
{
    public static Command CreateReplay(TextWriter stdout, TextWriter stderr)
    {
        var traceArgument = new Argument<string>("TRACE") { Description = "A trace file written by 'kexecsim check --trace'." };
        var command = new Command("replay", "Re-execute a trace and confirm its violation at the same step, or say where it diverges.") { traceArgument };
        command.SetAction(result =>
        {
            if (Load(result.GetValue(traceArgument)!, stderr) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }
            var (file, program, trace) = loaded;
            var replay = new Replayer(program).Replay(trace);
            stdout.WriteLine($"scenario \"{file.Scenario}\": {trace.Steps.Count} steps");
            stdout.WriteLine($"replay: {replay.Message}");
            if (replay.Violation is { } v)
            {
                stdout.WriteLine($"violation: {v}");
            }
            return replay.Confirmed ? ExitCodes.Success : ExitCodes.Violation;
        });
        return command;
    }

    public static Command CreateExplain(TextWriter stdout, TextWriter stderr)
    {
        var traceArgument = new Argument<string>("TRACE") { Description = "A trace file written by 'kexecsim check --trace'." };
        var command = new Command("explain", "Print a trace as a numbered narrative with a column per CPU and the source of every step.") { traceArgument };
        command.SetAction(result =>
        {
            if (Load(result.GetValue(traceArgument)!, stderr) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }
            var (file, program, trace) = loaded;
            var view = CounterexampleView.Build(program, trace);
            var builder = new StringBuilder();
            builder.AppendLine($"scenario \"{file.Scenario}\" ({program.ScenarioSpan})");
            TextReport.AppendCounterexample(builder, view);
            stdout.Write(builder.ToString());
            return view.Replay.Confirmed ? ExitCodes.Success : ExitCodes.Violation;
        });
        return command;
    }

    /// <summary>Reads a trace file and compiles the scenario it was recorded against.</summary>
    private static (TraceFile File, CompiledProgram Program, Trace Trace)? Load(string path, TextWriter stderr)
    {
        TraceFile file;
        try
        {
            file = TraceFile.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
        {
            stderr.WriteLine($"kexecsim: {path}: {e.Message}");
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
            stderr.WriteLine($"kexecsim: {root} has no scenario \"{file.Scenario}\" any more");
            return null;
        }
        if (TraceFile.HashModel(loaded.Units) != file.Model.Sha256)
        {
            stderr.WriteLine($"kexecsim: warning: the model changed since the trace was written (sha256 differs); replaying anyway");
        }
        return (file, program, file.ToTrace());
    }
}
