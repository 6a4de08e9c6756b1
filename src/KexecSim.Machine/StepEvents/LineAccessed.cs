namespace KexecSim.Machine;

/// <summary>How a CPU's intrinsic touched a memory line.</summary>
public enum LineAccess : byte
{
    /// <summary><c>load(l, k)</c>: the value read.</summary>
    Load,

    /// <summary><c>store(l, k, v)</c>: a cached store.</summary>
    Store,

    /// <summary><c>movnti</c>: a partial write straight to memory.</summary>
    Movnti,

    /// <summary><c>dma_write</c>: a device's partial write.</summary>
    Dma,

    /// <summary><c>movdir64b</c>: a direct full-line store.</summary>
    Movdir64b,

    /// <summary><c>clflush(l, k)</c>: the entry (line, key) written back and dropped from every cache.</summary>
    Clflush,
}

/// <summary><paramref name="Cpu"/> touches memory line <paramref name="Line"/> under <paramref name="Key"/>: the value it read or wrote (0 for a flush).</summary>
public sealed record LineAccessed(int Cpu, LineAccess Access, int Line, long Key, long Value) : StepEvent;
