using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace KexecSim.Exploration;

/// <summary>
/// The visited set: 64-bit state fingerprints in open-addressing tables, each with its node id when the search needs
/// it (the LIVELOCK graph's edges name the node a transition leads to; <c>--livelock off</c> keeps no graph, and no id).
/// PERF: the fingerprints in flat arrays (8 per cache line) that a probe walks, the node ids in others read only at the
/// slot found; linear probing; no allocation per insert. Memory (issue 9): 12 bytes per slot with node ids, 8 without;
/// the set is <see cref="Shards"/> tables picked by a mix of a fingerprint's bits, each doubling on its own when 3/4 full,
/// so a growth holds a 256th of the set twice (not the whole set, old and new, at once) and the old table it leaves
/// to the garbage collector is one the next growths reuse; the tables are half full or more on average, whatever the
/// number of states (one table doubling at 70% left a set of 47.8 M states in 2^27 slots, 36% full).
/// </summary>
public sealed class FingerprintSet : IVisitedSet
{
    /// <summary>How many tables the set is split into (by <see cref="ShardBits"/> bits of a mix of the fingerprint).</summary>
    public const int Shards = 1 << ShardBits;

    private const int ShardBits = 8;

    private readonly ulong[][] _keys = new ulong[Shards][];
    private readonly int[]?[] _values = new int[Shards][];
    private readonly int[] _counts = new int[Shards];

    // PERF: where each table's slots start, the tables being pinned (allocated on the pinned heap): a probe or prefetch
    // goes to its slot by address and touches nothing else. Through the array reference the JIT null-checks the array
    // by reading its first bytes: a table's header, far from the slot probed.
    private readonly unsafe ulong*[] _keySlots = new ulong*[Shards];
    private readonly unsafe int*[] _valueSlots = new int*[Shards];

    // PERF: each table's slot mask (its length less one), beside the counts: a probe computes its slot without reading
    // the table's header (a table is megabytes away from the next, so its header was a cache and TLB miss of its own).
    private readonly int[] _masks = new int[Shards];
    private readonly bool _keepNodes;

    /// <param name="capacityPowerOfTwo">The first tables' slots in all (at least 16 a table).</param>
    /// <param name="keepNodes">Whether each fingerprint's node id is kept (<see cref="TryAdd"/> gives -1 for a state found
    /// again otherwise).</param>
    public unsafe FingerprintSet(int capacityPowerOfTwo = 1 << 16, bool keepNodes = true)
    {
        _keepNodes = keepNodes;
        var slots = Math.Max(16, capacityPowerOfTwo / Shards);
        for (var s = 0; s < Shards; s++)
        {
            SetTable(s, NewTable<ulong>(slots), keepNodes ? NewTable<int>(slots) : null, slots - 1);
        }
    }

    /// <summary>A table's slots, on the pinned heap (they never move: <see cref="_keySlots"/> holds their address).</summary>
    private static T[] NewTable<T>(int length) where T : unmanaged => GC.AllocateArray<T>(length, pinned: true);

    private unsafe void SetTable(int shard, ulong[] keys, int[]? values, int mask)
    {
        _keys[shard] = keys;
        _values[shard] = values;
        _masks[shard] = mask;
        _keySlots[shard] = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(keys));
        _valueSlots[shard] = values is null ? null : (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(values));
    }

    public int Count { get; private set; }

    /// <summary>Whether node ids are kept.</summary>
    public bool KeepsNodes => _keepNodes;

    /// <summary>The slots of every table.</summary>
    public long Slots
    {
        get
        {
            long slots = 0;
            foreach (var keys in _keys)
            {
                slots += keys.Length;
            }
            return slots;
        }
    }

    public long MemoryBytes => Slots * (sizeof(ulong) + (_keepNodes ? sizeof(int) : 0));

    /// <summary>Adds a fingerprint; false (with the existing id, -1 when ids are not kept) when it was already there.</summary>
    public unsafe bool TryAdd(ulong fingerprint, int value, out int existing)
    {
        if (fingerprint == 0)
        {
            fingerprint = 1; // 0 marks an empty slot
        }
        var shard = Shard(fingerprint);
        var mask = _masks[shard];
        if (_counts[shard] * 4 >= (mask + 1) * 3)
        {
            Grow(shard);
            mask = _masks[shard];
        }
        // The probe reads no header (the mask bounds every index): only the slots.
        var keys = _keySlots[shard];
        var index = (int)(Mix(fingerprint) & (ulong)mask);
        while (true)
        {
            var key = keys[index];
            if (key == 0)
            {
                keys[index] = fingerprint;
                if (_valueSlots[shard] is var values && values != null)
                {
                    values[index] = value;
                }
                _counts[shard]++;
                Count++;
                existing = value;
                return true;
            }
            if (key == fingerprint)
            {
                existing = _valueSlots[shard] is var values && values != null ? values[index] : -1;
                return false;
            }
            index = (index + 1) & mask;
        }
    }

    /// <summary>Whether a fingerprint is in the set, and its node id (-1 when ids are not kept). Only reads: threads may
    /// call it together while no thread adds.</summary>
    public unsafe bool TryGet(ulong fingerprint, out int node)
    {
        if (fingerprint == 0)
        {
            fingerprint = 1;
        }
        var shard = Shard(fingerprint);
        var mask = _masks[shard];
        var keys = _keySlots[shard];
        var index = (int)(Mix(fingerprint) & (ulong)mask);
        while (true)
        {
            var key = keys[index];
            if (key == fingerprint)
            {
                node = _valueSlots[shard] is var values && values != null ? values[index] : -1;
                return true;
            }
            if (key == 0)
            {
                node = -1;
                return false;
            }
            index = (index + 1) & mask;
        }
    }

    /// <summary>
    /// PERF: starts loading the slot where a probe for <paramref name="fingerprint"/> begins, so that a
    /// <see cref="TryAdd"/> or <see cref="TryGet"/> of it a few hundred nanoseconds later finds it in the cache. The tables
    /// are far larger than the caches: the probe's miss was most of the fifth of a search's time the set took. Changes
    /// nothing (a table that grows in between only makes the prefetch useless).
    /// </summary>
    public unsafe void Prefetch(ulong fingerprint)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        if (fingerprint == 0)
        {
            fingerprint = 1;
        }
        var shard = Shard(fingerprint);
        var index = (int)(Mix(fingerprint) & (ulong)_masks[shard]);
        Sse.Prefetch0(_keySlots[shard] + index);
    }

    /// <summary>Writes the tables as they are (their slots, so a resumed search probes the same places: docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(Shards);
        writer.Write(_keepNodes);
        for (var s = 0; s < Shards; s++)
        {
            writer.Write(_keys[s].Length);
            writer.Write(_counts[s]);
            writer.Write(MemoryMarshal.AsBytes(_keys[s].AsSpan()));
            if (_values[s] is { } values)
            {
                writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, replacing the tables.</summary>
    internal unsafe void Load(BinaryReader reader)
    {
        if (reader.ReadInt32() != Shards)
        {
            throw new InvalidDataException("the visited set was saved in another number of tables");
        }
        if (reader.ReadBoolean() != _keepNodes)
        {
            throw new InvalidDataException("the visited set was saved with node ids by one search and is read by another without (or the other way)");
        }
        var total = 0L;
        for (var s = 0; s < Shards; s++)
        {
            var length = reader.ReadInt32();
            var count = reader.ReadInt32();
            // At most 3/4 full, as TryAdd keeps a table (a full one would have a lookup of a missing fingerprint probe forever).
            if (length <= 0 || (length & (length - 1)) != 0 || count < 0 || (long)count * 4 > (long)length * 3)
            {
                throw new InvalidDataException("the visited set's size is not a table's");
            }
            var keys = NewTable<ulong>(length);
            Checkpoint.ReadExactly(reader, MemoryMarshal.AsBytes(keys.AsSpan()));
            var filled = 0;
            foreach (var key in keys)
            {
                if (key == 0)
                {
                    continue;
                }
                if (Shard(key) != s)
                {
                    throw new InvalidDataException("the visited set's tables hold fingerprints of other tables (saved by another build?)");
                }
                filled++;
            }
            if (filled != count)
            {
                throw new InvalidDataException("the visited set's table counts do not match their filled slots");
            }
            int[]? values = null;
            if (_keepNodes)
            {
                values = NewTable<int>(length);
                Checkpoint.ReadExactly(reader, MemoryMarshal.AsBytes(values.AsSpan()));
            }
            SetTable(s, keys, values, length - 1);
            _counts[s] = count;
            total += count;
        }
        Count = checked((int)total);
    }

    private static ulong Mix(ulong x) => x ^ (x >> 29);

    /// <summary>The table of a fingerprint: the top bits of a multiplicative mix of all its bits (fingerprints whose
    /// top bits are not uniform, as non-negative ones, still spread over every table).</summary>
    private static int Shard(ulong fingerprint) => (int)((fingerprint * 0x9E37_79B9_7F4A_7C15UL) >> (64 - ShardBits));

    private unsafe void Grow(int shard)
    {
        var (oldKeys, oldValues) = (_keys[shard], _values[shard]);
        var keys = NewTable<ulong>(oldKeys.Length * 2);
        var values = oldValues is null ? null : NewTable<int>(keys.Length);
        var mask = keys.Length - 1;
        for (var i = 0; i < oldKeys.Length; i++)
        {
            var key = oldKeys[i];
            if (key == 0)
            {
                continue;
            }
            var index = (int)(Mix(key) & (ulong)mask);
            while (keys[index] != 0)
            {
                index = (index + 1) & mask;
            }
            keys[index] = key;
            if (values is not null)
            {
                values[index] = oldValues![i];
            }
        }
        SetTable(shard, keys, values, mask);
    }
}
