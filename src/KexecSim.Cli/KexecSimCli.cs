using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;
using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Cli;

/// <summary>The kexecsim command line (DESIGN.md, "Command line").</summary>
public static class KexecSimCli
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildCommand(stdout, stderr);
        var result = root.Parse(args);
        var command = result.CommandResult.Command;
        var problems = new List<string>();
        // A bad option value is said in one line naming the option and the value; only a command line
        // that is wrong in its shape (unknown words, missing arguments) gets the usage hint too.
        var onlyBadValues = true;
        foreach (var error in result.Errors)
        {
            var token = result.UnmatchedTokens.FirstOrDefault(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal));
            problems.Add(error.Message + (token is null ? string.Empty : Suggestion(command, token)));
            onlyBadValues &= error.SymbolResult is ArgumentResult { Parent: OptionResult } or OptionResult { Tokens.Count: > 0 };
        }
        // An unknown --option lands in a FILE argument; say what it is instead of "no such file".
        // (An option's own value may start with '-': "--time-limit -1" is a bad value, not an option.)
        foreach (var token in result.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens))
        {
            if (token.Value.Length > 1 && token.Value[0] == '-' && !char.IsAsciiDigit(token.Value[1])
                && !problems.Any(p => p.Contains($"'{token.Value}'", StringComparison.Ordinal)))
            {
                problems.Add($"Unrecognized option '{token.Value}'.{Suggestion(command, token.Value)}");
                onlyBadValues = false;
            }
        }
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                stderr.WriteLine($"kexecsim: {problem}");
            }
            if (!onlyBadValues)
            {
                stderr.WriteLine($"Run 'kexecsim {(command is RootCommand ? string.Empty : command.Name + " ")}--help' for usage.");
            }
            return ExitCodes.BadInput;
        }
        // Ctrl-C and SIGTERM end a long check the way a limit does (statistics so far, exit 3): the commands see
        // the cancellation through their token, and the process is never killed under them.
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (CI timeouts, Kubernetes, systemd) is Ctrl-C too: the statistics so far, exit 3, not a silent 143.
        using var terminate = OperatingSystem.IsWindows() ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                interrupt.Cancel();
            });
        var outer = Interrupt.Value;
        Interrupt.Value = interrupt.Token;
        try
        {
            return result.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }, interrupt.Token)
                .GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            // Interrupted where no statistics exist yet (loading the model): said, exit 3.
            stderr.WriteLine("kexecsim: interrupted while loading the model; no verdict");
            return ExitCodes.LimitReached;
        }
        catch (Exception e)
        {
            // What System.CommandLine's own handler did (it is off so that the interruption above is seen).
            stderr.WriteLine($"Unhandled exception: {e}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            Interrupt.Value = outer;
        }
    }

    /// <summary>Ctrl-C or SIGTERM of the running command: what <see cref="LoadOptionsFrom(string[], Dictionary{string, long}, int?, string?)"/>
    /// gives the front end, so that loading a huge model is interrupted too.</summary>
    internal static readonly AsyncLocal<CancellationToken> Interrupt = new();

    /// <summary>"Did you mean" for a mistyped command or option.</summary>
    private static string Suggestion(Command command, string token)
    {
        var candidates = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Append(o.Name))
            : command.Subcommands.Select(c => c.Name);
        var suggestion = Spelling.Suggest(token, candidates);
        return suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?";
    }

    internal static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("KexecSim: checks that Linux hands an x86 machine safely to a new kernel (kexec) or a crash kernel (kdump).");
        root.Subcommands.Add(Commands.LintCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.CheckCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.SimulateCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.MergeCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.ListCommand.Create(stdout, stderr));
        root.Subcommands.Add(Commands.ReplayCommand.CreateReplay(stdout, stderr));
        root.Subcommands.Add(Commands.ReplayCommand.CreateExplain(stdout, stderr));
        return root;
    }

    // ───────────────────────────── Shared options ─────────────────────────────

    internal static Option<string[]> ModelPathOption()
    {
        var option = new Option<string[]>("--model-path")
        {
            HelpName = "DIR",
            Description = "A directory searched for imports (after the importing file's own); the built-in models/ is always searched last.",
            Arity = ArgumentArity.OneOrMore,
        };
        // A mistyped directory would only show up later as an import not found, or not at all.
        option.Validators.Add(result =>
        {
            foreach (var directory in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!Directory.Exists(directory))
                {
                    result.AddError($"--model-path {DiagnosticText.Escape(directory)}: no such directory");
                }
            }
        });
        return option;
    }

    /// <summary><c>--report OUT.html</c>: the self-contained HTML report of a counterexample (docs/html-report.md).</summary>
    internal static Option<string?> ReportOption(string description) => new("--report") { HelpName = "OUT.html", Description = description };

    internal static Option<bool> AllowImportOutsideOption() => new("--allow-import-outside")
    {
        Description = "Let imports read files outside the model's directory tree and the --model-path directories (refused by default: KF0406).",
    };

    internal static Option<string[]> DefineOption() => new("-D", "--define")
    {
        HelpName = "NAME=VALUE",
        Description = "Override a constant of the model: -D NAME=VALUE (after the scenario's own defines).",
        Arity = ArgumentArity.OneOrMore,
    };

    internal static Option<int?> CpusOption() => new("--cpus")
    {
        HelpName = "N",
        Description = "Number of CPUs: CPU ranges that end at the scenario's last CPU are stretched or shrunk to end at N-1.",
        // The range (1..MaxCpus) is the compiler's KF0309; here only what is not a whole number at all.
        CustomParser = result => ParseWholeNumber(result, $"a whole number of CPUs from 1 to {Limits.MaxCpus}", int.MinValue, int.MaxValue) is { } n ? (int)n : null,
    };

    /// <summary>The largest --memory-limit whose bytes (MB * 1024 * 1024) fit a long.</summary>
    internal const long MaxMemoryLimitMegabytes = long.MaxValue / (1024 * 1024);

    /// <summary>The longest --time-limit (about 31 years): far below TimeSpan's range, so no overflow.</summary>
    internal const double MaxTimeLimitSeconds = 1e9;

    internal static Option<long?> MaxStatesOption() => new("--max-states")
    {
        HelpName = "N",
        Description = "Stop (exit 3) after N distinct states.",
        CustomParser = result => ParseWholeNumber(result, "a whole number of states, 1 or more", 1, long.MaxValue),
    };

    /// <summary>The most threads <c>--workers</c> accepts.</summary>
    internal const int MaxWorkers = 1024;

    internal static Option<int?> WorkersOption() => new("--workers")
    {
        HelpName = "N",
        Description = "Threads that expand each level of the search (default: one per core); the report is the same for any N.",
        CustomParser = result => ParseWholeNumber(result, $"a whole number of workers from 1 to {MaxWorkers}", 1, MaxWorkers) is { } n ? (int)n : null,
    };

    internal static Option<long?> MemoryLimitOption() => new("--memory-limit")
    {
        HelpName = "MB",
        Description = "Stop (exit 3) when the search's memory passes MB megabytes.",
        CustomParser = result => ParseWholeNumber(result, $"a whole number of megabytes from 1 to {MaxMemoryLimitMegabytes}", 1, MaxMemoryLimitMegabytes),
    };

    /// <summary>The largest bit array <c>--bitstate</c> takes: 8 GB (2^36 bits, one array).</summary>
    internal const long MaxBitstateMegabytes = 8192;

    internal static Option<long?> BitstateOption() => new("--bitstate")
    {
        HelpName = "MB",
        Description = "Bitstate hashing (breadth-first only): remember visited states as bits of an MB-megabyte array instead of "
            + "fingerprints, for runs larger than memory; states may be missed (the report estimates how many), and LIVELOCK is not looked for.",
        CustomParser = result => ParseWholeNumber(result, $"a whole number of megabytes from 1 to {MaxBitstateMegabytes}", 1, MaxBitstateMegabytes),
    };

    /// <summary>The most seconds <c>--checkpoint-every</c> takes (a day).</summary>
    public const double MaxCheckpointEverySeconds = 86_400;

    internal static Option<double?> CheckpointEveryOption() => new("--checkpoint-every")
    {
        HelpName = "S",
        Description = "With --checkpoint: at most one checkpoint per S seconds of search (default 60; 0: at every level).",
        CustomParser = result =>
        {
            if (result.Tokens.Count != 1)
            {
                return null; // the arity error says what is missing
            }
            var text = result.Tokens[0].Value;
            if (double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var seconds)
                && double.IsFinite(seconds) && seconds >= 0 && seconds <= MaxCheckpointEverySeconds)
            {
                return seconds;
            }
            result.AddError($"{OptionName(result)} {text}: expected a number of seconds, from 0 to {MaxCheckpointEverySeconds:0}");
            return null;
        },
    };

    internal static Option<double?> TimeLimitOption() => new("--time-limit")
    {
        HelpName = "S",
        Description = "Stop (exit 3) after S seconds per scenario.",
        CustomParser = result =>
        {
            if (result.Tokens.Count != 1)
            {
                return null; // the arity error says what is missing
            }
            var text = result.Tokens[0].Value;
            // Only plain decimal numbers: NaN, Infinity and hex are not lengths of time.
            if (double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var seconds)
                && double.IsFinite(seconds) && seconds > 0 && seconds <= MaxTimeLimitSeconds)
            {
                return seconds;
            }
            result.AddError($"{OptionName(result)} {text}: expected a number of seconds, more than 0 and at most {MaxTimeLimitSeconds:0}");
            return null;
        },
    };

    /// <summary>An option that takes one of a few words (the first is the default), with the error
    /// <c>--name value: expected a or b</c> for any other.</summary>
    internal static Option<string> ChoiceOption(string name, string description, params string[] words)
    {
        var option = new Option<string>(name)
        {
            HelpName = string.Join('|', words),
            Description = description,
            DefaultValueFactory = _ => words[0],
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && !words.Contains(value))
            {
                var expected = words.Length == 2 ? $"{words[0]} or {words[1]}" : string.Join(", ", words[..^1]) + " or " + words[^1];
                result.AddError($"{name} {value}: expected {expected}");
            }
        });
        return option;
    }

    /// <summary>
    /// An option's value as a whole number in [min, max]; otherwise an error naming the option, the value
    /// and what it should be (System.CommandLine's own says "System.Nullable`1[System.Int64]").
    /// </summary>
    internal static long? ParseWholeNumber(ArgumentResult result, string expected, long min, long max)
    {
        if (result.Tokens.Count != 1)
        {
            return null; // the arity error says what is missing
        }
        var text = result.Tokens[0].Value;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        result.AddError($"{OptionName(result)} {text}: expected {expected}");
        return null;
    }

    internal static string OptionName(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;

    /// <summary>
    /// Parses -D NAME=VALUE pairs; false (with every problem printed) when one is malformed. VALUE is read
    /// by the language (an integer, true/false, or a const or enum name, resolved in each model).
    /// </summary>
    internal static bool TryParseDefines(string[]? defines, TextWriter stderr, out Dictionary<string, string> values)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        var diagnostics = new DiagnosticBag();
        foreach (var define in defines ?? [])
        {
            if (CommandLineDefines.TryParse(define, diagnostics, out var name, out var value))
            {
                values[name] = value;
            }
        }
        Print(diagnostics.ToSortedList(), stderr);
        return !diagnostics.HasErrors;
    }

    /// <summary>Options for a command line's models: -D as written (checked in each model), --cpus, --model-path.</summary>
    internal static LoadOptions LoadOptionsFrom(string[]? modelPath, IReadOnlyDictionary<string, string> defines, int? cpus, string? scenario,
        bool skipDefinesOfMissingConstants = false) => new()
    {
        ModelPath = (modelPath ?? []).Append(Catalog.ModelsDirectory).ToList(),
        Compile = new CompileOptions { CommandLineDefines = defines, Cpus = cpus, SkipDefinesOfMissingConstants = skipDefinesOfMissingConstants },
        Scenario = scenario,
        Cancellation = Interrupt.Value,
    };

    /// <summary>Options to replay a trace: the define values it recorded, applied as they are.</summary>
    internal static LoadOptions LoadOptionsFrom(string[]? modelPath, Dictionary<string, long> defines, int? cpus, string? scenario) => new()
    {
        ModelPath = (modelPath ?? []).Append(Catalog.ModelsDirectory).ToList(),
        Compile = new CompileOptions { Defines = defines, Cpus = cpus },
        Scenario = scenario,
        Cancellation = Interrupt.Value,
    };

    internal static void Print(IEnumerable<Diagnostic> diagnostics, TextWriter writer)
    {
        foreach (var diagnostic in diagnostics)
        {
            writer.WriteLine(diagnostic.ToString());
        }
    }
}
