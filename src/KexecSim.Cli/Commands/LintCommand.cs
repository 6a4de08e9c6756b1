using System.CommandLine;
using KexecSim.Language;
using KexecSim.Language.Diagnostics;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary>
/// <c>kexecsim lint FILE... [--format text|json|sarif]</c>: diagnostics only, as text lines, the
/// project's JSON, or SARIF 2.1.0 for code scanning; exit 0 when there is no error, 2 otherwise.
/// </summary>
public static class LintCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "The .kflow files to check.", Arity = ArgumentArity.OneOrMore };
        var modelPath = KexecSimCli.ModelPathOption();
        var allowOutside = KexecSimCli.AllowImportOutsideOption();
        var defines = KexecSimCli.DefineOption();
        var cpus = KexecSimCli.CpusOption();
        var format = KexecSimCli.ChoiceOption("--format",
            "Output: text lines (file:line:col: severity KFnnnn: message, then a count), json (docs/cli.md), or sarif (SARIF 2.1.0, for CI code scanning).",
            "text", "json", "sarif");
        var command = new Command("lint", "Report every error and warning in the given models (file:line:col: error KFnnnn: message); run nothing.")
        {
            files, modelPath, allowOutside, defines, cpus, format,
        };
        command.SetAction(result =>
        {
            if (!KexecSimCli.TryParseDefines(result.GetValue(defines), stderr, out var values))
            {
                return ExitCodes.BadInput;
            }
            var options = KexecSimCli.LoadOptionsFrom(result.GetValue(modelPath), values, result.GetValue(cpus), null)
                with { AllowImportOutside = result.GetValue(allowOutside) };
            var diagnostics = new List<KexecSim.Language.Diagnostics.Diagnostic>();
            // PERF: a set of the printed lines; comparing each diagnostic with every earlier one was
            // quadratic (8,000 diagnostics: 29 s, issue 12).
            var printed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in result.GetValue(files)!)
            {
                // Each file is its own model (with its imports); a shared import's diagnostics print once.
                foreach (var diagnostic in FrontEnd.Load(file, options).Diagnostics)
                {
                    if (printed.Add(diagnostic.ToString()))
                    {
                        diagnostics.Add(diagnostic);
                    }
                }
            }
            var errors = diagnostics.Count(d => d.IsError);
            var warnings = diagnostics.Count - errors;
            switch (result.GetValue(format))
            {
                case "json":
                    stdout.Write(DiagnosticReports.Json(diagnostics, TraceFile.ToolVersion));
                    return errors > 0 ? ExitCodes.BadInput : ExitCodes.Success;
                case "sarif":
                    stdout.Write(DiagnosticReports.Sarif(diagnostics, TraceFile.ToolVersion));
                    return errors > 0 ? ExitCodes.BadInput : ExitCodes.Success;
            }
            KexecSimCli.Print(diagnostics, stdout);
            if (errors > 0 || warnings > 0)
            {
                stdout.WriteLine($"{errors} error{(errors == 1 ? string.Empty : "s")}, {warnings} warning{(warnings == 1 ? string.Empty : "s")}");
            }
            return errors > 0 ? ExitCodes.BadInput : ExitCodes.Success;
        });
        return command;
    }
}
