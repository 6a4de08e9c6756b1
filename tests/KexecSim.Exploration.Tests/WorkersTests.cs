using System.Globalization;
using System.Text;
using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// Issue 9, item 4: the parallel breadth-first search (<see cref="CheckOptions.Workers"/>) gives what one
/// worker gives: verdict, every statistic but the time, the counterexample step by step (transitions and
/// choices), the violation's words, the violations kept aside, coverage and the stop at a limit.
/// </summary>
public sealed class WorkersTests
{
    /// <summary>Every model of the golden table (tests/golden/explore.tsv): the catalog, the corpus and the contract's examples.</summary>
    public static TheoryData<string, bool> Models()
    {
        var data = new TheoryData<string, bool>();
        var root = TestPaths.RepositoryRoot;
        foreach (var folder in new[] { Path.Combine("models", "catalog"), Path.Combine("tests", "corpus", "clean"), Path.Combine("tests", "corpus", "warnings") })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(root, folder), "*.kflow").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(root, file).Replace('\\', '/'), true);
                data.Add(Path.GetRelativePath(root, file).Replace('\\', '/'), false);
            }
        }
        foreach (var file in Directory.GetFiles(TestPaths.SharedExamples, "*.kflow").Order(StringComparer.Ordinal))
        {
            data.Add($"examples/{Path.GetFileName(file)}", true);
        }
        return data;
    }

    private static string FullPath(string name) => name.StartsWith("examples/", StringComparison.Ordinal)
        ? Path.Combine(TestPaths.SharedExamples, name["examples/".Length..])
        : Path.Combine(TestPaths.RepositoryRoot, name);

    /// <summary>
    /// Everything a check reports but its time, as text: outcome, statistics, limit, symmetry, whether
    /// <c>final</c> ran, coverage, the violation in words, each step of the counterexample (transition
    /// and choices) and the violations kept aside with theirs.
    /// </summary>
    internal static string Describe(CheckResult result)
    {
        var narration = new Narration(result.Program);
        var s = result.Statistics;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{result.Verdict} {result.Outcome} states={s.States} transitions={s.Transitions} depth={s.Depth} memory={s.PeakMemoryBytes} limit={result.LimitReason} symmetry={result.Symmetry} final={result.FinalEvaluated}\n");
        if (result.Coverage is { } coverage)
        {
            text.Append(CultureInfo.InvariantCulture, $"coverage exhaustive={coverage.Exhaustive} {coverage.Reached}/{coverage.Statements}\n");
            foreach (var warning in coverage.Warnings)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {warning}\n");
            }
        }
        void AppendTrace(Violation? violation, Trace? trace)
        {
            if (violation is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"violation {violation.Code}: {narration.Text(violation)}\n");
            }
            if (trace is null)
            {
                return;
            }
            text.Append(CultureInfo.InvariantCulture, $"trace terminal={trace.ViolationIsTerminal} cycle={trace.CycleStart}\n");
            foreach (var step in trace.Steps)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {step.Transition} [{string.Join(',', step.Choices)}]\n");
            }
        }
        AppendTrace(result.Violation, result.Trace);
        foreach (var (violation, trace) in result.OtherViolations)
        {
            text.Append("other ");
            AppendTrace(violation, trace);
        }
        return text.ToString();
    }

    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("e.kflow", text);
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return result.Scenarios.Single();
    }

    internal static CheckResult Check(CompiledProgram program, int workers, bool symmetry = true, int chunk = 512, int minimum = 64, long maxStates = 2_000_000) =>
        new BreadthFirstExplorer(program, new CheckOptions
        {
            Workers = workers,
            Symmetry = symmetry,
            ChunkStates = chunk,
            MinParallelBatch = minimum,
            MaxStates = maxStates,
        }).Run();

    [Theory]
    [MemberData(nameof(Models))]
    public void Any_number_of_workers_gives_what_one_worker_gives(string model, bool symmetry)
    {
        var loaded = FrontEnd.Load(FullPath(model), new LoadOptions { ModelPath = [TestPaths.Models] });
        foreach (var program in loaded.Scenarios)
        {
            var one = Check(program, 1, symmetry);
            var expected = Describe(one);
            // Batches of two and three states per worker, every level in parallel; the default sizes
            // (with symmetry, the default; without, two workers are enough to compare the full graph).
            Assert.Equal(expected, Describe(Check(program, 2, symmetry, chunk: 3, minimum: 1)));
            if (symmetry)
            {
                Assert.Equal(expected, Describe(Check(program, 3, symmetry, chunk: 2, minimum: 1)));
                Assert.Equal(expected, Describe(Check(program, 2, symmetry)));
            }
            if (one.Trace is { } trace)
            {
                var view = ReportModel.Build(program, trace);
                Assert.True(view.Replay.Confirmed, view.Replay.Message);
            }
            // Stopped at a limit inside a batch: the same statistics and coverage at the same point.
            var half = Math.Max(1, one.Statistics.States / 2);
            var limited = Describe(Check(program, 1, symmetry, maxStates: half));
            Assert.Equal(limited, Describe(Check(program, 2, symmetry, chunk: 7, minimum: 1, maxStates: half)));
            Assert.Equal(limited, Describe(Check(program, 3, symmetry, chunk: 64, minimum: 1, maxStates: half)));
        }
    }

    [Fact]
    public void A_counterexample_deep_in_a_wide_level_is_the_one_worker_finds()
    {
        // Many states per level (so batches of the default size run in parallel), a violation at depth 6
        // whose level also holds settled states: the shortest trace, the same first one.
        const string model = """
            shared int x;
            shared int y;
            fn a() { x = 1; x = 2; x = 3; either { y = 1; } or { y = 2; } or { y = 3; } done(); }
            fn b() { x = choose(4); assert(x != 3 || y != 2, "x 3 with y 2"); done(); }
            scenario "s" { platform { cpus 4; } cpu 0 runs a(); cpu 1, 2, 3 runs b(); timeouts off; expect ASSERTION; }
            """;
        var program = Compile(model);
        var one = Check(program, 1);
        Assert.Equal(Verdict.Violation, one.Verdict);
        Assert.Equal(ViolationCode.Assertion, one.Violation!.Code);
        Assert.True(one.Statistics.States > 64, $"{one.Statistics.States} states");
        var expected = Describe(one);
        for (var workers = 2; workers <= 4; workers++)
        {
            Assert.Equal(expected, Describe(Check(program, workers)));
            Assert.Equal(expected, Describe(Check(program, workers, chunk: 2, minimum: 1)));
        }
    }

    /// <summary>A model whose records are of every kind (states, choices: stray NMIs and an either), with symmetric CPUs,
    /// and a level of 200 of its first states, found by hand.</summary>
    private static (CompiledProgram Program, StateQueue Level) WideLevel()
    {
        // Stray NMIs and an either: every kind of record (states, choices) is written.
        var program = Compile("""
            percpu int seen;
            shared cpumask waiting;
            shared int x;
            handler nmi { seen = 1; }
            fn worker() { cpumask_clear_cpu(this_cpu(), waiting); loop { either { x = 1; } or { x = 2; } hlt(); } }
            fn boss() { wait_until(cpumask_empty(waiting)); wbinvd(); done(); }
            scenario "s" { platform { cpus 3; } cpu 0 runs boss(); cpu 1, 2 runs worker(); inject nmi 2 on 1, 2; symmetric 1..2; timeouts off; expect pass; }
            """);
        // A level of states: the first levels of the search, by hand.
        var machine = new Machine.Machine(program);
        var level = new StateQueue();
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        level.Add(state.Span, 0);
        var transitions = new List<Transition>();
        var chooser = new DepthFirstChooser();
        var work = machine.NewState();
        for (var i = 0; level.Count < 200 && i < level.Count; i++)
        {
            state.Decode(level.Get(i, out _));
            machine.EnumerateTransitions(state, transitions);
            foreach (var transition in transitions)
            {
                chooser.Reset();
                do
                {
                    work.CopyFrom(state);
                    if (machine.Apply(work, transition, chooser) == Outcome.Ok)
                    {
                        level.Add(work.Span, level.Count);
                    }
                }
                while (chooser.Advance());
            }
        }
        Assert.True(level.Count >= 200);
        return (program, level);
    }

    [Fact]
    public void The_pool_expands_two_batches_at_once_into_the_records_one_worker_writes()
    {
        var (program, level) = WideLevel();
        var reductions = new Reductions(program, CheckOptions.Default with { Reduce = Reduction.None });
        var policy = new ExpectationPolicy(program.Expect);
        using var pool = new ExpansionPool(reductions, policy, workers: 2, symmetry: true);
        var one = new ExpansionWorker(reductions, policy, symmetry: true);
        // Batches [0, 90) and [90, 200): the second is posted before the first is waited for, in the other set.
        (int From, int To)[] batches = [(0, 90), (90, level.Count)];
        pool.Post(0, level, batches[0].From, batches[0].To);
        pool.Post(1, level, batches[1].From, batches[1].To);
        for (var b = 0; b < batches.Length; b++)
        {
            Assert.True(pool.Wait(b));
            Assert.Equal(2, pool.Set(b).Length);
            Assert.Equal(batches[b].From, pool.Set(b)[0].From);
            Assert.Equal(batches[b].To, pool.Set(b)[1].To);
            one.Assign(batches[b].From, batches[b].To);
            one.Expand(level);
            Assert.Equal(Records([one]), Records(pool.Set(b)));
        }
    }

    [Fact]
    public void A_workers_exception_is_not_thrown_by_the_wait_but_kept_for_the_search()
    {
        // A vector no state has (every bit set: stacks past its end) at 150, in the second batch: the worker whose chunk
        // holds it throws. Waiting
        // does not throw (a batch before it may stop the search first, as one worker would): the batch is not clean, and
        // the exception is there to take, once.
        var (program, good) = WideLevel();
        var level = new StateQueue();
        for (var i = 0; i < good.Count; i++)
        {
            if (i == 150)
            {
                level.Add(Enumerable.Repeat(-1L, good.Get(i, out _).Length).ToArray(), 150);
            }
            level.Add(good.Get(i, out var node), node);
        }
        var reductions = new Reductions(program, CheckOptions.Default with { Reduce = Reduction.None });
        var policy = new ExpectationPolicy(program.Expect);
        var one = new ExpansionWorker(reductions, policy, symmetry: true);
        one.Assign(90, level.Count);
        var thrown = Record.Exception(() => one.Expand(level));
        Assert.NotNull(thrown);
        using var pool = new ExpansionPool(reductions, policy, workers: 2, symmetry: true);
        pool.Post(0, level, 0, 90);
        pool.Post(1, level, 90, level.Count);
        Assert.True(pool.Wait(0));
        Assert.False(pool.Wait(1));
        var error = pool.TakeError(1);
        Assert.NotNull(error);
        Assert.Equal(thrown.GetType(), error.GetType());
        Assert.Equal(thrown.Message, error.Message);
        Assert.Null(pool.TakeError(1));
        Assert.Null(pool.TakeError(0));
        // The set is used again as if nothing had happened.
        pool.Post(1, level, 0, 90);
        Assert.True(pool.Wait(1));
        Assert.True(pool.MemoryBytes > 0);
    }

    /// <summary>Every record of a set of workers, chunk 0 first, as the merge reads them, and how many each state has.</summary>
    private static List<string> Records(ExpansionWorker[] workers)
    {
        var records = new List<string>();
        foreach (var worker in workers)
        {
            var state = 0;
            for (var r = 0; r < worker.RecordCount; r++)
            {
                while (worker.ParentEnd(state) <= r)
                {
                    state++;
                }
                var record = worker.RecordAt(r);
                var vector = record.Kind == ExpansionWorker.RecordKind.State ? string.Join(",", worker.Vector(record).ToArray()) : "";
                records.Add($"{worker.From + state}: {record.Transition} {string.Join(",", worker.Choices(record).ToArray())} {record.Kind} {record.Fingerprint:x} {record.Raw:x} {record.Finished} {vector}");
            }
        }
        Assert.True(records.Count > 100, $"{records.Count} records");
        return records;
    }

    [Fact]
    public void Expanding_with_two_workers_allocates_nothing_per_transition_after_warm_up()
    {
        var (program, level) = WideLevel();
        using var pool = new ExpansionPool(new Reductions(program, CheckOptions.Default with { Reduce = Reduction.None }), new ExpectationPolicy(program.Expect), workers: 2, symmetry: true);
        var workers0 = pool.Set(0);
        bool Batch()
        {
            pool.Post(0, level, 0, level.Count);
            return pool.Wait(0);
        }
        for (var round = 0; round < 5; round++)
        {
            Assert.True(Batch()); // warm up: JIT, buffers grown to size
        }
        var records = workers0[0].ParentEnd(workers0[0].To - workers0[0].From - 1) + workers0[1].ParentEnd(workers0[1].To - workers0[1].From - 1);
        Assert.True(records > 400, $"{records} records");
        // The fewest bytes of up to three measured rounds of 50 batches: an allocation per transition shows in every round
        // (20,000 records times its size), a runtime's one-time object (a blocking wait's, when the other worker is late
        // on a busy machine) in one round at most.
        var (workers, searchThread) = (long.MaxValue, long.MaxValue);
        for (var attempt = 0; attempt < 3 && (workers != 0 || searchThread > 256); attempt++)
        {
            var warm = workers0[0].AllocatedBytes + workers0[1].AllocatedBytes;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var round = 0; round < 50; round++)
            {
                Assert.True(Batch());
            }
            searchThread = Math.Min(searchThread, GC.GetAllocatedBytesForCurrentThread() - before);
            workers = Math.Min(workers, workers0[0].AllocatedBytes + workers0[1].AllocatedBytes - warm);
        }
        // Each worker's expansions (each on its own thread): nothing.
        Assert.Equal(0, workers);
        // The search's thread, posting and waiting. When a wait really blocks (the workers are late), the runtime may
        // allocate its wait object once (24 bytes, seen in 1 run of 4 on this 2-core machine).
        Assert.InRange(searchThread, 0, 256);
    }

    [Fact]
    public void Zero_workers_is_refused()
    {
        var program = Compile("""
            fn f() { done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BreadthFirstExplorer(program, new CheckOptions { Workers = 0 }));
    }
}
