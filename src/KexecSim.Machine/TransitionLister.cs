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
        transitions.Clear();
        state.TrackChanges = true;
        if (state.PoweredOff)
        {
            state.ClearChanges();
            _all = true;
            return; // after platform_reset() the machine is off
        }
        if (_all)
        {
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
            if (actor >= 0)
            {
                ListCpu(state, actor);
            }
            var changed = state.ChangedCpus;
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
        Concatenate(_cpusListed, _cpus, transitions);
        Concatenate(_cachesListed, _evictions, transitions);
        if (_machine.InjectsFaults)
        {
            _machine.ListInjections(state, transitions);
        }
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
        list.Clear();
        _machine.ListCpu(state, c, list);
        Set(_cpusListed, c, list.Count > 0);
        Set(_inWbinvd, c, state.Cpus[c].Mode == CpuMode.InWbinvd);
    }

    private void ListCache(MachineState state, int i)
    {
        var list = _evictions[i];
        list.Clear();
        if (_machine.Evictions)
        {
            _machine.ListEvictions(state, i, list);
        }
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
}
