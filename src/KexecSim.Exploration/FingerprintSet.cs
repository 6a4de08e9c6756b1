namespace KexecSim.Exploration;

/// <summary>
/// The visited set: 64-bit state fingerprints in an open-addressing table mapping each to its node id.
/// PERF: one flat array of (fingerprint, node) slots, so a probe touches one cache line (mostly); linear
/// probing; no allocation per insert (12 bytes per slot: packed, the fingerprint unaligned).
/// </summary>
public sealed class FingerprintSet : IVisitedSet
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 4)]
    private struct Slot
    {
        public ulong Key;
        public int Value;
    }

    private Slot[] _slots;
    private int _mask;

    public FingerprintSet(int capacityPowerOfTwo = 1 << 16)
    {
        _slots = new Slot[capacityPowerOfTwo];
        _mask = capacityPowerOfTwo - 1;
    }

    public int Count { get; private set; }

    public long MemoryBytes => (long)_slots.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Slot>();

    /// <summary>Adds a fingerprint; false (with the existing id) when it was already there.</summary>
    public bool TryAdd(ulong fingerprint, int value, out int existing)
    {
        if (fingerprint == 0)
        {
            fingerprint = 1; // 0 marks an empty slot
        }
        if (Count * 10 >= _slots.Length * 7)
        {
            Grow();
        }
        var slots = _slots;
        var index = (int)(Mix(fingerprint) & (ulong)_mask);
        while (true)
        {
            ref var slot = ref slots[index];
            if (slot.Key == 0)
            {
                slot.Key = fingerprint;
                slot.Value = value;
                Count++;
                existing = value;
                return true;
            }
            if (slot.Key == fingerprint)
            {
                existing = slot.Value;
                return false;
            }
            index = (index + 1) & _mask;
        }
    }

    /// <summary>Writes the table as it is (its slots, so a resumed search probes the same places: docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(_slots.Length);
        writer.Write(Count);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_slots.AsSpan()));
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
        var slots = new Slot[length];
        Checkpoint.ReadExactly(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(slots.AsSpan()));
        _slots = slots;
        _mask = length - 1;
        Count = count;
    }

    private static ulong Mix(ulong x) => x ^ (x >> 29);

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Key == 0)
            {
                continue;
            }
            var index = (int)(Mix(slot.Key) & (ulong)_mask);
            while (_slots[index].Key != 0)
            {
                index = (index + 1) & _mask;
            }
            _slots[index] = slot;
        }
    }
}
