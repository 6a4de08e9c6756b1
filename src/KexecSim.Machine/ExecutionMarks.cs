using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// What the machine ever did, per instruction of the program, for coverage (SPIN's "unreached in
/// proctype", TLC's coverage): one byte of flags per instruction, allocated once per program and
/// indexed by a function's base plus the pc, so that recording costs no allocation per transition.
/// Attach it with <see cref="Machine.Marks"/>; the machine only ever sets flags.
/// </summary>
public sealed class ExecutionMarks
{
    /// <summary>The instruction was executed.</summary>
    public const byte Executed = 1;

    /// <summary>At a function's first instruction: a frame of the function was pushed (a call, an entry, a handler).</summary>
    public const byte Entered = 2;

    /// <summary>At a WaitBegin: the wait_until returned true.</summary>
    public const byte WaitHeld = 4;

    /// <summary>At a WaitBegin: the wait_until timed out (returned false).</summary>
    public const byte WaitTimedOut = 8;

    public ExecutionMarks(CompiledProgram program)
    {
        Bases = new int[program.Functions.Count];
        var total = 0;
        for (var f = 0; f < program.Functions.Count; f++)
        {
            Bases[f] = total;
            total += program.Functions[f].Code.Length;
        }
        Flags = new byte[total];
    }

    /// <summary>Per function: the index of its first instruction in <see cref="Flags"/>.</summary>
    internal int[] Bases { get; }

    internal byte[] Flags { get; }

    /// <summary>Bit i: a maskable vector of pending-vector index i was sent to some CPU.</summary>
    public ulong VectorsSent { get; internal set; }

    /// <summary>Bit (1 &lt;&lt; EventKind): an NMI, SMI or machine check was made pending on some CPU (sent or injected).</summary>
    public int EventsRaised { get; internal set; }

    public bool Raised(EventKind kind) => (EventsRaised & (1 << (int)kind)) != 0;

    /// <summary>Adds every mark of <paramref name="other"/> (of the same program): the marks of the
    /// parallel search's workers, each recorded by its own machine, are merged into one this way.</summary>
    public void UnionWith(ExecutionMarks other)
    {
        if (other.Flags.Length != Flags.Length)
        {
            throw new ArgumentException("marks of another program", nameof(other));
        }
        for (var i = 0; i < Flags.Length; i++)
        {
            Flags[i] |= other.Flags[i];
        }
        VectorsSent |= other.VectorsSent;
        EventsRaised |= other.EventsRaised;
    }

    /// <summary>Every flag byte, in instruction order (a checkpoint saves them: docs/checkpoint.md).</summary>
    public ReadOnlySpan<byte> FlagBytes => Flags;

    /// <summary>Puts back marks saved from <see cref="FlagBytes"/>, <see cref="VectorsSent"/> and
    /// <see cref="EventsRaised"/> of the same program (a resumed search).</summary>
    public void Restore(ReadOnlySpan<byte> flags, ulong vectorsSent, int eventsRaised)
    {
        if (flags.Length != Flags.Length)
        {
            throw new ArgumentException("marks of another program", nameof(flags));
        }
        flags.CopyTo(Flags);
        VectorsSent = vectorsSent;
        EventsRaised = eventsRaised;
    }

    public byte Get(int function, int pc) => Flags[Bases[function] + pc];

    public bool Has(int function, int pc, byte flag) => (Flags[Bases[function] + pc] & flag) != 0;

    /// <summary>Whether the function was ever entered or any of its instructions executed.</summary>
    public bool Ran(int function, int length)
    {
        var start = Bases[function];
        for (var i = 0; i < length; i++)
        {
            if (Flags[start + i] != 0)
            {
                return true;
            }
        }
        return false;
    }
}
