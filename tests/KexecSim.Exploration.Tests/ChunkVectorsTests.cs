using CsCheck;

namespace KexecSim.Exploration.Tests;

/// <summary>A worker's table of the vectors its chunk canonicalised (<see cref="ChunkVectors"/>), against a dictionary.</summary>
public sealed class ChunkVectorsTests
{
    [Fact]
    public void A_cleared_table_forgets_every_vector_and_takes_them_again()
    {
        var table = new ChunkVectors();
        table.Add(42, 7);
        Assert.True(table.TryGet(42, out var record));
        Assert.Equal(7, record);
        table.Clear();
        Assert.False(table.TryGet(42, out record));
        Assert.Equal(-1, record);
        table.Add(42, 9);
        Assert.True(table.TryGet(42, out record));
        Assert.Equal(9, record);
    }

    [Fact]
    public void Over_many_chunks_and_growths_the_table_answers_as_a_dictionary()
    {
        // Chunks of up to 20,000 vectors (the table starts at 4,096 slots and grows), keys from a small range so that
        // lookups hit as often as they miss, and keys that share their slot's bits.
        var key = Gen.OneOf(Gen.ULong[0, 30_000], Gen.ULong[0, 64].Select(k => k << 40));
        key.Array[0, 20_000].Array[1, 4].Sample(chunks =>
        {
            var table = new ChunkVectors();
            foreach (var chunk in chunks)
            {
                table.Clear();
                var expected = new Dictionary<ulong, int>();
                for (var i = 0; i < chunk.Length; i++)
                {
                    var found = table.TryGet(chunk[i], out var record);
                    Assert.Equal(expected.TryGetValue(chunk[i], out var want), found);
                    if (found)
                    {
                        Assert.Equal(want, record);
                        continue;
                    }
                    table.Add(chunk[i], i);
                    expected[chunk[i]] = i;
                }
                foreach (var (k, v) in expected)
                {
                    Assert.True(table.TryGet(k, out var record));
                    Assert.Equal(v, record);
                }
            }
        }, iter: 20);
    }
}
