using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// The grammar-based generator of valid models (issue 12 item 4, docs/fuzzing.md): CsCheck draws kflow models
/// from a grammar of the language (shared and percpu variables, regions, functions, vector and NMI handlers,
/// wait_until with and without a timeout, choose, either/or, IPIs, NMIs, WBINVD, hlt, keyed loads and stores,
/// cpumasks, atomics, loops, scenarios with a platform). Every model compiles without errors; each runs through
/// <c>check</c> with small limits and through <c>simulate</c>; every counterexample (the verdict's, the others
/// kept, the first of each simulated code) replays confirmed; and two runs give byte-identical reports and traces.
/// </summary>
public sealed partial class ModelGeneratorTests
{
    private const int Vector = 0x30;

    /// <summary>What the statements of a model may name: its CPU count and which handlers it has.</summary>
    private sealed record Shape(int Cpus, bool VectorHandler, bool NmiHandler);

    private static readonly Gen<string> Shared = Gen.OneOf<string>("x0", "x1", "p0");
    private static readonly Gen<string> Flag = Gen.OneOf<string>("f0", "f1");

    private static Gen<string> Any(params Gen<string>[] gens) => Gen.OneOf<string>([.. gens.Cast<IGen<string>>()]);

    private static Gen<string> Condition() => Any(
        Flag,
        Flag.Select(f => $"!{f}"),
        Gen.Select(Shared, Gen.Int[0, 2], (v, n) => $"{v} == {n}"),
        Gen.Select(Gen.Int[2, 3], Gen.Int[0, 2], (k, n) => $"choose({k}) == {n}"),
        Gen.Select(Shared, Gen.Int[0, 2], Flag, (v, n, f) => $"{v} < {n} && {f}"),
        Gen.Int[0, 1].Select(n => $"cpumask_test_cpu({n}, mask)"),
        Gen.Const("load(data[1], KEY_NONE) == 7"));

    private static Gen<string> Statement(Shape shape, int depth)
    {
        var cpu = Gen.Int[0, shape.Cpus - 1];
        var simple = new List<Gen<string>>
        {
            Gen.Select(Shared, Gen.Int[0, 3], (v, n) => $"{v} = {n};"),
            Gen.Select(Flag, Gen.Bool, (f, b) => $"{f} = {(b ? "true" : "false")};"),
            Gen.Select(Shared, Gen.Int[2, 3], (v, k) => $"{v} = choose({k});"),
            Shared.Where(v => v != "p0").Select(v => $"atomic_inc({v});"),
            Condition().Select(c => $"wait_until({c});"),
            Gen.Select(Condition(), Gen.Int[1, 100], (c, t) => $"wait_until({c}, {t});"),
            Gen.Select(Condition(), Shared, (c, v) => $"if (!wait_until({c}, 5)) {{ {v} = 9; }}"),
            Gen.Const("wbinvd();"),
            Gen.Const("udelay(1);"),
            Gen.Const("local_irq_enable();"),
            Gen.Int[1, 9].Select(n => $"store(data[1], KEY_NONE, {n});"),
            Shared.Where(v => v != "p0").Select(v => $"{v} = load(data[1], KEY_NONE);"),
            cpu.Select(c => $"cpumask_set_cpu({c}, mask);"),
            cpu.Select(c => $"cpumask_clear_cpu({c}, mask);"),
            Gen.Select(Shared, Gen.Int[0, 3], (v, n) => $"bug_on({v} == {n});"),
            Gen.Select(Shared, Gen.Int[0, 3], (v, n) => $"assert({v} != {n}, \"{v} is {n}\");"),
            Gen.Const("pr_err(\"x0=%d\", x0);"),
        };
        if (shape.VectorHandler)
        {
            simple.Add(cpu.Select(c => $"send_ipi({c}, {Vector});"));
            simple.Add(Gen.Const($"send_ipi_mask(mask, {Vector});"));
        }
        if (shape.NmiHandler)
        {
            simple.Add(cpu.Select(c => $"send_nmi({c});"));
            simple.Add(Gen.Const("send_nmi_allbutself();"));
        }
        if (depth == 0)
        {
            return Any([.. simple]);
        }
        var inner = Statement(shape, depth - 1).Array[1, 2].Select(s => string.Join(' ', s));
        var compound = new List<Gen<string>>(simple)
        {
            Gen.Select(Condition().Where(c => !c.StartsWith("choose", StringComparison.Ordinal) && !c.StartsWith("load", StringComparison.Ordinal) && !c.StartsWith("cpumask", StringComparison.Ordinal)),
                inner, inner, (c, a, b) => $"if ({c}) {{ {a} }} else {{ {b} }}"),
            Gen.Select(inner, inner, (a, b) => $"either {{ {a} }} or {{ {b} }}"),
            Gen.Select(Gen.Int[1, 2], inner, (n, a) => $"for (int i = 0; i < {n}; i++) {{ {a} }}"),
            inner.Select(a => $"atomic {{ {Regex.Replace(a, @"wait_until\([^;]*;|wbinvd\(\);|if \(!wait_until[^}]*\}", "udelay(1);")} }}"),
        };
        return Any([.. compound]);
    }

    private static Gen<string> Body(Shape shape) => Statement(shape, 1).Array[1, 5].Select(s => string.Join("\n    ", s));

    /// <summary>One model: declarations, a function per CPU (the last ends with done() or parks), handlers, a scenario.</summary>
    private static readonly Gen<string> Models =
        Gen.Select(Gen.Int[1, 3], Gen.Bool, Gen.Bool).SelectMany(t =>
        {
            var shape = new Shape(t.Item1, t.Item2, t.Item3);
            return Gen.Select(Body(shape).Array[shape.Cpus], Body(shape), Body(shape), Gen.Bool, Gen.Bool, Gen.Int[0, 3], Gen.Bool)
                .Select(parts =>
                {
                    var (bodies, vector, nmi, amd, timeoutsOff, ending, percpuRegion) = parts;
                    var model = new StringBuilder();
                    model.AppendLine("shared int x0;").AppendLine("shared int x1 in data[1];");
                    model.AppendLine(percpuRegion ? "region pcpu[1] percpu;\npercpu int p0 in pcpu[0];" : "percpu int p0;");
                    model.AppendLine("shared bool f0;").AppendLine("shared bool f1 in data[1];").AppendLine("shared cpumask mask;");
                    model.AppendLine("region data[2];").AppendLine("region boot[1];");
                    if (shape.VectorHandler)
                    {
                        model.AppendLine($"handler vector {Vector} in boot[0] {{\n    {vector}\n}}");
                    }
                    if (shape.NmiHandler)
                    {
                        model.AppendLine($"handler nmi {{\n    {nmi}\n}}");
                    }
                    for (var c = 0; c < shape.Cpus; c++)
                    {
                        var end = c == 0
                            ? ending switch { 0 => "done();", 1 => "platform_reset();", 2 => "loop { hlt(); }", _ => string.Empty }
                            : ending == 2 ? "done();" : "loop { hlt(); }";
                        model.AppendLine($"fn run{c}() {{\n    {bodies[c]}\n    {end}\n}}");
                    }
                    model.AppendLine("scenario \"g\" {");
                    model.AppendLine($"    platform {{ vendor {(amd ? "amd" : "intel")}; cpus {shape.Cpus}; }}");
                    for (var c = 0; c < shape.Cpus; c++)
                    {
                        model.AppendLine($"    cpu {c} runs run{c}();");
                    }
                    if (timeoutsOff)
                    {
                        model.AppendLine("    timeouts off;");
                    }
                    model.AppendLine("}");
                    return model.ToString();
                });
        });

    [GeneratedRegex(@"[0-9.,]+ s, [0-9,]+ states/s")]
    private static partial Regex Timing();

    /// <summary>Everything a check of one model prints or writes, its timing left out: compared across two runs.</summary>
    private static string CheckOnce(string text, out CompiledProgram program, out CheckResult result)
    {
        var loaded = FrontEnd.LoadText("g.kflow", text);
        Assert.True(!loaded.HasErrors, $"a generated model does not compile:\n{text}\n{string.Join('\n', loaded.Diagnostics)}");
        program = loaded.Scenarios.Single();
        result = new BreadthFirstExplorer(program, new CheckOptions { MaxStates = 3_000, Workers = 1 }).Run();
        var output = new StringBuilder(Timing().Replace(TextReport.Full(result, result.Trace is { } t ? ReportModel.Build(program, t) : null), "<time>"));
        foreach (var (_, trace) in new[] { (result.Violation, result.Trace) }.Where(p => p.Trace is not null).Concat(result.OtherViolations.Select(o => ((Violation?)o.Violation, (Trace?)o.Trace))))
        {
            output.Append(TraceFile.Create(program, trace!, "g.kflow", loaded.Units.Select(u => u.Source).ToList(), new Dictionary<string, long>(), null, []).ToJson());
        }
        return output.ToString();
    }

    private static void AssertReplays(CompiledProgram program, Trace trace, Violation violation, string text)
    {
        var replay = new Replayer(program).Replay(trace);
        Assert.True(replay.Confirmed, $"{violation.Code.Name()} does not replay: {replay.Message}\n{text}");
        Assert.Equal(violation.Code, replay.Violation!.Code);
        Assert.Equal(trace.Steps.Count, replay.StepsReplayed);
    }

    private const int Iterations = 800;

    /// <summary><c>--livelock off</c> explores the same states and transitions and finds the same verdict, but for a
    /// LIVELOCK (not looked for: a pass with a warning, or the violation the search would then conclude with).</summary>
    private static void AssertLivelockOffIsTheSameSearch(CompiledProgram program, CheckResult on, string text)
    {
        var off = new BreadthFirstExplorer(program, new CheckOptions { MaxStates = 3_000, Workers = 1, Livelock = false }).Run();
        if (on.Symmetry == SymmetryUse.LivelockUnreduced || on.Reduction == ReductionUse.LivelockUnreduced)
        {
            return; // the search with LIVELOCK ran again without reductions: other states
        }
        Assert.True((on.Statistics.States, on.Statistics.Transitions) == (off.Statistics.States, off.Statistics.Transitions),
            $"--livelock off searched {off.Statistics.States} states, on {on.Statistics.States}\n{text}");
        if (on.Violation?.Code != ViolationCode.Livelock)
        {
            Assert.True(on.Outcome == off.Outcome, $"--livelock off: {off.Outcome}, on: {on.Outcome}\n{text}");
        }
        else
        {
            Assert.NotEqual("LIVELOCK", off.Outcome);
        }
    }

    [Fact]
    public void Generated_models_compile_check_replay_every_counterexample_and_run_the_same_twice()
    {
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        // A fixed stream of models (CsCheck's Sample draws its iterations past the seed from new streams).
        var pcg = new PCG(12, 20260412);
        for (var i = 0; i < Iterations; i++)
        {
            var text = Models.Generate(pcg, null, out _);
            var first = CheckOnce(text, out var program, out var result);
            Assert.Equal(first, CheckOnce(text, out _, out _));
            var verdict = result.Violation is { } v ? v.Code.Name() : result.Verdict.ToString();
            tally[verdict] = tally.GetValueOrDefault(verdict) + 1;
            if (result.Trace is { } trace && result.Violation is { } violation)
            {
                AssertReplays(program, trace, violation, text);
            }
            foreach (var (other, otherTrace) in result.OtherViolations)
            {
                AssertReplays(program, otherTrace, other, text);
            }
            if (i % 4 == 0)
            {
                AssertLivelockOffIsTheSameSearch(program, result, text);
            }
            if (i % 4 == 2 || result.Violation?.Code == ViolationCode.Livelock || result.Symmetry == SymmetryUse.LivelockUnreduced
                || result.Reduction == ReductionUse.LivelockUnreduced)
            {
                // --livelock lean: what the graph finds, LIVELOCK lassos and the reduced graph's cycles included.
                var lean = new BreadthFirstExplorer(program, new CheckOptions { MaxStates = 3_000, Workers = 1, LivelockLean = true }).Run();
                Assert.True(LivelockLeanTests.WithoutMemory(result) == LivelockLeanTests.WithoutMemory(lean), $"--livelock lean differs\n{text}");
            }
            var timed = i % 4 == 1;
            var simulator = new Simulator(program, new SimulationOptions
            {
                Strategy = SimulationStrategy.Random, Runs = 20, Seed = 7, Workers = 1, MaxSteps = 500, Timed = timed ? new TimedParameters() : null,
            });
            foreach (var found in simulator.Run().Violations)
            {
                var (outcome, simulated) = simulator.Reproduce(found.FirstRun);
                Assert.Equal(found.Code, outcome.Code);
                if (found.Code != ViolationCode.Livelock)
                {
                    // A timed run's waits time out by the clock (docs/timed.md), as `replay` of its trace file replays them.
                    var replay = new Replayer(program) { WaitsExpireByClock = timed }.Replay(simulated);
                    Assert.True(replay.Confirmed, $"simulated {found.Code.Name()} (run {found.FirstRun}) does not replay: {replay.Message}\n{text}");
                    Assert.Equal(found.Code, replay.Violation!.Code);
                }
            }
        }
        // Not vacuous: the models reach passes and several kinds of violation.
        var figures = string.Join(", ", tally.Select(p => $"{p.Key} {p.Value}"));
        Assert.Equal("ASSERTION 62, BUG 73, DEADLOCK 293, LIVELOCK 3, LimitReached 64, MODEL_ERROR 14, Pass 264, RESET_HANG 27", figures);
    }
}
