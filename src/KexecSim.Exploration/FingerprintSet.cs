namespace KexecSim.Exploration;

/// <summary>
/// The visited set: 64-bit state fingerprints in an open-addressing table, each with its node id when the search needs
/// it (the LIVELOCK graph's edges name the node a transition leads to; <c>--livelock off</c> keeps no graph, and no id).
/// PERF: the fingerprints in one flat array (8 per cache line) that a probe walks, the node ids in another read only
/// at the slot found; linear probing; no allocation per insert. Memory: 12 bytes per slot with node ids, 8 without.
/// </summary>
public sealed class FingerprintSet : IVisitedSet
{
    private ulong[] _keys;
    private int[]? _values;
    private int _mask;

    /// <param name="capacityPowerOfTwo">The first table's slots.</param>
    /// <param name="keepNodes">Whether each fingerprint's node id is kept (<see cref="TryAdd"/> gives -1 for a state found
    /// again otherwise).</param>
    public FingerprintSet(int capacityPowerOfTwo = 1 << 16, bool keepNodes = true)
    {
        _keys = new ulong[capacityPowerOfTwo];
        _values = keepNodes ? new int[capacityPowerOfTwo] : null;
        _mask = capacityPowerOfTwo - 1;
    }

    public int Count { get; private set; }

    /// <summary>Whether node ids are kept.</summary>
    public bool KeepsNodes => _values is not null;

    public long MemoryBytes => (long)_keys.Length * (sizeof(ulong) + (_values is null ? 0 : sizeof(int)));

    /// <summary>Adds a fingerprint; false (with the existing id, -1 when ids are not kept) when it was already there.</summary>
    public bool TryAdd(ulong fingerprint, int value, out int existing)
    {
        if (fingerprint == 0)
        {
            fingerprint = 1; // 0 marks an empty slot
        }
        if (Count * 10 >= _keys.Length * 7)
        {
            Grow();
        }
        var keys = _keys;
        var index = (int)(Mix(fingerprint) & (ulong)_mask);
        while (true)
        {
            ref var key = ref keys[index];
            if (key == 0)
            {
                key = fingerprint;
                if (_values is { } values)
                {
                    values[index] = value;
                }
                Count++;
                existing = value;
                return true;
            }
            if (key == fingerprint)
            {
                existing = _values is { } values ? values[index] : -1;
                return false;
            }
            index = (index + 1) & _mask;
        }
    }

    /// <summary>Writes the table as it is (its slots, so a resumed search probes the same places: docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(_keys.Length);
        writer.Write(Count);
        writer.Write(_values is not null);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_keys.AsSpan()));
        if (_values is not null)
        {
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_values.AsSpan()));
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, replacing the table.</summary>
    internal void Load(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (length <= 0 || (length & (length - 1)) != 0 || count < 0 || count > length)
        {
            throw new InvalidDataException("the visited set's size is not a table's");
        }
        if (reader.ReadBoolean() != KeepsNodes)
        {
            throw new InvalidDataException("the visited set was saved with node ids by one search and is read by another without (or the other way)");
        }
        var keys = new ulong[length];
        Checkpoint.ReadExactly(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(keys.AsSpan()));
        int[]? values = null;
        if (KeepsNodes)
        {
            values = new int[length];
            Checkpoint.ReadExactly(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
        (_keys, _values, _mask, Count) = (keys, values, length - 1, count);
    }

    private static ulong Mix(ulong x) => x ^ (x >> 29);

    private void Grow()
    {
        var (oldKeys, oldValues) = (_keys, _values);
        _keys = new ulong[oldKeys.Length * 2];
        _values = oldValues is null ? null : new int[_keys.Length];
        _mask = _keys.Length - 1;
        for (var i = 0; i < oldKeys.Length; i++)
        {
            var key = oldKeys[i];
            if (key == 0)
            {
                continue;
            }
            var index = (int)(Mix(key) & (ulong)_mask);
            while (_keys[index] != 0)
            {
                index = (index + 1) & _mask;
            }
            _keys[index] = key;
            if (_values is not null)
            {
                _values[index] = oldValues![i];
            }
        }
    }
}
