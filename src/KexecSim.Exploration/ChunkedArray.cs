using System.Runtime.InteropServices;

namespace KexecSim.Exploration;

/// <summary>
/// A growing array of values (ints, shorts) in chunks of <see cref="ChunkLength"/> (the search's node table and
/// LIVELOCK graph: one or more values per state or transition, millions of them). Memory (issue 9): growing adds a chunk, where a list doubles
/// its array and copies it: no slack of up to half the capacity, no old array left to the garbage collector (both were
/// part of the resident set); chunks of a few hundred KB are large objects, freed only with the whole array.
/// </summary>
public sealed class ChunkedArray<T>
    where T : unmanaged
{
    /// <summary>Values per chunk (256 KB of ints).</summary>
    public const int ChunkLength = 1 << ChunkBits;

    private const int ChunkBits = 16;
    private const int ChunkMask = ChunkLength - 1;

    private T[][] _chunks = new T[4][];

    public int Count { get; private set; }

    /// <summary>The bytes the chunks hold (a chunk's whole length once it exists).</summary>
    public long MemoryBytes =>
        ((_startSmall && Count <= ChunkLength ? _chunks[0]?.Length ?? 0 : (((long)Count + ChunkMask) >> ChunkBits) * ChunkLength)
            * System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
        + ((long)_chunks.Length * IntPtr.Size);

    // Memory (startSmall): the first chunk starts small and doubles up to a whole chunk (the graph of one small LIVELOCK
    // component holds a few hundred bytes, not a chunk of each array); the others are whole from the start.
    private const int FirstLength = 64;
    private readonly bool _startSmall;

    /// <param name="startSmall">The first chunk starts at 64 values and doubles (for arrays that are mostly small and
    /// many); otherwise every chunk is whole from the start.</param>
    public ChunkedArray(bool startSmall = false)
    {
        _startSmall = startSmall;
    }

    public T this[int index]
    {
        get => (uint)index < (uint)Count ? _chunks[index >> ChunkBits][index & ChunkMask] : throw OutOfRange(index);
        set
        {
            if ((uint)index >= (uint)Count)
            {
                throw OutOfRange(index);
            }
            _chunks[index >> ChunkBits][index & ChunkMask] = value;
        }
    }

    // PERF: the chunk being filled and the next place in it (Add tests one bound, which the JIT folds with its own).
    private T[] _current = [];
    private int _position;

    public void Add(T value)
    {
        var current = _current;
        var position = _position;
        if ((uint)position < (uint)current.Length)
        {
            current[position] = value;
            _position = position + 1;
            Count++;
            return;
        }
        AddInNewChunk(value);
    }

    private void AddInNewChunk(T value)
    {
        if (_startSmall && Count < ChunkLength)
        {
            // The first chunk, doubled (or made); the values so far stay where they are.
            var grown = new T[Math.Max(FirstLength, _current.Length * 2)];
            _current.AsSpan(0, Count).CopyTo(grown);
            _chunks[0] = _current = grown;
            _current[Count] = value;
            _position = Count + 1;
            Count++;
            return;
        }
        var chunk = Count >> ChunkBits;
        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
        }
        _current = _chunks[chunk] ??= new T[ChunkLength];
        _current[0] = value;
        _position = 1;
        Count++;
    }

    /// <summary>Writes the count and the values (docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(Count);
        for (var start = 0; start < Count; start += ChunkLength)
        {
            writer.Write(MemoryMarshal.AsBytes(_chunks[start >> ChunkBits].AsSpan(0, Math.Min(ChunkLength, Count - start))));
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote into an empty array.</summary>
    internal void Load(BinaryReader reader)
    {
        if (Count != 0)
        {
            throw new InvalidOperationException("load into an empty array");
        }
        var count = Checkpoint.ReadCount(reader);
        var chunks = (count + ChunkMask) >> ChunkBits;
        if (chunks > _chunks.Length)
        {
            _chunks = new T[Math.Max(4, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)chunks))][];
        }
        for (var c = 0; c < chunks; c++)
        {
            _chunks[c] = new T[ChunkLength];
            Checkpoint.ReadExactly(reader, MemoryMarshal.AsBytes(_chunks[c].AsSpan(0, Math.Min(ChunkLength, count - (c << ChunkBits)))));
        }
        Count = count;
        // The next Add goes on in the last chunk (a new one when it is full, or when there is none).
        (_current, _position) = chunks == 0 || (count & ChunkMask) == 0 ? ([], 0) : (_chunks[chunks - 1], count & ChunkMask);
    }

    private static ArgumentOutOfRangeException OutOfRange(int index) => new(nameof(index), index, "no such element");
}
