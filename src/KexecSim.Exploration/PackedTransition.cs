using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// A <see cref="Transition"/> packed for the search's flat tables: the kind, CPU and argument in one
/// 32-bit head (bits 0-3 the kind, 4-17 the CPU plus one, 18-31 the argument), the tag as it is.
/// PERF: stored as two parallel arrays (int, long) per node or edge instead of a struct with padding,
/// and compared as a value (no interning dictionary per transition).
/// </summary>
public readonly record struct PackedTransition(int Head, long Tag)
{
    private const int KindBits = 4;
    private const int CpuBits = 14;
    private const int FieldMask = (1 << CpuBits) - 1;

    /// <summary>The largest CPU number and argument a head holds (16,382 and 16,383; a program has at most 1,024 CPUs).</summary>
    public const int MaxCpu = FieldMask - 1;

    public const int MaxArg = FieldMask;

    public static PackedTransition Pack(Transition transition)
    {
        if (transition.Cpu < -1 || transition.Cpu > MaxCpu || transition.Arg < 0 || transition.Arg > MaxArg)
        {
            throw new ArgumentOutOfRangeException(nameof(transition), transition, "a CPU or argument too large to pack");
        }
        var head = (uint)transition.Kind | ((uint)(transition.Cpu + 1) << KindBits) | ((uint)transition.Arg << (KindBits + CpuBits));
        return new PackedTransition((int)head, transition.Tag);
    }

    public TransitionKind Kind => (TransitionKind)(Head & ((1 << KindBits) - 1));

    public Transition Unpack()
    {
        var head = (uint)Head;
        var cpu = (int)((head >> KindBits) & FieldMask) - 1;
        var arg = (int)(head >> (KindBits + CpuBits));
        return new Transition(Kind, cpu, arg, Tag);
    }
}
