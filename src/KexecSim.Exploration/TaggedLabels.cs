namespace KexecSim.Exploration;

/// <summary>
/// The distinct transitions that carry a tag (a write-back or eviction names its line and key, a
/// delivery its vector), each numbered once, so that an edge label fits in 4 bytes. PERF: an
/// open-addressing table over flat arrays, sized to the few hundred labels a model has; no allocation
/// per lookup once grown.
/// </summary>
public sealed class TaggedLabels
{
    private int[] _slots = new int[64]; // 0: empty, else label index + 1
    private readonly List<int> _heads = [];
    private readonly List<long> _tags = [];

    public int Count => _heads.Count;

    public long MemoryBytes => (long)_slots.Length * sizeof(int) + (long)_heads.Capacity * sizeof(int) + (long)_tags.Capacity * sizeof(long);

    /// <summary>The number of (<paramref name="head"/>, <paramref name="tag"/>), given on its first sight.</summary>
    public int Intern(int head, long tag)
    {
        if ((_heads.Count + 1) * 2 > _slots.Length)
        {
            Grow();
        }
        var mask = _slots.Length - 1;
        for (var i = Hash(head, tag) & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0)
            {
                _heads.Add(head);
                _tags.Add(tag);
                _slots[i] = _heads.Count;
                return _heads.Count - 1;
            }
            if (_heads[slot - 1] == head && _tags[slot - 1] == tag)
            {
                return slot - 1;
            }
        }
    }

    internal void Save(BinaryWriter writer)
    {
        writer.Write(_heads.Count);
        for (var i = 0; i < _heads.Count; i++)
        {
            writer.Write(_heads[i]);
            writer.Write(_tags[i]);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote into an empty table: the same numbers for the same labels.</summary>
    internal void Load(BinaryReader reader)
    {
        var count = Checkpoint.ReadCount(reader);
        for (var i = 0; i < count; i++)
        {
            var head = reader.ReadInt32();
            var tag = reader.ReadInt64();
            if (Intern(head, tag) != i)
            {
                throw new InvalidDataException("a tagged label is saved twice");
            }
        }
    }

    public PackedTransition this[int index] => new(_heads[index], _tags[index]);

    private static int Hash(int head, long tag)
    {
        var x = ((ulong)(uint)head * 0x9E37_79B9_7F4A_7C15UL) ^ ((ulong)tag * 0xC2B2_AE3D_27D4_EB4FUL);
        return (int)(x >> 33);
    }

    private void Grow()
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var n = 0; n < _heads.Count; n++)
        {
            var i = Hash(_heads[n], _tags[n]) & mask;
            while (_slots[i] != 0)
            {
                i = (i + 1) & mask;
            }
            _slots[i] = n + 1;
        }
    }
}
