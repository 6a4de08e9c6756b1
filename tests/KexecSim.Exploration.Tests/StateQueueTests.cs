namespace KexecSim.Exploration.Tests;

/// <summary>A breadth-first level, compact: vectors come back exactly, in order or not, after reuse.</summary>
public sealed class StateQueueTests
{
    private static List<long[]> Vectors(int count, int seed)
    {
        var random = new Random(seed);
        var vectors = new List<long[]>();
        var current = new long[40];
        for (var i = 0; i < count; i++)
        {
            // Neighbours share most words; lengths vary (stacks and caches grow and shrink); some words are large.
            var length = 30 + random.Next(20);
            var next = new long[length];
            Array.Copy(current, next, Math.Min(current.Length, length));
            for (var k = random.Next(4); k >= 0; k--)
            {
                next[random.Next(length)] = random.Next(3) switch { 0 => 0, 1 => random.Next(100), _ => random.NextInt64(long.MinValue, long.MaxValue) };
            }
            vectors.Add(next);
            current = next;
        }
        return vectors;
    }

    [Fact]
    public void Compact_queue_gives_back_every_vector_exactly_in_order_and_out_of_order()
    {
        var queue = new StateQueue();
        var vectors = Vectors(1000, 7);
        for (var i = 0; i < vectors.Count; i++)
        {
            queue.Add(vectors[i], i * 3);
        }
        Assert.Equal(1000, queue.Count);
        var reader = queue.OpenReader();
        for (var i = 0; i < vectors.Count; i++)
        {
            Assert.Equal(vectors[i], reader.Get(queue, i, out var node).ToArray());
            Assert.Equal(i * 3, node);
        }
        var other = queue.OpenReader();
        foreach (var i in new[] { 999, 0, 31, 32, 33, 500, 500, 64, 63, 998 })
        {
            Assert.Equal(vectors[i], other.Get(queue, i, out _).ToArray());
        }
        // Neighbours that differ in a few words take far fewer bytes than whole vectors.
        Assert.True(queue.StoredBytes * 3 < vectors.Sum(v => v.Length) * 8L, $"{queue.StoredBytes} bytes");
    }

    [Fact]
    public void A_vectors_node_is_read_without_its_vector()
    {
        var queue = new StateQueue();
        queue.Add([1, 2, 3], 10);
        queue.Add([1, 5, 3], 11);
        queue.Add([4, 5, 6, 7], 12);
        Assert.Equal([10, 11, 12], Enumerable.Range(0, 3).Select(queue.NodeAt));
        Assert.Equal(11, queue.NodeAt(1));
        queue.Get(2, out var node);
        Assert.Equal(12, node);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.NodeAt(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.NodeAt(-1));
    }

    [Fact]
    public void Whole_and_compressed_vectors_mix_in_one_queue()
    {
        var queue = new StateQueue { Compact = false };
        var vectors = Vectors(200, 3);
        for (var i = 0; i < vectors.Count; i++)
        {
            queue.Compact = i % 50 >= 17; // whole vectors inside and across key intervals
            queue.Add(vectors[i], i);
        }
        var reader = queue.OpenReader();
        foreach (var i in Enumerable.Range(0, 200).Concat([150, 16, 17, 199, 0]))
        {
            Assert.Equal(vectors[i], reader.Get(queue, i, out var node).ToArray());
            Assert.Equal(i, node);
        }
    }

    [Fact]
    public void Compact_queue_is_reused_after_clear_without_old_contents()
    {
        var queue = new StateQueue();
        foreach (var v in Vectors(300, 1))
        {
            queue.Add(v, 0);
        }
        queue.Clear();
        var vectors = Vectors(70, 2);
        for (var i = 0; i < vectors.Count; i++)
        {
            queue.Add(vectors[i], i);
        }
        var reader = queue.OpenReader();
        Assert.Equal(70, queue.Count);
        for (var i = 0; i < vectors.Count; i++)
        {
            Assert.Equal(vectors[i], reader.Get(queue, i, out var node).ToArray());
            Assert.Equal(i, node);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Get(queue, 70, out _));
    }
}
