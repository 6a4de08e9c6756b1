namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 1, as stored: the flat state vector and its layout.</summary>
public sealed class StateVectorTests
{
    private const string Model = """
        percpu int counter;
        shared cpumask pending;
        fn f() { counter = 1; done(); }
        scenario "s" { platform { cpus 3; cache private; } cpu 0 runs f(); timeouts off; expect pass; }
        """;

    private static (Machine Machine, MachineState State) Initial()
    {
        var machine = new Machine(RuleHarness.Compile(Model));
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        return (machine, state);
    }

    [Fact]
    public void State_vector_layout_names_every_segment_and_marks_the_cpu_indexed_ones()
    {
        var (machine, _) = Initial();
        var layout = machine.Layout.State;
        var indexed = layout.Segments.Where(s => s.CpuIndexed).Select(s => s.Name).ToList();
        Assert.Equal(
            ["variable counter", "CPU headers (mode, flags, monitor, pending vectors, key, guest, counts, top frame)",
             "CPU stacks (frames, operands, deferred fetches)", "private caches, per CPU"],
            indexed);
        var counter = layout.Segments.Single(s => s.Name == "variable counter");
        Assert.Equal((3, 1), (counter.Words, counter.WordsPerCpu));
        // The fixed segments tile the fixed part, in order, without gaps.
        var at = 0;
        foreach (var segment in layout.Segments.Where(s => s.Offset >= 0))
        {
            Assert.Equal(at, segment.Offset);
            at += segment.Words;
        }
        Assert.Equal(layout.FixedWords, at);
    }

    [Fact]
    public void State_vector_is_the_encoding_and_decodes_to_an_equal_state()
    {
        var (machine, state) = Initial();
        var encoding = state.Span.ToArray();
        var copy = machine.NewState();
        copy.Decode(encoding);
        Assert.True(copy.Span.SequenceEqual(state.Span));
        Assert.Equal(state.Cpus[0].Pc, copy.Cpus[0].Pc);
        Assert.Equal(state.Cpus[0].Depth, copy.Cpus[0].Depth);
    }

    [Fact]
    public void State_vector_push_then_pop_restores_the_exact_words()
    {
        var (_, state) = Initial();
        var before = state.Span.ToArray();
        var cpu = state.Cpus[1];
        cpu.PushFrame(7, 3, 2);
        cpu.PushOperand(42);
        cpu.AddPendingFetch(5);
        cpu.AddPendingFetch(5);
        state.Caches[2].Insert(0, new CacheEntry { Tag = CacheEntry.MakeTag(1, 0), Value = 9, Dirty = true });
        Assert.Equal((1, 5, 1, 1), (cpu.Depth, cpu.FrameWords, cpu.OperandCount, cpu.FetchCount));
        Assert.Equal(7, cpu.Function);
        Assert.Equal(42, cpu.TopOperand);
        Assert.True(state.Caches[2][0].Dirty);
        Assert.Equal(0, state.Caches[1].Count);
        Assert.Equal(before.Length + 9, state.Length);

        state.Caches[2].RemoveAt(0);
        cpu.ClearPendingFetches();
        Assert.Equal(42, cpu.PopOperand());
        cpu.PopFrame();
        Assert.Equal(before, state.Span.ToArray());
    }

    [Fact]
    public void State_vector_nested_frames_find_their_bases()
    {
        var (_, state) = Initial();
        var cpu = state.Cpus[2];
        cpu.PushFrame(1, 3, 2);
        cpu.PushFrame(2, 3, 0);
        cpu.PushFrame(3, 3, 4);
        Assert.Equal([0, 5, 8], [cpu.FrameBase(0), cpu.FrameBase(1), cpu.FrameBase(2)]);
        Assert.Equal(8, cpu.TopBase);
        cpu.PopFrame();
        Assert.Equal((2, 5, 2), (cpu.Depth, cpu.TopBase, cpu.Function));
        cpu.ClearStack();
        Assert.Equal((0, 0), (cpu.Depth, cpu.FrameWords));
    }

    [Fact]
    public void State_vector_stacks_before_caches_so_cache_changes_never_move_a_stack()
    {
        var (_, state) = Initial();
        var cpu = state.Cpus[0];
        var slot = cpu.FrameSpan(cpu.TopBase, 1);
        state.Caches[0].Insert(0, new CacheEntry { Tag = CacheEntry.MakeTag(0, 0), Value = 1 });
        Assert.Equal(slot[0], cpu.Frame(cpu.TopBase));
        slot[0] = 77;
        Assert.Equal(77, cpu.Frame(cpu.TopBase));
    }

    [Fact]
    public void State_vector_directory_knows_which_caches_hold_a_line_under_any_key()
    {
        var (machine, state) = Initial();
        var caches = state.Caches;
        caches[0].Insert(0, new CacheEntry { Tag = CacheEntry.MakeTag(1, 0), Value = 1 });
        caches[2].Insert(0, new CacheEntry { Tag = CacheEntry.MakeTag(1, 0) });
        caches[2].Insert(1, new CacheEntry { Tag = CacheEntry.MakeTag(1, 1) });
        Assert.Equal((0, 2, -1), (state.NextCacheHolding(1, 0), state.NextCacheHolding(1, 1), state.NextCacheHolding(1, 3)));
        caches[2].RemoveAt(0);
        Assert.Equal(2, state.NextCacheHolding(1, 1)); // the line is still cached under key 1
        caches[2].RemoveAt(0);
        Assert.Equal(-1, state.NextCacheHolding(1, 1));
        caches[0].Clear();
        Assert.Equal(-1, state.NextCacheHolding(1, 0));

        state.Cpus[2].MonitorLine = 1;
        state.Cpus[0].MonitorLine = 1;
        state.Cpus[0].MonitorLine = 0;
        Assert.Equal((2, 0), (state.NextCpuMonitoring(1, 0), state.NextCpuMonitoring(0, 0)));
        // A decoded copy rebuilds the same indexes from the vector alone.
        var copy = machine.NewState();
        copy.Decode(state.Span);
        Assert.Equal((2, 0, -1), (copy.NextCpuMonitoring(1, 0), copy.NextCpuMonitoring(0, 0), copy.NextCacheHolding(1, 0)));
    }
}
