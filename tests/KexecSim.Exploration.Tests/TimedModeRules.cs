using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// SEMANTICS.md section 9, timed mode (<c>simulate --timed</c>, <see cref="TimedScheduler"/>, docs/timed.md), one
/// test per rule: a step's fixed cost and <c>udelay</c>; an IPI or NMI arriving after its latency; WBINVD costing in
/// proportion to the dirty lines it writes back, scaled by <c>wbinvd_us</c>; <c>wait_until</c> timing out when its
/// clock passes the timeout (whatever <c>timeouts</c> says); MWAIT's wake latency; latencies drawn from the seed,
/// the same for any number of workers. Latencies are fixed here (a range of one value) so the times are exact.
/// </summary>
public sealed class TimedModeRules
{
    private static readonly TimedParameters Fixed = new TimedParameters()
        .With("step_ns=10").With("ipi_us=4").With("nmi_us=6").With("mwait_wake_us=100").With("poll_us=1");

    private static CompiledProgram Compile(string model)
    {
        var result = FrontEnd.LoadText("timed.kflow", model);
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        return Assert.Single(result.Scenarios);
    }

    private static SimulationResult Simulate(CompiledProgram program, TimedParameters parameters, long runs = 1, int workers = 1) =>
        new Simulator(program, new SimulationOptions { Runs = runs, Seed = 7, Workers = workers, Timed = parameters }).Run();

    private static WaitSiteSummary Wait(SimulationResult result) => Assert.Single(result.Timed!.Waits);

    [Fact]
    public void Timed_mode_a_step_costs_step_ns_and_udelay_its_microseconds()
    {
        var program = Compile("""
            fn main() { udelay(7); udelay(3); done(); }
            scenario "s" { platform { cpus 1; evictions off; } cpu 0 runs main(); expect pass; }
            """);
        var result = Simulate(program, Fixed);
        // Three steps of 10 ns, and 7 + 3 µs of udelay: done() ends at 10,030 ns.
        Assert.Equal([(0L, 10_030L)], result.Timed!.Finishes);
        Assert.Equal(1, result.Finished);
    }

    private const string Kick = """
        enum V { KICK = 0xf0 }
        shared int acked;
        fn main() {
            send_ipi(1, KICK);
            wait_until(acked == 1);
            done();
        }
        fn idle() { local_irq_enable(); loop { hlt(); } }
        handler vector KICK { acked = 1; }
        scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs main(); cpu 1 runs idle(); expect pass; }
        """;

    [Fact]
    public void Timed_mode_an_ipi_arrives_after_its_latency()
    {
        var program = Compile(Kick);
        // CPU 0 sends at 0 (its clock: 10) and waits from 10; CPU 1's first step (local_irq_enable and hlt) is at 0.
        // The IPI arrives at 0 + 4 µs; the handler's store is at 4,010. CPU 0 polls at most every poll_us after a
        // change: it last polled (false) at the delivery, 4,000, so it sees acked at 5,000 and finishes at 5,020.
        var result = Simulate(program, Fixed);
        Assert.Equal([(0L, 5_020L)], result.Timed!.Finishes);
        var wait = Wait(result);
        Assert.Equal(("main", 1L, 0L), (wait.Function, wait.Count, wait.TimedOut));
        Assert.Equal([4_990L], wait.DurationsNs);
        // A later IPI (8 µs) moves the finish by the same 4 µs.
        Assert.Equal([(0L, 9_020L)], Simulate(program, Fixed.With("ipi_us=8")).Timed!.Finishes);
        // Polled at once after every change, CPU 0 sees the store when the handler's step happens (4,010) and ends
        // done() at 4,030.
        Assert.Equal([(0L, 4_030L)], Simulate(program, Fixed.With("poll_us=0")).Timed!.Finishes);
    }

    [Fact]
    public void Timed_mode_an_nmi_arrives_after_its_latency()
    {
        var program = Compile(Kick.Replace("send_ipi(1, KICK);", "send_nmi(1);").Replace("handler vector KICK", "handler nmi"));
        var result = Simulate(program, Fixed.With("poll_us=0"));
        // As the IPI with poll_us=0, 6 µs of NMI latency instead of 4.
        Assert.Equal([(0L, 6_030L)], result.Timed!.Finishes);
    }

    private const string Flush = """
        enum V { KICK = 0xf0 }
        region buf[4];
        shared int acked;
        fn main() {
            send_ipi(1, KICK);
            wait_until(acked == 1);
            done();
        }
        fn idle() { local_irq_enable(); loop { hlt(); } }
        handler vector KICK { wbinvd(); acked = 1; }
        scenario "s" {
            platform { cpus 2; evictions off; wbinvd_us 1000; }
            init cpu 1 { store(buf[0], KEY_NONE, 1); store(buf[1], KEY_NONE, 1); store(buf[2], KEY_NONE, 1); }
            cpu 0 runs main(); cpu 1 runs idle();
            expect pass;
        }
        """;

    [Fact]
    public void Timed_mode_wbinvd_costs_in_proportion_to_the_dirty_lines_scaled_by_wbinvd_us()
    {
        var program = Compile(Flush);
        var lines = TimedScheduler.LinesOneCpuHolds(new Machine.Machine(program).Layout);
        var perLine = 1000L * 1000 / lines; // wbinvd_us 1000 with every line dirty
        var parameters = Fixed.With("poll_us=0");
        var baseline = Simulate(Compile(Flush.Replace("init cpu 1 { store(buf[0], KEY_NONE, 1); store(buf[1], KEY_NONE, 1); store(buf[2], KEY_NONE, 1); }", "")), parameters);
        var three = Simulate(program, parameters);
        // The same run with three dirty lines more to write back: three write-backs of wbinvd_us / lines each
        // (a write-back is a transition of its own, costing only that).
        Assert.Equal(3 * perLine, three.Timed!.Finishes[0].Nanoseconds - baseline.Timed!.Finishes[0].Nanoseconds);
        // Twice wbinvd_us, twice the cost of each line.
        var slower = Simulate(program, parameters.With("wbinvd_us=2000"));
        Assert.Equal(3 * 2 * perLine, slower.Timed!.Finishes[0].Nanoseconds - baseline.Timed!.Finishes[0].Nanoseconds);
    }

    [Fact]
    public void Timed_mode_wbinvd_walk_us_is_paid_once_per_wbinvd_whatever_it_writes_back()
    {
        var parameters = Fixed.With("poll_us=0");
        var clean = Compile(Flush.Replace("init cpu 1 { store(buf[0], KEY_NONE, 1); store(buf[1], KEY_NONE, 1); store(buf[2], KEY_NONE, 1); }", ""));
        var dirty = Compile(Flush);
        var baseClean = Simulate(clean, parameters).Timed!.Finishes[0].Nanoseconds;
        var baseDirty = Simulate(dirty, parameters).Timed!.Finishes[0].Nanoseconds;
        // One WBINVD in the run: 700 µs more, with nothing dirty and with three dirty lines alike.
        Assert.Equal(700_000L, Simulate(clean, parameters.With("wbinvd_walk_us=700")).Timed!.Finishes[0].Nanoseconds - baseClean);
        Assert.Equal(700_000L, Simulate(dirty, parameters.With("wbinvd_walk_us=700")).Timed!.Finishes[0].Nanoseconds - baseDirty);
        Assert.Equal("wbinvd_walk_us=0", string.Join(' ', Fixed.Describe(500).Where(p => p.Name == "wbinvd_walk_us").Select(p => $"{p.Name}={p.Value}")));
    }

    [Fact]
    public void Timed_mode_wait_until_times_out_when_its_clock_passes_the_timeout()
    {
        var program = Compile("""
            shared int acked;
            shared bool late;
            fn main() {
                if (!wait_until(acked == 1, 50)) { late = true; }
                done();
            }
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs main(); cpu 1 runs idle(); timeouts off; expect pass; }
            """);
        // Nobody sets acked: with timeouts off the untimed modes would wait forever; the clock times it out at
        // its start (0) plus 50 µs, whatever 'timeouts' says.
        var result = Simulate(program, Fixed);
        var wait = Wait(result);
        Assert.Equal((1L, 1L), (wait.Count, wait.TimedOut));
        Assert.Equal([50_000L], wait.DurationsNs);
        Assert.Equal([(0L, 50_030L)], result.Timed!.Finishes);
    }

    [Fact]
    public void Timed_mode_a_cpu_woken_from_mwait_resumes_after_the_wake_latency()
    {
        var program = Compile("""
            shared int flag;
            shared int acked;
            fn main() { udelay(1); flag = 1; wait_until(acked == 1); done(); }
            fn parked() { monitor(flag); mwait(); acked = 1; loop { hlt(); } }
            scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs main(); cpu 1 runs parked(); expect pass; }
            """);
        var result = Simulate(program, Fixed.With("poll_us=0"));
        // CPU 0 writes flag at 1,010 (its clock then 1,020); CPU 1 wakes 100 µs later and stores acked at 101,010 (a
        // transition happens at its start; its CPU is busy for step_ns after); CPU 0, polled at that change, sees it
        // at 101,010 and runs done() at 101,020, which ends at 101,030.
        Assert.Equal([(0L, 101_030L)], result.Timed!.Finishes);
        Assert.Equal([(0L, 201_030L)], Simulate(program, Fixed.With("poll_us=0").With("mwait_wake_us=200")).Timed!.Finishes);
    }

    [Fact]
    public void Timed_mode_transitions_due_at_the_same_time_are_drawn_uniformly()
    {
        // Four CPUs, each ready for its first step at time 0: whichever takes it first commits the BUG when it is CPU 2.
        var program = Compile("""
            shared int first = -1;
            fn main() { atomic { if (first == -1) { first = this_cpu(); } } bug_on(first == 2); done(); }
            scenario "s" { platform { cpus 4; evictions off; } cpu 0..3 runs main(); expect pass; }
            """);
        var result = Simulate(program, Fixed, runs: 4000);
        // A quarter of the runs, within the spread of 4,000 draws (standard deviation 27).
        var bugs = result.Violations.Single().Count;
        Assert.InRange(bugs, 900, 1100);
        Assert.Equal(4000 - bugs, result.Finished);
    }

    [Fact]
    public void Timed_mode_a_dirty_entry_is_evicted_after_an_exponential_time_of_mean_eviction_mean_us()
    {
        // CPU 0 dirties x's line at 10 ns and starts a WBINVD after udelay(1000): the WBINVD writes the line back (and
        // costs wbinvd_us = 1 s over the machine's lines) unless it was evicted first, which happens when the time drawn
        // for it (exponential, mean eviction_mean_us = 1,000 us, from when it was first listed) is under 1,000 us:
        // the write-back is left in e^-1 = 36.8% of runs.
        var program = Compile("""
            shared int x;
            fn main() { x = 1; udelay(1000); wbinvd(); done(); }
            scenario "s" { platform { cpus 1; evictions on; wbinvd_us 1000000; } cpu 0 runs main(); expect pass; }
            """);
        var result = Simulate(program, Fixed, runs: 4000);
        Assert.Equal(4000, result.Finished);
        var finishes = result.Timed!.Finishes.Select(f => f.Nanoseconds).ToList();
        // Without a write-back: 5 steps of 10 ns (x = 1, udelay, wbinvd(), its end, done()) and 1 ms; with one, also the line's share of 1 s.
        var withoutWriteBack = finishes.Min();
        Assert.Equal(1_000_050, withoutWriteBack);
        var writtenBack = finishes.Count(f => f > withoutWriteBack);
        Assert.InRange(writtenBack, 1370, 1575); // 1,472 expected; the standard deviation of 4,000 draws is 30
    }

    [Fact]
    public void Timed_mode_latencies_are_drawn_from_the_seed_the_same_for_any_number_of_workers()
    {
        var program = Compile(Kick);
        var ranged = new TimedParameters().With("ipi_us=1..50");
        var one = Simulate(program, ranged, runs: 300, workers: 1);
        var two = Simulate(program, ranged, runs: 300, workers: 2);
        Assert.Equal(one.Timed!.Finishes, two.Timed!.Finishes);
        Assert.Equal(Wait(one).DurationsNs, Wait(two).DurationsNs);
        // Drawn: the finishes spread over the range (1 to 50 µs of latency, polled every µs).
        var times = one.Timed.Finishes.Select(f => f.Nanoseconds).ToList();
        Assert.Equal(300, times.Count);
        Assert.InRange(times.Min(), 1_000, 5_000);
        Assert.InRange(times.Max(), 46_000, 52_000);
        // A run rebuilt alone from (seed, index) is the same run: its trace replays with the clock's timeouts.
        var (outcome, trace) = new Simulator(program, new SimulationOptions { Runs = 300, Seed = 7, Timed = ranged }).Reproduce(123);
        Assert.Equal(RunEnd.Finished, outcome.End);
        Assert.True(new Replayer(program) { WaitsExpireByClock = true }.Replay(trace).Confirmed);
    }

    [Fact]
    public void Timed_mode_answers_how_often_the_reboot_round_times_out_when_every_cpu_must_wbinvd_first()
    {
        // The stop protocol with the WBINVD fix (1f5e7eb7868e) at 8 CPUs: CPU 0 waits 1 s for the REBOOT round.
        var program = FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow"),
            new LoadOptions { ModelPath = [TestPaths.Models], Compile = new Language.Compilation.CompileOptions { Cpus = 8 } })
            .Scenarios.Single(s => s.ScenarioName == "stop-mask-reboot");
        var quick = Simulate(program, new TimedParameters(), runs: 20);
        var first = quick.Timed!.Waits[0];
        Assert.Equal((20L, 0L), (first.Count, first.TimedOut));
        // A full-cache flush of 4 s (a third of the lines dirty per CPU: 1.33 s, longer than the 1 s wait): every
        // run's first round times out, and the NMI round follows.
        var slow = Simulate(program, new TimedParameters().With("wbinvd_us=4000000"), runs: 20);
        var round = slow.Timed!.Waits[0];
        Assert.Equal((20L, 20L), (round.Count, round.TimedOut));
        Assert.All(round.DurationsNs, d => Assert.Equal(1_000_000_000L, d));
    }
}
