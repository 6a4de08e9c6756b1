using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>
/// The gapped form of a state (<see cref="MachineState.UseGaps"/>, what <c>kexecsim simulate</c> runs on) describes the
/// same state as the canonical vector: every reader sees the same words, whatever the rooms between the CPU stacks and
/// the caches, and however often a segment outgrows its room and the vector is laid out again.
/// </summary>
public sealed class GappedStateTests
{
    // Nested calls and recursion (frames, with a modelled stack: calls and returns are steps and write stack lines),
    // loops, operands, stores and loads to many lines of a shared buffer and of per-CPU lines, IPIs (handler frames),
    // wbinvd (cache write-back) on several CPUs with private caches and evictions.
    private const string Model = """
        const LINES = 24;
        region text[4];
        region data[4];
        region buf[LINES];
        region mine[6] percpu;
        region stack[4] percpu;
        shared int hits;
        percpu int depth_seen;
        handler vector 1 { hits = hits + 1; }
        fn leaf(int i) -> int {
            store(buf[i % LINES], KEY_NONE, i);
            store(mine[i % 6], KEY_NONE, i + 100);
            return load(buf[(i * 7 + 3) % LINES], KEY_NONE) + load(mine[(i + 1) % 6], KEY_NONE);
        }
        fn deep(int d, int i) -> int {
            if (d == 0) { return leaf(i); }
            depth_seen = d;
            return deep(d - 1, i + 1) + 1;
        }
        fn work(int who) {
            for (int round = 0; round < 6; round++) {
                int s = 0;
                for (int k = 0; k < 4; k++) { s += deep(round + k, who * 5 + k); }
                if (round % 2 == 1) { send_ipi((who + 1) % 3, 1); }
                if (round == 3) { wbinvd(); }
                either { store(buf[(s + who) % LINES], KEY_NONE, s); } or { hits = hits + s; }
            }
        }
        scenario "gaps" {
            platform { cpus 3; cache private; evictions on; }
            init cpu 0..2 { }
            cpu 0 runs work(0);
            cpu 1 runs work(1);
            cpu 2 runs work(2);
            timeouts off;
            expect pass;
        }
        """;

    private sealed class SeededChooser(Random random) : IChooser
    {
        public int Choose(int options) => random.Next(options);
    }

    private static Machine NewMachine(string model = Model) => new(RuleHarness.Compile(model));

    /// <summary>The canonical vector of <paramref name="state"/>, gapped or not: the fixed words, then each CPU's stack
    /// and each cache, back to back (the words a reader can reach through the segment starts).</summary>
    private static long[] Canonical(MachineState state)
    {
        var shape = state.Shape;
        var words = new List<long>(state.Words.AsSpan(0, shape.FixedWords).ToArray());
        for (var c = 0; c < shape.Cpus; c++)
        {
            words.AddRange(state.Words.AsSpan(state.StackStart(c), state.Cpus[c].StackWords).ToArray());
        }
        for (var i = 0; i < shape.CacheCount; i++)
        {
            words.AddRange(state.Words.AsSpan(state.CacheStart(i), 1 + 2 * state.Caches[i].Count).ToArray());
        }
        return [.. words];
    }

    /// <summary>Everything observable of two states must be equal: the canonical vector (through each form's own segment
    /// starts), the typed readers of every CPU and cache, the line and CPU directories, and the clobberers.</summary>
    private static void AssertSame(MachineState canonical, MachineState gapped, string where)
    {
        Assert.False(canonical.Gapped, where);
        Assert.True(gapped.Gapped, where);
        Assert.Equal(canonical.Span.ToArray(), Canonical(canonical));
        Assert.True(canonical.Span.SequenceEqual(Canonical(gapped)), where);
        for (var c = 0; c < canonical.Cpus.Length; c++)
        {
            var (a, b) = (canonical.Cpus[c], gapped.Cpus[c]);
            Assert.True((a.Mode, a.Flags, a.MonitorLine, a.PendingVectors, a.KernelKey, a.GuestAsid) == (b.Mode, b.Flags, b.MonitorLine, b.PendingVectors, b.KernelKey, b.GuestAsid), where);
            Assert.True((a.Depth, a.FrameWords, a.OperandCount, a.FetchCount, a.TopBase) == (b.Depth, b.FrameWords, b.OperandCount, b.FetchCount, b.TopBase), $"{where}: CPU {c} counts");
            Assert.True(a.FrameSpan(0, a.FrameWords).SequenceEqual(b.FrameSpan(0, b.FrameWords)), $"{where}: CPU {c} frames");
            if (a.Depth > 0)
            {
                Assert.True((a.Function, a.TopKind, a.Pc) == (b.Function, b.TopKind, b.Pc), $"{where}: CPU {c} top frame");
                for (var d = 0; d < a.Depth; d++)
                {
                    Assert.Equal(a.FrameBase(d), b.FrameBase(d));
                }
            }
            for (var o = 0; o < a.OperandCount; o++)
            {
                Assert.Equal(a.Operand(o), b.Operand(o));
            }
            for (var f = 0; f < a.FetchCount; f++)
            {
                Assert.Equal(a.PendingFetch(f), b.PendingFetch(f));
            }
        }
        for (var i = 0; i < canonical.Caches.Length; i++)
        {
            var (a, b) = (canonical.Caches[i], gapped.Caches[i]);
            Assert.True(a.Count == b.Count, $"{where}: cache {i} count {a.Count} vs {b.Count}");
            for (var e = 0; e < a.Count; e++)
            {
                Assert.Equal(a[e], b[e]);
            }
        }
        Assert.True(canonical.Lines.SequenceEqual(gapped.Lines), $"{where}: lines");
        Assert.True(canonical.Variables.SequenceEqual(gapped.Variables), $"{where}: variables");
        for (var line = 0; line < canonical.Lines.Length; line++)
        {
            Assert.Equal(canonical.Clobberer(line), gapped.Clobberer(line));
            for (var cache = 0; cache < canonical.Caches.Length; cache++)
            {
                Assert.Equal(canonical.NextCacheHolding(line, cache), gapped.NextCacheHolding(line, cache));
            }
            for (var cpu = 0; cpu < canonical.Cpus.Length; cpu++)
            {
                Assert.Equal(canonical.NextCpuMonitoring(line, cpu), gapped.NextCpuMonitoring(line, cpu));
            }
        }
        Assert.Equal((canonical.Finished, canonical.PoweredOff, canonical.Budget(0), canonical.Budget(1), canonical.Budget(2)),
            (gapped.Finished, gapped.PoweredOff, gapped.Budget(0), gapped.Budget(1), gapped.Budget(2)));
    }

    /// <summary>Seeded random runs, as a simulation does them (a transition that may be disabled is tried on a copy),
    /// applied to a canonical state and, in lockstep, to a gapped one: same transitions listed (also by a
    /// <see cref="TransitionLister"/> over the gapped state), same outcomes, same state after every step.</summary>
    private static (int Steps, int Relayouts, int MaxDepth, int MaxCache) Differential(Machine machine, int seed, int runs, int steps)
    {
        var random = new Random(seed);
        var initial = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(initial));
        var gappedInitial = machine.NewState();
        gappedInitial.CopyFrom(initial);
        gappedInitial.UseGaps();
        AssertSame(initial, gappedInitial, "initial");
        var (current, work) = (machine.NewState(), machine.NewState());
        var (gapped, gappedWork) = (machine.NewState(), machine.NewState());
        var lister = new TransitionLister(machine);
        var (listed, kept) = (new List<Transition>(), new List<Transition>());
        var (total, relayouts, maxDepth, maxCache) = (0, 0, 0, 0);
        for (var run = 0; run < runs; run++)
        {
            gappedInitial.WidenRoomsTo(gapped);
            AssertSame(initial, gappedInitial, $"run {run}: widened initial");
            current.CopyFrom(initial);
            gapped.CopyFrom(gappedInitial);
            lister.Reset();
            var actor = -1;
            for (var step = 0; step < steps; step++)
            {
                var where = $"seed {seed}, run {run}, step {step}";
                machine.EnumerateTransitions(current, listed);
                lister.List(gapped, actor, kept);
                Assert.True(listed.SequenceEqual(kept), $"{where}: listed {string.Join(" ", listed)}; gapped {string.Join(" ", kept)}");
                if (listed.Count == 0)
                {
                    break;
                }
                var transition = listed[random.Next(listed.Count)];
                var copy = machine.MayBeDisabled(current, transition);
                Assert.Equal(copy, machine.MayBeDisabled(gapped, transition));
                if (copy)
                {
                    work.CopyFrom(current);
                    gappedWork.CopyFrom(gapped);
                    Assert.True(gappedWork.Gapped);
                }
                var (target, gappedTarget) = copy ? (work, gappedWork) : (current, gapped);
                var choices = random.Next();
                var before = gappedTarget.Words;
                var outcome = machine.Apply(target, transition, new SeededChooser(new Random(choices)));
                var gappedOutcome = machine.Apply(gappedTarget, transition, new SeededChooser(new Random(choices)));
                Assert.True(outcome == gappedOutcome, $"{where}: {transition}: {outcome} vs {gappedOutcome}");
                if (!ReferenceEquals(before, gappedTarget.Words))
                {
                    relayouts++;
                }
                if (outcome == Outcome.Disabled)
                {
                    continue;
                }
                AssertSame(target, gappedTarget, $"{where}: after {transition}");
                total++;
                foreach (var cpu in target.Cpus)
                {
                    maxDepth = Math.Max(maxDepth, cpu.Depth);
                }
                foreach (var cache in target.Caches)
                {
                    maxCache = Math.Max(maxCache, cache.Count);
                }
                if (outcome is Outcome.Violation or Outcome.NeedChoice)
                {
                    break;
                }
                if (copy)
                {
                    (current, work) = (work, current);
                    (gapped, gappedWork) = (gappedWork, gapped);
                }
                actor = transition.Cpu;
            }
        }
        return (total, relayouts, maxDepth, maxCache);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Gapped_runs_match_canonical_runs_step_for_step(int seed)
    {
        var (steps, relayouts, maxDepth, maxCache) = Differential(NewMachine(), seed, runs: 4, steps: 1500);
        // The runs did what the test is for: deep stacks, full caches, segments outgrowing their rooms.
        Assert.True(steps > 600, $"{steps} steps");
        Assert.True(maxDepth >= 5, $"depth {maxDepth}");
        Assert.True(maxCache >= 8, $"cache {maxCache}");
        Assert.True(relayouts > 0, "no relayout");
    }

    [Theory]
    [InlineData("seed002-parked-cpus.kflow")]
    [InlineData("seed000-stop-wbinvd.kflow")]
    public void Gapped_runs_match_canonical_runs_on_catalog_scenarios(string file)
    {
        foreach (var cpus in new int?[] { null, 9 })
        {
            var loaded = FrontEnd.Load(Path.Combine(TestPaths.Models, "catalog", file),
                new LoadOptions { ModelPath = [TestPaths.Models], Compile = new Language.Compilation.CompileOptions { Cpus = cpus } });
            foreach (var program in loaded.Scenarios)
            {
                var machine = new Machine(program);
                var probe = machine.NewState();
                if (machine.CreateInitial(probe) == Outcome.Violation)
                {
                    continue;
                }
                Differential(machine, seed: 7, runs: 3, steps: 300);
            }
        }
    }

    // ───────────────────────────── Growth and the form's API ─────────────────────────────

    private const string Small = """
        percpu int counter;
        region buf[64];
        fn f() { counter = 1; done(); }
        scenario "s" { platform { cpus 3; cache private; } cpu 0 runs f(); timeouts off; expect pass; }
        """;

    private static (Machine Machine, MachineState State) SmallInitial()
    {
        // A new state, before CreateInitial: every stack and cache empty.
        var machine = NewMachine(Small);
        return (machine, machine.NewState());
    }

    /// <summary>A copy of <paramref name="state"/> in the gapped form.</summary>
    private static MachineState GappedCopy(MachineState state)
    {
        var gapped = new MachineState(state.Layout);
        gapped.CopyFrom(state);
        gapped.UseGaps();
        return gapped;
    }

    private static CacheEntry Entry(int line, long value, bool dirty = false) =>
        new() { Tag = CacheEntry.MakeTag(line, 0), Value = value, Dirty = dirty };

    /// <summary>Puts something in every variable segment: CPU c has one frame of function 10 + c with pc 20 + c, an
    /// operand 100 + c and a deferred fetch of line c; cache i holds line 40 + i with value 200 + i, dirty.</summary>
    private static void Fill(MachineState state)
    {
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            var cpu = state.Cpus[c];
            cpu.PushFrame(10 + c, 3, 2);
            cpu.Pc = 20 + c;
            cpu.PushOperand(100 + c);
            cpu.AddPendingFetch(c);
        }
        for (var i = 0; i < state.Caches.Length; i++)
        {
            var cache = state.Caches[i];
            cache.Insert(cache.Count, Entry(40 + i, 200 + i, dirty: true));
        }
        state.Lines[5].Value = 55;
    }

    /// <summary>What <see cref="Fill"/> put there is still there, for every segment but <paramref name="except"/>'s.</summary>
    private static void AssertFilled(MachineState state, int exceptCpu = -1, int exceptCache = -1)
    {
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            if (c == exceptCpu)
            {
                continue;
            }
            var cpu = state.Cpus[c];
            Assert.Equal((1, 5, 1, 1), (cpu.Depth, cpu.FrameWords, cpu.OperandCount, cpu.FetchCount));
            Assert.Equal((10 + c, 20 + c, 100L + c, c), (cpu.Function, cpu.Pc, cpu.TopOperand, cpu.PendingFetch(0)));
        }
        for (var i = 0; i < state.Caches.Length; i++)
        {
            if (i == exceptCache)
            {
                continue;
            }
            var cache = state.Caches[i];
            Assert.Equal(1, cache.Count);
            Assert.Equal(Entry(40 + i, 200 + i, dirty: true), cache[0]);
            Assert.Equal(i, state.NextCacheHolding(40 + i, 0));
        }
        Assert.Equal(55, state.Lines[5].Value);
    }

    [Fact]
    public void A_stack_that_outgrows_its_room_lays_the_state_out_again_and_every_other_segment_stays()
    {
        var (_, state) = SmallInitial();
        Fill(state);
        var canonical = state;
        var gapped = GappedCopy(state);
        var before = gapped.Words;
        foreach (var s in new[] { canonical, gapped })
        {
            var cpu = s.Cpus[1];
            for (var d = 0; d < 40; d++)
            {
                cpu.PushFrame(1000 + d, 3, 1);
                cpu.Pc = 2000 + d;
                cpu.PushOperand(3000 + d);
            }
        }
        var words = gapped.Words;
        Assert.NotSame(before, words);
        Assert.True(canonical.Span.SequenceEqual(Canonical(gapped)));
        AssertFilled(gapped, exceptCpu: 1);
        var grown = gapped.Cpus[1];
        // 40 frames of 4 words (3 header words and a slot) over the first 5, 41 operands, 1 fetch.
        Assert.Equal((41, 5 + 40 * 4, 41, 1), (grown.Depth, grown.FrameWords, grown.OperandCount, grown.FetchCount));
        for (var d = 39; d >= 0; d--)
        {
            Assert.Equal((1000 + d, 2000 + d, 3000L + d), (grown.Function, grown.Pc, grown.PopOperand()));
            grown.PopFrame();
        }
        Assert.Equal((10 + 1, 20 + 1, 100L + 1), (grown.Function, grown.Pc, grown.TopOperand));
        AssertFilled(gapped);
        // Every CPU's room grew alike: another CPU's stack as deep moves no segment but its own.
        var other = gapped.Cpus[2];
        for (var d = 0; d < 40; d++)
        {
            other.PushFrame(1000 + d, 3, 1);
            other.PushOperand(3000 + d);
        }
        Assert.Same(words, gapped.Words);
        AssertFilled(gapped, exceptCpu: 2);
        Assert.Equal((41, 41), (other.Depth, other.OperandCount));
    }

    [Theory]
    [InlineData(0)] // a cache followed by others
    [InlineData(2)] // the last segment of the vector
    public void A_cache_that_outgrows_its_room_lays_the_state_out_again_and_every_other_segment_stays(int grown)
    {
        var (_, canonical) = SmallInitial();
        Fill(canonical);
        var gapped = new MachineState(canonical.Layout);
        gapped.CopyFrom(canonical);
        gapped.UseGaps();
        var words = gapped.Words;
        foreach (var s in new[] { canonical, gapped })
        {
            var cache = s.Caches[grown];
            // Lines 0..39 sort before the entry already there (line 40 + grown): each goes in at the front or middle.
            for (var line = 39; line >= 0; line -= 2)
            {
                cache.Insert(0, Entry(line, 500 + line));
            }
            for (var line = 38; line >= 0; line -= 2)
            {
                cache.Insert(line / 2, Entry(line, 500 + line, dirty: true));
            }
        }
        if (grown + 1 < gapped.Caches.Length)
        {
            Assert.NotSame(words, gapped.Words);
        }
        else
        {
            // The last segment's room is the slack at the end of the vector: it grows there, in place.
            Assert.Same(words, gapped.Words);
        }
        Assert.True(canonical.Span.SequenceEqual(Canonical(gapped)));
        AssertFilled(gapped, exceptCache: grown);
        var full = gapped.Caches[grown];
        Assert.Equal(41, full.Count);
        for (var line = 0; line < 40; line++)
        {
            Assert.Equal(Entry(line, 500 + line, dirty: line % 2 == 0), full[line]);
            Assert.Equal(grown, gapped.NextCacheHolding(line, 0));
        }
        Assert.Equal(Entry(40 + grown, 200 + grown, dirty: true), full[40]);
        for (var i = 39; i >= 0; i--)
        {
            full.RemoveAt(i);
        }
        AssertFilled(gapped);
        Assert.Equal(-1, gapped.NextCacheHolding(7, 0));
    }

    [Fact]
    public void A_gapped_state_has_no_canonical_encoding()
    {
        var (_, state) = SmallInitial();
        _ = state.Span;
        state.UseGaps();
        Assert.True(state.Gapped);
        var error = Assert.Throws<InvalidOperationException>(() => state.Span.Length);
        Assert.Contains("gapped", error.Message);
    }

    [Fact]
    public void UseGaps_is_idempotent_and_keeps_the_contents()
    {
        var (_, state) = SmallInitial();
        Fill(state);
        var canonical = state.Span.ToArray();
        state.UseGaps();
        var words = state.Words;
        state.UseGaps();
        Assert.Same(words, state.Words);
        Assert.Equal(canonical, Canonical(state));
        AssertFilled(state);
    }

    [Fact]
    public void CopyFrom_takes_the_form_of_the_state_copied()
    {
        var (machine, state) = SmallInitial();
        Fill(state);
        var gapped = GappedCopy(state);

        var copy = machine.NewState();
        copy.CopyFrom(gapped);
        Assert.True(copy.Gapped);
        Assert.Equal(state.Span.ToArray(), Canonical(copy));
        AssertFilled(copy);
        // The copy's segments are its own: growing one changes neither the copied state nor its other segments.
        copy.Cpus[0].PushOperand(77);
        copy.Caches[1].Insert(0, Entry(3, 33));
        Assert.Equal((2, 77L), (copy.Cpus[0].OperandCount, copy.Cpus[0].TopOperand));
        Assert.Equal((1, 100L), (gapped.Cpus[0].OperandCount, gapped.Cpus[0].TopOperand));
        Assert.Equal(1, gapped.Caches[1].Count);
        AssertFilled(copy, exceptCpu: 0, exceptCache: 1);

        // A canonical state copied over a gapped one makes it canonical again.
        copy.CopyFrom(state);
        Assert.False(copy.Gapped);
        Assert.Equal(state.Span.ToArray(), copy.Span.ToArray());
    }

    [Fact]
    public void Clear_and_Decode_keep_the_gapped_form()
    {
        var (machine, state) = SmallInitial();
        Fill(state);
        var encoding = state.Span.ToArray();
        var gapped = GappedCopy(state);

        gapped.Clear();
        Assert.True(gapped.Gapped);
        Assert.Equal(machine.NewState().Span.ToArray(), Canonical(gapped));
        Assert.All(gapped.Cpus, cpu => Assert.Equal((0, 0, 0, 0), (cpu.Depth, cpu.FrameWords, cpu.OperandCount, cpu.FetchCount)));
        Assert.Equal(-1, gapped.NextCacheHolding(40, 0));
        // Still gapped: its segments grow in their rooms.
        gapped.Cpus[2].PushOperand(9);
        gapped.Caches[0].Insert(0, Entry(1, 11));
        Assert.Equal((9L, 11L), (gapped.Cpus[2].TopOperand, gapped.Caches[0][0].Value));

        gapped.Decode(encoding);
        Assert.True(gapped.Gapped);
        Assert.Equal(encoding, Canonical(gapped));
        AssertFilled(gapped);
    }

    [Fact]
    public void WidenRoomsTo_keeps_the_contents_and_the_rooms_learnt()
    {
        var (machine, state) = SmallInitial();
        Fill(state);
        var encoding = state.Span.ToArray();
        var initial = GappedCopy(state);
        var run = machine.NewState();
        run.CopyFrom(initial);
        for (var d = 0; d < 30; d++)
        {
            run.Cpus[0].PushFrame(1000 + d, 3, 1);
            run.Caches[1].Insert(0, Entry(d, d));
        }

        // Not gapped, either side: nothing to learn.
        state.WidenRoomsTo(run);
        Assert.Equal(encoding, state.Span.ToArray());
        var words = initial.Words;
        initial.WidenRoomsTo(state);
        Assert.Same(words, initial.Words);

        initial.WidenRoomsTo(run);
        Assert.NotSame(words, initial.Words);
        Assert.Equal(encoding, Canonical(initial));
        AssertFilled(initial);
        // Wide enough already: no change.
        words = initial.Words;
        initial.WidenRoomsTo(run);
        Assert.Same(words, initial.Words);

        // A copy of the widened state takes the same growth without laying itself out again.
        var next = machine.NewState();
        next.CopyFrom(initial);
        words = next.Words;
        for (var d = 0; d < 30; d++)
        {
            next.Cpus[0].PushFrame(1000 + d, 3, 1);
            next.Caches[1].Insert(0, Entry(d, d));
        }
        Assert.Same(words, next.Words);
        Assert.Equal(Canonical(run), Canonical(next));
        AssertFilled(next, exceptCpu: 0, exceptCache: 1);
        Assert.Equal((1029, 31), (next.Cpus[0].Function, next.Caches[1].Count));
    }
}
