namespace KexecSim.Exploration;

/// <summary>
/// Bitstate hashing (<c>check --bitstate MB</c>): Holzmann's supertrace (G. J. Holzmann, "An analysis of
/// bitstate hashing", Formal Methods in System Design 13(3), 1998; SPIN's <c>-DBITSTATE</c>). A state is
/// <see cref="Hashes"/> bits of one large bit array, chosen from its 64-bit fingerprint by double
/// hashing (Kirsch and Mitzenmacher, 2006); it counts as visited when all of them are set. A new state
/// whose bits are all set already is taken for a visited one and never explored, so a search with it
/// may miss states: it gives runs larger than memory a partial answer, with the estimate
/// <see cref="OmissionProbability"/>. It keeps no node id for a visited state (LIVELOCK, which needs the
/// graph's edges, is not looked for).
/// PERF: one ulong array; <see cref="Hashes"/> reads and writes per insert, no allocation.
/// </summary>
public sealed class BitstateSet : IVisitedSet
{
    /// <summary>Bits set per state (SPIN's default for -DBITSTATE is 3: -k3).</summary>
    public const int DefaultHashes = 3;

    private readonly ulong[] _words;
    private readonly ulong _mask;

    /// <param name="bytes">The bit array's size: rounded down to a power of two, at least 8 bytes.</param>
    public BitstateSet(long bytes, int hashes = DefaultHashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes, 1);
        var words = 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes / 8)));
        if (words > Array.MaxLength)
        {
            words = 1L << 30; // 8 GB of bits: the most one array holds
        }
        _words = new ulong[words];
        Bits = words * 64;
        _mask = (ulong)Bits - 1;
        Hashes = hashes;
    }

    /// <summary>The size of the bit array, m.</summary>
    public long Bits { get; }

    /// <summary>Bits per state, k.</summary>
    public int Hashes { get; }

    public int Count { get; private set; }

    public long MemoryBytes => (long)_words.Length * sizeof(ulong);

    /// <summary>SPIN's hash factor: bits per state stored (m / n); above 100 or so, few states are missed.</summary>
    public double HashFactor => Count == 0 ? double.PositiveInfinity : Bits / (double)Count;

    /// <summary>The probability that a new state was taken for a visited one when the set held its final
    /// <see cref="Count"/> states: (1 - e^(-kn/m))^k, the Bloom filter's false positive rate. It grows with n,
    /// so it bounds the rate over the whole search; 1 minus it estimates the coverage.</summary>
    public double OmissionProbability => Math.Pow(1 - Math.Exp(-Hashes * (double)Count / Bits), Hashes);

    /// <summary>Writes the bit array and the count (docs/checkpoint.md).</summary>
    internal void Save(BinaryWriter writer)
    {
        writer.Write(_words.LongLength);
        writer.Write(Hashes);
        writer.Write(Count);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_words.AsSpan()));
    }

    /// <summary>Reads what <see cref="Save"/> wrote into this set, which must be of the same size.</summary>
    internal void Load(BinaryReader reader)
    {
        if (reader.ReadInt64() != _words.LongLength || reader.ReadInt32() != Hashes)
        {
            throw new InvalidDataException("the bit array is not of this search's size");
        }
        var count = reader.ReadInt32();
        Checkpoint.ReadExactly(reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_words.AsSpan()));
        Count = count;
    }

    public bool TryAdd(ulong fingerprint, int value, out int existing)
    {
        // Double hashing: bit i is h1 + i h2 (h2 odd, so the k bits differ). XXH3 fingerprints are well mixed.
        var h1 = fingerprint;
        var h2 = ((fingerprint >> 32) | (fingerprint << 32)) * 0x9E37_79B9_7F4A_7C15UL | 1;
        var fresh = false;
        for (var i = 0; i < Hashes; i++)
        {
            var bit = (h1 + ((ulong)i * h2)) & _mask;
            ref var word = ref _words[bit >> 6];
            var flag = 1UL << (int)(bit & 63);
            if ((word & flag) == 0)
            {
                fresh = true;
                word |= flag;
            }
        }
        if (fresh)
        {
            Count++;
            existing = value;
            return true;
        }
        existing = -1;
        return false;
    }
}
