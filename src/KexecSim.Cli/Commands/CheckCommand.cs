using System.CommandLine;
using KexecSim.Language;
using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;

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
            var options = KexecSimCli.LoadOptionsFrom(result.GetValue(modelPath), values, result.GetValue(cpus), null);
            var loaded = Load(inputs, options, stderr);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }
            var wanted = result.GetValue(scenario);
            if (wanted is not null)
            {
                var all = loaded;
                loaded = loaded.Where(s => s.ScenarioName == wanted).ToList();
                if (loaded.Count == 0)
                {
                    stderr.WriteLine($"kexecsim: error KF{(int)DiagnosticCode.UnknownScenario:D4}: no scenario named \"{wanted}\"{Spelling.DidYouMean(wanted, all.Select(s => s.ScenarioName))}");
                    return ExitCodes.BadInput;
                }
            }
            stdout.WriteLine("The exhaustive checker is not built yet: every scenario was parsed, type-checked and compiled, but none was run.");
            var width = loaded.Count == 0 ? 0 : loaded.Max(s => s.ScenarioName.Length);
            foreach (var compiled in loaded)
            {
                stdout.WriteLine($"{compiled.ScenarioName.PadRight(width)}  expected {compiled.Expect,-15}  compiled ({compiled.Platform.Cpus} CPUs, {compiled.Lines.Count} lines, {compiled.Functions.Sum(f => f.Code.Length)} instructions)");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Loads each file as its own model; null (diagnostics printed) when any has an error.</summary>
    internal static List<CompiledProgram>? Load(IEnumerable<string> files, LoadOptions options, TextWriter stderr)
    {
        var compiled = new List<CompiledProgram>();
        var printed = new HashSet<string>(StringComparer.Ordinal);
        var failed = false;
        foreach (var file in files)
        {
            var loaded = FrontEnd.Load(file, options);
            foreach (var diagnostic in loaded.Diagnostics)
            {
                if (printed.Add(diagnostic.ToString()))
                {
                    stderr.WriteLine(diagnostic.ToString());
                }
            }
            failed |= loaded.HasErrors;
            compiled.AddRange(loaded.Scenarios);
        }
        return failed ? null : compiled;
    }
}
