using KexecSim.Language;

namespace KexecSim.Exploration.Tests;

/// <summary><c>check --bitstate MB</c> (issue 9): bitstate hashing as the breadth-first search's visited set.</summary>
public sealed class BitstateTests
{
    [Fact]
    public void A_state_is_new_until_all_its_bits_are_set()
    {
        var set = new BitstateSet(1 << 20);
        Assert.Equal((1L << 20) * 8, set.Bits);
        Assert.True(set.TryAdd(0x1234_5678_9ABC_DEF0, 7, out var existing));
        Assert.Equal(7, existing);
        Assert.False(set.TryAdd(0x1234_5678_9ABC_DEF0, 8, out existing));
        Assert.Equal(-1, existing); // no node id is kept
        Assert.Equal(1, set.Count);
        Assert.Equal(1 << 20, set.MemoryBytes);
    }

    [Fact]
    public void A_full_array_takes_new_states_for_visited_ones_as_often_as_its_estimate_says()
    {
        var set = new BitstateSet(64); // 512 bits
        var random = new Random(9);
        var added = 0;
        for (var i = 0; i < 400; i++)
        {
            added += set.TryAdd((ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1), i, out _) ? 1 : 0;
        }
        Assert.Equal(added, set.Count);
        Assert.InRange(added, 150, 399); // some were missed
        // The Bloom filter's rate at the end: (1 - e^(-kn/m))^k.
        Assert.Equal(Math.Pow(1 - Math.Exp(-3.0 * added / 512), 3), set.OmissionProbability, 12);
        Assert.Equal(512.0 / added, set.HashFactor, 12);
    }

    private static KexecSim.Program.CompiledProgram Load(string scenario)
    {
        var loaded = FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow"),
            new LoadOptions { ModelPath = [TestPaths.Models] });
        return loaded.Scenarios.First(s => s.ScenarioName == scenario);
    }

    [Fact]
    public void With_room_enough_a_bitstate_search_gives_the_exact_search_verdict_states_and_trace()
    {
        foreach (var program in FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, "models", "catalog", "seed000-stop-wbinvd.kflow"),
            new LoadOptions { ModelPath = [TestPaths.Models] }).Scenarios)
        {
            var exact = new BreadthFirstExplorer(program, new CheckOptions()).Run();
            var bits = new BreadthFirstExplorer(program, new CheckOptions { BitstateBytes = 16 << 20 }).Run();
            Assert.Equal(exact.Outcome, bits.Outcome);
            if (exact.Violation?.Code != Program.ViolationCode.Livelock)
            {
                Assert.Equal(exact.Statistics.States, bits.Statistics.States);
                Assert.Equal(exact.Trace?.Steps.Count, bits.Trace?.Steps.Count);
            }
            Assert.Null(exact.Bitstate);
            Assert.Equal((16L << 20) * 8, bits.Bitstate!.Bits);
            Assert.Contains(bits.Warnings, w => w.StartsWith("bitstate search (--bitstate)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_tiny_array_misses_states_and_says_so()
    {
        var program = Load("kexec-stop-mask-in-time");
        var exact = new BreadthFirstExplorer(program, new CheckOptions { Reduce = Reduction.None }).Run();
        var bits = new BreadthFirstExplorer(program, new CheckOptions { Reduce = Reduction.None, BitstateBytes = 8 }).Run();
        Assert.True(bits.Statistics.States < exact.Statistics.States, $"{bits.Statistics.States} vs {exact.Statistics.States}");
        Assert.True(bits.Bitstate!.OmissionProbability > 0.3, $"{bits.Bitstate.OmissionProbability} {bits.Statistics.States}");
    }

    [Fact]
    public void The_depth_first_search_refuses_it() =>
        Assert.Throws<ArgumentException>(() => new DepthFirstExplorer(Load("kexec-stop-mask-in-time"), new CheckOptions { Strategy = SearchStrategy.DepthFirst, BitstateBytes = 8 }));
}
