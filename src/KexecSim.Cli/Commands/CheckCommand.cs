using System.CommandLine;
using System.Globalization;
using KexecSim.Exploration;
using KexecSim.Language.Diagnostics;
using KexecSim.Language;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary>A scenario compiled from one model file, with what is needed to write its trace file.</summary>
internal sealed record LoadedScenario(CompiledProgram Program, string File, FrontEndResult Model);

/// <summary><c>kexecsim check [FILE...]</c>: explore every interleaving of each scenario.</summary>
public static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Models to check (none: the built-in catalog).", Arity = ArgumentArity.ZeroOrMore };
        var scenario = new Option<string?>("--scenario") { HelpName = "NAME", Description = "Check only the scenario with this name." };
        var modelPath = KexecSimCli.ModelPathOption();
        var allowOutside = KexecSimCli.AllowImportOutsideOption();
        var defines = KexecSimCli.DefineOption();
        var cpus = KexecSimCli.CpusOption();
        var maxStates = KexecSimCli.MaxStatesOption();
        var maxDepth = new Option<long?>("--max-depth")
        {
            HelpName = "N",
            Description = "With bfs: do not expand the states N steps from the initial state; stop (exit 3) if any is left.",
            CustomParser = result => KexecSimCli.ParseWholeNumber(result, "a whole number of steps, 1 or more", 1, int.MaxValue),
        };
        var timeLimit = KexecSimCli.TimeLimitOption();
        var memoryLimit = KexecSimCli.MemoryLimitOption();
        var bitstate = KexecSimCli.BitstateOption();
        var workers = KexecSimCli.WorkersOption();
        var format = new Option<string>("--format") { HelpName = "text|json|ktap|junit", Description = "Report format.", DefaultValueFactory = _ => "text" };
        // One line naming the option and the value (AcceptOnlyFromAmong lists the values a line each).
        format.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && value is not ("text" or "json" or "ktap" or "junit"))
            {
                result.AddError($"--format {value}: expected one of text, json, ktap, junit");
            }
        });
        var traceOut = new Option<string?>("--trace") { HelpName = "OUT.json|DIR/", Description = "Write the counterexample as a trace file (with several scenarios: OUT-<scenario>.json each); a directory (existing, or ending in /) takes every violation found: <scenario>.json and <scenario>.<CODE>.json." };
        var symmetry = KexecSimCli.ChoiceOption("--symmetry", "Reduce by the scenario's symmetric CPUs (one state per permutation orbit) when the declaration is usable.", "on", "off");
        var reduce = KexecSimCli.ChoiceOption("--reduce",
            "Semantics-aware reductions (docs/reduction.md): all drops the cache state no check can observe; none explores the full machine.", "all", "none");
        var livelock = KexecSimCli.ChoiceOption("--livelock",
            "Look for LIVELOCK after a complete search (on: in the graph of every transition, kept as the search goes), in a second pass that makes the states' successors again and keeps no graph (lean: the same result in about twice the time and less memory), or check every state's safety only (off: SPIN's -DSAFETY).", "on", "lean", "off");
        var strategy = KexecSimCli.ChoiceOption("--strategy", "Search order: bfs finds a shortest counterexample; dfs finds some counterexample, often sooner and in less memory.", "bfs", "dfs");
        var shorten = new Option<bool>("--shorten") { Description = "With --strategy dfs: look for shorter counterexamples until none is shorter (with bfs: nothing to do)." };
        var checkpoint = new Option<string?>("--checkpoint")
        {
            HelpName = "DIR",
            Description = "Save the breadth-first search in DIR at level boundaries, to continue it with --resume after a crash or a kill (docs/checkpoint.md; one scenario).",
        };
        var checkpointEvery = KexecSimCli.CheckpointEveryOption();
        var resume = new Option<string?>("--resume")
        {
            HelpName = "DIR",
            Description = "Continue the search saved in DIR by --checkpoint (the same model, scenario and search options).",
        };
        var coverage = new Option<bool>("--coverage") { Description = "List every statement no run reached (file:line:col notes; in JSON: coverage.neverReached)." };
        var reportOut = KexecSimCli.ReportOption("Write the HTML report: verdict, statistics, coverage and the counterexample's sequence diagram (with several scenarios: OUT-<scenario>.html for each counterexample).");
        var view = ViewOption();
        var showCaches = ShowCachesOption();
        var command = new Command("check", "Check scenarios: every interleaving explored; a proof, or a shortest counterexample.")
        {
            files, scenario, modelPath, allowOutside, defines, cpus, maxStates, maxDepth, timeLimit, memoryLimit, workers, symmetry, reduce, livelock, bitstate, strategy, shorten, format, traceOut, reportOut, coverage,
            view, showCaches, checkpoint, checkpointEvery, resume,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(bitstate) is not null && result.GetValue(strategy) == "dfs")
            {
                result.AddError("--bitstate is a breadth-first search's visited set: it does not go with --strategy dfs");
            }
            if (result.GetResult(maxDepth) is not null && result.GetValue(strategy) == "dfs")
            {
                result.AddError("--max-depth bounds a breadth-first search: it does not go with --strategy dfs (a depth-first search with a depth bound and a visited set is not complete even within the bound)");
            }
            if (result.GetValue(livelock) == "lean" && result.GetValue(strategy) == "dfs")
            {
                result.AddError("--livelock lean is a pass after a breadth-first search: it does not go with --strategy dfs (which keeps its graph as it goes)");
            }
            if ((result.GetResult(checkpoint) is not null || result.GetResult(resume) is not null) && result.GetValue(strategy) == "dfs")
            {
                result.AddError("--checkpoint and --resume save and continue a breadth-first search: they do not go with --strategy dfs");
            }
            if (result.GetResult(checkpointEvery) is not null && result.GetResult(checkpoint) is null)
            {
                result.AddError("--checkpoint-every says how often --checkpoint DIR saves the search: give --checkpoint too");
            }
        });
        command.SetAction((result, cancel) =>
        {
            if (!KexecSimCli.TryParseDefines(result.GetValue(defines), stderr, out var values))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            var given = result.GetValue(files) ?? [];
            var catalog = given.Length == 0;
            var inputs = catalog ? Catalog.ScenarioFiles().ToArray() : given;
            if (inputs.Length == 0)
            {
                stderr.WriteLine($"kexecsim: no models given and the catalog is empty ({Catalog.CatalogDirectory})");
                return Task.FromResult(ExitCodes.BadInput);
            }
            // Over the catalog, a -D applies to the models that have the const; the others are named.
            var options = KexecSimCli.LoadOptionsFrom(result.GetValue(modelPath), values, result.GetValue(cpus), null, skipDefinesOfMissingConstants: catalog)
                with { AllowImportOutside = result.GetValue(allowOutside) };
            var models = new List<(string File, FrontEndResult Model)>();
            var loaded = Load(inputs, options, stderr, models);
            if (catalog && !ReportDefinesTheCatalogLacks(values, models, stderr))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            if (loaded is null)
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            if (SelectScenario(loaded, result.GetValue(scenario), stderr) is not { } selected)
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            loaded = selected;
            if (result.GetValue(livelock) == "off" && loaded.FirstOrDefault(s => s.Program.Expect.Code == ViolationCode.Livelock) is { } cycling)
            {
                stderr.WriteLine($"kexecsim: --livelock off: scenario \"{cycling.Program.ScenarioName}\" expects LIVELOCK, which would not be looked for");
                return Task.FromResult(ExitCodes.BadInput);
            }
            // A trace that could not be written would lose the search's work: say so before it starts.
            if (result.GetValue(traceOut) is { } traceDirectory && CheckRun.IsTraceDirectory(traceDirectory))
            {
                if (!OutputFile.CheckTracePath(Path.Combine(traceDirectory, "trace.json"), stderr))
                {
                    return Task.FromResult(ExitCodes.BadInput);
                }
            }
            else if (result.GetValue(traceOut) is { } trace)
            {
                // OUT.json itself first: a directory is refused even where several scenarios would name files beside it.
                foreach (var path in loaded.Select(s => CheckRun.TracePath(trace, s, loaded.Count)).Prepend(trace).Distinct(StringComparer.Ordinal))
                {
                    if (!OutputFile.CheckTracePath(path, stderr))
                    {
                        return Task.FromResult(ExitCodes.BadInput);
                    }
                }
            }
            if (result.GetValue(reportOut) is { } report)
            {
                foreach (var path in loaded.Select(s => CheckRun.TracePath(report, s, loaded.Count)).Prepend(report).Distinct(StringComparer.Ordinal))
                {
                    if (!OutputFile.CheckPath("--report", path, stderr))
                    {
                        return Task.FromResult(ExitCodes.BadInput);
                    }
                }
            }
            var checkOptions = new CheckOptions
            {
                MaxStates = result.GetValue(maxStates) ?? CheckOptions.Default.MaxStates,
                MaxDepth = result.GetValue(maxDepth) is { } depthBound ? (int)depthBound : null,
                TimeLimit = result.GetValue(timeLimit) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                MemoryLimitBytes = result.GetValue(memoryLimit) is { } mb ? mb * 1024 * 1024 : null,
                BitstateBytes = result.GetValue(bitstate) is { } bits ? bits * 1024 * 1024 : null,
                Cancellation = cancel,
                Symmetry = result.GetValue(symmetry) == "on",
                Reduce = result.GetValue(reduce) == "all" ? Reduction.All : Reduction.None,
                Livelock = result.GetValue(livelock) != "off",
                LivelockLean = result.GetValue(livelock) == "lean",
                Strategy = result.GetValue(strategy) == "dfs" ? SearchStrategy.DepthFirst : SearchStrategy.BreadthFirst,
                Shorten = result.GetValue(shorten),
                Workers = result.GetValue(workers) ?? Environment.ProcessorCount,
                Progress = ProgressReporter.For(stderr),
            };
            if (result.GetValue(checkpoint) is { } saveTo && !OutputFile.CheckCheckpointDirectory(saveTo, stderr))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            if (result.GetValue(checkpoint) is not null || result.GetValue(resume) is not null)
            {
                var option = result.GetValue(resume) is not null ? "--resume" : "--checkpoint";
                if (loaded.Count != 1)
                {
                    stderr.WriteLine($"kexecsim: {option} saves one scenario's search; {loaded.Count} are selected: give --scenario NAME");
                    return Task.FromResult(ExitCodes.BadInput);
                }
                var identity = CheckpointIdentity(loaded[0], values, result.GetValue(cpus), checkOptions);
                Checkpoint? resumed = null;
                if (result.GetValue(resume) is { } from)
                {
                    try
                    {
                        resumed = Checkpoint.Open(from, identity);
                    }
                    catch (CheckpointException e)
                    {
                        stderr.WriteLine($"kexecsim: --resume {from}: {e.Message}");
                        return Task.FromResult(ExitCodes.BadInput);
                    }
                }
                checkOptions = checkOptions with
                {
                    Checkpoint = new CheckpointOptions
                    {
                        Directory = result.GetValue(checkpoint),
                        Every = TimeSpan.FromSeconds(result.GetValue(checkpointEvery) ?? 60),
                        Resume = resumed,
                        Identity = identity,
                    },
                };
            }
            // One scenario (a file's only one, or the one --scenario names, also in the catalog): its full report.
            var run = new CheckRun(loaded, checkOptions, result.GetValue(format)!, result.GetValue(traceOut), values, result.GetValue(cpus),
                result.GetValue(modelPath) ?? [], detailed: loaded.Count == 1)
            {
                Coverage = result.GetValue(coverage),
                ReportOut = result.GetValue(reportOut),
                View = result.GetValue(view) == "compact" ? TextView.Compact : TextView.Table,
                ShowCaches = result.GetValue(showCaches),
                DisplayFile = catalog ? CatalogFileName : file => file,
            };
            try
            {
                return Task.FromResult(run.Execute(stdout, stderr));
            }
            catch (CheckpointException e)
            {
                stderr.WriteLine($"kexecsim: {e.Message}");
                return Task.FromResult(ExitCodes.BadInput);
            }
        });
        return command;
    }

    /// <summary><c>--view table|compact</c>: how a counterexample is shown in text.</summary>
    internal static Option<string> ViewOption() => KexecSimCli.ChoiceOption("--view",
        "How a counterexample is shown in text: table (a column per CPU, 100 columns wide) or compact (one line per step).", "table", "compact");

    /// <summary><c>--show-caches</c>: the dirty cache lines after each step.</summary>
    internal static Option<bool> ShowCachesOption() => new("--show-caches")
    {
        Description = "After each step of a counterexample, the dirty cache lines per CPU and key (text views).",
    };

    /// <summary>A catalog file as reports name it: relative to the built-in models/ directory (<c>catalog/seed004-sme.kflow</c>).</summary>
    internal static string CatalogFileName(string file) => Path.GetRelativePath(Catalog.ModelsDirectory, file).Replace('\\', '/');

    /// <summary>
    /// What a checkpoint records of the search, and a resumed search must match (docs/checkpoint.md): the
    /// tool's version, the scenario, the model's source files and compiled program, and every option that
    /// changes which states are searched or how they are stored. Not the limits, --workers, the report's
    /// format or --trace: they change where a search stops or how it is told, not what it finds on the way.
    /// </summary>
    internal static List<KeyValuePair<string, string>> CheckpointIdentity(LoadedScenario scenario, IReadOnlyDictionary<string, string> defines, int? cpus,
        CheckOptions options) =>
    [
        KeyValuePair.Create("tool version", Checkpoint.ToolVersion),
        KeyValuePair.Create("scenario", scenario.Program.ScenarioName),
        KeyValuePair.Create("model sources", Checkpoint.TextHash(scenario.Model.Units.Select(u => u.Source.Text))),
        KeyValuePair.Create("compiled program", Checkpoint.ProgramHash(scenario.Program)),
        KeyValuePair.Create("-D", defines.Count == 0 ? "none" : string.Join(" ", defines.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}"))),
        KeyValuePair.Create("--cpus", cpus?.ToString(CultureInfo.InvariantCulture) ?? "the model's"),
        KeyValuePair.Create("--strategy", options.Strategy == SearchStrategy.DepthFirst ? "dfs" : "bfs"),
        KeyValuePair.Create("--reduce", options.Reduce == Reduction.All ? "all" : "none"),
        KeyValuePair.Create("--symmetry", options.Symmetry ? "on" : "off"),
        KeyValuePair.Create("--livelock", !options.Livelock ? "off" : options.LivelockLean ? "lean" : "on"),
        KeyValuePair.Create("--bitstate", options.BitstateBytes is { } bytes ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MB") : "off"),
    ];

    /// <summary>
    /// For <c>check</c> over the catalog: a warning naming the models a <c>-D</c> does not apply to (they
    /// have no such const), or an error when no model has it. False when there was an error.
    /// </summary>
    private static bool ReportDefinesTheCatalogLacks(IReadOnlyDictionary<string, string> defines, List<(string File, FrontEndResult Model)> models,
        TextWriter stderr)
    {
        var ok = true;
        foreach (var (name, value) in defines.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var lacking = models
                .Where(m => m.Model.Program is { } program && !program.Constants.Any(c => c.Name == name))
                .Select(m => Path.GetRelativePath(Catalog.CatalogDirectory, m.File).Replace('\\', '/'))
                .ToList();
            if (lacking.Count == 0)
            {
                continue;
            }
            if (lacking.Count == models.Count)
            {
                stderr.WriteLine($"kexecsim: error {DiagnosticCode.InvalidCommandLineDefine.Format()}: -D {name}={value}: no model of the catalog has a constant '{name}'");
                ok = false;
                continue;
            }
            stderr.WriteLine($"kexecsim: warning {DiagnosticCode.DefineNotInEveryModel.Format()}: -D {name}={value} applies to {models.Count - lacking.Count} of {models.Count} catalog models; "
                + $"not to {string.Join(", ", lacking)}, which have no constant '{name}'");
        }
        return ok;
    }

    /// <summary>The scenarios named <paramref name="wanted"/> (all when null); null, with KF0311 and a "did you
    /// mean" said, when none has that name.</summary>
    internal static List<LoadedScenario>? SelectScenario(List<LoadedScenario> loaded, string? wanted, TextWriter stderr)
    {
        if (wanted is null)
        {
            return loaded;
        }
        var selected = loaded.Where(s => s.Program.ScenarioName == wanted).ToList();
        if (selected.Count == 0)
        {
            stderr.WriteLine($"kexecsim: error KF{(int)DiagnosticCode.UnknownScenario:D4}: no scenario named \"{wanted}\"{Spelling.DidYouMean(wanted, loaded.Select(s => s.Program.ScenarioName))}");
            return null;
        }
        return selected;
    }

    /// <summary>Loads each file as its own model; null (diagnostics printed) when any has an error.</summary>
    internal static List<LoadedScenario>? Load(IEnumerable<string> files, LoadOptions options, TextWriter stderr,
        List<(string File, FrontEndResult Model)>? models = null)
    {
        var compiled = new List<LoadedScenario>();
        var printed = new HashSet<string>(StringComparer.Ordinal);
        var failed = false;
        foreach (var file in files)
        {
            var loaded = FrontEnd.Load(file, options);
            models?.Add((file, loaded));
            foreach (var diagnostic in loaded.Diagnostics)
            {
                if (printed.Add(diagnostic.ToString()))
                {
                    stderr.WriteLine(diagnostic.ToString());
                }
            }
            failed |= loaded.HasErrors;
            if (!loaded.HasErrors && loaded.Scenarios.Count == 0)
            {
                // Nothing to explore is an input error, not a silent pass.
                stderr.WriteLine($"{file}: error KF{(int)DiagnosticCode.NoScenario:D4}: no scenario to check (the file declares none; `kexecsim lint` checks a library)");
                failed = true;
            }
            compiled.AddRange(loaded.Scenarios.Select(s => new LoadedScenario(s, file, loaded)));
        }
        return failed ? null : compiled;
    }
}

/// <summary>Runs the checks of one command and prints the reports.</summary>
internal sealed class CheckRun(
    List<LoadedScenario> scenarios,
    CheckOptions options,
    string format,
    string? traceOut,
    IReadOnlyDictionary<string, string> defines,
    int? cpus,
    IReadOnlyList<string> modelPath,
    bool detailed)
{
    /// <summary><c>--coverage</c>: print (and put in JSON) every statement never reached.</summary>
    public bool Coverage { get; init; }

    /// <summary><c>--report OUT.html</c>: where the HTML report goes (OUT-scenario.html for one of several), or null.</summary>
    public string? ReportOut { get; init; }

    /// <summary><c>--view</c>: a counterexample as a table or one line per step.</summary>
    public TextView View { get; init; }

    /// <summary><c>--show-caches</c>: the dirty cache lines after each step.</summary>
    public bool ShowCaches { get; init; }

    /// <summary>How the table names a scenario's file.</summary>
    public Func<string, string> DisplayFile { get; init; } = file => file;

    public int Execute(TextWriter stdout, TextWriter stderr)
    {
        var width = TextReport.NameWidth(scenarios.Select(s => s.Program.ScenarioName));
        var json = format == "json";
        var ci = format is "ktap" or "junit";
        var infos = new List<ScenarioInfo>();
        var checkedScenarios = new List<CheckedScenario>();
        var anyFailed = false;
        var anyLimit = false;
        var rows = new List<CheckResult>();
        string? lastFile = null;
        // Written after the report: a trace that fails to write (a full disk) cannot take the verdict with it.
        var traces = new List<(LoadedScenario Scenario, CheckResult Result, ReportModel? Model)>();
        if (!json && !ci && !detailed)
        {
            stdout.WriteLine(TextReport.Header(width));
        }
        // Several scenarios: --workers threads search them, each taking the next scenario not yet taken (one
        // worker per search), and they are reported in order as each one's turn comes: the output is the same
        // as one at a time. A long search does not hold the other threads back (they go on with the scenarios
        // after it); results wait for their turn.
        var ahead = scenarios.Count > 1 ? Math.Min(options.Workers, scenarios.Count) : 1;
        var each = ahead > 1 ? options with { Workers = 1, Progress = null } : options;
        var searches = new TaskCompletionSource<CheckResult>[scenarios.Count];
        for (var i = 0; i < searches.Length; i++)
        {
            searches[i] = new TaskCompletionSource<CheckResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        var taken = -1;
        void SearchNext()
        {
            int index;
            while ((index = Interlocked.Increment(ref taken)) < scenarios.Count)
            {
                try
                {
                    searches[index].SetResult(Search.Create(scenarios[index].Program, each).Run());
                }
                catch (Exception e)
                {
                    searches[index].SetException(e);
                }
                if (options.Cancellation.IsCancellationRequested)
                {
                    return; // the report stops at the scenario interrupted
                }
            }
        }
        var threads = new Thread[ahead];
        for (var t = 0; t < ahead; t++)
        {
            threads[t] = new Thread(SearchNext) { IsBackground = true, Name = $"kexecsim scenario search {t + 1}" };
            threads[t].Start();
        }
        for (var index = 0; index < scenarios.Count; index++)
        {
            var scenario = scenarios[index];
            var result = searches[index].Task.GetAwaiter().GetResult();
            searches[index] = null!;
            ProgressReporter.Clear(stderr);
            anyFailed |= !result.ExpectationMet && result.Verdict != Verdict.LimitReached;
            anyLimit |= result.Verdict == Verdict.LimitReached;
            // The counterexample is replayed once, into the report model every writer renders, and only
            // when a writer shows it.
            var shown = result.Trace is { } trace && (json || detailed || !result.ExpectationMet)
                ? ReportModel.Build(scenario.Program, trace)
                : null;
            if ((traceOut is not null || ReportOut is not null) && (result.Trace is not null || result.OtherViolations.Count > 0 || scenarios.Count == 1))
            {
                traces.Add((scenario, result, shown));
            }
            if (ci)
            {
                checkedScenarios.Add(new CheckedScenario(result, scenario.File, shown));
            }
            else if (json)
            {
                infos.Add(JsonReport.Describe(new CheckedScenario(result, scenario.File, shown), Coverage));
            }
            else if (detailed)
            {
                stdout.Write(TextReport.Full(result, shown, View, ShowCaches));
                WriteCoverageNotes(stdout, result);
            }
            else
            {
                if (scenario.File != lastFile)
                {
                    stdout.WriteLine(TextReport.FileLine(DisplayFile(scenario.File)));
                    lastFile = scenario.File;
                }
                rows.Add(result);
                stdout.WriteLine(TextReport.Row(result, width));
                if (shown is not null)
                {
                    var builder = new System.Text.StringBuilder();
                    if (TextReport.StrategyLine(result) is { } how)
                    {
                        builder.Append("      ").AppendLine(how);
                    }
                    TextReport.AppendCounterexample(builder, shown, View, ShowCaches);
                    stdout.Write(builder.ToString());
                }
                else if (result.LimitReason is { } limit)
                {
                    stdout.WriteLine($"      stopped: {limit}");
                }
                var warnings = new System.Text.StringBuilder();
                TextReport.AppendCoverageWarnings(warnings, result);
                stdout.Write(warnings.ToString());
                WriteCoverageNotes(stdout, result);
            }
            if (options.Cancellation.IsCancellationRequested)
            {
                break;
            }
        }
        if (rows.Count > 0)
        {
            stdout.WriteLine(TextReport.Summary(rows));
        }
        if (json)
        {
            stdout.Write(JsonReport.Render(infos));
        }
        else if (ci)
        {
            stdout.Write(format == "ktap" ? CiReports.Ktap(checkedScenarios) : CiReports.Junit(checkedScenarios));
        }
        var written = true;
        foreach (var (scenario, result, model) in traces)
        {
            if (traceOut is not null)
            {
                written &= WriteTrace(scenario, result, model, stderr);
            }
            if (ReportOut is not null)
            {
                // The report's replay checks a LIVELOCK's fairness, as the text report's does.
                var replayed = model ?? (result.Trace is { } trace ? ReportModel.Build(scenario.Program, trace) : null);
                var html = HtmlReport.Render(replayed, result, scenario.Program, scenario.File);
                written &= WriteHtmlReport(TracePath(ReportOut, scenario, scenarios.Count), html, scenario.Program.ScenarioName, stderr);
            }
        }
        return !written ? ExitCodes.BadInput : anyFailed ? ExitCodes.Violation : anyLimit ? ExitCodes.LimitReached : ExitCodes.Success;
    }

    private void WriteCoverageNotes(TextWriter stdout, CheckResult result)
    {
        if (Coverage)
        {
            var notes = new System.Text.StringBuilder();
            TextReport.AppendCoverageNotes(notes, result);
            stdout.Write(notes.ToString());
        }
    }

    /// <summary>Where the trace of <paramref name="scenario"/> goes: OUT.json, or OUT-scenario.json for one of several.</summary>
    public static string TracePath(string traceOut, LoadedScenario scenario, int scenarioCount)
    {
        if (scenarioCount <= 1 || traceOut.Length == 0)
        {
            return traceOut;
        }
        var extension = Path.GetExtension(traceOut);
        return Path.Combine(Path.GetDirectoryName(traceOut) ?? string.Empty, $"{Path.GetFileNameWithoutExtension(traceOut)}-{scenario.Program.ScenarioName}{extension}");
    }

    /// <summary>Writes one trace file; false (one line said) when it cannot be written.</summary>
    /// <param name="model">The counterexample's report model when a report already replayed it, else null.</param>
    private bool WriteTrace(LoadedScenario scenario, CheckResult result, ReportModel? model, TextWriter stderr)
    {
        var name = scenario.Program.ScenarioName;
        var directory = IsTraceDirectory(traceOut!);
        // Without a counterexample of its own (a limit stopped the search), the shortest violation found so far.
        var main = result.Trace ?? result.OtherViolations.OrderBy(o => o.Trace.Steps.Count).Select(o => o.Trace).FirstOrDefault();
        if (main is null)
        {
            stderr.WriteLine($"kexecsim: \"{name}\" has no counterexample: no trace written");
            return true;
        }
        if (result.Trace is null)
        {
            stderr.WriteLine($"kexecsim: \"{name}\": no verdict; the trace written is the shortest violation found so far ({main.Violation!.Code.Name()})");
        }
        var path = directory ? Path.Combine(traceOut!, $"{FileSafe(name)}.json") : TracePath(traceOut!, scenario, scenarios.Count);
        // Only the steps in words: the explorer's own trace needs no second fairness search.
        model = result.Trace is null ? null : model;
        var written = WriteOne(scenario, main, model, path, stderr);
        if (directory)
        {
            // Every other violation found on the way, each in a file of its own.
            foreach (var (violation, trace) in result.OtherViolations)
            {
                if (!ReferenceEquals(trace, main))
                {
                    written &= WriteOne(scenario, trace, null, Path.Combine(traceOut!, $"{FileSafe(name)}.{violation.Code.Name()}.json"), stderr);
                }
            }
        }
        return written;
    }

    private bool WriteOne(LoadedScenario scenario, Trace trace, ReportModel? model, string path, TextWriter stderr)
    {
        model ??= ReportModel.Build(scenario.Program, trace, checkFairness: false);
        var file = TraceFile.Create(model, scenario.File, scenario.Model.Units.Select(u => u.Source).ToList(), RecordedDefines(defines, scenario.Program), cpus, modelPath);
        return WriteTraceFile(path, file, scenario.Program.ScenarioName, stderr);
    }

    /// <summary>Whether <c>--trace</c> names a directory (an existing one, or a path ending in a separator): every
    /// violation found is written there.</summary>
    public static bool IsTraceDirectory(string path) =>
        path.Length > 0 && (Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar));

    /// <summary>A scenario name as a file name: characters a file system may refuse become '_'.</summary>
    private static string FileSafe(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    /// <summary>The value each -D gave its const in <paramref name="program"/> (a name resolved), as a trace
    /// records it, so that replay needs no model-dependent reading.</summary>
    public static Dictionary<string, long> RecordedDefines(IReadOnlyDictionary<string, string> defines, CompiledProgram program) =>
        defines.Keys.Where(program.Constants.ContainsKey).ToDictionary(name => name, name => program.Constants[name]);

    /// <summary>Writes an HTML report atomically; false (one line said) when it cannot be written.</summary>
    public static bool WriteHtmlReport(string path, string html, string scenarioName, TextWriter stderr)
    {
        try
        {
            OutputFile.WriteAtomically(path, html);
        }
        catch (Exception e) when (OutputFile.IsIoFailure(e))
        {
            stderr.WriteLine($"kexecsim: --report {path}: cannot write: {OutputFile.Describe(e)}");
            return false;
        }
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kexecsim: report of \"{scenarioName}\" written to {path}"));
        return true;
    }

    /// <summary>Writes a trace file atomically; false (one line said) when it cannot be written.</summary>
    public static bool WriteTraceFile(string path, TraceFile file, string scenarioName, TextWriter stderr)
    {
        try
        {
            OutputFile.WriteAtomically(path, file.ToJson());
        }
        catch (Exception e) when (OutputFile.IsIoFailure(e))
        {
            stderr.WriteLine($"kexecsim: --trace {path}: cannot write: {OutputFile.Describe(e)}");
            return false;
        }
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kexecsim: trace of \"{scenarioName}\" written to {path}"));
        return true;
    }
}
