namespace KexecSim.Exploration;

/// <summary>
/// One breadth-first level of encoded states, back to back in large chunks
/// (PERF: no array per state; chunks are reused from level to level).
/// </summary>
public sealed class StateQueue
{
    private const int FirstChunkLongs = 1 << 14;
    private const int MaxChunkLongs = 1 << 20;
    private readonly List<long[]> _chunks = [];
    private readonly List<(int Chunk, int Offset, int Length, int Node)> _entries = [];
    private int _chunk;
    private int _offset;

    public int Count => _entries.Count;

    public long MemoryBytes => (long)_chunks.Sum(c => c.LongLength) * sizeof(long) + (long)_entries.Capacity * 16;

    public void Clear()
    {
        _entries.Clear();
        _chunk = 0;
        _offset = 0;
    }

    public void Add(ReadOnlySpan<long> encoding, int node)
    {
        var length = encoding.Length;
        if (_chunks.Count == 0 || _offset + length > _chunks[_chunk].Length)
        {
            if (_chunks.Count > 0)
            {
                _chunk++;
            }
            _offset = 0;
            if (_chunk >= _chunks.Count || _chunks[_chunk].Length < length)
            {
                // Chunks grow from small (tiny models stay tiny) to 8 MB.
                var size = Math.Min(MaxChunkLongs, FirstChunkLongs << Math.Min(_chunk, 6));
                var chunk = new long[Math.Max(size, length)];
                if (_chunk < _chunks.Count)
                {
                    _chunks[_chunk] = chunk;
                }
                else
                {
                    _chunks.Add(chunk);
                }
            }
        }
        encoding.CopyTo(_chunks[_chunk].AsSpan(_offset, length));
        _entries.Add((_chunk, _offset, length, node));
        _offset += length;
    }

    public ReadOnlySpan<long> Get(int index, out int node)
    {
        var (chunk, offset, length, n) = _entries[index];
        node = n;
        return _chunks[chunk].AsSpan(offset, length);
    }
}
