using System.CommandLine;
using System.Text;
using KexecSim.Language.Loading;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim merge A.json B.json …</c>: the JSON results of a simulation's shards as one (docs/scale-out.md).</summary>
public static class MergeCommand
{
    /// <summary>The most a result file may hold (a result is a few kilobytes).</summary>
    internal const int MaxResultBytes = 16 * 1024 * 1024;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("RESULT") { Description = "JSON results of 'kexecsim simulate --format json', one per shard.", Arity = ArgumentArity.OneOrMore };
        var format = KexecSimCli.ChoiceOption("--format", "Report format.", "text", "json");
        var command = new Command("merge", "Combine the JSON results of simulate's shards (--shard K/N) into one result.") { files, format };
        command.SetAction(result =>
        {
            var reports = new List<(string, SimulationReport)>();
            foreach (var path in result.GetValue(files)!)
            {
                if (Read(path, stderr) is not { } report)
                {
                    return ExitCodes.BadInput;
                }
                reports.Add((path, report));
            }
            var (merged, problem) = SimulationReport.Merge(reports);
            if (merged is null)
            {
                stderr.WriteLine($"kexecsim: merge: {problem}");
                return ExitCodes.BadInput;
            }
            stdout.Write(result.GetValue(format) == "json" ? merged.ToJson() : merged.ToText());
            return SimulateCommand.ExitCode(merged);
        });
        return command;
    }

    /// <summary>A result file, or null with one line naming the file and what is wrong.</summary>
    private static SimulationReport? Read(string path, TextWriter stderr)
    {
        var read = InputFile.Read(path, path, MaxResultBytes);
        string problem;
        if (!read.Succeeded)
        {
            problem = read.Problem switch
            {
                InputFileProblem.Directory => "is a directory, not a simulation result",
                InputFileProblem.NotFound => "no such file",
                InputFileProblem.NotRegularFile => "is not a regular file, not a simulation result",
                InputFileProblem.TooLarge => $"is larger than {MaxResultBytes / (1024 * 1024)} MB, not a simulation result",
                _ => read.Message,
            };
        }
        else
        {
            try
            {
                return SimulationReport.Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(read.Bytes!).TrimStart('\uFEFF'));
            }
            catch (InvalidDataException e)
            {
                problem = e.Message;
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or DecoderFallbackException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                problem = "not a simulation result (kexecsim simulate --format json)";
            }
        }
        stderr.WriteLine($"kexecsim: merge: {path}: {problem}");
        return null;
    }
}
