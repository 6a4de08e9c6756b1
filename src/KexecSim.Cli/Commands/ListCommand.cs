using System.CommandLine;
using KexecSim.Language;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim list</c>: the built-in catalog, one scenario a line with its description.</summary>
public static class ListCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("list", "List the built-in catalog: every scenario with its one-line description.");
        command.SetAction(_ =>
        {
            var files = Catalog.ScenarioFiles();
            if (files.Count == 0)
            {
                stderr.WriteLine($"kexecsim: the catalog is empty (no .kflow files in {Catalog.CatalogDirectory})");
                return ExitCodes.Success;
            }
            var loaded = FrontEnd.Load(files, KexecSimCli.LoadOptionsFrom(null, [], null, null));
            if (loaded.HasErrors)
            {
                KexecSimCli.Print(loaded.Diagnostics, stderr);
                return ExitCodes.BadInput;
            }
            var scenarios = loaded.Program!.Scenarios;
            var width = scenarios.Count == 0 ? 0 : scenarios.Max(s => s.Name.Length);
            foreach (var scenario in scenarios)
            {
                stdout.WriteLine($"{scenario.Name.PadRight(width)}  {scenario.Expect,-15}  {scenario.Description}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
