using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace KexecSim.Machine;

/// <summary>The modes of SEMANTICS.md section 1.</summary>
public enum CpuMode : byte
{
    Running,
    Halted,
    Mwait,
    WaitForSipi,
    InWbinvd,
    Finished,
}

[Flags]
public enum CpuFlags
{
    None = 0,
    InterruptsEnabled = 1 << 0,
    NmiBlocked = 1 << 1,
    InMce = 1 << 2,
    VmxRoot = 1 << 3,
    /// <summary>GIF = 0 (after clgi, until stgi).</summary>
    GifClear = 1 << 4,
    NextKernel = 1 << 5,
    MonitorArmed = 1 << 6,
    MonitorTriggered = 1 << 7,
    PendingNmi = 1 << 8,
    PendingSmi = 1 << 9,
    PendingMce = 1 << 10,
    PendingInit = 1 << 11,
    /// <summary>The IN_WBINVD mode came from wbnoinvd: clean entries stay, no credit with the SEV firmware.</summary>
    NoInvalidate = 1 << 12,
}

/// <summary>What kind of frame: code called normally, or a handler entered by an event.</summary>
public enum FrameKind
{
    Call = 0,
    Entry = 1,
    VectorHandler = 2,
    NmiHandler = 3,
    MceHandler = 4,
}

[Flags]
public enum LineFlags
{
    None = 0,
    /// <summary>Last written to memory with a TDX private key.</summary>
    TdOwned = 1,
    Poisoned = 2,
    /// <summary>Overwritten through another region's name, or by the next kernel (SEMANTICS.md section 5).</summary>
    Clobbered = 4,
    /// <summary>The image copy or the next kernel wrote it: <see cref="LineState.NewValue"/> is what it must hold.</summary>
    NewWritten = 8,
}

/// <summary>One memory line: value token, the key it was written with, and its marks.</summary>
public struct LineState
{
    public long Value;
    public long Key;
    public LineFlags Flags;
    public long NewValue;
    public long NewKey;

    /// <summary>The CPU whose write clobbered the line (-1: a device or nobody).</summary>
    public int ClobberedBy;

    /// <summary>The region whose name the clobbering write went through (-1: the line's own, by the next kernel).</summary>
    public int ClobberedThrough;
}

/// <summary>A cache entry keyed by (line, key): the key is part of the address.</summary>
public struct CacheEntry
{
    public long Tag;
    public long Value;
    public bool Dirty;

    public static long MakeTag(int line, long key) => ((long)line << 24) | (key & 0xFF_FFFF);

    public readonly int Line => (int)(Tag >> 24);

    public readonly long Key => Tag & 0xFF_FFFF;
}

/// <summary>One CPU (SEMANTICS.md section 1).</summary>
public sealed class CpuState
{
    public CpuMode Mode;
    public CpuFlags Flags;

    /// <summary>Pending maskable vectors, one bit per vector index of the machine.</summary>
    public ulong PendingVectors;
    public int MonitorLine = -1;
    public long KernelKey;

    /// <summary>The guest ASID this CPU runs (vmrun) until the VMEXIT; 0: none.</summary>
    public int GuestAsid;

    /// <summary>Frames back to back: header (function | kind &lt;&lt; 32 | saved IF &lt;&lt; 40), pc, the interrupted
    /// code's deferred fetches (handler frames only), then the slots.</summary>
    public readonly List<long> Frames = [];

    /// <summary>Where each frame starts in <see cref="Frames"/>.</summary>
    public readonly List<int> FrameBases = [];

    /// <summary>The operand stack (one per CPU: a handler's use of it is balanced).</summary>
    public readonly List<long> Operands = [];

    /// <summary>Code lines fetched by local steps since the last visible one, checked at the next step.</summary>
    public readonly List<int> PendingFetches = [];

    public bool Has(CpuFlags flag) => (Flags & flag) != 0;

    public void Set(CpuFlags flag, bool on)
    {
        if (on)
        {
            Flags |= flag;
        }
        else
        {
            Flags &= ~flag;
        }
    }

    public int Depth => FrameBases.Count;

    public int TopBase => FrameBases[^1];

    public int Function => (int)(Frames[TopBase] & 0xFFFF_FFFF);

    public FrameKind TopKind => (FrameKind)((Frames[TopBase] >> 32) & 0xF);

    public int Pc
    {
        get => (int)Frames[TopBase + 1];
        set => Frames[TopBase + 1] = value;
    }

    public void CopyFrom(CpuState other)
    {
        Mode = other.Mode;
        Flags = other.Flags;
        PendingVectors = other.PendingVectors;
        MonitorLine = other.MonitorLine;
        KernelKey = other.KernelKey;
        GuestAsid = other.GuestAsid;
        ListCopy.Into(Frames, other.Frames);
        ListCopy.Into(FrameBases, other.FrameBases);
        ListCopy.Into(Operands, other.Operands);
        ListCopy.Into(PendingFetches, other.PendingFetches);
    }
}

/// <summary>
/// The whole machine state (SEMANTICS.md section 1). Between steps it is encoded into a flat,
/// canonical sequence of longs; the visited set keeps only a 64-bit fingerprint of that encoding.
/// </summary>
public sealed class MachineState
{
    public MachineState(MachineLayout layout)
    {
        Layout = layout;
        Cpus = new CpuState[layout.Cpus];
        for (var i = 0; i < Cpus.Length; i++)
        {
            Cpus[i] = new CpuState();
        }
        Variables = new long[layout.VariableWords];
        Lines = new LineState[layout.Program.Lines.Count];
        Caches = new List<CacheEntry>[layout.CacheCount];
        for (var i = 0; i < Caches.Length; i++)
        {
            Caches[i] = [];
        }
        NeedsWbinvd = new bool[layout.Cpus];
        GuestStates = new byte[layout.Program.Platform.SnpGuests + 1];
        Budgets = new int[3];
    }

    public MachineLayout Layout { get; }

    public readonly CpuState[] Cpus;
    public readonly long[] Variables;
    public readonly LineState[] Lines;
    public readonly List<CacheEntry>[] Caches;

    /// <summary>Faults left to inject: NMI, SMI, MCE.</summary>
    public readonly int[] Budgets;

    /// <summary>done() or platform_reset() was called.</summary>
    public bool Finished;

    /// <summary>platform_reset() was called: the machine is off, nothing moves any more.</summary>
    public bool PoweredOff;

    public bool SnpInitialized;
    public bool NeedsDfFlush;

    /// <summary>Per CPU: the SEV firmware's "needs WBINVD" mark.</summary>
    public readonly bool[] NeedsWbinvd;

    /// <summary>Per guest ASID (1..n): 1 active, 2 decommissioned.</summary>
    public readonly byte[] GuestStates;

    public const byte GuestActive = 1;
    public const byte GuestDecommissioned = 2;

    public void CopyFrom(MachineState other)
    {
        for (var i = 0; i < Cpus.Length; i++)
        {
            Cpus[i].CopyFrom(other.Cpus[i]);
        }
        Array.Copy(other.Variables, Variables, Variables.Length);
        Array.Copy(other.Lines, Lines, Lines.Length);
        for (var i = 0; i < Caches.Length; i++)
        {
            ListCopy.Into(Caches[i], other.Caches[i]);
        }
        Array.Copy(other.Budgets, Budgets, Budgets.Length);
        Finished = other.Finished;
        PoweredOff = other.PoweredOff;
        SnpInitialized = other.SnpInitialized;
        NeedsDfFlush = other.NeedsDfFlush;
        Array.Copy(other.NeedsWbinvd, NeedsWbinvd, NeedsWbinvd.Length);
        Array.Copy(other.GuestStates, GuestStates, GuestStates.Length);
    }

    // ───────────────────────────── Canonical encoding ─────────────────────────────

    /// <summary>Writes the canonical encoding (caches are kept sorted, so equal states encode equally).</summary>
    public void Encode(StateBuffer buffer)
    {
        buffer.Clear();
        buffer.Add((Finished ? 1L : 0L) | (SnpInitialized ? 2L : 0L) | (NeedsDfFlush ? 4L : 0L) | (PoweredOff ? 8L : 0L));
        buffer.Add((uint)Budgets[0] | ((long)Budgets[1] << 16) | ((long)Budgets[2] << 32));
        long marks = 0;
        for (var i = 0; i < NeedsWbinvd.Length; i++)
        {
            if (NeedsWbinvd[i])
            {
                marks |= 1L << (i & 63);
            }
            if ((i & 63) == 63 || i == NeedsWbinvd.Length - 1)
            {
                buffer.Add(marks);
                marks = 0;
            }
        }
        for (var i = 1; i < GuestStates.Length; i++)
        {
            buffer.Add(GuestStates[i]);
        }
        buffer.AddRange(Variables);
        for (var i = 0; i < Lines.Length; i++)
        {
            ref var line = ref Lines[i];
            buffer.Add(line.Value);
            buffer.Add(line.Key);
            buffer.Add((long)line.Flags | ((long)(line.ClobberedBy + 1) << 8) | ((long)(line.ClobberedThrough + 1) << 32));
            if ((line.Flags & LineFlags.NewWritten) != 0)
            {
                buffer.Add(line.NewValue);
                buffer.Add(line.NewKey);
            }
        }
        foreach (var cache in Caches)
        {
            buffer.Add(cache.Count);
            foreach (var entry in cache)
            {
                buffer.Add(entry.Tag | (entry.Dirty ? 1L << 62 : 0));
                buffer.Add(entry.Value);
            }
        }
        foreach (var cpu in Cpus)
        {
            buffer.Add((long)cpu.Mode | ((long)cpu.Flags << 8) | ((long)(cpu.MonitorLine + 1) << 32));
            buffer.Add((long)cpu.PendingVectors);
            buffer.Add(cpu.KernelKey | ((long)cpu.GuestAsid << 32));
            buffer.Add((uint)cpu.FrameBases.Count | ((long)cpu.Frames.Count << 16) | ((long)cpu.Operands.Count << 32) | ((long)cpu.PendingFetches.Count << 48));
            buffer.AddRange(cpu.Frames);
            buffer.AddRange(cpu.Operands);
            foreach (var line in cpu.PendingFetches)
            {
                buffer.Add(line);
            }
        }
    }

    /// <summary>Restores a state from its encoding.</summary>
    public void Decode(ReadOnlySpan<long> data)
    {
        var p = 0;
        var flags = data[p++];
        Finished = (flags & 1) != 0;
        SnpInitialized = (flags & 2) != 0;
        NeedsDfFlush = (flags & 4) != 0;
        PoweredOff = (flags & 8) != 0;
        var budgets = data[p++];
        Budgets[0] = (int)(budgets & 0xFFFF);
        Budgets[1] = (int)((budgets >> 16) & 0xFFFF);
        Budgets[2] = (int)((budgets >> 32) & 0xFFFF);
        for (var i = 0; i < NeedsWbinvd.Length; i += 64)
        {
            var marks = data[p++];
            for (var j = i; j < Math.Min(i + 64, NeedsWbinvd.Length); j++)
            {
                NeedsWbinvd[j] = (marks & (1L << (j & 63))) != 0;
            }
        }
        for (var i = 1; i < GuestStates.Length; i++)
        {
            GuestStates[i] = (byte)data[p++];
        }
        data.Slice(p, Variables.Length).CopyTo(Variables);
        p += Variables.Length;
        for (var i = 0; i < Lines.Length; i++)
        {
            ref var line = ref Lines[i];
            line.Value = data[p++];
            line.Key = data[p++];
            var packed = data[p++];
            line.Flags = (LineFlags)(packed & 0xFF);
            line.ClobberedBy = (int)((packed >> 8) & 0xFFFF) - 1;
            line.ClobberedThrough = (int)((packed >> 32) & 0xFFFF) - 1;
            if ((line.Flags & LineFlags.NewWritten) != 0)
            {
                line.NewValue = data[p++];
                line.NewKey = data[p++];
            }
            else
            {
                line.NewValue = 0;
                line.NewKey = 0;
            }
        }
        foreach (var cache in Caches)
        {
            var count = (int)data[p++];
            cache.Clear();
            for (var i = 0; i < count; i++)
            {
                var tag = data[p++];
                cache.Add(new CacheEntry { Tag = tag & ~(1L << 62), Dirty = (tag & (1L << 62)) != 0, Value = data[p++] });
            }
        }
        foreach (var cpu in Cpus)
        {
            var head = data[p++];
            cpu.Mode = (CpuMode)(head & 0xFF);
            cpu.Flags = (CpuFlags)((head >> 8) & 0xFF_FFFF);
            cpu.MonitorLine = (int)((head >> 32) & 0xFFFF_FFFF) - 1;
            cpu.PendingVectors = (ulong)data[p++];
            var key = data[p++];
            cpu.KernelKey = key & 0xFFFF_FFFF;
            cpu.GuestAsid = (int)(key >> 32);
            var counts = data[p++];
            var frameCount = (int)(counts & 0xFFFF);
            var frameWords = (int)((counts >> 16) & 0xFFFF);
            var operands = (int)((counts >> 32) & 0xFFFF);
            var fetches = (int)((counts >> 48) & 0xFFFF);
            cpu.FrameBases.Clear();
            ListCopy.Into(cpu.Frames, data.Slice(p, frameWords));
            var at = 0;
            for (var f = 0; f < frameCount; f++)
            {
                cpu.FrameBases.Add(at);
                var function = (int)(cpu.Frames[at] & 0xFFFF_FFFF);
                at += Machine.FrameHeaderWords + Layout.Program.Functions[function].SlotCount;
            }
            p += frameWords;
            ListCopy.Into(cpu.Operands, data.Slice(p, operands));
            p += operands;
            cpu.PendingFetches.Clear();
            for (var i = 0; i < fetches; i++)
            {
                cpu.PendingFetches.Add((int)data[p++]);
            }
        }
    }

    /// <summary>The 64-bit fingerprint of an encoding (XXH3).</summary>
    public static ulong Fingerprint(ReadOnlySpan<long> encoding) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(encoding));
}

/// <summary>PERF: list copies as span copies (no interface dispatch, no allocation once grown).</summary>
internal static class ListCopy
{
    public static void Into<T>(List<T> target, List<T> source) => Into(target, (ReadOnlySpan<T>)CollectionsMarshal.AsSpan(source));

    public static void Into<T>(List<T> target, ReadOnlySpan<T> source)
    {
        CollectionsMarshal.SetCount(target, source.Length);
        source.CopyTo(CollectionsMarshal.AsSpan(target));
    }
}

/// <summary>A growable buffer of longs reused for encodings (PERF: no allocation per state).</summary>
public sealed class StateBuffer
{
    private long[] _data = new long[256];

    public int Length { get; private set; }

    public ReadOnlySpan<long> Span => _data.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void Add(long value)
    {
        if (Length == _data.Length)
        {
            Array.Resize(ref _data, _data.Length * 2);
        }
        _data[Length++] = value;
    }

    public void AddRange(List<long> values) => AddRange(CollectionsMarshal.AsSpan(values));

    public void AddRange(ReadOnlySpan<long> values)
    {
        while (Length + values.Length > _data.Length)
        {
            Array.Resize(ref _data, _data.Length * 2);
        }
        values.CopyTo(_data.AsSpan(Length));
        Length += values.Length;
    }

    public void AddRange(long[] values) => AddRange((ReadOnlySpan<long>)values);
}
