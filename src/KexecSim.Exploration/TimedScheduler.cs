using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Timed mode (<c>kexecsim simulate --timed</c>, SEMANTICS.md section 9; docs/timed.md): a discrete-event
/// scheduler over the machine's transitions. Each CPU has a clock in integer nanoseconds: the time from which
/// it can take its next transition. Every listed transition has a time at which it can happen, and the run
/// takes the earliest (ties drawn uniformly from the run's random source, so a run still depends on its seed
/// and index alone):
/// <list type="bullet">
/// <item>a CPU's step, a WBINVD's write-back or end: the CPU's clock;</item>
/// <item>a delivery: the later of the CPU's clock and the event's arrival (its send time plus a latency drawn
/// for it; an event pending from the start arrives at once);</item>
/// <item>a timeout: when the waiting CPU's clock passes the wait's start plus its timeout;</item>
/// <item>an eviction: a time drawn (exponentially, mean <see cref="TimedParameters.EvictionMeanUs"/>) when the
/// dirty entry is first listed;</item>
/// <item>a stray fault: a time drawn uniformly within <see cref="TimedParameters.InjectWindowUs"/> of the run's
/// start (the next one of that kind within the window after the last).</item>
/// </list>
/// Taking a transition moves the global time to it and charges the actor: a step costs
/// <see cref="TimedParameters.StepNs"/> plus its <c>udelay</c>s; a write-back costs the platform's
/// <c>wbinvd_us</c> divided by the lines of the machine (a WBINVD with every line dirty costs
/// <c>wbinvd_us</c>), times 1 + contention × the other CPUs in WBINVD; a CPU woken from MWAIT resumes after a
/// wake latency. A step that turns out disabled (a false <c>wait_until</c>) costs nothing; the CPU is asked
/// again after the next transition.
/// PERF: arrays sized by the CPU count and reused run to run; the eviction times are kept per cache in lists reused
/// run to run (no allocation once they have grown); a pick costs the CPUs and caches the last step changed and
/// O(log CPUs) (<see cref="EarliestTree"/>).
/// </summary>
internal sealed class TimedScheduler : SimulationScheduler, ITimingObserver
{
    private const long None = long.MaxValue;
    private const int Faults = 4; // EventKind: Vector (unused), Nmi, Smi, Mce

    /// <summary>Pending vectors are one bit each of a 64-bit word (<see cref="CpuState.PendingVectors"/>).</summary>
    private const int Vectors = 64;

    private readonly TimedParameters _parameters;
    private readonly long _platformWbinvdUs;
    private readonly bool _walk;   // wbinvd_walk_us set: one draw per WBINVD (none otherwise, so runs without it are unchanged)
    private long _writeBackNs;
    private long[] _clock = [];
    private long[] _arrivalNmi = [];
    private long[] _arrivalVector = [];
    private long[] _waitStart = [];
    private (int Function, int Pc, int Depth)[] _waitSite = [];
    private bool[] _inWbinvd = [];
    private long[] _blockedAt = [];
    private long[] _blockedVersion = [];
    private long _version;
    private readonly long[] _injectAt = new long[Faults];
    // Per cache, the eviction time of each entry it lists, in the lister's order (drawn when the entry is first
    // listed, kept while it stays listed); the other list is the spare the next listing is built in.
    private List<(long Tag, long At)>[] _evictAt = [];
    private List<(long Tag, long At)>[] _evictSpare = [];
    private Machine.Machine _machine = null!;
    private RunRandom _random = null!;
    private long _now;
    private long _delayNs;
    private int _inWbinvdCount;
    private (int Function, int Pc, int Depth) _pickedAtWait;

    // PickFromLister: per CPU the earliest time of its transitions and how many have it, in a tree over the CPUs, and
    // per cache the same of its evictions in another (EarliestTree); the CPUs whose times may have changed since the
    // last pick are recomputed first (_dirty, with the lister's relisted ones), and the relisted caches. A leaf's time
    // is its transitions' max(now, ready) when it was computed: never below the clock, which only moves to the
    // earliest leaf, so it stays each transition's time.
    private int _cpus;
    private int _caches;
    private EarliestTree _cpuTree = new(0);
    private EarliestTree _cacheTree = new(0);
    private ulong[] _dirty = [];
    private readonly List<int> _blockedSinceApplied = [];
    // The transitions of this step found disabled (left out until the next transition is applied).
    private readonly List<Transition> _disabled = new(4);

    /// <param name="platformWbinvdUs">The scenario's <c>wbinvd_us</c> (used unless the parameters override it).</param>
    public TimedScheduler(TimedParameters parameters, long platformWbinvdUs)
    {
        _parameters = parameters;
        _platformWbinvdUs = platformWbinvdUs;
        _walk = parameters.WbinvdWalkUs.Max > 0;
    }

    /// <summary>What the run measured so far (read when it ends).</summary>
    public TimedRunFigures Figures { get; } = new();

    /// <summary>The run's time: that of the last transition taken.</summary>
    public long Now => _now;

    public override void Attach(Machine.Machine machine)
    {
        _machine = machine;
        machine.Timing = this;
        machine.WaitsExpireByClock = true;
        var cpus = machine.Layout.Cpus;
        _writeBackNs = (_parameters.WbinvdUs ?? _platformWbinvdUs) * 1000 / Math.Max(1, LinesOneCpuHolds(machine.Layout));
        _clock = new long[cpus];
        _arrivalNmi = new long[cpus];
        _arrivalVector = new long[cpus * Vectors];
        _waitStart = new long[cpus];
        _waitSite = new (int, int, int)[cpus];
        _inWbinvd = new bool[cpus];
        _blockedAt = new long[cpus];
        _blockedVersion = new long[cpus];
        _cpus = cpus;
        _cpuTree = new EarliestTree(cpus);
        _dirty = new ulong[(cpus + 63) >> 6];
        _caches = machine.Layout.CacheCount;
        _cacheTree = new EarliestTree(_caches);
        _evictAt = new List<(long, long)>[_caches];
        _evictSpare = new List<(long, long)>[_caches];
        for (var i = 0; i < _caches; i++)
        {
            _evictAt[i] = [];
            _evictSpare[i] = [];
        }

    }

    public override void StartRun(RunRandom random)
    {
        _random = random;
        _now = 0;
        _delayNs = 0;
        _inWbinvdCount = 0;
        Array.Clear(_clock);
        Array.Clear(_arrivalNmi);
        Array.Clear(_arrivalVector);
        Array.Fill(_waitStart, None);
        Array.Fill(_waitSite, (-1, -1, -1));
        Array.Clear(_inWbinvd);
        Array.Fill(_blockedAt, None);
        _version = 0;
        foreach (var times in _evictAt)
        {
            times.Clear();
        }
        _cpuTree.Clear();
        _cacheTree.Clear();
        _disabled.Clear();
        Array.Fill(_dirty, ~0UL);
        _blockedSinceApplied.Clear();
        for (var f = 0; f < Faults; f++)
        {
            _injectAt[f] = Uniform(0, _parameters.InjectWindowUs * 1000);
        }
        Figures.Clear();
    }

    /// <summary>A timed run picks from the lister alone (<see cref="PickFromLister"/>): the eviction times are kept per
    /// cache in the lister's order.</summary>
    public override int Pick(MachineState state, List<Transition> candidates, long step) =>
        throw new NotSupportedException("a timed run picks from the transition lister");

    public override bool PicksFromLister => true;

    /// <summary>
    /// The earliest of <paramref name="lister"/>'s transitions (leaving out those found disabled since the last one was
    /// applied), a tie drawn uniformly, without building or scanning the list: the trees give the earliest time, how
    /// many transitions have it and the k-th of them in list order (CPUs, then caches, then stray faults). PERF: a step
    /// costs the CPUs and caches it changed and O(log CPUs), not O(transitions) (docs/timed.md).
    /// </summary>
    public override int PickFromLister(MachineState state, TransitionLister lister, long step)
    {
        Refresh(state, lister);
        var earliest = Math.Min(_cpuTree.Earliest, _cacheTree.Earliest);
        var injections = lister.Injections;
        for (var j = 0; j < injections.Count; j++)
        {
            if (!IsDisabled(injections[j]))
            {
                earliest = Math.Min(earliest, Math.Max(_now, ReadyAt(state, injections[j])));
            }
        }
        if (earliest == None)
        {
            // Nothing can ever happen (only timeouts that cannot expire): the first transition not disabled, now.
            var first = 0;
            while (first < lister.Count - 1 && IsDisabled(lister[first]))
            {
                first++;
            }
            return Picked(first, _now, state, lister[first]);
        }
        var atCpus = _cpuTree.Earliest == earliest ? _cpuTree.TiedAtEarliest : 0;
        var atCaches = _cacheTree.Earliest == earliest ? _cacheTree.TiedAtEarliest : 0;
        var atInjections = 0;
        for (var j = 0; j < injections.Count; j++)
        {
            if (!IsDisabled(injections[j]) && Math.Max(_now, ReadyAt(state, injections[j])) == earliest)
            {
                atInjections++;
            }
        }
        var tied = atCpus + atCaches + atInjections;
        var k = tied == 1 ? 0 : _random.Next(tied);
        int index;
        if (k < atCpus)
        {
            var cpu = _cpuTree.Find(k, out var within);
            index = lister.CpuStart(cpu) + NthAt(state, lister.CpuTransitions(cpu), earliest, within);
        }
        else if (k < atCpus + atCaches)
        {
            var cache = _cacheTree.Find(k - atCpus, out var within);
            index = lister.CacheStart(cache) + NthEvictionAt(_evictAt[cache], earliest, within);
        }
        else
        {
            index = lister.Count - injections.Count + NthAt(state, injections, earliest, k - atCpus - atCaches);
        }
        return Picked(index, earliest, state, lister[index]);
    }

    /// <summary>One transition's time into a leaf's earliest time and how many transitions have it.</summary>
    private static void Tally(long time, ref long earliest, ref int count)
    {
        if (time < earliest)
        {
            (earliest, count) = (time, 1);
        }
        else if (time == earliest)
        {
            count++;
        }
    }

    /// <summary>Where in <paramref name="transitions"/> the <paramref name="n"/>-th (from 0) transition not disabled
    /// whose time is <paramref name="time"/> is.</summary>
    private int NthAt(MachineState state, IReadOnlyList<Transition> transitions, long time, int n)
    {
        for (var j = 0; j < transitions.Count; j++)
        {
            if (!IsDisabled(transitions[j]) && Math.Max(_now, ReadyAt(state, transitions[j])) == time && n-- == 0)
            {
                return j;
            }
        }
        throw new InvalidOperationException("the tree of earliest times counts a transition its leaf does not have");
    }

    /// <summary>Where in a cache's eviction times the <paramref name="n"/>-th (from 0) one at <paramref name="time"/> is.</summary>
    private int NthEvictionAt(List<(long Tag, long At)> times, long time, int n)
    {
        for (var j = 0; j < times.Count; j++)
        {
            if (Math.Max(_now, times[j].At) == time && n-- == 0)
            {
                return j;
            }
        }
        throw new InvalidOperationException("the tree of earliest times counts an eviction its cache does not have");
    }

    private bool IsDisabled(in Transition transition) => _disabled.Count > 0 && _disabled.Contains(transition);

    /// <summary>The clock moves to the picked transition's time.</summary>
    private int Picked(int best, long bestTime, MachineState state, Transition picked)
    {
        _now = bestTime;
        _pickedAtWait = picked.Kind is TransitionKind.Step or TransitionKind.Timeout ? _machine.WaitSite(state, picked.Cpu) : (-1, -1, -1);
        _delayNs = 0;
        return best;
    }

    private void MarkDirty(int cpu) => _dirty[cpu >> 6] |= 1UL << (cpu & 63);

    /// <summary>Recomputes the earliest ready time of every CPU listed again or marked since the last pick.</summary>
    private void Refresh(MachineState state, TransitionLister lister)
    {
        var relisted = lister.Relisted;
        for (var w = 0; w < _dirty.Length; w++)
        {
            for (var bits = _dirty[w] | relisted[w]; bits != 0; bits &= bits - 1)
            {
                var cpu = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (cpu >= _cpus)
                {
                    break;
                }
                var earliest = None;
                var count = 0;
                var transitions = lister.CpuTransitions(cpu);
                for (var j = 0; j < transitions.Count; j++)
                {
                    if (IsDisabled(transitions[j]))
                    {
                        continue;
                    }
                    Tally(Math.Max(_now, ReadyAt(state, transitions[j])), ref earliest, ref count); // None stays None
                }
                _cpuTree.Set(cpu, earliest, count);
            }
            _dirty[w] = 0;
        }
        var caches = lister.RelistedCaches;
        for (var w = 0; w < caches.Length; w++)
        {
            for (var bits = caches[w]; bits != 0; bits &= bits - 1)
            {
                var cache = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (cache >= _caches)
                {
                    break;
                }
                ListEvictionTimes(cache, lister.CacheTransitions(cache));
            }
        }
        lister.ClearRelisted();
    }

    /// <summary>
    /// The eviction times of cache <paramref name="cache"/>'s listed entries, in the lister's order: an entry listed before
    /// keeps its time, a new one draws its own (exponential, from now), one no longer listed is forgotten; the cache's
    /// leaf of the tree is set.
    /// </summary>
    private void ListEvictionTimes(int cache, IReadOnlyList<Transition> evictions)
    {
        var old = _evictAt[cache];
        var times = _evictSpare[cache];
        times.Clear();
        var earliest = None;
        var count = 0;
        for (var j = 0; j < evictions.Count; j++)
        {
            var tag = evictions[j].Tag;
            var at = None;
            // PERF: an entry listed before is mostly at the same place (the cache lists its entries in its own order).
            if (j < old.Count && old[j].Tag == tag)
            {
                at = old[j].At;
            }
            else
            {
                for (var k = 0; k < old.Count; k++)
                {
                    if (old[k].Tag == tag)
                    {
                        at = old[k].At;
                        break;
                    }
                }
            }
            if (at == None)
            {
                at = _now + Exponential(_parameters.EvictionMeanUs * 1000);
            }
            times.Add((tag, at));
            Tally(Math.Max(_now, at), ref earliest, ref count);
        }
        (_evictAt[cache], _evictSpare[cache]) = (times, old);
        _cacheTree.Set(cache, earliest, count);
    }

    /// <summary>The time at which <paramref name="transition"/> can happen (<see cref="None"/>: not yet known to).</summary>
    private long ReadyAt(MachineState state, in Transition transition)
    {
        var cpu = transition.Cpu;
        switch (transition.Kind)
        {
            case TransitionKind.Step:
                if (_blockedAt[cpu] != None)
                {
                    // A false wait_until is polled again once something has changed since, at most every poll_us.
                    return _version > _blockedVersion[cpu] ? Math.Max(_clock[cpu], _blockedAt[cpu] + (_parameters.PollUs * 1000)) : None;
                }
                return _clock[cpu];
            case TransitionKind.WbinvdWriteBack:
            case TransitionKind.WbinvdFinish:
                return _clock[cpu];
            case TransitionKind.Timeout:
                {
                    var timeout = _machine.TimedWaitMicroseconds(state, cpu);
                    var start = WaitStart(state, cpu);
                    return timeout < 0 || start == None ? None : Math.Max(_clock[cpu], start + (timeout * 1000));
                }
            case TransitionKind.Deliver:
                {
                    var arrival = (EventKind)transition.Arg switch
                    {
                        EventKind.Nmi => _arrivalNmi[cpu],
                        EventKind.Vector => _arrivalVector[(cpu * Vectors) + (int)transition.Tag],
                        _ => 0, // SMI and MCE are only injected: they arrive when injected
                    };
                    return Math.Max(_clock[cpu], arrival);
                }
            case TransitionKind.Inject:
                return _injectAt[transition.Arg];
            default:
                return _now;
        }
    }

    /// <summary>When the wait <paramref name="cpu"/> is at began: when it reached it, kept across handlers that
    /// interrupt it.</summary>
    private long WaitStart(MachineState state, int cpu)
    {
        var site = _machine.WaitSite(state, cpu);
        if (site.Function < 0)
        {
            return None;
        }
        if (_waitSite[cpu] != site)
        {
            _waitSite[cpu] = site;
            _waitStart[cpu] = _clock[cpu];
        }
        return _waitStart[cpu];
    }

    /// <summary>A disabled transition is left out until the next one is applied; a false <c>wait_until</c> is polled
    /// again only once something has changed (<see cref="ReadyAt"/>).</summary>
    public override void Disabled(in Transition transition)
    {
        _disabled.Add(transition);
        if (transition.Kind == TransitionKind.Step)
        {
            _blockedAt[transition.Cpu] = _now;
            _blockedVersion[transition.Cpu] = _version;
        }
        if (transition.Cpu >= 0)
        {
            MarkDirty(transition.Cpu);
            _blockedSinceApplied.Add(transition.Cpu); // its transitions are ready again after the next transition
        }
    }

    public override void Applied(MachineState state, in Transition transition)
    {
        var cpu = transition.Cpu;
        _version++;
        _disabled.Clear();
        foreach (var blocked in _blockedSinceApplied)
        {
            MarkDirty(blocked);
        }
        _blockedSinceApplied.Clear();
        if (cpu >= 0)
        {
            _blockedAt[cpu] = None;
            MarkDirty(cpu);
        }
        switch (transition.Kind)
        {
            case TransitionKind.Step:
            case TransitionKind.Timeout:
                _clock[cpu] = _now + _parameters.StepNs + _delayNs;
                if (_pickedAtWait.Function >= 0)
                {
                    // The step evaluated the wait it was at and went past it (a false one is disabled, never applied).
                    var start = _waitSite[cpu] == _pickedAtWait ? _waitStart[cpu] : _now;
                    Figures.Waits.Add(new WaitRecord(_pickedAtWait.Function, _pickedAtWait.Pc, _now - start, transition.Kind == TransitionKind.Timeout));
                    _waitSite[cpu] = (-1, -1, -1);
                    _waitStart[cpu] = None;
                }
                break;
            case TransitionKind.Deliver:
                _clock[cpu] = _now + _parameters.StepNs;
                if ((EventKind)transition.Arg == EventKind.Nmi)
                {
                    _arrivalNmi[cpu] = 0;
                }
                else if ((EventKind)transition.Arg == EventKind.Vector)
                {
                    _arrivalVector[(cpu * Vectors) + (int)transition.Tag] = 0;
                }
                break;
            case TransitionKind.WbinvdWriteBack:
                _clock[cpu] = _now + (long)(_writeBackNs * (1 + (_parameters.WbinvdContention * Math.Max(0, _inWbinvdCount - 1))));
                break;
            case TransitionKind.WbinvdFinish:
                _clock[cpu] = _now + _parameters.StepNs;
                break;
            case TransitionKind.Inject:
                _injectAt[transition.Arg] = _now + Uniform(1, _parameters.InjectWindowUs * 1000);
                break;
        }
        if (cpu >= 0)
        {
            var inWbinvd = state.Cpus[cpu].Mode == CpuMode.InWbinvd;
            if (inWbinvd != _inWbinvd[cpu])
            {
                _inWbinvd[cpu] = inWbinvd;
                _inWbinvdCount += inWbinvd ? 1 : -1;
                if (inWbinvd && _walk)
                {
                    // The walk of the whole cache (wbinvd_walk_us): the CPU is in WBINVD for it, before its first
                    // write-back; slowed like a write-back by the other CPUs in WBINVD when it starts.
                    _clock[cpu] += (long)(Uniform(_parameters.WbinvdWalkUs.Min * 1000, _parameters.WbinvdWalkUs.Max * 1000)
                        * (1 + (_parameters.WbinvdContention * (_inWbinvdCount - 1))));
                }
            }
            if (_machine.WaitSite(state, cpu) is { Function: >= 0 } site && _waitSite[cpu] != site)
            {
                _waitSite[cpu] = site;
                _waitStart[cpu] = _clock[cpu];
            }
        }
        if (Figures.FinishNs < 0 && state.Finished)
        {
            Figures.FinishNs = cpu >= 0 ? _clock[cpu] : _now;
        }
        Figures.EndNs = Math.Max(Figures.EndNs, cpu >= 0 ? _clock[cpu] : _now);
    }

    /// <summary>
    /// What "a full cache" means for <c>wbinvd_us</c>: the lines one CPU's cache can hold dirty, the shared ones and
    /// one CPU's copy of each percpu line. It does not grow with <c>--cpus</c> (the machine's lines do: every CPU
    /// has its own copy of each percpu line), so a write-back costs the same at 4 CPUs and at 1,024.
    /// </summary>
    internal static int LinesOneCpuHolds(MachineLayout layout)
    {
        var owners = layout.Program.Symmetry.LineCpu;
        var lines = 0;
        for (var line = 0; line < layout.State.LineCount; line++)
        {
            var owner = line < owners.Length ? owners[line] : -1;
            if (owner <= 0)
            {
                lines++;
            }
        }
        return lines;
    }

    void ITimingObserver.Sent(int from, int target, SentEvent kind, int vectorIndex)
    {
        switch (kind)
        {
            case SentEvent.Vector when vectorIndex >= 0 && vectorIndex < Vectors:
                MarkDirty(target);
                ref var vector = ref _arrivalVector[(target * Vectors) + vectorIndex];
                if (vector == 0)
                {
                    vector = _now + Uniform(_parameters.IpiUs.Min * 1000, _parameters.IpiUs.Max * 1000);
                }
                break;
            case SentEvent.Nmi:
                MarkDirty(target);
                if (_arrivalNmi[target] == 0)
                {
                    _arrivalNmi[target] = _now + Uniform(_parameters.NmiUs.Min * 1000, _parameters.NmiUs.Max * 1000);
                }
                break;
            // INIT takes effect in the sending step (SEMANTICS.md section 4): no latency is modelled.
        }
    }

    void ITimingObserver.MwaitWoken(int cpu)
    {
        MarkDirty(cpu);
        _clock[cpu] = Math.Max(_clock[cpu], _now + Uniform(_parameters.MwaitWakeUs.Min * 1000, _parameters.MwaitWakeUs.Max * 1000));
    }

    void ITimingObserver.Delayed(int cpu, long microseconds) => _delayNs += Math.Max(0, microseconds) * 1000;

    /// <summary>A uniform integer in [min, max] nanoseconds.</summary>
    private long Uniform(long min, long max) => max <= min ? min : min + (long)(_random.NextUInt64() % (ulong)(max - min + 1));

    /// <summary>An exponentially distributed time of mean <paramref name="mean"/> nanoseconds (inverse transform of a
    /// uniform draw with 53 bits).</summary>
    private long Exponential(long mean)
    {
        var u = ((_random.NextUInt64() >> 11) + 1) * (1.0 / 9007199254740993.0); // in (0, 1]
        return (long)(-Math.Log(u) * mean);
    }
}
