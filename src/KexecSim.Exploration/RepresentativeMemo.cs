namespace KexecSim.Exploration;

/// <summary>
/// With symmetry reduction: which node a successor vector, exactly as a transition left it, was stored
/// as (its representative's node), by the vector's own 64-bit fingerprint. A state reached again the
/// same way skips the canonicalisation, which costs several steps (docs/benchmarks.md, "Hot loop").
/// Direct-mapped and lossy (a newer vector takes the slot), so a miss only costs a canonicalisation;
/// a hit is as exact as the visited set's fingerprints.
/// </summary>
public sealed class RepresentativeMemo
{
    private const int Bits = 20;
    private readonly int _bits;
    private ulong[]? _keys;
    private int[]? _nodes;

    public RepresentativeMemo(int bits = Bits)
    {
        _bits = bits;
        Shift = 64 - bits;
    }

    private int Shift { get; }

    /// <summary>The memo is allocated at its first <see cref="Set"/> (a search without symmetry never
    /// touches it, and a catalog of small searches does not pay 12 MB each).</summary>
    public long MemoryBytes => _keys is null ? 0 : (long)_keys.Length * (sizeof(ulong) + sizeof(int));

    public bool TryGet(ulong raw, out int node)
    {
        var slot = Slot(raw);
        if (_keys is not null && _keys[slot] == (raw | 1))
        {
            node = _nodes![slot];
            return true;
        }
        node = -1;
        return false;
    }

    /// <summary>Forgets every vector (a worker's memo of one chunk, <see cref="ExpansionWorker"/>).</summary>
    public void Clear()
    {
        if (_keys is not null)
        {
            Array.Clear(_keys);
        }
    }

    public void Set(ulong raw, int node)
    {
        _keys ??= new ulong[1 << _bits];
        _nodes ??= new int[1 << _bits];
        var slot = Slot(raw);
        _keys[slot] = raw | 1; // never 0, the empty slot
        _nodes[slot] = node;
    }

    // The high bits pick the slot (XXH3's are well mixed); the low bit is forced in the key.
    private int Slot(ulong raw) => (int)(raw >> Shift);
}
