using System.CommandLine;
using KexecSim.Language;

namespace KexecSim.Cli.Commands;

/// <summary>
/// <c>kexecsim check [FILE...]</c>. The exhaustive checker is not built yet: today this command runs
/// the front end (parse, type-check, compile every scenario) and says so; it never claims a verdict.
/// </summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Models to check (none: the built-in catalog).", Arity = ArgumentArity.ZeroOrMore };
        var scenario = new Option<string?>("--scenario") { HelpName = "NAME", Description = "Check only the scenario with this name." };
        var modelPath = KexecSimCli.ModelPathOption();
        var defines = KexecSimCli.DefineOption();
        var cpus = KexecSimCli.CpusOption();
        var command = new Command("check", "Check scenarios: every interleaving explored, a proof or a shortest counterexample.")
        {
            files, scenario, modelPath, defines, cpus,
        };
        command.SetAction(result =>
        {
            if (!KexecSimCli.TryParseDefines(result.GetValue(defines), stderr, out var values))
            {
                return ExitCodes.BadInput;
            }
            var given = result.GetValue(files) ?? [];
            var inputs = given.Length > 0 ? given : Catalog.ScenarioFiles().ToArray();
            if (inputs.Length == 0)
            {
                stderr.WriteLine($"kexecsim: no models given and the catalog is empty ({Catalog.CatalogDirectory})");
                return ExitCodes.BadInput;
            }
            var options = KexecSimCli.LoadOptionsFrom(result.GetValue(modelPath), values, result.GetValue(cpus), result.GetValue(scenario));
            var loaded = FrontEnd.Load(inputs, options);
            KexecSimCli.Print(loaded.Diagnostics, stderr);
            if (loaded.HasErrors)
            {
                return ExitCodes.BadInput;
            }
            stdout.WriteLine("The exhaustive checker is not built yet: every scenario was parsed, type-checked and compiled, but none was run.");
            var width = loaded.Scenarios.Count == 0 ? 0 : loaded.Scenarios.Max(s => s.ScenarioName.Length);
            foreach (var compiled in loaded.Scenarios)
            {
                stdout.WriteLine($"{compiled.ScenarioName.PadRight(width)}  expected {compiled.Expect,-15}  compiled ({compiled.Platform.Cpus} CPUs, {compiled.Lines.Count} lines, {compiled.Functions.Sum(f => f.Code.Length)} instructions)");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
