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
    /// <summary>The SEV firmware's per-CPU "needs WBINVD" mark (SEMANTICS.md section 6), set for every CPU by
    /// SNP_DECOMMISSION and cleared by this CPU's WBINVD.</summary>
    FirmwareNeedsWbinvd = 1 << 13,
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
public enum LineFlags : long
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

/// <summary>One memory line: value token, the key it was written with, and its marks. It is laid over
/// <see cref="StateLayout.LineWords"/> words of the state vector: the value, then the key (24 bits, as in a
/// cache tag), the flags and the new key packed in one word, then the new value.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LineState
{
    private const long KeyMask = 0xFF_FFFF;

    public long Value;
    private long _marks;

    /// <summary>What the next kernel (or the image copy) wrote: zero until <see cref="LineFlags.NewWritten"/>.</summary>
    public long NewValue;

    public long Key
    {
        readonly get => _marks & KeyMask;
        set => _marks = (_marks & ~KeyMask) | (value & KeyMask);
    }

    public LineFlags Flags
    {
        readonly get => (LineFlags)((_marks >> 24) & 0xFF);
        set => _marks = (_marks & ~(0xFFL << 24)) | (((long)value & 0xFF) << 24);
    }

    public long NewKey
    {
        readonly get => (_marks >> 32) & KeyMask;
        set => _marks = (_marks & ~(KeyMask << 32)) | ((value & KeyMask) << 32);
    }
}

/// <summary>A cache entry keyed by (line, key): the key is part of the address.</summary>
public struct CacheEntry
{
    public long Tag;
    public long Value;
    public bool Dirty;

    public static long MakeTag(int line, long key) => ((long)line << 24) | (key & 0xFF_FFFF);

    public static int LineOf(long tag) => (int)(tag >> 24);

    public readonly int Line => (int)(Tag >> 24);

    public readonly long Key => Tag & 0xFF_FFFF;
}

/// <summary>
/// The whole machine state (SEMANTICS.md section 1) as one flat vector of machine words described by a
/// <see cref="StateLayout"/>. The vector is its own canonical encoding (caches are kept sorted): a
/// successor is a copy of the vector changed in place, with no objects decoded or encoded. Only the
/// offsets of the variable-length segments (stacks and caches) are kept beside it, derived from it.
/// </summary>
/// <remarks>
/// Words are inserted and removed inside the variable part by moving the tail; a reference or span into
/// a CPU's stack or a cache is valid only until the next insertion or removal before it (stacks come
/// before caches, so cache changes never move a stack).
/// </remarks>
public sealed class MachineState
{
    private const int DefaultSlack = 1024;

    private long[] _words;
    private int _length;

    // The first word of each variable segment: CPU stacks 0..n-1, then caches 0..k-1.
    private readonly int[] _starts;
    private readonly int _cacheSegment;

    // Derived indexes (PERF: per access, only the caches and CPUs concerned are visited, as a
    // directory-based coherence protocol does): per line, which caches hold an entry of it under any
    // key, and which CPUs have their monitor on it; bit sets of _cacheWords and _cpuWords words.
    private readonly ulong[] _lineCaches;
    private readonly ulong[] _lineMonitors;
    private readonly int _cacheWords;
    private readonly int _cpuWords;

    // Message-only data, kept beside the vector and out of the encoding (two states that differ only
    // in who clobbered a line are one state): per line, the CPU whose write clobbered it and the
    // region that write went through. Valid along a run applied step by step from the initial state;
    // unknown, as a whole, after Decode (the search then replays the path to a violation that needs it).
    // PERF: an unknown table is neither copied nor written, so the search pays nothing for it.
    private readonly int[] _clobberedBy;
    private readonly int[] _clobberedThrough;
    private bool _clobberersKnown = true;

    // Which CPUs' headers and which caches changed since the marks were last taken (TrackChanges only): what a
    // TransitionLister lists again. PERF: one branch per change when nobody tracks (the exhaustive search).
    private readonly ulong[] _changedCpus;
    private readonly ulong[] _changedCaches;

    // Gapped form (UseGaps, for simulation): every variable segment has spare words after it, so an insertion or
    // removal moves only the rest of its own segment, not the whole tail of the vector (PERF: at 1,024 CPUs the
    // tail is most of the state). _used holds each segment's words; its room ends where the next one starts.
    // A gapped vector is not the canonical encoding (Span refuses it); the state it describes is the same.
    private bool _gapped;
    private int[] _used = [];

    /// <summary>A clobberer that a decoded state does not know.</summary>
    public const int UnknownClobberer = -2;

    public MachineState(MachineLayout layout)
    {
        Layout = layout;
        Shape = layout.State;
        _cacheSegment = Shape.Cpus;
        _starts = new int[Shape.Cpus + Shape.CacheCount];
        _words = new long[Shape.FixedWords + Shape.CacheCount + DefaultSlack];
        _length = Shape.FixedWords + Shape.CacheCount;
        _cacheWords = (Shape.CacheCount + 63) >> 6;
        _cpuWords = (Shape.Cpus + 63) >> 6;
        _lineCaches = new ulong[Math.Max(1, Shape.LineCount * _cacheWords)];
        _lineMonitors = new ulong[Math.Max(1, Shape.LineCount * _cpuWords)];
        _changedCpus = new ulong[_cpuWords];
        _changedCaches = new ulong[_cacheWords];
        _clobberedBy = new int[Shape.LineCount];
        _clobberedThrough = new int[Shape.LineCount];
        Array.Fill(_clobberedBy, -1);
        Array.Fill(_clobberedThrough, -1);
        Cpus = new CpuState[Shape.Cpus];
        for (var i = 0; i < Cpus.Length; i++)
        {
            Cpus[i] = new CpuState(this, i);
        }
        Caches = new CacheSet(this);
        RecomputeStarts();
    }

    public MachineLayout Layout { get; }

    /// <summary>The segments of the vector.</summary>
    public StateLayout Shape { get; }

    /// <summary>One view per CPU over its header and stack.</summary>
    public readonly CpuState[] Cpus;

    /// <summary>The caches (one shared, or one per CPU).</summary>
    public readonly CacheSet Caches;

    /// <summary>The vector: the state's canonical encoding (not of a gapped state: <see cref="UseGaps"/>).</summary>
    public ReadOnlySpan<long> Span => _gapped
        ? throw new InvalidOperationException("a gapped state (UseGaps) has no canonical encoding")
        : new(_words, 0, _length);

    public int Length => _length;

    internal long[] Words => _words;

    public Span<long> Variables => new(_words, Shape.Variables, Shape.VariableWords);

    public Span<LineState> Lines => MemoryMarshal.Cast<long, LineState>(new Span<long>(_words, Shape.Lines, Shape.LineCount * StateLayout.LineWords));

    /// <summary>Faults of kind <paramref name="fault"/> (NMI, SMI, MCE: 0, 1, 2) left to inject.</summary>
    public long Budget(int fault) => (_words[StateLayout.BudgetWords] >> (21 * fault)) & BudgetMask;

    public void SetBudget(int fault, long budget)
    {
        var shift = 21 * fault;
        _words[StateLayout.BudgetWords] = (_words[StateLayout.BudgetWords] & ~(BudgetMask << shift)) | ((budget & BudgetMask) << shift);
    }

    private const long BudgetMask = (1L << 21) - 1;

    /// <summary>Whether some CPU still has the SEV firmware's "needs WBINVD" mark.</summary>
    public bool AnyNeedsWbinvd()
    {
        foreach (var cpu in Cpus)
        {
            if (cpu.Has(CpuFlags.FirmwareNeedsWbinvd))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Per guest ASID (1..n): 1 active, 2 decommissioned.</summary>
    public Span<long> GuestStates => new(_words, Shape.Guests, Shape.GuestWords);

    public const long GuestActive = 1;
    public const long GuestDecommissioned = 2;

    private const long FinishedBit = 1, SnpInitializedBit = 2, NeedsDfFlushBit = 4, PoweredOffBit = 8;

    /// <summary>done() or platform_reset() was called.</summary>
    public bool Finished
    {
        get => (_words[StateLayout.MachineWord] & FinishedBit) != 0;
        set => SetMachineBit(FinishedBit, value);
    }

    /// <summary>platform_reset() was called: the machine is off, nothing moves any more.</summary>
    public bool PoweredOff
    {
        get => (_words[StateLayout.MachineWord] & PoweredOffBit) != 0;
        set => SetMachineBit(PoweredOffBit, value);
    }

    public bool SnpInitialized
    {
        get => (_words[StateLayout.MachineWord] & SnpInitializedBit) != 0;
        set => SetMachineBit(SnpInitializedBit, value);
    }

    public bool NeedsDfFlush
    {
        get => (_words[StateLayout.MachineWord] & NeedsDfFlushBit) != 0;
        set => SetMachineBit(NeedsDfFlushBit, value);
    }

    private void SetMachineBit(long bit, bool on)
    {
        if (on)
        {
            _words[StateLayout.MachineWord] |= bit;
        }
        else
        {
            _words[StateLayout.MachineWord] &= ~bit;
        }
    }

    /// <summary>Makes this state a copy of <paramref name="other"/> (PERF: two array copies).</summary>
    public void CopyFrom(MachineState other)
    {
        if (_words.Length < other._length + DefaultSlack)
        {
            _words = new long[other._length + 2 * DefaultSlack];
        }
        // PERF: span copies (no array type checks) of the vector and the small derived indexes.
        other._words.AsSpan(0, other._length).CopyTo(_words);
        _length = other._length;
        other._starts.AsSpan().CopyTo(_starts);
        _gapped = other._gapped;
        if (_gapped)
        {
            if (_used.Length != _starts.Length)
            {
                _used = new int[_starts.Length];
            }
            other._used.AsSpan().CopyTo(_used);
        }
        other._lineCaches.AsSpan().CopyTo(_lineCaches);
        other._lineMonitors.AsSpan().CopyTo(_lineMonitors);
        TrackChanges = other.TrackChanges;
        if (TrackChanges)
        {
            other._changedCpus.AsSpan().CopyTo(_changedCpus);
            other._changedCaches.AsSpan().CopyTo(_changedCaches);
        }
        _clobberersKnown = other._clobberersKnown;
        if (_clobberersKnown)
        {
            other._clobberedBy.AsSpan().CopyTo(_clobberedBy);
            other._clobberedThrough.AsSpan().CopyTo(_clobberedThrough);
        }
    }

    /// <summary>Resets every word to zero with empty stacks and caches.</summary>
    public void Clear()
    {
        var gapped = _gapped;
        _gapped = false;
        _length = Shape.FixedWords + Shape.CacheCount;
        Array.Clear(_words, 0, _length);
        Array.Fill(_clobberedBy, -1);
        Array.Fill(_clobberedThrough, -1);
        _clobberersKnown = true;
        RecomputeStarts();
        if (gapped)
        {
            UseGaps();
        }
    }

    // ───────────────────────────── Gapped form ─────────────────────────────

    /// <summary>Spare words a segment is given when the gaps are opened, and at least when it outgrows its room.</summary>
    private const int SegmentGap = 8;

    /// <summary>Whether the vector has gaps between its variable segments (<see cref="UseGaps"/>).</summary>
    public bool Gapped => _gapped;

    /// <summary>
    /// Opens gaps between the variable segments (every CPU's stack and every cache), so that pushing or popping
    /// moves only one segment's words: for a run applied step by step (<c>kexecsim simulate</c>), which needs no
    /// canonical encoding. The state stays the same state (every reader goes through the segment starts);
    /// <see cref="Span"/> refuses a gapped state, and <see cref="CopyFrom"/>, <see cref="Clear"/> and
    /// <see cref="Decode"/> keep the form. Idempotent.
    /// </summary>
    public void UseGaps()
    {
        if (_gapped)
        {
            return;
        }
        var segments = _starts.Length;
        var used = new int[segments];
        for (var s = 0; s < segments; s++)
        {
            used[s] = (s + 1 < segments ? _starts[s + 1] : _length) - _starts[s];
        }
        var rooms = new int[segments];
        for (var s = 0; s < segments; s++)
        {
            rooms[s] = used[s] + SegmentGap;
        }
        _used = used;
        _gapped = true;
        Relayout(rooms);
    }

    /// <summary>Gapped: widens every segment's room to at least what <paramref name="other"/>'s (a state of the same
    /// layout) has, so that copies of this state need not widen them again (a run's initial state learns the room
    /// its runs' stacks and caches took). No change when every room is wide enough already.</summary>
    public void WidenRoomsTo(MachineState other)
    {
        if (!_gapped || !other._gapped)
        {
            return;
        }
        var segments = _starts.Length;
        int[]? rooms = null;
        for (var s = 0; s + 1 < segments; s++)
        {
            var mine = _starts[s + 1] - _starts[s];
            var theirs = other._starts[s + 1] - other._starts[s];
            if (theirs > mine)
            {
                rooms ??= new int[segments];
                rooms[s] = theirs;
            }
        }
        if (rooms is null)
        {
            return;
        }
        for (var s = 0; s < segments; s++)
        {
            rooms[s] = Math.Max(rooms[s], (s + 1 < segments ? _starts[s + 1] : _starts[s] + _used[s] + SegmentGap) - _starts[s]);
        }
        Relayout(rooms);
    }

    /// <summary>Gapped: lays the segments out again, segment s given <paramref name="rooms"/>[s] words (at least its
    /// used words, <see cref="_used"/>).</summary>
    private void Relayout(int[] rooms)
    {
        var segments = _starts.Length;
        var total = Shape.FixedWords;
        for (var s = 0; s < segments; s++)
        {
            total += Math.Max(rooms[s], _used[s]);
        }
        var words = new long[total + DefaultSlack];
        Array.Copy(_words, words, Shape.FixedWords);
        var p = Shape.FixedWords;
        for (var s = 0; s < segments; s++)
        {
            Array.Copy(_words, _starts[s], words, p, _used[s]);
            _starts[s] = p;
            p += Math.Max(rooms[s], _used[s]);
        }
        _words = words;
        _length = segments == 0 ? Shape.FixedWords : _starts[segments - 1] + _used[segments - 1];
    }

    /// <summary>Gapped: gives segment <paramref name="segment"/> room for at least <paramref name="extra"/> more words,
    /// and every other segment of its kind (CPU stacks, or caches) as much room: they tend to grow alike (every CPU
    /// takes the same IPI), so one O(state) relayout serves them all (PERF: the room at least doubles, so a run lays
    /// its state out again a few times at most, and <see cref="WidenRoomsTo"/> keeps the rooms for the next run).</summary>
    private void Widen(int segment, int extra)
    {
        var segments = _starts.Length;
        var room = (segment + 1 < segments ? _starts[segment + 1] : _starts[segment] + _used[segment]) - _starts[segment];
        var wanted = Math.Max(2 * room, _used[segment] + extra + SegmentGap);
        var rooms = new int[segments];
        var (first, last) = segment < _cacheSegment ? (0, _cacheSegment) : (_cacheSegment, segments);
        for (var s = 0; s < segments; s++)
        {
            var current = (s + 1 < segments ? _starts[s + 1] : _starts[s] + _used[s] + SegmentGap) - _starts[s];
            rooms[s] = s >= first && s < last ? Math.Max(current, wanted) : current;
        }
        Relayout(rooms);
    }

    // ───────────────────────────── Change marks ─────────────────────────────

    /// <summary>Whether changes to CPU headers (mode, flags, pending events, frames) and to caches are marked,
    /// for a <see cref="TransitionLister"/>. Copied by <see cref="CopyFrom"/> with the marks.</summary>
    public bool TrackChanges { get; set; }

    internal void MarkCpu(int cpu)
    {
        if (TrackChanges)
        {
            _changedCpus[cpu >> 6] |= 1UL << (cpu & 63);
        }
    }

    internal void MarkCache(int cache)
    {
        if (TrackChanges)
        {
            _changedCaches[cache >> 6] |= 1UL << (cache & 63);
        }
    }

    /// <summary>The CPUs marked since the last <see cref="ClearChanges"/>, one bit each.</summary>
    internal ReadOnlySpan<ulong> ChangedCpus => _changedCpus;

    /// <summary>The caches marked since the last <see cref="ClearChanges"/>, one bit each.</summary>
    internal ReadOnlySpan<ulong> ChangedCaches => _changedCaches;

    internal void ClearChanges()
    {
        Array.Clear(_changedCpus);
        Array.Clear(_changedCaches);
    }

    // ───────────────────────────── Canonical encoding ─────────────────────────────

    /// <summary>Restores a state from its encoding.</summary>
    public void Decode(ReadOnlySpan<long> data)
    {
        var gapped = _gapped;
        _gapped = false;
        if (_words.Length < data.Length + DefaultSlack)
        {
            _words = new long[data.Length + DefaultSlack];
        }
        data.CopyTo(_words);
        _length = data.Length;
        RecomputeStarts();
        _clobberersKnown = false;
        if (gapped)
        {
            UseGaps();
        }
    }

    /// <summary>The 64-bit fingerprint of an encoding (XXH3).</summary>
    public static ulong Fingerprint(ReadOnlySpan<long> encoding) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(encoding));

    // ───────────────────────────── Variable segments ─────────────────────────────

    private void RecomputeStarts()
    {
        var p = Shape.FixedWords;
        for (var c = 0; c < Shape.Cpus; c++)
        {
            _starts[c] = p;
            var counts = _words[Shape.CpuHeader(c) + CpuState.CountsWord];
            p += (int)((counts >> 16) & 0xFFFF) + (int)((counts >> 32) & 0xFFFF) + (int)((counts >> 48) & 0xFFFF);
        }
        for (var i = 0; i < Shape.CacheCount; i++)
        {
            _starts[_cacheSegment + i] = p;
            p += 1 + 2 * (int)_words[p];
        }
        Array.Clear(_lineCaches);
        for (var i = 0; i < Shape.CacheCount; i++)
        {
            var cache = Caches[i];
            for (var e = 0; e < cache.Count; e++)
            {
                NoteCached(CacheEntry.LineOf(cache.TagAt(e)), i, true);
            }
        }
        Array.Clear(_lineMonitors);
        for (var c = 0; c < Shape.Cpus; c++)
        {
            NoteMonitor(Cpus[c].MonitorLine, c, true);
        }
    }

    /// <summary>Who clobbered <paramref name="line"/>: the CPU (-1: a device) and the region its write went
    /// through (-1: the line's own, by the next kernel); <see cref="UnknownClobberer"/> after a decode.</summary>
    public (int Cpu, int Region) Clobberer(int line) =>
        _clobberersKnown ? (_clobberedBy[line], _clobberedThrough[line]) : (UnknownClobberer, UnknownClobberer);

    internal void SetClobberer(int line, int cpu, int region)
    {
        if (_clobberersKnown)
        {
            _clobberedBy[line] = cpu;
            _clobberedThrough[line] = region;
        }
    }

    // ───────────────────────────── Directory and monitor index ─────────────────────────────

    internal void NoteCached(int line, int cache, bool on)
    {
        ref var word = ref _lineCaches[line * _cacheWords + (cache >> 6)];
        word = on ? word | (1UL << (cache & 63)) : word & ~(1UL << (cache & 63));
    }

    internal void NoteMonitor(int line, int cpu, bool on)
    {
        if (line < 0)
        {
            return;
        }
        ref var word = ref _lineMonitors[line * _cpuWords + (cpu >> 6)];
        word = on ? word | (1UL << (cpu & 63)) : word & ~(1UL << (cpu & 63));
    }

    /// <summary>The first cache at or after <paramref name="from"/> that holds an entry of <paramref name="line"/>
    /// under some key (-1: none).</summary>
    public int NextCacheHolding(int line, int from) => NextBit(_lineCaches, line * _cacheWords, _cacheWords, from);

    /// <summary>The first CPU at or after <paramref name="from"/> whose monitor is on <paramref name="line"/> (-1: none).</summary>
    public int NextCpuMonitoring(int line, int from) => NextBit(_lineMonitors, line * _cpuWords, _cpuWords, from);

    private static int NextBit(ulong[] bits, int start, int words, int from)
    {
        for (var w = from >> 6; w < words; w++)
        {
            var word = bits[start + w];
            if (w == from >> 6)
            {
                word &= ~0UL << (from & 63);
            }
            if (word != 0)
            {
                return (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
            }
        }
        return -1;
    }

    internal int StackStart(int cpu) => _starts[cpu];

    internal int CacheStart(int cache) => _starts[_cacheSegment + cache];

    /// <summary>Opens <paramref name="count"/> zero words at <paramref name="at"/> inside segment
    /// <paramref name="segment"/>; the segments after it move up.</summary>
    /// <returns>Where the words opened are: <paramref name="at"/>, unless a gapped state was laid out again to make
    /// room (then every segment may have moved).</returns>
    internal int InsertWords(int segment, int at, int count)
    {
        if (_gapped)
        {
            var end = _starts[segment] + _used[segment];
            var limit = segment + 1 < _starts.Length ? _starts[segment + 1] : _words.Length;
            if (end + count > limit)
            {
                var offset = at - _starts[segment];
                Widen(segment, count);
                end = _starts[segment] + _used[segment];
                at = _starts[segment] + offset;
            }
            Array.Copy(_words, at, _words, at + count, end - at);
            Array.Clear(_words, at, count);
            _used[segment] += count;
            if (segment + 1 == _starts.Length)
            {
                _length += count;
            }
            return at;
        }
        if (_length + count > _words.Length)
        {
            Array.Resize(ref _words, Math.Max(_words.Length * 2, _length + count + DefaultSlack));
        }
        Array.Copy(_words, at, _words, at + count, _length - at);
        Array.Clear(_words, at, count);
        _length += count;
        for (var s = segment + 1; s < _starts.Length; s++)
        {
            _starts[s] += count;
        }
        return at;
    }

    /// <summary>Removes <paramref name="count"/> words at <paramref name="at"/> inside segment <paramref name="segment"/>.</summary>
    internal void RemoveWords(int segment, int at, int count)
    {
        if (count == 0)
        {
            return;
        }
        if (_gapped)
        {
            var end = _starts[segment] + _used[segment];
            Array.Copy(_words, at + count, _words, at, end - at - count);
            Array.Clear(_words, end - count, count);
            _used[segment] -= count;
            if (segment + 1 == _starts.Length)
            {
                _length -= count;
            }
            return;
        }
        Array.Copy(_words, at + count, _words, at, _length - at - count);
        _length -= count;
        Array.Clear(_words, _length, count);
        for (var s = segment + 1; s < _starts.Length; s++)
        {
            _starts[s] -= count;
        }
    }

    internal int CacheSegment(int cache) => _cacheSegment + cache;

    /// <summary>A copy of one CPU's header and stack (scenario blocks borrow a CPU and give it back).</summary>
    /// <returns>How many words of <paramref name="saved"/> hold the copy (PERF: the buffer is the
    /// caller's and grows only when a larger stack is saved).</returns>
    internal int SaveCpu(int cpu, ref long[] saved)
    {
        var header = Shape.CpuHeader(cpu);
        var stack = _starts[cpu];
        var stackWords = Cpus[cpu].StackWords;
        var length = StateLayout.CpuHeaderWords + stackWords;
        if (saved.Length < length)
        {
            saved = new long[Math.Max(length, saved.Length * 2)];
        }
        Array.Copy(_words, header, saved, 0, StateLayout.CpuHeaderWords);
        Array.Copy(_words, stack, saved, StateLayout.CpuHeaderWords, stackWords);
        return length;
    }

    internal void RestoreCpu(int cpu, long[] saved, int length)
    {
        RemoveWords(cpu, _starts[cpu], Cpus[cpu].StackWords);
        var stackWords = length - StateLayout.CpuHeaderWords;
        InsertWords(cpu, _starts[cpu], stackWords);
        Array.Copy(saved, StateLayout.CpuHeaderWords, _words, _starts[cpu], stackWords);
        NoteMonitor(Cpus[cpu].MonitorLine, cpu, false);
        Array.Copy(saved, 0, _words, Shape.CpuHeader(cpu), StateLayout.CpuHeaderWords);
        NoteMonitor(Cpus[cpu].MonitorLine, cpu, true);
    }
}

/// <summary>
/// One CPU (SEMANTICS.md section 1): a view over its header and stack in a <see cref="MachineState"/>'s
/// vector. The stack holds its frames back to back, then its operand stack (one per CPU: a handler's use
/// of it is balanced), then the code lines fetched by local steps since its last visible one.
/// </summary>
public sealed class CpuState
{
    internal const int HeadWord = 0, VectorsWord = 1, KeyWord = 2, CountsWord = 3, TopWord = 4;

    private readonly MachineState _state;
    private readonly int _header;

    internal CpuState(MachineState state, int id)
    {
        _state = state;
        Id = id;
        _header = state.Shape.CpuHeader(id);
    }

    public int Id { get; }

    private ref long Word(int word) => ref _state.Words[_header + word];

    public CpuMode Mode
    {
        get => (CpuMode)(Word(HeadWord) & 0xFF);
        set
        {
            Word(HeadWord) = (Word(HeadWord) & ~0xFFL) | (long)value;
            _state.MarkCpu(Id);
        }
    }

    public CpuFlags Flags
    {
        get => (CpuFlags)((Word(HeadWord) >> 8) & 0xFF_FFFF);
        set
        {
            Word(HeadWord) = (Word(HeadWord) & ~(0xFF_FFFFL << 8)) | ((long)value << 8);
            _state.MarkCpu(Id);
        }
    }

    public int MonitorLine
    {
        get => (int)((Word(HeadWord) >> 32) & 0xFFFF_FFFF) - 1;
        set
        {
            _state.NoteMonitor(MonitorLine, Id, false);
            Word(HeadWord) = (Word(HeadWord) & 0xFFFF_FFFFL) | ((long)(value + 1) << 32);
            _state.NoteMonitor(value, Id, true);
        }
    }

    /// <summary>Pending maskable vectors, one bit per vector index of the machine.</summary>
    public ulong PendingVectors
    {
        get => (ulong)Word(VectorsWord);
        set
        {
            Word(VectorsWord) = (long)value;
            _state.MarkCpu(Id);
        }
    }

    public long KernelKey
    {
        get => Word(KeyWord) & 0xFFFF_FFFF;
        set => Word(KeyWord) = (Word(KeyWord) & ~0xFFFF_FFFFL) | (value & 0xFFFF_FFFF);
    }

    /// <summary>The guest ASID this CPU runs (vmrun) until the VMEXIT; 0: none.</summary>
    public int GuestAsid
    {
        get => (int)(Word(KeyWord) >> 32);
        set
        {
            Word(KeyWord) = (Word(KeyWord) & 0xFFFF_FFFFL) | ((long)value << 32);
            _state.MarkCpu(Id);
        }
    }

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

    // ───────────────────────────── Counts ─────────────────────────────

    private long Counts => Word(CountsWord);

    public int Depth => (int)(Counts & 0xFFFF);

    public int FrameWords => (int)((Counts >> 16) & 0xFFFF);

    public int OperandCount => (int)((Counts >> 32) & 0xFFFF);

    public int FetchCount => (int)((Counts >> 48) & 0xFFFF);

    internal int StackWords => FrameWords + OperandCount + FetchCount;

    private void SetCounts(int depth, int frameWords, int operands, int fetches)
    {
        if (frameWords > 0xFFFF || operands > 0xFFFF || fetches > 0xFFFF)
        {
            throw new InvalidOperationException($"CPU {Id}'s stack passed 65,535 words");
        }
        Word(CountsWord) = (uint)depth | ((long)frameWords << 16) | ((long)operands << 32) | ((long)fetches << 48);
    }

    // ───────────────────────────── Frames ─────────────────────────────

    /// <summary>Where the top frame starts, in words from the first frame.</summary>
    public int TopBase => (int)Word(TopWord);

    /// <summary>A word of the frames, counted from the first frame.</summary>
    public ref long Frame(int index) => ref _state.Words[_state.StackStart(Id) + index];

    /// <summary>Words of the frames, counted from the first frame.</summary>
    public Span<long> FrameSpan(int index, int count) => new(_state.Words, _state.StackStart(Id) + index, count);

    public int Function => (int)(Frame(TopBase) & 0xFFFF_FFFF);

    public FrameKind TopKind => (FrameKind)((Frame(TopBase) >> 32) & 0xF);

    public int Pc
    {
        get => (int)Frame(TopBase + 1);
        set => Frame(TopBase + 1) = value;
    }

    /// <summary>Where the frame at <paramref name="depth"/> (0: the bottom) starts.</summary>
    public int FrameBase(int depth)
    {
        var at = TopBase;
        for (var d = Depth - 1; d > depth; d--)
        {
            at = (int)((Frame(at) >> 44) & 0xF_FFFF) - 1;
        }
        return at;
    }

    /// <summary>Pushes a frame: its header word (function, kind, saved IF), then pc, saved fetches and
    /// <paramref name="slots"/> slots, all zero.</summary>
    public void PushFrame(long header, int headerWords, int slots)
    {
        var words = FrameWords;
        var size = headerWords + slots;
        _state.InsertWords(Id, _state.StackStart(Id) + words, size);
        var previous = Depth == 0 ? -1 : TopBase;
        Frame(words) = header | ((long)(previous + 1) << 44);
        SetCounts(Depth + 1, words + size, OperandCount, FetchCount);
        Word(TopWord) = words;
        _state.MarkCpu(Id);
    }

    public void PopFrame()
    {
        var top = TopBase;
        var previous = (int)((Frame(top) >> 44) & 0xF_FFFF) - 1;
        var words = FrameWords;
        _state.RemoveWords(Id, _state.StackStart(Id) + top, words - top);
        SetCounts(Depth - 1, top, OperandCount, FetchCount);
        Word(TopWord) = Math.Max(previous, 0);
        _state.MarkCpu(Id);
    }

    // ───────────────────────────── Operands ─────────────────────────────

    private int OperandStart => _state.StackStart(Id) + FrameWords;

    public void PushOperand(long value)
    {
        var count = OperandCount;
        var at = _state.InsertWords(Id, OperandStart + count, 1);
        _state.Words[at] = value;
        SetCounts(Depth, FrameWords, count + 1, FetchCount);
    }

    public long PopOperand()
    {
        var count = OperandCount;
        var at = OperandStart + count - 1;
        var value = _state.Words[at];
        _state.RemoveWords(Id, at, 1);
        SetCounts(Depth, FrameWords, count - 1, FetchCount);
        return value;
    }

    /// <summary>An operand counted from the bottom of the operand stack.</summary>
    public long Operand(int index) => _state.Words[OperandStart + index];

    public long TopOperand => _state.Words[OperandStart + OperandCount - 1];

    /// <summary>Removes <paramref name="count"/> operands starting at <paramref name="index"/>.</summary>
    public void RemoveOperands(int index, int count)
    {
        _state.RemoveWords(Id, OperandStart + index, count);
        SetCounts(Depth, FrameWords, OperandCount - count, FetchCount);
    }

    public void ClearOperands() => RemoveOperands(0, OperandCount);

    /// <summary>Puts operands back on top of the operand stack.</summary>
    public void AppendOperands(ReadOnlySpan<long> values)
    {
        if (values.Length == 0)
        {
            return;
        }
        var count = OperandCount;
        var at = _state.InsertWords(Id, OperandStart + count, values.Length);
        values.CopyTo(new Span<long>(_state.Words, at, values.Length));
        SetCounts(Depth, FrameWords, count + values.Length, FetchCount);
    }

    // ───────────────────────────── Deferred fetches ─────────────────────────────

    private int FetchStart => _state.StackStart(Id) + FrameWords + OperandCount;

    public int PendingFetch(int index) => (int)_state.Words[FetchStart + index];

    public bool HasPendingFetch(int line)
    {
        var start = FetchStart;
        var count = FetchCount;
        for (var i = 0; i < count; i++)
        {
            if (_state.Words[start + i] == line)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Adds a deferred fetch of <paramref name="line"/> unless it is already there.</summary>
    public void AddPendingFetch(int line)
    {
        if (HasPendingFetch(line))
        {
            return;
        }
        var count = FetchCount;
        var at = _state.InsertWords(Id, FetchStart + count, 1);
        _state.Words[at] = line;
        SetCounts(Depth, FrameWords, OperandCount, count + 1);
    }

    public void ClearPendingFetches()
    {
        _state.RemoveWords(Id, FetchStart, FetchCount);
        SetCounts(Depth, FrameWords, OperandCount, 0);
    }

    /// <summary>Empties frames, operands and deferred fetches (INIT, the next kernel's entry).</summary>
    public void ClearStack()
    {
        _state.RemoveWords(Id, _state.StackStart(Id), StackWords);
        SetCounts(0, 0, 0, 0);
        Word(TopWord) = 0;
    }
}

/// <summary>The caches of a state: one shared, or one per CPU.</summary>
public readonly struct CacheSet
{
    private readonly MachineState _state;

    internal CacheSet(MachineState state) => _state = state;

    public int Length => _state.Shape.CacheCount;

    public Cache this[int index] => new(_state, index);

    public Enumerator GetEnumerator() => new(_state);

    public struct Enumerator(MachineState state)
    {
        private int _index = -1;

        public readonly Cache Current => new(state, _index);

        public bool MoveNext() => ++_index < state.Shape.CacheCount;
    }
}

/// <summary>One cache: its entries sorted by tag, two words each (tag | dirty &lt;&lt; 62, value).</summary>
public readonly struct Cache
{
    private const long DirtyBit = 1L << 62;

    private readonly MachineState _state;
    private readonly int _index;

    internal Cache(MachineState state, int index)
    {
        _state = state;
        _index = index;
    }

    private int Start => _state.CacheStart(_index);

    /// <summary>Which cache this is (0: the shared one, or the CPU's own).</summary>
    public int Index => _index;

    public int Count => (int)_state.Words[Start];

    public CacheEntry this[int i]
    {
        get
        {
            var at = Start + 1 + 2 * i;
            var tag = _state.Words[at];
            return new CacheEntry { Tag = tag & ~DirtyBit, Dirty = (tag & DirtyBit) != 0, Value = _state.Words[at + 1] };
        }
        set
        {
            var at = Start + 1 + 2 * i;
            _state.Words[at] = value.Tag | (value.Dirty ? DirtyBit : 0);
            _state.Words[at + 1] = value.Value;
            _state.MarkCache(_index);
        }
    }

    /// <summary>The tag of entry <paramref name="i"/>.</summary>
    public long TagAt(int i) => _state.Words[Start + 1 + 2 * i] & ~DirtyBit;

    public bool DirtyAt(int i) => (_state.Words[Start + 1 + 2 * i] & DirtyBit) != 0;

    public void Insert(int i, CacheEntry entry)
    {
        _state.InsertWords(_state.CacheSegment(_index), Start + 1 + 2 * i, 2);
        _state.Words[Start]++;
        this[i] = entry;
        _state.NoteCached(entry.Line, _index, true);
    }

    public void RemoveAt(int i)
    {
        var start = Start;
        var line = CacheEntry.LineOf(TagAt(i));
        _state.RemoveWords(_state.CacheSegment(_index), start + 1 + 2 * i, 2);
        _state.Words[start]--;
        _state.MarkCache(_index);
        // Entries of one line are adjacent (the tag is line, then key): is another key of it left?
        var count = Count;
        if (!(i > 0 && CacheEntry.LineOf(TagAt(i - 1)) == line) && !(i < count && CacheEntry.LineOf(TagAt(i)) == line))
        {
            _state.NoteCached(line, _index, false);
        }
    }

    public void Clear()
    {
        var start = Start;
        for (var i = 0; i < Count; i++)
        {
            _state.NoteCached(CacheEntry.LineOf(TagAt(i)), _index, false);
        }
        _state.RemoveWords(_state.CacheSegment(_index), start + 1, 2 * Count);
        _state.Words[start] = 0;
        _state.MarkCache(_index);
    }

    /// <summary>Drops every clean entry (the final block sees memory and dirty lines only).</summary>
    public void RemoveClean()
    {
        for (var i = Count - 1; i >= 0; i--)
        {
            if (!DirtyAt(i))
            {
                RemoveAt(i);
            }
        }
    }

    public Enumerator GetEnumerator() => new(this);

    public struct Enumerator(Cache cache)
    {
        private int _index = -1;

        public readonly CacheEntry Current => cache[_index];

        public bool MoveNext() => ++_index < cache.Count;
    }
}
