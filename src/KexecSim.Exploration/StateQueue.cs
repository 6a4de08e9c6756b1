namespace KexecSim.Exploration;

/// <summary>
/// One breadth-first level of state vectors, compressed (issue 9: "a compact frontier, not whole
/// encodings per state"). Each vector is stored as its difference from the vector before it in the
/// queue (states of one level come in parent order, so neighbours differ in a few words): the words
/// XOR the previous vector, written as runs of equal words and LEB128 literals. Every
/// <see cref="KeyInterval"/>-th vector is stored against zeros, so a <see cref="Reader"/> can start
/// anywhere and read on in order (each reader keeps its own buffer: one per worker).
/// PERF: bytes in large reused chunks; no allocation per state once the chunks exist.
/// </summary>
public sealed class StateQueue
{
    /// <summary>Every this many vectors, one is stored whole (against zeros).</summary>
    public const int KeyInterval = 32;

    private const int FirstChunkBytes = 1 << 16;
    private const int MaxChunkBytes = 1 << 23;

    private readonly List<byte[]> _chunks = [];
    private long[] _entries = new long[1024]; // per vector: its chunk << 32 | its byte offset
    private int[] _nodes = new int[1024];
    private long[] _previous = new long[256];
    private int _previousLength;
    private int _chunk;
    private int _offset;
    private byte[] _scratch = new byte[4096];

    public int Count { get; private set; }

    /// <summary>Whether vectors added from now on are compressed (the search turns this on once it is
    /// large enough for memory to matter; whole vectors are cheaper to write and read).</summary>
    public bool Compact { get; set; } = true;

    // An entry: chunk (bits 32..43), byte offset (0..31); a whole vector also has RawBit and its length.
    private const long RawBit = 1L << 62;
    private const int RawLengthShift = 44;
    private const long RawLengthMask = (1L << 18) - 1;
    private const long ChunkMask = 0xFFF;

    // Bumped by Clear: a reader's position in the old contents is void.
    private int _generation;

    public long MemoryBytes
    {
        get
        {
            long bytes = 0;
            foreach (var chunk in _chunks)
            {
                bytes += chunk.Length;
            }
            return bytes + ((long)_entries.Length * sizeof(long)) + ((long)_nodes.Length * sizeof(int));
        }
    }

    /// <summary>The bytes the stored vectors take (for statistics and tests).</summary>
    public long StoredBytes { get; private set; }

    public void Clear()
    {
        _generation++;
        Count = 0;
        _chunk = 0;
        _offset = 0;
        _previousLength = 0;
        StoredBytes = 0;
    }

    public void Add(ReadOnlySpan<long> vector, int node)
    {
        if (Count % KeyInterval == 0)
        {
            _previousLength = 0;
        }
        // Worst case: the length, then per word a run byte and a 10-byte literal.
        var worst = 10 + (vector.Length * 12);
        if (_scratch.Length < worst)
        {
            _scratch = new byte[worst * 2];
        }
        int length;
        int at;
        if (Compact)
        {
            length = Encode(vector, _previous.AsSpan(0, _previousLength), _scratch);
            at = Reserve(length);
            _scratch.AsSpan(0, length).CopyTo(_chunks[_chunk].AsSpan(at));
        }
        else
        {
            // PERF: small searches store whole vectors (a copy each way), large ones compress.
            length = vector.Length * sizeof(long);
            at = Reserve(length);
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector).CopyTo(_chunks[_chunk].AsSpan(at));
        }
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            Array.Resize(ref _nodes, _nodes.Length * 2);
        }
        _entries[Count] = ((long)_chunk << 32) | (uint)at | (Compact ? 0 : RawBit | ((long)vector.Length << RawLengthShift));
        _nodes[Count] = node;
        Count++;
        StoredBytes += length;
        if (_previous.Length < vector.Length)
        {
            _previous = new long[vector.Length * 2];
        }
        vector.CopyTo(_previous);
        _previousLength = vector.Length;
    }

    private int Reserve(int length)
    {
        if (_chunks.Count == 0 || _offset + length > _chunks[_chunk].Length)
        {
            if (_chunks.Count > 0)
            {
                _chunk++;
            }
            _offset = 0;
            if (_chunk >= _chunks.Count || _chunks[_chunk].Length < length)
            {
                var size = Math.Max(length, Math.Min(MaxChunkBytes, FirstChunkBytes << Math.Min(_chunk, 7)));
                if (_chunk < _chunks.Count)
                {
                    _chunks[_chunk] = new byte[size];
                }
                else
                {
                    _chunks.Add(new byte[size]);
                }
            }
        }
        var at = _offset;
        _offset += length;
        return at;
    }

    private readonly Reader _own = new();

    /// <summary>The node of vector <paramref name="index"/>, without reading the vector (PERF: the parallel search's
    /// merge needs only the parents' nodes; decoding each parent again there was serial work for nothing).</summary>
    public int NodeAt(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        return _nodes[index];
    }

    /// <summary>Vector <paramref name="index"/> through the queue's own reader (one thread only; valid until
    /// the next call). Another thread reads with a <see cref="Reader"/> of its own.</summary>
    public ReadOnlySpan<long> Get(int index, out int node) => _own.Get(this, index, out node);

    /// <summary>A cursor with its own buffer, for any queue; reading on in order costs one decode per vector.</summary>
    public Reader OpenReader() => new();

    /// <summary>Reads vectors of <see cref="StateQueue"/>s; not shared between threads.</summary>
    public sealed class Reader
    {
        private StateQueue? _queue;
        private int _generation;
        private long[] _vector = new long[256];
        private int _length;
        private int _index = -1;

        /// <summary>Vector <paramref name="index"/> of <paramref name="queue"/> (valid until the next call).</summary>
        public ReadOnlySpan<long> Get(StateQueue queue, int index, out int node)
        {
            if (index < 0 || index >= queue.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            if (!ReferenceEquals(queue, _queue) || queue._generation != _generation)
            {
                _queue = queue;
                _generation = queue._generation;
                _index = -1;
            }
            if (index == _index)
            {
                node = queue._nodes[index];
                return _vector.AsSpan(0, _length);
            }
            // Read on from here, or from the key vector at or before it.
            var from = _index >= 0 && index > _index && index / KeyInterval == _index / KeyInterval ? _index + 1 : index - (index % KeyInterval);
            for (var i = from; i <= index; i++)
            {
                var entry = queue._entries[i];
                var bytes = queue._chunks[(int)((entry >> 32) & ChunkMask)].AsSpan((int)(entry & 0xFFFF_FFFF));
                if ((entry & RawBit) != 0)
                {
                    var length = (int)((entry >> RawLengthShift) & RawLengthMask);
                    if (_vector.Length < length)
                    {
                        _vector = new long[length * 2];
                    }
                    bytes[..(length * sizeof(long))].CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_vector.AsSpan(0, length)));
                    _length = length;
                }
                else
                {
                    _length = Decode(bytes, i % KeyInterval == 0 ? 0 : _length, ref _vector);
                }
            }
            _index = index;
            node = queue._nodes[index];
            return _vector.AsSpan(0, _length);
        }
    }

    // ───────────────────────────── Encoding ─────────────────────────────
    // length, then tokens until the length is covered: a run of words equal to the previous vector's
    // (count), then a literal count and that many XOR values, LEB128 each.

    private static int Encode(ReadOnlySpan<long> vector, ReadOnlySpan<long> previous, Span<byte> output)
    {
        var at = WriteVarint(output, 0, (ulong)vector.Length);
        var i = 0;
        while (i < vector.Length)
        {
            var run = 0;
            while (i + run < vector.Length && vector[i + run] == Previous(previous, i + run))
            {
                run++;
            }
            var literals = 0;
            while (i + run + literals < vector.Length && vector[i + run + literals] != Previous(previous, i + run + literals))
            {
                literals++;
            }
            at = WriteVarint(output, at, (ulong)run);
            at = WriteVarint(output, at, (ulong)literals);
            for (var k = 0; k < literals; k++)
            {
                var w = i + run + k;
                at = WriteVarint(output, at, (ulong)(vector[w] ^ Previous(previous, w)));
            }
            i += run + literals;
        }
        return at;
    }

    private static long Previous(ReadOnlySpan<long> previous, int index) => index < previous.Length ? previous[index] : 0;

    /// <summary>Decodes over <paramref name="vector"/>, which holds the previous vector's first
    /// <paramref name="previousLength"/> words; returns the new length.</summary>
    private static int Decode(ReadOnlySpan<byte> bytes, int previousLength, ref long[] vector)
    {
        var at = 0;
        var length = (int)ReadVarint(bytes, ref at);
        if (vector.Length < length)
        {
            Array.Resize(ref vector, length * 2);
        }
        if (previousLength < length)
        {
            Array.Clear(vector, previousLength, length - previousLength);
        }
        var i = 0;
        while (i < length)
        {
            i += (int)ReadVarint(bytes, ref at);
            var literals = (int)ReadVarint(bytes, ref at);
            for (var k = 0; k < literals; k++, i++)
            {
                vector[i] ^= (long)ReadVarint(bytes, ref at);
            }
        }
        return length;
    }

    private static int WriteVarint(Span<byte> output, int at, ulong value)
    {
        while (value >= 0x80)
        {
            output[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        output[at++] = (byte)value;
        return at;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        var shift = 0;
        while (true)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
            shift += 7;
        }
    }
}
