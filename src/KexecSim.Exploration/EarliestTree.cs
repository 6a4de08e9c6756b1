namespace KexecSim.Exploration;

/// <summary>
/// A min-tree over a fixed number of leaves (CPUs, or caches) for the timed scheduler (<see cref="TimedScheduler"/>):
/// each leaf holds the earliest time of its transitions and how many of them have that time; each inner node the
/// earliest time below it and how many transitions below it have that time. The earliest time of all, how many
/// transitions tie at it, and the k-th of those in leaf order are found in O(log leaves): a timed step picks among
/// tied transitions uniformly without visiting them all (at 1,024 CPUs every CPU is ready at time 0, and visiting
/// the tied ones made the first steps of a run quadratic in CPUs).
/// PERF: two flat arrays, no allocation after construction.
/// </summary>
internal sealed class EarliestTree
{
    /// <summary>A leaf with no transition.</summary>
    public const long None = long.MaxValue;

    private readonly int _leaves;
    private readonly long[] _time;
    private readonly int[] _count;

    public EarliestTree(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        Size = size;
        _leaves = 1;
        while (_leaves < size)
        {
            _leaves <<= 1;
        }
        _time = new long[2 * _leaves];
        _count = new int[2 * _leaves];
        Clear();
    }

    /// <summary>How many leaves there are.</summary>
    public int Size { get; }

    /// <summary>The earliest time of every leaf (<see cref="None"/>: no transition anywhere).</summary>
    public long Earliest => _time[1];

    /// <summary>How many transitions have the <see cref="Earliest"/> time (0 when there is none).</summary>
    public int TiedAtEarliest => _time[1] == None ? 0 : _count[1];

    /// <summary>Every leaf empty.</summary>
    public void Clear()
    {
        Array.Fill(_time, None);
        Array.Clear(_count);
    }

    /// <summary>Leaf <paramref name="leaf"/>'s earliest time and how many of its transitions have it (0 with
    /// <see cref="None"/>).</summary>
    public void Set(int leaf, long time, int count)
    {
        if ((uint)leaf >= (uint)Size)
        {
            throw new ArgumentOutOfRangeException(nameof(leaf), leaf, $"the tree has {Size} leaves");
        }
        var node = _leaves + leaf;
        _time[node] = time;
        _count[node] = time == None ? 0 : count;
        for (node >>= 1; node >= 1; node >>= 1)
        {
            var (l, r) = (2 * node, (2 * node) + 1);
            var min = Math.Min(_time[l], _time[r]);
            var tied = (_time[l] == min ? _count[l] : 0) + (_time[r] == min ? _count[r] : 0);
            if (_time[node] == min && _count[node] == tied)
            {
                break; // nothing above changes
            }
            _time[node] = min;
            _count[node] = tied;
        }
    }

    /// <summary>Leaf <paramref name="leaf"/>'s earliest time.</summary>
    public long Time(int leaf) => _time[_leaves + leaf];

    /// <summary>
    /// The leaf holding the <paramref name="k"/>-th (from 0, in leaf order) of the transitions tied at
    /// <see cref="Earliest"/>, and in <paramref name="within"/> which of that leaf's tied transitions it is.
    /// </summary>
    public int Find(int k, out int within)
    {
        if ((uint)k >= (uint)TiedAtEarliest)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{TiedAtEarliest} transitions are tied");
        }
        var earliest = _time[1];
        var node = 1;
        while (node < _leaves)
        {
            var left = 2 * node;
            var inLeft = _time[left] == earliest ? _count[left] : 0;
            if (k < inLeft)
            {
                node = left;
            }
            else
            {
                k -= inLeft;
                node = left + 1;
            }
        }
        within = k;
        return node - _leaves;
    }
}
