using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>The parts a search is built from (<see cref="ISearch"/>), each on its own.</summary>
public sealed class SearchPartsTests
{
    private static Violation Violation(ViolationCode code) => new(code, ViolationReason.Recorded, 0, null) { Text = code.Name() };

    private static Trace TraceOf(int steps, Violation violation) =>
        new(Enumerable.Range(0, steps).Select(i => new TraceStep(Transition.Step(i), [])).ToList(), violation, violationIsTerminal: false);

    [Theory]
    [InlineData(1L, 0.0)]
    [InlineData(1_000_000L, 999_999.0 * 1_000_000 / 2 / 18446744073709551616.0)]
    [InlineData(6_074_001L, 6_074_000.0 * 6_074_001 / 2 / 18446744073709551616.0)]
    public void Statistics_give_the_fingerprint_collision_probability(long states, double expected)
    {
        Assert.Equal(expected, new Statistics(states, 0, 0, 1, 0).CollisionProbability, 15);
    }

    [Fact]
    public void A_cleared_memo_forgets_every_vector_and_learns_them_again()
    {
        var memo = new RepresentativeMemo(bits: 4);
        memo.Clear(); // before anything was set: nothing to forget
        Assert.False(memo.TryGet(0x1234_0000_0000_0000, out var node));
        Assert.Equal(-1, node);
        memo.Set(0x1234_0000_0000_0000, 7);
        Assert.True(memo.TryGet(0x1234_0000_0000_0000, out node));
        Assert.Equal(7, node);
        memo.Clear();
        Assert.False(memo.TryGet(0x1234_0000_0000_0000, out node));
        Assert.Equal(-1, node);
        memo.Set(0x1234_0000_0000_0000, 9);
        Assert.True(memo.TryGet(0x1234_0000_0000_0000, out node));
        Assert.Equal(9, node);
        Assert.Equal(16 * (sizeof(ulong) + sizeof(int)), memo.MemoryBytes);
    }

    [Fact]
    public void A_result_warns_when_a_fingerprint_collision_is_more_likely_than_one_in_a_million()
    {
        var program = KexecSim.Language.FrontEnd.LoadText("c.kflow", "fn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); expect pass; }").Scenarios.Single();
        CheckResult Result(long states) => new() { Program = program, Verdict = Verdict.Pass, Statistics = new Statistics(states, 0, 0, 1, 0), FinalEvaluated = true };
        Assert.Empty(Result(6_000_000).Warnings);
        Assert.Equal(["10,000,000 states in 64-bit fingerprints: the probability that two shared one, and one was never explored, is 2.7e-6"], Result(10_000_000).Warnings);
    }

    [Theory]
    [InlineData(TransitionKind.Step, 0, 0, 0L)]
    [InlineData(TransitionKind.Evict, -1, 1023, (123L << 24) | 0xFF_FFFF)]
    [InlineData(TransitionKind.Deliver, 1023, (int)EventKind.Mce, 7L)]
    [InlineData(TransitionKind.Timeout, PackedTransition.MaxCpu, PackedTransition.MaxArg, long.MaxValue)]
    [InlineData(TransitionKind.Inject, 5, (int)EventKind.Smi, -1L)]
    public void A_packed_transition_unpacks_to_itself(TransitionKind kind, int cpu, int arg, long tag)
    {
        var transition = new Transition(kind, cpu, arg, tag);
        var packed = PackedTransition.Pack(transition);
        Assert.Equal(transition, packed.Unpack());
        Assert.Equal(kind, packed.Kind);
        Assert.Equal(tag, packed.Tag);
    }

    [Fact]
    public void A_transition_too_large_to_pack_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedTransition.Pack(new Transition(TransitionKind.Step, PackedTransition.MaxCpu + 1, 0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedTransition.Pack(new Transition(TransitionKind.Evict, -1, PackedTransition.MaxArg + 1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedTransition.Pack(new Transition(TransitionKind.Step, -2, 0, 0)));
    }

    [Fact]
    public void The_node_table_gives_back_each_node_parent_transition_and_choices()
    {
        var table = new NodeTable();
        Assert.Equal(0, table.Add(-1, default, []));
        Assert.Equal(1, table.Add(0, Transition.Step(1), [2, 0, 5]));
        Assert.Equal(2, table.Add(1, new Transition(TransitionKind.WbinvdWriteBack, 3, 0, (9L << 24) | 4), []));
        Assert.Equal(3, table.Add(2, new Transition(TransitionKind.Deliver, 0, (int)EventKind.Nmi, 0), [1]));
        Assert.Equal(4, table.Count);

        Assert.Equal(-1, table.Parent(0));
        Assert.Equal(0, table.Parent(1));
        Assert.Equal(2, table.Parent(3));
        Assert.Equal(default, table.Transition(0));
        Assert.Equal(Transition.Step(1), table.Transition(1));
        Assert.Equal(new Transition(TransitionKind.WbinvdWriteBack, 3, 0, (9L << 24) | 4), table.Transition(2));
        Assert.Equal(new Transition(TransitionKind.Deliver, 0, (int)EventKind.Nmi, 0), table.Transition(3));
        Assert.Equal([], table.Choices(0).ToArray());
        Assert.Equal([2, 0, 5], table.Choices(1).ToArray());
        Assert.Equal([], table.Choices(2).ToArray());
        Assert.Equal([1], table.Choices(3).ToArray());

        var path = table.PathTo(3);
        Assert.Equal(3, path.Count);
        Assert.Equal(Transition.Step(1), path[0].Transition);
        Assert.Equal([2, 0, 5], path[0].Choices);
        Assert.Empty(path[1].Choices);
        Assert.Equal([1], path[2].Choices);
        Assert.Empty(table.PathTo(0));
    }

    // Issue 9: node records are 8 bytes (parent and label) when the steps made no choice; a tagged
    // transition (a write-back names its line and key) is numbered once, however many nodes it reaches.
    [Fact]
    public void The_node_table_keeps_eight_bytes_per_node_and_reparents()
    {
        var table = new NodeTable();
        table.Add(-1, default, []);
        const int Nodes = 1 << 16;
        for (var n = 1; n < Nodes; n++)
        {
            var transition = n % 2 == 0 ? Transition.Step(n % 7) : new Transition(TransitionKind.Evict, -1, n % 3, (long)(n % 5 + 1) << 24);
            table.Add(n - 1, transition, []);
        }
        Assert.InRange(table.MemoryBytes, Nodes * 8, (Nodes * 8) + 4096);
        Assert.Equal(new Transition(TransitionKind.Evict, -1, 1, 4L << 24), table.Transition(Nodes - 3)); // 65,533: odd, % 3 = 1, % 5 = 3
        table.Reparent(5, 1, Transition.Step(2), [3, 4]);
        Assert.Equal((1, Transition.Step(2)), (table.Parent(5), table.Transition(5)));
        Assert.Equal([3, 4], table.Choices(5).ToArray());
        table.Reparent(5, 2, Transition.Step(3), []);
        Assert.Empty(table.Choices(5).ToArray());
    }

    [Fact]
    public void The_frontier_expands_level_by_level_and_counts_the_depth()
    {
        var frontier = new BreadthFirstFrontier();
        frontier.Start([10, 11], 0);
        Assert.Equal(0, frontier.Depth);
        Assert.Equal(1, frontier.Current.Count);
        frontier.Push([20], 1);
        frontier.Push([30, 31, 32], 2);
        Assert.Equal(2, frontier.NextCount);
        Assert.True(frontier.Advance());
        Assert.Equal(1, frontier.Depth);
        Assert.Equal(0, frontier.NextCount);
        Assert.Equal([20L], frontier.Current.Get(0, out var first).ToArray());
        Assert.Equal(1, first);
        Assert.Equal([30L, 31, 32], frontier.Current.Get(1, out var second).ToArray());
        Assert.Equal(2, second);
        Assert.False(frontier.Advance());
        Assert.Equal(2, frontier.Depth);
    }

    [Fact]
    public void Expect_code_ends_the_search_on_that_code_only_and_keeps_the_first_of_each_other()
    {
        var policy = new ExpectationPolicy(new Expectation(true, ViolationCode.Bug));
        Assert.True(policy.EndsSearch(ViolationCode.Bug));
        Assert.False(policy.EndsSearch(ViolationCode.Deadlock));
        Assert.False(policy.Keeps(ViolationCode.Bug));
        Assert.True(policy.Keeps(ViolationCode.Deadlock));
        var deadlock = Violation(ViolationCode.Deadlock);
        policy.Keep(deadlock, TraceOf(3, deadlock));
        Assert.False(policy.Keeps(ViolationCode.Deadlock));
        policy.Keep(Violation(ViolationCode.Deadlock), TraceOf(1, deadlock));
        Assert.Single(policy.Others);
        Assert.Same(deadlock, policy.Others[0].Violation);
        Assert.True(policy.LooksForLivelock);
        var livelock = Violation(ViolationCode.Livelock);
        policy.Keep(livelock, TraceOf(2, livelock));
        Assert.False(policy.LooksForLivelock);
    }

    [Fact]
    public void Without_expect_and_with_expect_pass_any_violation_ends_the_search()
    {
        foreach (var expectation in new[] { Expectation.None, Expectation.Pass })
        {
            var policy = new ExpectationPolicy(expectation);
            Assert.True(policy.EndsSearch(ViolationCode.Bug));
            Assert.True(policy.EndsSearch(ViolationCode.Livelock));
            Assert.False(policy.Keeps(ViolationCode.Deadlock));
            Assert.True(policy.LooksForLivelock);
            var verdict = policy.Conclude();
            Assert.Equal(Verdict.Pass, verdict.Verdict);
            Assert.Null(verdict.Violation);
            Assert.Empty(verdict.Others);
        }
    }

    [Fact]
    public void An_unmet_expectation_concludes_with_the_shortest_other_violation()
    {
        var policy = new ExpectationPolicy(new Expectation(true, ViolationCode.Corruption));
        var deadlock = Violation(ViolationCode.Deadlock);
        var bug = Violation(ViolationCode.Bug);
        var assertion = Violation(ViolationCode.Assertion);
        policy.Keep(deadlock, TraceOf(5, deadlock));
        policy.Keep(bug, TraceOf(2, bug));
        policy.Keep(assertion, TraceOf(2, assertion));
        var verdict = policy.Conclude();
        Assert.Equal(Verdict.Violation, verdict.Verdict);
        Assert.Same(bug, verdict.Violation);
        Assert.Equal(2, verdict.Trace!.Steps.Count);
        Assert.Equal([ViolationCode.Deadlock, ViolationCode.Assertion], verdict.Others.Select(o => o.Violation.Code));
    }

    [Fact]
    public void An_unmet_expectation_concludes_with_a_model_error_before_any_shorter_violation()
    {
        var policy = new ExpectationPolicy(new Expectation(true, ViolationCode.Corruption));
        var bug = Violation(ViolationCode.Bug);
        var modelError = Violation(ViolationCode.ModelError);
        policy.Keep(bug, TraceOf(1, bug));
        policy.Keep(modelError, TraceOf(9, modelError));
        var verdict = policy.Conclude();
        Assert.Same(modelError, verdict.Violation);
        Assert.Equal([ViolationCode.Bug], verdict.Others.Select(o => o.Violation.Code));
    }

    [Fact]
    public void Limits_name_the_one_reached_first_interruption_then_states_time_memory()
    {
        using var cancel = new CancellationTokenSource();
        var limits = new SearchLimits(new CheckOptions
        {
            MaxStates = 100,
            TimeLimit = TimeSpan.FromSeconds(2.5),
            MemoryLimitBytes = 3L * 1024 * 1024,
            Cancellation = cancel.Token,
        }, residentSet: () => 0);
        Assert.Null(limits.Reached(99, 3L * 1024 * 1024 - 1, TimeSpan.FromSeconds(2.4)));
        Assert.Equal("--memory-limit 3 MB reached", limits.Reached(99, 3L * 1024 * 1024, TimeSpan.Zero));
        Assert.Equal("--time-limit 2.5 s reached", limits.Reached(99, 3L * 1024 * 1024, TimeSpan.FromSeconds(2.5)));
        Assert.Equal("--max-states 100 reached", limits.Reached(100, 3L * 1024 * 1024, TimeSpan.FromSeconds(2.5)));
        cancel.Cancel();
        Assert.Equal("interrupted", limits.Reached(0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void The_memory_limit_bounds_the_resident_set_with_a_margin_for_the_growth_between_checks()
    {
        const long mb = 1024 * 1024;
        var resident = 0L;
        var limits = new SearchLimits(new CheckOptions { MemoryLimitBytes = 300 * mb }, () => resident);
        resident = 270 * mb - 1;
        Assert.Null(limits.Reached(1, 10 * mb, TimeSpan.Zero));
        resident = 270 * mb;
        Assert.Equal("--memory-limit 300 MB reached (resident set 270 MB)", limits.Reached(1, 10 * mb, TimeSpan.Zero));
    }

    [Fact]
    public void Breadth_first_search_is_a_search_strategy_that_runs_once()
    {
        const string model = """
            fn f() { either { bug_on(true); } or { done(); } }
            scenario "s" { cpu 0 runs f(); expect BUG; }
            """;
        var loaded = Language.FrontEnd.LoadText("s.kflow", model);
        ISearch search = new BreadthFirstExplorer(loaded.Scenarios.Single());
        var result = search.Run();
        Assert.Equal(ViolationCode.Bug, result.Violation!.Code);
        // The either is one step (option 0: the bug_on branch), the bug_on the next.
        Assert.Equal([[0], []], result.Trace!.Steps.Select(s => s.Choices).ToArray());
        Assert.Throws<InvalidOperationException>(() => search.Run());
    }

    [Fact]
    public void The_livelock_graph_keeps_every_label_in_2_bytes_and_gives_each_back_exactly()
    {
        var graph = new LivelockGraph();
        graph.AddNode(finished: false);
        graph.BeginEdges();
        Transition[] labels =
        [
            Transition.Step(3),
            new(TransitionKind.Deliver, 1, (int)EventKind.Vector, 5),
            new(TransitionKind.WbinvdWriteBack, 2, 0, CacheEntry.MakeTag(700, 0x1_0003)),
            new(TransitionKind.Evict, -1, 1, CacheEntry.MakeTag(700, 0x1_0003)),
            new(TransitionKind.Timeout, PackedTransition.MaxCpu, PackedTransition.MaxArg, 0), // top bit of the head set
            new(TransitionKind.Deliver, 1, (int)EventKind.Vector, 5), // the same tagged label again
        ];
        foreach (var label in labels)
        {
            graph.AddEdge(0, label);
        }
        Assert.Equal(labels, Enumerable.Range(0, labels.Length).Select(e => graph.Label(e).Unpack()));
        Assert.Equal(graph.Label(1), graph.Label(5));
    }

    [Fact]
    public void The_livelock_graph_keeps_labels_past_its_65535th_aside_and_through_a_save_and_load()
    {
        var graph = new LivelockGraph();
        graph.AddNode(finished: false);
        graph.BeginEdges();
        const int Labels = 70_000;
        static Transition Label(int i) => new(TransitionKind.Deliver, 1, (int)EventKind.Vector, i);
        for (var i = 0; i < Labels; i++)
        {
            graph.AddEdge(i % 3 == 0 ? -1 : 0, Label(i));
        }
        graph.AddEdge(0, Label(7)); // a label numbered before
        graph.AddEdge(0, Label(69_999)); // one kept aside, met again
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            graph.Save(writer);
        }
        stream.Position = 0;
        var loaded = new LivelockGraph();
        loaded.Load(new BinaryReader(stream));
        foreach (var g in new[] { graph, loaded })
        {
            Assert.Equal(Labels + 2, g.Edges);
            Assert.Equal(Enumerable.Range(0, Labels).Select(Label).Append(Label(7)).Append(Label(69_999)),
                Enumerable.Range(0, g.Edges).Select(e => g.Label(e).Unpack()));
            Assert.Equal((-1, 0), (g.Target(0), g.Target(1)));
        }
    }

    [Fact]
    public void The_livelock_graph_keeps_edges_by_node_and_finds_a_fair_cycle()
    {
        // 0 -> 1 -> 2 -> 1 (step of CPU 0 both ways), 0 -> violation; node 3 finished, reached from 2.
        var graph = new LivelockGraph();
        for (var n = 0; n < 4; n++)
        {
            graph.AddNode(finished: n == 3);
        }
        Assert.False(graph.Complete);
        graph.BeginEdges();
        graph.AddEdge(1, Transition.Step(0));
        graph.AddEdge(-1, Transition.Step(1));
        graph.BeginEdges();
        graph.AddEdge(2, Transition.Step(0));
        graph.BeginEdges();
        graph.AddEdge(1, Transition.Step(0));
        graph.BeginEdges();
        Assert.True(graph.Complete);
        Assert.Equal(4, graph.Edges);
        Assert.Equal((0, 2), (graph.EdgeStart(0), graph.EdgeEnd(0)));
        Assert.Equal((4, 4), (graph.EdgeStart(3), graph.EdgeEnd(3)));
        Assert.Equal(Transition.Step(1), graph.Label(1).Unpack());
        Assert.Equal(-1, graph.Target(1));

        var detector = new LivelockDetector(graph);
        var component = Assert.Single(detector.FairComponents());
        Assert.Equal([1, 2], component);
        Assert.Equal([2, 3], detector.CycleFrom(1, [.. component]));

        // Ctrl-C, SIGTERM or the time limit stop the detection (issue 12: it was not interruptible).
        using var interrupt = new CancellationTokenSource();
        interrupt.Cancel();
        Assert.Throws<OperationCanceledException>(() => new LivelockDetector(graph, interrupt.Token).FairComponents().ToList());
        Assert.Throws<OperationCanceledException>(() => graph.HasUnfinishedCycle(interrupt.Token));
    }

    [Fact]
    public void The_work_after_a_search_stops_on_an_interruption_or_the_time_left()
    {
        using var cancel = new CancellationTokenSource();
        var limits = new SearchLimits(new CheckOptions { TimeLimit = TimeSpan.FromSeconds(2.5), Cancellation = cancel.Token });
        using (var spent = limits.Stopper(TimeSpan.FromSeconds(3)))
        {
            Assert.True(spent.IsCancellationRequested);
            Assert.Equal("--time-limit 2.5 s reached", limits.StopReason());
        }
        using var left = limits.Stopper(TimeSpan.Zero);
        Assert.False(left.IsCancellationRequested);
        cancel.Cancel();
        Assert.True(left.IsCancellationRequested);
        Assert.Equal("interrupted", limits.StopReason());
    }

    [Fact]
    public void A_time_limit_longer_than_a_timer_can_hold_never_fires_and_does_not_throw()
    {
        // CancelAfter takes at most 2^32-2 ms (49.7 days); --time-limit accepts up to 1e9 s (CI failure, 2026-12-02).
        var limits = new SearchLimits(new CheckOptions { TimeLimit = TimeSpan.FromSeconds(1e9) });
        using var stop = limits.Stopper(TimeSpan.FromSeconds(1));
        Assert.False(stop.IsCancellationRequested);
    }

    [Fact]
    public void A_cycle_that_leaves_an_always_enabled_transition_untaken_is_not_fair()
    {
        // 0 <-> 1 by CPU 0's steps; CPU 1's step is enabled in both and leads out to finished node 2.
        var graph = new LivelockGraph();
        graph.AddNode(false);
        graph.AddNode(false);
        graph.AddNode(true);
        graph.BeginEdges();
        graph.AddEdge(1, Transition.Step(0));
        graph.AddEdge(2, Transition.Step(1));
        graph.BeginEdges();
        graph.AddEdge(0, Transition.Step(0));
        graph.AddEdge(2, Transition.Step(1));
        graph.BeginEdges();
        Assert.Empty(new LivelockDetector(graph).FairComponents());
    }

    // Issue 9: 12-byte slots (the fingerprint and the node id, in two arrays), 8 without ids (--livelock off, no graph);
    // 256 tables by a mix of the fingerprint's bits, each doubling on its own when 3/4 full. A checkpoint of one kind of set
    // does not load into the other.
    [Theory]
    [InlineData(true, 12)]
    [InlineData(false, 8)]
    public void The_visited_set_keeps_12_byte_slots_with_node_ids_and_8_without(bool keepNodes, int slotBytes)
    {
        var set = new FingerprintSet(1 << 10, keepNodes);
        Assert.Equal(FingerprintSet.Shards * 16, set.Slots); // at least 16 slots a table
        Assert.Equal(slotBytes * set.Slots, set.MemoryBytes);
        const int States = 50_000;
        static ulong Key(int i) => ((ulong)i * 0x9E37_79B9_7F4A_7C15UL) + 1;
        for (var i = 0; i < States; i++)
        {
            Assert.True(set.TryAdd(Key(i), i, out var id));
            Assert.Equal(i, id);
        }
        Assert.Equal(slotBytes * set.Slots, set.MemoryBytes);
        // Every table is at most 3/4 full, and, once grown, more than 3/8: the whole set between the two.
        Assert.InRange((double)States / set.Slots, 0.375, 0.75);
        for (var i = 0; i < States; i++)
        {
            Assert.False(set.TryAdd(Key(i), -5, out var id));
            Assert.Equal(keepNodes ? i : -1, id);
        }
        Assert.Equal(States, set.Count);

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            set.Save(writer);
        }
        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => new FingerprintSet(keepNodes: !keepNodes).Load(new BinaryReader(stream)));
        stream.Position = 0;
        var loaded = new FingerprintSet(keepNodes: keepNodes);
        loaded.Load(new BinaryReader(stream));
        Assert.Equal((States, set.Slots), (loaded.Count, loaded.Slots));
        Assert.False(loaded.TryAdd(Key(123), 0, out var again));
        Assert.Equal(keepNodes ? 123 : -1, again);
        Assert.True(loaded.TryAdd(Key(States), States, out _));
    }

    // The workers' read-only lookup finds what was added (with its node id, -1 without ids) and nothing else, fingerprint 0
    // included (stored as 1, as TryAdd stores it); a prefetch changes nothing, before or across a table's growth.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_visited_set_looks_fingerprints_up_without_adding_and_a_prefetch_changes_nothing(bool keepNodes)
    {
        var set = new FingerprintSet(1 << 10, keepNodes);
        static ulong Key(int i) => ((ulong)i * 0xD6E8_FEB8_6659_FD93UL) ^ 0x5555;
        for (var i = 0; i < 20_000; i += 2)
        {
            set.Prefetch(Key(i));
            Assert.True(set.TryAdd(Key(i), i, out _));
        }
        for (var i = 0; i < 20_000; i++)
        {
            set.Prefetch(Key(i));
            Assert.Equal((i % 2 == 0, i % 2 == 0 && keepNodes ? i : -1), (set.TryGet(Key(i), out var node), node));
        }
        Assert.Equal(10_000, set.Count);
        Assert.False(set.TryGet(0, out _));
        set.Prefetch(0);
        Assert.True(set.TryAdd(0, 7, out _));
        Assert.Equal((true, keepNodes ? 7 : -1), (set.TryGet(0, out var zero), zero));
        Assert.Equal((true, keepNodes ? 7 : -1), (set.TryGet(1, out var one), one));
        Assert.Equal(10_001, set.Count);
    }

    // Fingerprints whose top bit is always 0 (non-negative randoms) still spread over every table: a set made for 2^20
    // slots takes 600,000 of them (57% full) without growing, as it would with all 64 bits random (by the top bits
    // alone, half the tables would hold them all, and each would grow).
    [Fact]
    public void The_visited_set_spreads_fingerprints_with_a_constant_top_bit_over_every_table()
    {
        var random = new Random(9);
        var set = new FingerprintSet(1 << 20, keepNodes: false);
        for (var i = 0; i < 600_000; i++)
        {
            set.TryAdd((ulong)random.NextInt64() | 1, i, out _);
        }
        Assert.Equal((600_000, 1L << 20), (set.Count, set.Slots));
    }

    // A checkpoint's visited set whose table counts or fingerprints do not fit the tables is refused, not loaded.
    [Fact]
    public void A_visited_set_whose_tables_do_not_fit_is_refused_on_load()
    {
        var set = new FingerprintSet(1 << 12, keepNodes: false);
        for (var i = 0; i < 1000; i++)
        {
            set.TryAdd(((ulong)i * 0x9E37_79B9_7F4A_7C15UL) + 1, i, out _);
        }
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            set.Save(writer);
        }
        var bytes = stream.ToArray();
        // The layout: the table count, whether node ids are kept, then per table its length, its count, its keys.
        var wrongCount = (byte[])bytes.Clone();
        wrongCount[sizeof(int) + 1 + sizeof(int)]++;
        var e = Assert.Throws<InvalidDataException>(() => new FingerprintSet(keepNodes: false).Load(new BinaryReader(new MemoryStream(wrongCount))));
        Assert.Equal("the visited set's table counts do not match their filled slots", e.Message);

        var length = BitConverter.ToInt32(bytes, sizeof(int) + 1);
        var firstKeys = sizeof(int) + 1 + (2 * sizeof(int));
        var movedKey = (byte[])bytes.Clone();
        var slot = Enumerable.Range(0, length).First(k => BitConverter.ToUInt64(bytes, firstKeys + (k * sizeof(ulong))) != 0);
        BitConverter.GetBytes(BitConverter.ToUInt64(bytes, firstKeys + (slot * sizeof(ulong))) ^ 0x8000_0000_0000_0000UL).CopyTo(movedKey, firstKeys + (slot * sizeof(ulong)));
        e = Assert.Throws<InvalidDataException>(() => new FingerprintSet(keepNodes: false).Load(new BinaryReader(new MemoryStream(movedKey))));
        Assert.Equal("the visited set's tables hold fingerprints of other tables (saved by another build?)", e.Message);
    }

    // The one order every search takes a state's outcomes in: transitions as the machine lists them, each
    // branch of a step's choices in option order; a disabled step (a false wait) is skipped.
    [Fact]
    public void The_successor_enumerator_gives_every_enabled_outcome_in_transition_then_option_order()
    {
        const string model = """
            shared int x;
            fn chooser() { either { x = 1; } or { x = 2; } or { x = 3; } done(); }
            fn waiter() { wait_until(x == 9); done(); }
            scenario "s" { platform { cpus 2; } cpu 0 runs chooser(); cpu 1 runs waiter(); timeouts off; }
            """;
        var program = KexecSim.Language.FrontEnd.LoadText("e.kflow", model).Scenarios.Single();
        var machine = new Machine.Machine(program);
        var parent = machine.NewState();
        var work = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(parent));
        var enumerator = new SuccessorEnumerator(machine);
        enumerator.Start(parent, work);
        var seen = new List<(Transition, int[], int)>();
        while (enumerator.MoveNext())
        {
            seen.Add((enumerator.Transition, enumerator.Choices.ToArray(), work.Cpus[0].Pc));
        }
        // CPU 1's wait is false (disabled); CPU 0's either: three branches, each at its own store.
        Assert.Equal([(Transition.Step(0), [0]), (Transition.Step(0), [1]), (Transition.Step(0), [2])],
            seen.Select(o => (o.Item1, o.Item2)).ToArray(), new OutcomeComparer());
        Assert.Equal(3, seen.Select(o => o.Item3).Distinct().Count());
        // Started again on the same state: the same outcomes.
        enumerator.Start(parent, work);
        var again = 0;
        while (enumerator.MoveNext())
        {
            again++;
        }
        Assert.Equal(3, again);
    }

    private sealed class OutcomeComparer : IEqualityComparer<(Transition, int[])>
    {
        public bool Equals((Transition, int[]) x, (Transition, int[]) y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2);

        public int GetHashCode((Transition, int[]) obj) => obj.Item1.GetHashCode();
    }
}
