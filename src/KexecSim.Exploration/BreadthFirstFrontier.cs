namespace KexecSim.Exploration;

/// <summary>
/// The breadth-first search's frontier: the level being expanded and the level being filled, each a
/// <see cref="StateQueue"/> of encoded states with their node ids. A level is expanded in the order
/// it was filled, so node ids are expanded in increasing order.
/// </summary>
public sealed class BreadthFirstFrontier
{
    private StateQueue _current = new();
    private StateQueue _next = new();

    /// <summary>The level being expanded: its states are <see cref="Depth"/> steps from the initial state.</summary>
    public StateQueue Current => _current;

    /// <summary>How many states the next level holds so far.</summary>
    public int NextCount => _next.Count;

    /// <summary>How many steps the current level's states are from the initial state.</summary>
    public int Depth { get; private set; }

    public long MemoryBytes => _current.MemoryBytes + _next.MemoryBytes;

    /// <summary>A level's first states are stored whole; past this many, compressed
    /// (<see cref="StateQueue.Compact"/>): small searches stay fast, large ones small.</summary>
    public const int CompactAfter = 4096;

    /// <summary>Adds a state to the next level.</summary>
    public void Push(ReadOnlySpan<long> encoding, int node)
    {
        if (_next.Count == CompactAfter)
        {
            _next.Compact = true;
        }
        _next.Add(encoding, node);
    }

    /// <summary>Makes the next level current (its chunks reused); false when it is empty.</summary>
    public bool Advance()
    {
        (_current, _next) = (_next, _current);
        _next.Clear();
        _next.Compact = false;
        Depth++;
        return _current.Count > 0;
    }

    /// <summary>Writes the level being expanded, before any of it was (a level boundary: the next level is
    /// empty; docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        if (_next.Count != 0)
        {
            throw new InvalidOperationException("a frontier is saved between levels only");
        }
        writer.Write(Depth);
        writer.Write(_current.Count);
        for (var i = 0; i < _current.Count; i++)
        {
            var vector = _current.Get(i, out var node);
            writer.Write(node);
            writer.Write(vector.Length);
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector));
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote: that level is current, stored as the search stored it.</summary>
    internal void Load(BinaryReader reader)
    {
        _current.Clear();
        _next.Clear();
        _current.Compact = _next.Compact = false;
        Depth = reader.ReadInt32();
        var count = Checkpoint.ReadCount(reader);
        var vector = new long[64];
        for (var i = 0; i < count; i++)
        {
            var node = reader.ReadInt32();
            var length = Checkpoint.ReadCount(reader);
            if (vector.Length < length)
            {
                vector = new long[Math.Max(length, vector.Length * 2)];
            }
            Checkpoint.ReadExactly(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan(0, length)));
            if (i == CompactAfter)
            {
                _current.Compact = true;
            }
            _current.Add(vector.AsSpan(0, length), node);
        }
    }

    /// <summary>Starts the search's first level with the initial state.</summary>
    public void Start(ReadOnlySpan<long> encoding, int node)
    {
        _current.Clear();
        _next.Clear();
        _current.Compact = _next.Compact = false;
        Depth = 0;
        _current.Add(encoding, node);
    }
}
