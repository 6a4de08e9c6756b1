namespace KexecSim.Exploration;

/// <summary>
/// The project's own seeded random source for simulation (<c>kexecsim simulate</c>): xoshiro256**
/// (Blackman and Vigna, "Scrambled Linear Pseudorandom Number Generators", ACM TOMS 2021), its state filled
/// by SplitMix64 (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014). Both
/// are a few lines of integer arithmetic defined by their papers, so a run's draws are the same on every
/// platform and .NET version (System.Random's seeded sequence is not promised to stay the same).
/// <para>
/// Each run has its own stream, derived from the seed and the run's index alone
/// (<see cref="Reset"/>): a run is reproduced without running any other, whichever worker or shard ran it.
/// </para>
/// PERF: a reusable object, reset per run; nothing is allocated per draw.
/// </summary>
public sealed class RunRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A stream for <paramref name="seed"/> and run <paramref name="run"/>.</summary>
    public RunRandom(ulong seed, ulong run)
    {
        Reset(seed, run);
    }

    /// <summary>
    /// Starts the stream of run <paramref name="run"/> under <paramref name="seed"/>: SplitMix64 started at
    /// <c>mix(seed) ^ mix(run + 0x632BE59BD9B4E019)</c> gives the four state words (never all zero).
    /// </summary>
    public void Reset(ulong seed, ulong run)
    {
        var x = Mix(seed) ^ Mix(run + 0x632BE59BD9B4E019UL);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
        {
            _s0 = 1; // the one state xoshiro cannot leave (SplitMix64 never gives four zeros; kept for the invariant)
        }
    }

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) (Lemire's multiply-and-reject, no modulo bias).</summary>
    public int Next(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        var range = (ulong)bound;
        var high = Math.BigMul(NextUInt64(), range, out var low);
        if (low < range)
        {
            var threshold = (0 - range) % range;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), range, out low);
            }
        }
        return (int)high;
    }

    /// <summary>A uniform integer in [1, <paramref name="max"/>].</summary>
    public long NextStep(long max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        // max is at most int.MaxValue in practice (--max-steps); the general case keeps the same rule.
        return max <= int.MaxValue ? Next((int)max) + 1 : (long)(NextUInt64() % (ulong)max) + 1;
    }

    /// <summary>SplitMix64's finaliser: a bijection of 64-bit words that spreads every input bit.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }
}
