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
        Assert.Equal(((count + 2 + ChunkedArray<int>.ChunkLength - 1) / ChunkedArray<int>.ChunkLength) * ChunkedArray<int>.ChunkLength * 4L,
            loaded.MemoryBytes - (loaded.MemoryBytes % (ChunkedArray<int>.ChunkLength * 4L)));
        Assert.Throws<ArgumentOutOfRangeException>(() => loaded[count + 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => loaded[-1]);
    }
}
