namespace KexecSim.Exploration;

/// <summary>
/// The depth-first search's stack of states still to expand: encodings back to back in one array, each
/// with its node id and depth; the last pushed is popped first.
/// PERF: no array per state; the array only grows (to the deepest the stack has been).
/// </summary>
public sealed class StateStack
{
    private long[] _pool = new long[1 << 14];
    private readonly List<(int Offset, int Length, int Node, int Depth)> _entries = [];
    private int _top;

    public int Count => _entries.Count;

    public long MemoryBytes => (long)_pool.Length * sizeof(long) + (long)_entries.Capacity * 16;

    public void Push(ReadOnlySpan<long> encoding, int node, int depth)
    {
        if (_top + encoding.Length > _pool.Length)
        {
            Array.Resize(ref _pool, Math.Max(_pool.Length * 2, _top + encoding.Length));
        }
        encoding.CopyTo(_pool.AsSpan(_top));
        _entries.Add((_top, encoding.Length, node, depth));
        _top += encoding.Length;
    }

    /// <summary>Takes the last state pushed off the stack; its encoding stays valid until the next push.</summary>
    public ReadOnlySpan<long> Pop(out int node, out int depth)
    {
        var (offset, length, n, d) = _entries[^1];
        _entries.RemoveAt(_entries.Count - 1);
        _top = offset;
        node = n;
        depth = d;
        return _pool.AsSpan(offset, length);
    }
}
