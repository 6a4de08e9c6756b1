namespace KexecSim.Exploration.Tests;

/// <summary>The node table's and LIVELOCK graph's growing int arrays (<see cref="ChunkedArray{T}"/>).</summary>
public sealed class ChunkedArrayTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(ChunkedArray<int>.ChunkLength - 1)]
    [InlineData(ChunkedArray<int>.ChunkLength)]
    [InlineData((3 * ChunkedArray<int>.ChunkLength) + 5)]
    public void Values_survive_chunk_boundaries_and_a_save_and_load_and_adding_goes_on_after_it(int count)
    {
        var ints = new ChunkedArray<int>();
        for (var i = 0; i < count; i++)
        {
            ints.Add(i * 7);
        }
        Assert.Equal(count, ints.Count);
        if (count > 0)
        {
            ints[count - 1] = -3;
            Assert.Equal(-3, ints[count - 1]);
            ints[count - 1] = (count - 1) * 7;
        }
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            ints.Save(writer);
        }
        stream.Position = 0;
        var loaded = new ChunkedArray<int>();
        using (var reader = new BinaryReader(stream))
        {
            loaded.Load(reader);
        }
        loaded.Add(count * 7);
        loaded.Add((count + 1) * 7);
        Assert.Equal(count + 2, loaded.Count);
        Assert.Equal(Enumerable.Range(0, count + 2).Select(i => i * 7), Enumerable.Range(0, loaded.Count).Select(i => loaded[i]));
        // Whole chunks past the first; the first at most a whole one (pointers to the chunks aside).
        const long ChunkBytes = ChunkedArray<int>.ChunkLength * 4L;
        var chunks = (count + 2 + ChunkedArray<int>.ChunkLength - 1) / ChunkedArray<int>.ChunkLength;
        Assert.InRange(loaded.MemoryBytes, (count + 2) * 4L, (chunks * ChunkBytes) + 1024);
        Assert.Throws<ArgumentOutOfRangeException>(() => loaded[count + 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => loaded[-1]);
    }

    private static ChunkedArray<int> AddOne(ChunkedArray<int> ints)
    {
        ints.Add(0);
        return ints;
    }

    // With startSmall, the first chunk starts at 64 values and doubles: an array of a few values holds a few hundred bytes, not a chunk
    // (a LIVELOCK component's own graph has several), and one past a chunk holds whole chunks.
    [Fact]
    public void A_small_array_holds_little_and_its_first_chunk_doubles_up_to_a_whole_one()
    {
        Assert.Equal(ChunkedArray<int>.ChunkLength * 4L + (4 * IntPtr.Size), AddOne(new ChunkedArray<int>()).MemoryBytes); // whole chunks
        var ints = new ChunkedArray<int>(startSmall: true);
        ints.Add(0);
        Assert.Equal((64 * 4) + (4 * IntPtr.Size), ints.MemoryBytes);
        for (var i = 1; i < 65; i++)
        {
            ints.Add(i);
        }
        Assert.Equal((128 * 4) + (4 * IntPtr.Size), ints.MemoryBytes);
        for (var i = 65; i <= ChunkedArray<int>.ChunkLength; i++)
        {
            ints.Add(i);
        }
        Assert.Equal((2 * ChunkedArray<int>.ChunkLength * 4) + (4 * IntPtr.Size), ints.MemoryBytes);
        Assert.Equal(Enumerable.Range(0, ints.Count), Enumerable.Range(0, ints.Count).Select(i => ints[i]));
    }
}
