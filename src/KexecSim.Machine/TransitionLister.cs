using System.Numerics;

namespace KexecSim.Machine;

/// <summary>
/// The transitions of a run's state kept up to date from step to step (<c>kexecsim simulate</c>): the same list,
/// in the same order, as <see cref="Machine.EnumerateTransitions"/>, but after a step only the CPUs and caches the
/// step changed are listed again. The state marks them (<see cref="MachineState.TrackChanges"/>): a CPU whose mode,
/// flags, pending events or frames changed, a cache an entry was added to, removed from or changed in. The CPU
/// that took the step is always listed again (its pc moved), and so is a CPU in WBINVD whose cache changed.
/// Stray faults are listed afresh each time (they depend on the budget; none in most scenarios).
/// <para>PERF: a step costs the CPUs and caches it touched plus the non-empty lists it concatenates, not a pass
/// over every CPU: at 1,024 CPUs most are halted with nothing to do.</para>
/// <para>Contract: <see cref="List"/> is given the state it listed last, or a copy of it
/// (<see cref="MachineState.CopyFrom"/> copies the marks), with the transitions applied to it since; after
/// <see cref="Reset"/> (a new run) everything is listed again.</para>
/// </summary>
public sealed class TransitionLister
{
    private readonly Machine _machine;
    private readonly List<Transition>[] _cpus;
    private readonly List<Transition>[] _evictions;
    private readonly ulong[] _cpusListed;     // CPUs with a non-empty list
    private readonly ulong[] _cachesListed;   // caches with a non-empty list
    private readonly ulong[] _inWbinvd;       // CPUs in WBINVD (their list depends on their cache)
    private readonly int _cacheCount;
    private readonly bool _privateCaches;
    private readonly CountTree _cpuCounts;
    private readonly CountTree _cacheCounts;
    private readonly List<Transition> _injections = new(4);
    private readonly ulong[] _relisted;       // CPUs listed again since ClearRelisted (a scheduler's cue)
    private readonly ulong[] _relistedCaches; // caches listed again since ClearRelisted
    private bool _all = true;

    public TransitionLister(Machine machine)
    {
        _machine = machine;
        var cpus = machine.Layout.Cpus;
        _cacheCount = machine.Layout.CacheCount;
        _privateCaches = _cacheCount == cpus && cpus > 1;
        _cpus = new List<Transition>[cpus];
        for (var c = 0; c < cpus; c++)
        {
            _cpus[c] = new List<Transition>(4);
        }
        _evictions = new List<Transition>[_cacheCount];
        for (var i = 0; i < _cacheCount; i++)
        {
            _evictions[i] = new List<Transition>(4);
        }
        _cpusListed = new ulong[(cpus + 63) >> 6];
        _cachesListed = new ulong[(_cacheCount + 63) >> 6];
        _inWbinvd = new ulong[(cpus + 63) >> 6];
        _relisted = new ulong[(cpus + 63) >> 6];
        _relistedCaches = new ulong[(_cacheCount + 63) >> 6];
        _cpuCounts = new CountTree(cpus);
        _cacheCounts = new CountTree(_cacheCount);
    }

    /// <summary>How many transitions the state given to the last <see cref="Update"/> has.</summary>
    public int Count => _cpuCounts.Total + _cacheCounts.Total + _injections.Count;

    /// <summary>The <paramref name="index"/>-th transition of the list (<see cref="List"/>'s order), found through
    /// the per-CPU and per-cache counts without building the list (PERF: O(log CPUs)).</summary>
    public Transition this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            if (index < _cpuCounts.Total)
            {
                var cpu = _cpuCounts.Find(index, out var offset);
                return _cpus[cpu][offset];
            }
            index -= _cpuCounts.Total;
            if (index < _cacheCounts.Total)
            {
                var cache = _cacheCounts.Find(index, out var offset);
                return _evictions[cache][offset];
            }
            return _injections[index - _cacheCounts.Total];
        }
    }

    /// <summary>CPU <paramref name="cpu"/>'s transitions, in list order (valid until the next <see cref="Update"/>).</summary>
    public IReadOnlyList<Transition> CpuTransitions(int cpu) => _cpus[cpu];

    /// <summary>Where CPU <paramref name="cpu"/>'s transitions start in the list (PERF: O(log CPUs)).</summary>
    public int CpuStart(int cpu) => _cpuCounts.Prefix(cpu);

    /// <summary>How many caches the machine has (each lists its own evictions, after every CPU's transitions).</summary>
    public int CacheCount => _cacheCount;

    /// <summary>Cache <paramref name="cache"/>'s evictions, in list order (valid until the next <see cref="Update"/>).</summary>
    public IReadOnlyList<Transition> CacheTransitions(int cache) => _evictions[cache];

    /// <summary>Where cache <paramref name="cache"/>'s evictions start in the list (PERF: O(log caches)).</summary>
    public int CacheStart(int cache) => _cpuCounts.Total + _cacheCounts.Prefix(cache);

    /// <summary>The stray faults that may be injected, the last transitions of the list.</summary>
    public IReadOnlyList<Transition> Injections => _injections;

    /// <summary>The CPUs listed again since the last <see cref="ClearRelisted"/> (every CPU after a reset), one bit
    /// each: a scheduler that keeps figures per CPU recomputes theirs.</summary>
    public ReadOnlySpan<ulong> Relisted => _relisted;

    /// <summary>The caches listed again since the last <see cref="ClearRelisted"/> (every cache after a reset).</summary>
    public ReadOnlySpan<ulong> RelistedCaches => _relistedCaches;

    public void ClearRelisted()
    {
        Array.Clear(_relisted);
        Array.Clear(_relistedCaches);
    }

    /// <summary>The next <see cref="List"/> lists every CPU and cache (a new run).</summary>
    public void Reset() => _all = true;

    /// <summary>
    /// The transitions of <paramref name="state"/> into <paramref name="transitions"/>, as
    /// <see cref="Machine.EnumerateTransitions"/> lists them. <paramref name="actor"/>: the CPU of the last transition
    /// applied since the last call (-1: none, or an eviction).
    /// </summary>
    public void List(MachineState state, int actor, List<Transition> transitions)
    {
        Update(state, actor);
        CopyTo(transitions);
    }

    /// <summary>Brings the kept lists up to date with <paramref name="state"/> (see <see cref="List"/>), without
    /// building the whole list: read it through <see cref="Count"/> and the indexer, or <see cref="CopyTo"/>.</summary>
    public void Update(MachineState state, int actor)
    {
        state.TrackChanges = true;
        _injections.Clear();
        if (state.PoweredOff)
        {
            state.ClearChanges();
            _all = true;
            ClearAll();
            return; // after platform_reset() the machine is off
        }
        if (_all)
        {
            ClearAll();
            for (var c = 0; c < _cpus.Length; c++)
            {
                ListCpu(state, c);
            }
            for (var i = 0; i < _cacheCount; i++)
            {
                ListCache(state, i);
            }
            _all = false;
        }
        else
        {
            var changed = state.ChangedCpus;
            // PERF: the actor is listed with the changed CPUs when its mode, flags, events or frames changed (most
            // steps: listing it twice was 0.84 of the 1.97 CPUs listed a step at 192 CPUs).
            if (actor >= 0 && (changed[actor >> 6] & (1UL << (actor & 63))) == 0)
            {
                ListCpu(state, actor);
            }
            for (var w = 0; w < changed.Length; w++)
            {
                for (var bits = changed[w]; bits != 0; bits &= bits - 1)
                {
                    ListCpu(state, (w << 6) + BitOperations.TrailingZeroCount(bits));
                }
            }
            var caches = state.ChangedCaches;
            for (var w = 0; w < caches.Length; w++)
            {
                for (var bits = caches[w]; bits != 0; bits &= bits - 1)
                {
                    ListCacheAndItsFlushes(state, (w << 6) + BitOperations.TrailingZeroCount(bits));
                }
            }
        }
        state.ClearChanges();
        if (_machine.InjectsFaults)
        {
            _machine.ListInjections(state, _injections);
        }
    }

    /// <summary>The whole list of the last <see cref="Update"/> into <paramref name="transitions"/> (cleared first).</summary>
    public void CopyTo(List<Transition> transitions)
    {
        transitions.Clear();
        Concatenate(_cpusListed, _cpus, transitions);
        Concatenate(_cachesListed, _evictions, transitions);
        transitions.AddRange(_injections);
    }

    private void ClearAll()
    {
        foreach (var list in _cpus)
        {
            list.Clear();
        }
        foreach (var list in _evictions)
        {
            list.Clear();
        }
        Array.Clear(_cpusListed);
        Array.Clear(_cachesListed);
        Array.Clear(_inWbinvd);
        Array.Fill(_relisted, ~0UL);
        Array.Fill(_relistedCaches, ~0UL);
        _cpuCounts.Clear();
        _cacheCounts.Clear();
    }

    private void ListCacheAndItsFlushes(MachineState state, int cache)
    {
        ListCache(state, cache);
        // A CPU in WBINVD lists its cache's dirty entries: list again each one whose cache this is.
        if (_privateCaches)
        {
            if ((_inWbinvd[cache >> 6] & (1UL << (cache & 63))) != 0)
            {
                ListCpu(state, cache);
            }
            return;
        }
        for (var w = 0; w < _inWbinvd.Length; w++)
        {
            for (var bits = _inWbinvd[w]; bits != 0; bits &= bits - 1)
            {
                ListCpu(state, (w << 6) + BitOperations.TrailingZeroCount(bits));
            }
        }
    }

    private static void Concatenate(ulong[] listed, List<Transition>[] lists, List<Transition> transitions)
    {
        for (var w = 0; w < listed.Length; w++)
        {
            for (var bits = listed[w]; bits != 0; bits &= bits - 1)
            {
                transitions.AddRange(lists[(w << 6) + BitOperations.TrailingZeroCount(bits)]);
            }
        }
    }

    private void ListCpu(MachineState state, int c)
    {
        var list = _cpus[c];
        var before = list.Count;
        list.Clear();
        _machine.ListCpu(state, c, list);
        _cpuCounts.Add(c, list.Count - before);
        _relisted[c >> 6] |= 1UL << (c & 63);
        Set(_cpusListed, c, list.Count > 0);
        Set(_inWbinvd, c, state.Cpus[c].Mode == CpuMode.InWbinvd);
    }

    private void ListCache(MachineState state, int i)
    {
        var list = _evictions[i];
        var before = list.Count;
        list.Clear();
        if (_machine.Evictions)
        {
            _machine.ListEvictions(state, i, list);
        }
        _cacheCounts.Add(i, list.Count - before);
        _relistedCaches[i >> 6] |= 1UL << (i & 63);
        Set(_cachesListed, i, list.Count > 0);
    }

    private static void Set(ulong[] bits, int index, bool on)
    {
        if (on)
        {
            bits[index >> 6] |= 1UL << (index & 63);
        }
        else
        {
            bits[index >> 6] &= ~(1UL << (index & 63));
        }
    }

    /// <summary>Counts per CPU or cache in a Fenwick tree: a count changed and the index holding the k-th
    /// transition found in O(log n).</summary>
    private sealed class CountTree
    {
        // PERF: the size padded to a power of two, so that the search's probes never leave the array (no bound test)
        // and take or leave each probe without a branch.
        private readonly int[] _tree;
        private readonly int _top;

        public CountTree(int size)
        {
            _top = size == 0 ? 0 : (int)BitOperations.RoundUpToPowerOf2((uint)size);
            _tree = new int[_top + 1];
        }

        public int Total { get; private set; }

        public void Clear()
        {
            Array.Clear(_tree);
            Total = 0;
        }

        public void Add(int index, int delta)
        {
            if (delta == 0)
            {
                return;
            }
            Total += delta;
            for (var i = index + 1; i < _tree.Length; i += i & -i)
            {
                _tree[i] += delta;
            }
        }

        /// <summary>The sum of the counts of the indices below <paramref name="index"/>.</summary>
        public int Prefix(int index)
        {
            var sum = 0;
            for (var i = index; i > 0; i -= i & -i)
            {
                sum += _tree[i];
            }
            return sum;
        }

        /// <summary>The index whose range holds position <paramref name="k"/> (0-based, below <see cref="Total"/>) of
        /// the concatenation, and the position within it.</summary>
        public int Find(int k, out int offset)
        {
            // The probes read without bound tests: a k past the total would take the first and read past the array.
            System.Diagnostics.Debug.Assert((uint)k < (uint)Total, "a position within the concatenation");
            ref var tree = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_tree);
            var position = 0;
            // position + step <= _top at every probe: the steps below the first are at most _top - 1 together.
            for (var step = _top; step > 0; step >>= 1)
            {
                var next = position + step;
                var count = System.Runtime.CompilerServices.Unsafe.Add(ref tree, next);
                var take = (k - count) >> 31 ^ -1; // all ones when count <= k (both are counts: no overflow)
                position += step & take;
                k -= count & take;
            }
            offset = k;
            return position; // the (position+1)-th in 1-based terms: index 'position'
        }
    }
}
