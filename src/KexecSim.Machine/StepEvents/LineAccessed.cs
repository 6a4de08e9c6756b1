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

/// <summary>
/// <paramref name="Cpu"/> touches memory line <paramref name="Line"/> under <paramref name="Key"/>: the value it read or wrote
/// (0 for a flush). A write (store, movnti, dma_write, movdir64b) also carries <paramref name="Old"/>, what a load of
/// (line, key) would have returned just before it (this cache, another cache, else memory: <c>GARBAGE</c> under another
/// key), and <paramref name="OldPoisoned"/> when that load would have hit poison instead; a load and a flush carry no old value.
/// </summary>
public sealed record LineAccessed(int Cpu, LineAccess Access, int Line, long Key, long Value, long? Old = null, bool OldPoisoned = false) : StepEvent;
