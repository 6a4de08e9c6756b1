using System.CommandLine;
using KexecSim.Language;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim list</c>: the built-in catalog, one scenario a line with its description.</summary>
public static class ListCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("list", "List the built-in catalog: every scenario with its one-line description, under the file it is in.");
        command.SetAction(_ =>
        {
            var files = Catalog.ScenarioFiles();
            if (files.Count == 0)
            {
                stderr.WriteLine($"kexecsim: the catalog is empty (no .kflow files in {Catalog.CatalogDirectory})");
                return ExitCodes.Success;
            }
            var loaded = CheckCommand.Load(files, KexecSimCli.LoadOptionsFrom(null, [], null, null), stderr);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }
            var width = loaded.Count == 0 ? 0 : loaded.Max(s => s.Program.ScenarioName.Length);
            string? lastFile = null;
            foreach (var scenario in loaded)
            {
                // Each file once, before its scenarios (as check's table names them).
                if (scenario.File != lastFile)
                {
                    stdout.WriteLine(Reporting.TextReport.FileLine(CheckCommand.CatalogFileName(scenario.File)));
                    lastFile = scenario.File;
                }
                stdout.WriteLine($"{scenario.Program.ScenarioName.PadRight(width)}  {scenario.Program.Expect,-15}  {scenario.Program.Description}");
            }
            stdout.WriteLine($"{loaded.Count} {(loaded.Count == 1 ? "scenario" : "scenarios")} in {loaded.Select(s => s.File).Distinct(StringComparer.Ordinal).Count()} files");
            return ExitCodes.Success;
        });
        return command;
    }
}
