using CsCheck;

namespace KexecSim.Exploration.Tests;

/// <summary>The timed scheduler's tree of earliest times (<see cref="EarliestTree"/>), against a plain scan of its leaves.</summary>
public sealed class EarliestTreeTests
{
    [Fact]
    public void An_empty_tree_has_no_earliest_time_and_nothing_tied()
    {
        var tree = new EarliestTree(5);
        Assert.Equal((EarliestTree.None, 0), (tree.Earliest, tree.TiedAtEarliest));
        tree.Set(3, 40, 2);
        tree.Set(3, EarliestTree.None, 7);
        Assert.Equal((EarliestTree.None, 0), (tree.Earliest, tree.TiedAtEarliest));
    }

    [Fact]
    public void The_kth_tied_transition_is_found_in_leaf_order()
    {
        var tree = new EarliestTree(6);
        tree.Set(0, 50, 1);
        tree.Set(1, 20, 2);
        tree.Set(2, 30, 4);
        tree.Set(4, 20, 3);
        tree.Set(5, 20, 1);
        Assert.Equal((20L, 6), (tree.Earliest, tree.TiedAtEarliest));
        var found = Enumerable.Range(0, 6).Select(k => (tree.Find(k, out var within), within)).ToArray();
        Assert.Equal([(1, 0), (1, 1), (4, 0), (4, 1), (4, 2), (5, 0)], found);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Find(6, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Set(6, 1, 1));
    }

    [Fact]
    public void After_any_updates_the_tree_agrees_with_a_scan_of_its_leaves()
    {
        // Leaves 1..70 (one word of a bit set and more, not a power of two); times from a few values so that ties are
        // common, None among them.
        var update = Gen.Select(Gen.Int[0, 69], Gen.OneOf(Gen.Long[0, 4], Gen.Const(EarliestTree.None)), Gen.Int[1, 3]);
        Gen.Select(Gen.Int[1, 70], update.Array[0, 200]).Sample((size, updates) =>
        {
            var tree = new EarliestTree(size);
            var leaves = Enumerable.Repeat((Time: EarliestTree.None, Count: 0), size).ToArray();
            foreach (var (leaf, time, count) in updates.Where(u => u.Item1 < size))
            {
                tree.Set(leaf, time, count);
                leaves[leaf] = (time, time == EarliestTree.None ? 0 : count);
            }
            var earliest = leaves.Min(l => l.Time);
            var tied = leaves.Where(l => l.Time == earliest && earliest != EarliestTree.None).ToList();
            var expected = leaves.SelectMany((l, i) => l.Time == earliest && earliest != EarliestTree.None
                ? Enumerable.Range(0, l.Count).Select(w => (i, w)) : []).ToArray();
            var found = Enumerable.Range(0, tree.TiedAtEarliest).Select(k => (tree.Find(k, out var within), within)).ToArray();
            return tree.Earliest == earliest && tree.TiedAtEarliest == tied.Sum(l => l.Count) && found.SequenceEqual(expected);
        });
    }
}
