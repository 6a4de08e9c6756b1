using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// <c>kexecsim simulate</c> (issue 10, items 1 and 2): random walks and PCT find the known violations of the
/// catalog and the contract's first example at pinned run indices for a pinned seed, the run found replays
/// with the same code, a run is the same rebuilt alone from (seed, run index), the figures are the same for
/// any number of workers, and the shards of a run space together do exactly its runs.
/// </summary>
public sealed class SimulatorTests
{
    private static CompiledProgram Load(string path, string scenario) =>
        FrontEnd.Load(path, new LoadOptions { ModelPath = [TestPaths.Models] }).Scenarios.Single(s => s.ScenarioName == scenario);

    private static CompiledProgram Stop(string scenario) =>
        Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow"), scenario);

    private static CompiledProgram Parked(string scenario) =>
        Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed002-parked-cpus.kflow"), scenario);

    private static CompiledProgram First => Load(Path.Combine(TestPaths.SharedExamples, "first.kflow"), "nmi-then-jump-stray-smi");

    private static SimulationResult Simulate(CompiledProgram program, SimulationStrategy strategy, long runs, int workers = 1, int shard = 1, int shards = 1,
        Reduction reduce = Reduction.All) =>
        new Simulator(program, new SimulationOptions
        {
            Strategy = strategy, Runs = runs, Seed = 1, Workers = workers, ShardIndex = shard, ShardCount = shards, Reduce = reduce,
        }).Run();

    /// <summary>The figures that do not depend on the machine's speed.</summary>
    private static object Figures(SimulationResult r) =>
        (r.RunsDone, r.Steps, r.Finished, r.MaxStepsReached, r.PctSteps, r.LimitReason, string.Join(";", r.Violations));

    /// <summary>The first run of <paramref name="code"/> rebuilt alone replays on the full machine: the same code, at its
    /// last step (or state). A reduced run's trace is its steps and the ones the reduced machine took with others, put back.</summary>
    private static Trace AssertFirstRunReplays(CompiledProgram program, SimulationStrategy strategy, ViolationTally tally, Reduction reduce = Reduction.All)
    {
        var (outcome, trace) = new Simulator(program, new SimulationOptions { Strategy = strategy, Runs = 1, Seed = 1, Reduce = reduce }).Reproduce(tally.FirstRun);
        Assert.Equal(new RunOutcome(RunEnd.Violation, tally.Code, tally.FirstRunSteps), outcome);
        Assert.Equal(tally.FirstRunSteps + trace.PutBackSteps, trace.Steps.Count);
        Assert.True(reduce == Reduction.All || trace.PutBackSteps == 0);
        var replay = new Replayer(program).Replay(trace);
        Assert.True(replay.Confirmed, replay.Message);
        Assert.Equal(tally.Code, replay.Violation!.Code);
        Assert.Equal(trace.Steps.Count, replay.StepsReplayed);
        return trace;
    }

    // --reduce none walks the full machine (the runs of the build before the option, pinned then); all, the
    // reduced one: the stopped CPUs' final hlt() is taken with the step that reaches it (one step fewer each).
    [Theory]
    [InlineData(Reduction.None, 0L, 17L, 0)]
    [InlineData(Reduction.All, 1L, 16L, 1)]
    public void Random_walk_finds_RESET_HANG_of_the_online_count_stop_and_its_trace_replays(Reduction reduce, long firstRun, long steps, int putBack)
    {
        var program = Stop("stop-online-count-reboot");
        var result = Simulate(program, SimulationStrategy.Random, 200, reduce: reduce);
        var tally = Assert.Single(result.Violations);
        Assert.Equal((ViolationCode.ResetHang, firstRun, steps), (tally.Code, tally.FirstRun, tally.FirstRunSteps));
        Assert.Equal((200L, 0L), (result.RunsDone, result.MaxStepsReached));
        Assert.Equal(200, result.Finished + tally.Count);
        Assert.Null(result.PctSteps);
        Assert.Equal(putBack, AssertFirstRunReplays(program, SimulationStrategy.Random, tally, reduce).PutBackSteps);
    }

    [Theory]
    [InlineData(Reduction.None, 4L, 17L, 19L, 0)]
    [InlineData(Reduction.All, 4L, 16L, 18L, 1)]
    public void Pct_finds_RESET_HANG_of_the_online_count_stop_and_its_trace_replays(Reduction reduce, long firstRun, long steps, long pctSteps, int putBack)
    {
        var program = Stop("stop-online-count-reboot");
        var result = Simulate(program, SimulationStrategy.Pct, 200, reduce: reduce);
        var tally = Assert.Single(result.Violations);
        Assert.Equal((ViolationCode.ResetHang, firstRun, steps), (tally.Code, tally.FirstRun, tally.FirstRunSteps));
        Assert.Equal(pctSteps, result.PctSteps);
        Assert.Equal(putBack, AssertFirstRunReplays(program, SimulationStrategy.Pct, tally, reduce).PutBackSteps);
    }

    [Theory]
    [InlineData(Reduction.None, 4L, 10L, 5L, 9L)]
    [InlineData(Reduction.All, 4L, 10L, 7L, 10L)]
    public void Both_strategies_find_EXEC_CLOBBERED_of_the_first_example_and_the_traces_name_the_clobbering_cpu(
        Reduction reduce, long randomRun, long randomSteps, long pctRun, long pctSteps)
    {
        var program = First;
        var random = Assert.Single(Simulate(program, SimulationStrategy.Random, 100, reduce: reduce).Violations);
        Assert.Equal((ViolationCode.ExecClobbered, randomRun, randomSteps), (random.Code, random.FirstRun, random.FirstRunSteps));
        AssertFirstRunReplays(program, SimulationStrategy.Random, random, reduce);
        var pct = Assert.Single(Simulate(program, SimulationStrategy.Pct, 100, reduce: reduce).Violations);
        Assert.Equal((ViolationCode.ExecClobbered, pctRun, pctSteps), (pct.Code, pct.FirstRun, pct.FirstRunSteps));
        AssertFirstRunReplays(program, SimulationStrategy.Pct, pct, reduce);
        // The run itself keeps who clobbered the line (message-only data): the violation says it.
        var (_, trace) = new Simulator(program, new SimulationOptions { Strategy = SimulationStrategy.Pct, Seed = 1, Reduce = reduce }).Reproduce(pctRun);
        Assert.Equal((0, false), (trace.Violation!.Other, trace.Violation.NeedsMessageData));
    }

    [Fact]
    public void Pct_finds_the_parked_hlt_stray_nmi_race_a_random_walk_misses_in_the_same_runs()
    {
        var program = Parked("parked-hlt-stray-nmi");
        Assert.Empty(Simulate(program, SimulationStrategy.Random, 20).Violations);
        var pct = Simulate(program, SimulationStrategy.Pct, 20);
        var tally = pct.Violations[0];
        Assert.Equal((ViolationCode.ExecClobbered, 16L, 49L), (tally.Code, tally.FirstRun, tally.FirstRunSteps));
        AssertFirstRunReplays(program, SimulationStrategy.Pct, tally);
    }

    [Fact]
    public void An_expect_pass_scenario_counts_every_run_as_finished()
    {
        var result = Simulate(Stop("stop-mask-reboot"), SimulationStrategy.Random, 100);
        Assert.Equal((100L, 100L, 0L), (result.RunsDone, result.Finished, result.MaxStepsReached));
        Assert.Empty(result.Violations);
        Assert.Null(result.LimitReason);
    }

    [Fact]
    public void Runs_stopped_at_max_steps_are_counted_apart_with_their_steps()
    {
        var result = new Simulator(Stop("stop-mask-reboot"), new SimulationOptions { Runs = 10, Seed = 1, MaxSteps = 5, Workers = 1 }).Run();
        Assert.Equal((10L, 50L, 0L, 10L), (result.RunsDone, result.Steps, result.Finished, result.MaxStepsReached));
    }

    [Fact]
    public void A_run_allocates_nothing_after_warm_up_with_either_scheduler()
    {
        var program = Stop("stop-mask-reboot"); // every run finishes: no violation object is made
        var options = new SimulationOptions { Runs = 1, Seed = 1 };
        // The full machine (--reduce none) and the reduced one simulate's default walks (a hlt() merged).
        var machines = new[] { new Machine.Machine(program), new Machine.Machine(program, new UntrackedLines(program), new HaltMerging(program)) };
        Assert.NotNull(machines[1].Halts);
        foreach (var (machine, scheduler) in machines.SelectMany(m => new SimulationScheduler[] { new RandomWalkScheduler(), new PctScheduler(program.Platform.Cpus, 3, 40) }.Select(s => (m, s))))
        {
            var executor = new RunExecutor(machine, options, scheduler);
            for (var run = 0UL; run < 20; run++)
            {
                executor.Run(run, record: null, out _); // warm up: JIT, lists grown to size
            }
            // Steady state: of three rounds of 200 runs, one allocates nothing (a round may catch the runtime
            // re-compiling a hot method on this thread under load; a per-run allocation shows in every round).
            var fewest = long.MaxValue;
            long steps = 0;
            for (var round = 0UL; round < 3 && fewest > 0; round++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                steps = 0;
                for (var run = 20 + round * 200; run < 220 + round * 200; run++)
                {
                    steps += executor.Run(run, record: null, out _).Steps;
                }
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, fewest);
            Assert.True(steps > 2000, $"{steps} steps");
        }
    }

    [Fact]
    public void The_figures_are_the_same_for_one_and_two_workers()
    {
        foreach (var strategy in new[] { SimulationStrategy.Random, SimulationStrategy.Pct })
        {
            var program = Stop("stop-online-count-reboot");
            Assert.Equal(Figures(Simulate(program, strategy, 300, workers: 1)), Figures(Simulate(program, strategy, 300, workers: 2)));
        }
    }

    [Fact]
    public void A_run_rebuilt_alone_from_seed_and_index_is_the_run_the_simulation_made()
    {
        var program = First;
        var options = new SimulationOptions { Strategy = SimulationStrategy.Pct, Runs = 100, Seed = 1, Workers = 2, ShardIndex = 2, ShardCount = 3 };
        var simulator = new Simulator(program, options);
        var tally = simulator.Run().Violations.Single();
        Assert.Equal(7, tally.FirstRun); // shard 2/3 holds 1, 4, 7, ... (the whole space's first is 5)
        var (_, inShard) = simulator.Reproduce(tally.FirstRun);
        var (_, alone) = new Simulator(program, new SimulationOptions { Strategy = SimulationStrategy.Pct, Seed = 1 }).Reproduce(7);
        Assert.Equal(Steps(inShard), Steps(alone));
        Assert.Equal(inShard.Violation!.Code, alone.Violation!.Code);

        static string Steps(Trace trace) => string.Join(" ", trace.Steps.Select(s => $"{s.Transition}[{string.Join(",", s.Choices)}]"));
    }

    [Fact]
    public void The_shards_of_a_run_space_together_do_its_runs()
    {
        var program = Stop("stop-online-count-reboot");
        var whole = Simulate(program, SimulationStrategy.Random, 100);
        var shards = Enumerable.Range(1, 3).Select(k => Simulate(program, SimulationStrategy.Random, 100, shard: k, shards: 3)).ToList();
        Assert.Equal([34L, 33L, 33L], shards.Select(s => s.RunsDone));
        Assert.Equal(whole.Steps, shards.Sum(s => s.Steps));
        Assert.Equal(whole.Finished, shards.Sum(s => s.Finished));
        var code = whole.Violations.Single();
        Assert.Equal(code.Count, shards.Sum(s => s.Violations.Single().Count));
        Assert.Equal(code.FirstRun, shards.Min(s => s.Violations.Single().FirstRun));
        Assert.Equal([0L, 3L, 6L], Enumerable.Range(0, 3).Select(j => new SimulationOptions { Runs = 100, ShardIndex = 1, ShardCount = 3 }.RunIndex(j)));
        Assert.Equal(0, new SimulationOptions { Runs = 2, ShardIndex = 3, ShardCount = 3 }.ShardRuns);
    }

    [Fact]
    public void The_random_source_is_pinned_xoshiro256_starstar_seeded_by_splitmix64()
    {
        // SplitMix64's published first output for state 0 (its finaliser of the golden-ratio increment).
        Assert.Equal(0xE220A8397B1DCDAFUL, RunRandom.Mix(0x9E3779B97F4A7C15UL));
        var random = new RunRandom(1, 0);
        var first = new[] { random.NextUInt64(), random.NextUInt64() };
        random.Reset(1, 0);
        Assert.Equal(first, new[] { random.NextUInt64(), random.NextUInt64() });
        random.Reset(1, 1);
        Assert.NotEqual(first[0], random.NextUInt64());
        random.Reset(1, 0);
        Assert.Equal(Pinned, Enumerable.Range(0, 4).Select(_ => random.NextUInt64()).ToArray());
        var counts = new int[3];
        for (var i = 0; i < 3000; i++)
        {
            counts[random.Next(3)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 900, 1100));
    }

    private static readonly ulong[] Pinned = [7424325031666622691UL, 2155999586940230350UL, 16488875487912662716UL, 13677223105704989559UL];

    [Fact]
    public void Pct_gives_the_actors_distinct_priorities_above_the_change_points_and_draws_d_minus_1_change_points()
    {
        var pct = new PctScheduler(cpus: 4, depth: 3, steps: 19);
        pct.StartRun(new RunRandom(1, 0));
        Assert.Equal([3, 4, 5, 6, 7, 8], pct.Priorities.ToArray().Order());
        Assert.Equal(2, pct.ChangePoints.Length);
        Assert.All(pct.ChangePoints.ToArray(), k => Assert.InRange(k, 1, 19));
        // The highest-priority actor with a candidate takes the step; the evictions are an actor of their own.
        var candidates = new List<Transition> { Transition.Step(0), Transition.Step(1), new(TransitionKind.Evict, -1, 0, 0) };
        var actors = new[] { 0, 1, 4 };
        var expected = actors.MaxBy(a => pct.Priorities[a]);
        var step = pct.ChangePoints.ToArray().Contains(1) || pct.ChangePoints.ToArray().Contains(2) ? 3 : 1;
        Assert.Equal(Array.IndexOf(actors, expected), pct.Pick(null!, candidates, step));
    }
}
