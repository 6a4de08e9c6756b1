using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using KexecSim.Exploration;
using KexecSim.Reporting;

namespace KexecSim.Cli.Commands;

/// <summary><c>kexecsim simulate FILE</c>: many random (or PCT) runs of one scenario (docs/simulate.md).</summary>
public static class SimulateCommand
{
    /// <summary>The most <c>--max-steps</c> accepts.</summary>
    internal const long MaxMaxSteps = 1_000_000_000;

    /// <summary>The most <c>--pct-depth</c> accepts.</summary>
    internal const int MaxPctDepth = 1000;

    /// <summary>The most shards <c>--shard K/N</c> accepts.</summary>
    internal const int MaxShards = 1_000_000;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string>("FILE") { Description = "The model to simulate." };
        var scenario = new Option<string?>("--scenario") { HelpName = "NAME", Description = "The scenario to simulate (required when the file has several)." };
        var modelPath = KexecSimCli.ModelPathOption();
        var allowOutside = KexecSimCli.AllowImportOutsideOption();
        var defines = KexecSimCli.DefineOption();
        var cpus = KexecSimCli.CpusOption();
        var runs = new Option<long?>("--runs")
        {
            HelpName = "N",
            Description = "The run space: run indices 0 to N-1 (this job does its --shard of them).",
            Required = true,
            CustomParser = result => KexecSimCli.ParseWholeNumber(result, "a whole number of runs, 1 or more", 1, long.MaxValue),
        };
        var seed = new Option<ulong?>("--seed")
        {
            HelpName = "S",
            Description = "The seed: with the run index, all a run depends on.",
            Required = true,
            CustomParser = ParseSeed,
        };
        var strategy = KexecSimCli.ChoiceOption("--strategy", "How each run schedules: random (a uniform random walk) or pct (Probabilistic Concurrency Testing).", "random", "pct");
        var pctDepth = new Option<int?>("--pct-depth")
        {
            HelpName = "D",
            Description = $"With --strategy pct: the bug depth, D-1 priority change points per run (default {SimulationOptions.DefaultPctDepth}).",
            CustomParser = result => KexecSimCli.ParseWholeNumber(result, $"a whole number from 1 to {MaxPctDepth}", 1, MaxPctDepth) is { } n ? (int)n : null,
        };
        var maxSteps = new Option<long?>("--max-steps")
        {
            HelpName = "K",
            Description = $"A run that has taken K steps without ending stops there (default {SimulationOptions.DefaultMaxSteps:N0}).",
            CustomParser = result => KexecSimCli.ParseWholeNumber(result, $"a whole number of steps from 1 to {MaxMaxSteps}", 1, MaxMaxSteps),
        };
        var workers = KexecSimCli.WorkersOption();
        workers.Description = "Threads the runs are spread over (default: one per core); the result is the same for any N.";
        var format = KexecSimCli.ChoiceOption("--format", "Report format.", "text", "json");
        var traceOut = new Option<string?>("--trace") { HelpName = "OUT.json", Description = "Write the first run that committed a violation (the expected code's first) as a trace file." };
        var reportOut = KexecSimCli.ReportOption("Write the HTML report of the run --trace would write: its sequence diagram, the caches and memory at every step.");
        var shard = new Option<(int K, int N)?>("--shard")
        {
            HelpName = "K/N",
            Description = "Do only the run indices i with i % N == K-1 (1 <= K <= N): N jobs together do the runs one job does; 'kexecsim merge' combines them.",
            CustomParser = ParseShard,
        };
        var timeLimit = KexecSimCli.TimeLimitOption();
        timeLimit.Description = "Stop (exit 3) after S seconds; the figures of the runs done are printed.";
        var timed = new Option<bool>("--timed")
        {
            Description = "Timed runs (SEMANTICS.md section 9, docs/timed.md): per-CPU clocks, latencies and costs drawn from the seed; reports the time to finish and every wait_until's waits and timeouts.",
        };
        var set = new Option<string[]>("--set")
        {
            HelpName = "NAME=VALUE",
            Description = $"With --timed: override a cost or latency (NAME=VALUE or NAME=MIN..MAX; names: {string.Join(", ", TimedParameters.Names)}). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var reduce = KexecSimCli.ChoiceOption("--reduce",
            "all walks the machine check --reduce all explores (a hlt() nothing can interrupt taken with the step reaching it, no cache state for lines no check observes: docs/reduction.md); none walks the full machine. Timed runs are never reduced.", "all", "none");
        var plot = new Option<string?>("--plot") { HelpName = "OUT.svg", Description = "With --timed: write the time-to-finish histogram and CDF as an SVG file." };
        var command = new Command("simulate", "Simulate many runs of one scenario: random walks or PCT schedules, reproducible from the seed and the run index.")
        {
            file, scenario, modelPath, allowOutside, defines, cpus, runs, seed, strategy, pctDepth, maxSteps, workers, format, traceOut, reportOut, shard, timeLimit, timed, set, plot, reduce,
        };
        reduce.Validators.Add(result =>
        {
            if (result.GetValue(timed) && result.GetValue(reduce) == "all" && result.GetResult(reduce) is { Implicit: false })
            {
                result.AddError("--reduce all does not go with --timed: every step of a timed run takes time, none is merged");
            }
        });
        timed.Validators.Add(result =>
        {
            if (result.GetValue(timed) && result.GetValue(strategy) == "pct")
            {
                result.AddError("--timed schedules by time: it does not go with --strategy pct");
            }
        });
        set.Validators.Add(result =>
        {
            if (!result.GetValue(timed))
            {
                result.AddError("--set goes with --timed");
            }
        });
        plot.Validators.Add(result =>
        {
            if (!result.GetValue(timed))
            {
                result.AddError("--plot goes with --timed");
            }
        });
        // On the option, so that the error is one line naming it (no usage hint).
        pctDepth.Validators.Add(result =>
        {
            if (result.GetValue(strategy) != "pct")
            {
                result.AddError("--pct-depth goes with --strategy pct");
            }
        });
        command.SetAction((result, cancel) =>
        {
            if (!KexecSimCli.TryParseDefines(result.GetValue(defines), stderr, out var values))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            var path = result.GetValue(file)!;
            var options = KexecSimCli.LoadOptionsFrom(result.GetValue(modelPath), values, result.GetValue(cpus), null)
                with { AllowImportOutside = result.GetValue(allowOutside) };
            if (CheckCommand.Load([path], options, stderr) is not { } loaded
                || CheckCommand.SelectScenario(loaded, result.GetValue(scenario), stderr) is not { } selected)
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            if (selected.Count > 1)
            {
                stderr.WriteLine($"kexecsim: {path} has {selected.Count} scenarios: simulate one with --scenario NAME ({string.Join(", ", selected.Select(s => s.Program.ScenarioName))})");
                return Task.FromResult(ExitCodes.BadInput);
            }
            var trace = result.GetValue(traceOut);
            if (trace is not null && !OutputFile.CheckTracePath(trace, stderr))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            var htmlReport = result.GetValue(reportOut);
            if (htmlReport is not null && !OutputFile.CheckPath("--report", htmlReport, stderr))
            {
                return Task.FromResult(ExitCodes.BadInput);
            }
            TimedParameters? parameters = null;
            if (result.GetValue(timed))
            {
                parameters = new TimedParameters();
                foreach (var setting in result.GetValue(set) ?? [])
                {
                    try
                    {
                        parameters = parameters.With(setting);
                    }
                    catch (FormatException e)
                    {
                        stderr.WriteLine($"kexecsim: --set {e.Message}");
                        return Task.FromResult(ExitCodes.BadInput);
                    }
                }
            }
            var plotOut = result.GetValue(plot);
            if (plotOut is not null && OutputFile.Problem(plotOut) is { } problem)
            {
                stderr.WriteLine($"kexecsim: --plot {plotOut}: {problem}");
                return Task.FromResult(ExitCodes.BadInput);
            }
            var (k, n) = result.GetValue(shard) ?? (1, 1);
            var simulation = new SimulationOptions
            {
                Strategy = result.GetValue(strategy) == "pct" ? SimulationStrategy.Pct : SimulationStrategy.Random,
                Runs = result.GetValue(runs)!.Value,
                Seed = result.GetValue(seed)!.Value,
                PctDepth = result.GetValue(pctDepth) ?? SimulationOptions.DefaultPctDepth,
                MaxSteps = result.GetValue(maxSteps) ?? SimulationOptions.DefaultMaxSteps,
                Workers = result.GetValue(workers) ?? Environment.ProcessorCount,
                ShardIndex = k,
                ShardCount = n,
                TimeLimit = result.GetValue(timeLimit) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                Timed = parameters,
                Reduce = result.GetValue(reduce) == "all" ? Reduction.All : Reduction.None,
                Cancellation = cancel,
            };
            return Task.FromResult(Execute(selected[0], simulation, result.GetValue(format)!, trace, htmlReport, plotOut, values, result.GetValue(cpus), result.GetValue(modelPath) ?? [], stdout, stderr));
        });
        return command;
    }

    private static int Execute(LoadedScenario scenario, SimulationOptions options, string format, string? traceOut, string? reportOut, string? plotOut,
        IReadOnlyDictionary<string, string> defines, int? cpus, IReadOnlyList<string> modelPath, TextWriter stdout, TextWriter stderr)
    {
        var simulator = new Simulator(scenario.Program, options);
        var result = simulator.Run();
        var sources = scenario.Model.Units.Select(u => u.Source).ToList();
        var recorded = CheckRun.RecordedDefines(defines, scenario.Program);
        var report = SimulationReport.Create(result, scenario.File, sources, recorded, cpus, modelPath);
        stdout.Write(format == "json" ? report.ToJson() : report.ToText());
        var written = true;
        if (plotOut is not null)
        {
            try
            {
                OutputFile.WriteAtomically(plotOut, TimedPlot.Svg(report));
            }
            catch (Exception e) when (OutputFile.IsIoFailure(e))
            {
                stderr.WriteLine($"kexecsim: --plot {plotOut}: {OutputFile.Describe(e)}");
                written = false;
            }
        }
        if (traceOut is not null)
        {
            if (report.TracedRun is { } run)
            {
                var (_, trace) = simulator.Reproduce(run);
                var model = ReportModel.Build(scenario.Program, trace, checkFairness: false, timed: options.Timed is not null);
                var s = report.Simulation;
                var traceFile = TraceFile.Create(model, scenario.File, sources, recorded, cpus, modelPath) with
                {
                    Simulation = new SimulationRunInfo(s.Strategy, s.Seed, run, s.MaxSteps, s.PctDepth, s.PctSteps, s.Reduce),
                };
                written = CheckRun.WriteTraceFile(traceOut, traceFile, scenario.Program.ScenarioName, stderr);
            }
            else
            {
                stderr.WriteLine($"kexecsim: \"{scenario.Program.ScenarioName}\": no run committed a violation: no trace written");
            }
        }
        if (reportOut is not null)
        {
            if (report.TracedRun is { } run)
            {
                var (_, trace) = simulator.Reproduce(run);
                var model = ReportModel.Build(scenario.Program, trace, timed: options.Timed is not null);
                written &= CheckRun.WriteHtmlReport(reportOut, HtmlReport.Render(model, null, scenario.Program, scenario.File), scenario.Program.ScenarioName, stderr);
            }
            else
            {
                stderr.WriteLine($"kexecsim: \"{scenario.Program.ScenarioName}\": no run committed a violation: no report written");
            }
        }
        return !written ? ExitCodes.BadInput : ExitCode(report);
    }

    /// <summary>0 the expectation met, 3 a limit before a verdict, else 1.</summary>
    internal static int ExitCode(SimulationReport report) =>
        report.ExpectationMet ? ExitCodes.Success : report.LimitBeforeVerdict ? ExitCodes.LimitReached : ExitCodes.Violation;

    private static ulong? ParseSeed(ArgumentResult result)
    {
        if (result.Tokens.Count != 1)
        {
            return null;
        }
        var text = result.Tokens[0].Value;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        result.AddError($"--seed {text}: expected a whole number from 0 to {ulong.MaxValue}");
        return null;
    }

    private static (int, int)? ParseShard(ArgumentResult result)
    {
        if (result.Tokens.Count != 1)
        {
            return null;
        }
        var text = result.Tokens[0].Value;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0
            && int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            && int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && k >= 1 && k <= n && n <= MaxShards)
        {
            return (k, n);
        }
        result.AddError($"--shard {text}: expected K/N, whole numbers with 1 <= K <= N <= {MaxShards}");
        return null;
    }
}
