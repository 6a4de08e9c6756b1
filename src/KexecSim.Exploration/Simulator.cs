using System.Diagnostics;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// <c>kexecsim simulate</c>: many runs of the full machine of SEMANTICS.md (no reduction, no symmetry), each a
/// path from the initial state over the transitions the exhaustive search explores, picked by a
/// <see cref="SimulationScheduler"/> (a uniform random walk, or PCT), with the choices inside a step drawn
/// uniformly. A run ends at a violation (a step's, the settled check's after a step, or the terminal check's
/// when no transition is enabled), when no transition is enabled (finished), or after
/// <see cref="SimulationOptions.MaxSteps"/> steps.
/// <para>
/// Run i draws only from <see cref="RunRandom"/>(seed, i), so it is the same run in any job, shard or worker,
/// and <see cref="Reproduce"/> rebuilds it alone. The runs of the shard are spread over the workers in blocks;
/// the figures are sums and minimums of run indices, so the result is the same for any number of workers.
/// </para>
/// A trace is the run itself, step by step on the full machine, so it replays as it is (<see cref="Replayer"/>).
/// </summary>
public sealed class Simulator
{
    /// <summary>Runs a worker claims at a time (PERF: one interlocked add per block).</summary>
    private const int Block = 32;

    /// <summary>How many pilot runs estimate PCT's run length.</summary>
    internal const int PctPilots = 4;

    private readonly CompiledProgram _program;
    private readonly SimulationOptions _options;
    private readonly Reductions _reductions;
    private long? _pctSteps;

    public Simulator(CompiledProgram program, SimulationOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Runs, 0, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSteps, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PctDepth, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1, nameof(options));
        if (options.ShardCount < 1 || options.ShardIndex < 1 || options.ShardIndex > options.ShardCount)
        {
            throw new ArgumentException($"shard {options.ShardIndex}/{options.ShardCount}: expected 1 <= K <= N", nameof(options));
        }
        _program = program;
        _options = options;
        // The reductions check --reduce all makes (docs/reduction.md), decided once; each worker's machine shares them.
        _reductions = new Reductions(program, new CheckOptions { Reduce = options.Reduced ? Reduction.All : Reduction.None, Symmetry = false });
    }

    /// <summary>Whether the runs walk a reduced machine (<see cref="SimulationOptions.Reduced"/> and something in the
    /// program could be reduced): a reported trace then has the reduced steps put back.</summary>
    public bool Reduced => _reductions.Untracked is not null || _reductions.Halts is not null;

    /// <summary>
    /// PCT's run-length estimate k: the longest of <see cref="PctPilots"/> pilot random walks (streams
    /// 2^64-1 down to 2^64-<see cref="PctPilots"/> of the seed, which no run index reaches), at least 1 and at
    /// most <see cref="SimulationOptions.MaxSteps"/>. It depends on the model, the seed and --max-steps only,
    /// so every shard draws its change points over the same k.
    /// </summary>
    public long PctSteps => _pctSteps ??= EstimateRunLength();

    private long EstimateRunLength()
    {
        var pilot = new RunExecutor(_reductions.NewMachine(), _options, new RandomWalkScheduler());
        long longest = 1;
        for (var p = 0; p < PctPilots; p++)
        {
            longest = Math.Max(longest, pilot.Run(ulong.MaxValue - (ulong)p, record: null, out _).Steps);
        }
        return Math.Min(longest, _options.MaxSteps);
    }

    private SimulationScheduler NewScheduler() =>
        _options.Timed is { } timed ? new TimedScheduler(timed, _program.Platform.WbinvdMicroseconds)
        : _options.Strategy == SimulationStrategy.Pct ? new PctScheduler(_program.Platform.Cpus, _options.PctDepth, PctSteps)
        : new RandomWalkScheduler();

    /// <summary>Run <paramref name="run"/> again, alone: its outcome, and its trace (ending with its violation, if any).
    /// A violating run's trace is a run of the full machine (the reduced walk's steps with the ones taken with others put
    /// back); a run that ends without one gives the walk's own steps, which with <see cref="Reduced"/> are steps of the
    /// reduced machine, not a full-machine run (no caller writes those: only violating runs are traced).</summary>
    public (RunOutcome Outcome, Trace Trace) Reproduce(long run)
    {
        var executor = new RunExecutor(_reductions.NewMachine(), _options, NewScheduler());
        var steps = new List<TraceStep>();
        var outcome = executor.Run((ulong)run, steps, out var found);
        if (found is not { } f || !Reduced || executor.InitialViolation)
        {
            return (outcome, new Trace(steps, found?.Violation, found?.Terminal ?? false));
        }
        // A run of the reduced machine is made a run of the full one (the steps it took with others put back), and
        // its violation found again there, as check's traces are (Reductions.Build).
        TraceStep? last = null;
        if (!f.Terminal || executor.EndedSettled)
        {
            last = steps[^1];
            steps.RemoveAt(steps.Count - 1);
        }
        return (outcome, _reductions.Build(steps, last, f.Violation, f.Terminal));
    }

    /// <summary>Does every run of the shard (or stops at the time limit or on cancellation).</summary>
    public SimulationResult Run()
    {
        var clock = Stopwatch.StartNew();
        long? pctSteps = _options.Strategy == SimulationStrategy.Pct && _options.Timed is null ? PctSteps : null;
        var total = _options.ShardRuns;
        var workers = (int)Math.Max(1, Math.Min(_options.Workers, (total + Block - 1) / Block));
        var tallies = new Tally[workers];
        long next = 0;
        string? limit = null;
        var stop = 0;

        void Work(int w)
        {
            var executor = new RunExecutor(_reductions.NewMachine(), _options, NewScheduler());
            var tally = tallies[w] = new Tally();
            while (Volatile.Read(ref stop) == 0)
            {
                var from = Interlocked.Add(ref next, Block) - Block;
                if (from >= total)
                {
                    return;
                }
                var to = Math.Min(total, from + Block);
                for (var j = from; j < to; j++)
                {
                    if (Limit(clock) is { } reason)
                    {
                        if (Interlocked.Exchange(ref stop, 1) == 0)
                        {
                            limit = reason;
                        }
                        return;
                    }
                    var run = _options.RunIndex(j);
                    tally.Add(run, executor.Run((ulong)run, record: null, out _));
                    if (executor.TimedFigures is { } figures)
                    {
                        tally.AddTimed(run, figures);
                    }
                }
            }
        }

        var threads = new Thread[workers - 1];
        for (var w = 1; w < workers; w++)
        {
            var index = w;
            threads[w - 1] = new Thread(() => Work(index)) { IsBackground = true, Name = $"kexecsim-simulate-{index}" };
            threads[w - 1].Start();
        }
        Work(0);
        foreach (var thread in threads)
        {
            thread.Join();
        }

        var all = new Tally();
        foreach (var tally in tallies)
        {
            all.Add(tally);
        }
        return new SimulationResult
        {
            Program = _program,
            Options = _options,
            RunsDone = all.Runs,
            Steps = all.Steps,
            Finished = all.Finished,
            MaxStepsReached = all.MaxSteps,
            Violations = all.Violations(),
            PctSteps = pctSteps,
            Timed = _options.Timed is null ? null : all.TimedSummary(_program),
            LimitReason = limit,
            Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    private string? Limit(Stopwatch clock)
    {
        if (_options.Cancellation.IsCancellationRequested)
        {
            return "interrupted";
        }
        if (_options.TimeLimit is { } limit && clock.Elapsed >= limit)
        {
            return $"--time-limit {limit.TotalSeconds:0.#} s reached";
        }
        return null;
    }

    /// <summary>One worker's figures (merged in any order: sums and minimums).</summary>
    private sealed class Tally
    {
        private static readonly int Codes = Enum.GetValues<ViolationCode>().Length;
        private readonly long[] _count = new long[Codes];
        private readonly long[] _firstRun = Enumerable.Repeat(long.MaxValue, Codes).ToArray();
        private readonly long[] _firstSteps = new long[Codes];

        public long Runs { get; private set; }

        public long Steps { get; private set; }

        public long Finished { get; private set; }

        public long MaxSteps { get; private set; }

        public void Add(long run, RunOutcome outcome)
        {
            Runs++;
            Steps += outcome.Steps;
            switch (outcome.End)
            {
                case RunEnd.Finished:
                    Finished++;
                    break;
                case RunEnd.MaxSteps:
                    MaxSteps++;
                    break;
                default:
                    Count((int)outcome.Code, 1, run, outcome.Steps);
                    break;
            }
        }

        // Timed mode: each finished run's time to finish, and each wait site's waits (summed in any order).
        private readonly List<(long Run, long Nanoseconds)> _finishes = [];
        private readonly Dictionary<(int Function, int Pc), (long Count, long TimedOut, List<long> Durations)> _waits = [];

        public void AddTimed(long run, TimedRunFigures figures)
        {
            if (figures.FinishNs >= 0)
            {
                _finishes.Add((run, figures.FinishNs));
            }
            foreach (var wait in figures.Waits)
            {
                AddWaits((wait.Function, wait.Pc), 1, wait.TimedOut ? 1 : 0, [wait.Nanoseconds]);
            }
        }

        private void AddWaits((int, int) site, long count, long timedOut, IEnumerable<long> durations)
        {
            if (!_waits.TryGetValue(site, out var tally))
            {
                tally = (0, 0, []);
            }
            tally.Durations.AddRange(durations);
            _waits[site] = (tally.Count + count, tally.TimedOut + timedOut, tally.Durations);
        }

        public TimedSummary TimedSummary(CompiledProgram program) => new(
            [.. _finishes.OrderBy(f => f.Run)],
            [.. _waits.Select(w => new WaitSiteSummary(
                    program.Functions[w.Key.Function].Name, program.Functions[w.Key.Function].Spans[w.Key.Pc],
                    w.Value.Count, w.Value.TimedOut, [.. w.Value.Durations.Order()]))
                .OrderBy(w => w.Span.Source.Path, StringComparer.Ordinal).ThenBy(w => w.Span.Span.Start)]);

        public void Add(Tally other)
        {
            _finishes.AddRange(other._finishes);
            foreach (var (site, tally) in other._waits)
            {
                AddWaits(site, tally.Count, tally.TimedOut, tally.Durations);
            }
            Runs += other.Runs;
            Steps += other.Steps;
            Finished += other.Finished;
            MaxSteps += other.MaxSteps;
            for (var c = 0; c < Codes; c++)
            {
                if (other._count[c] > 0)
                {
                    Count(c, other._count[c], other._firstRun[c], other._firstSteps[c]);
                }
            }
        }

        private void Count(int code, long count, long firstRun, long firstSteps)
        {
            _count[code] += count;
            if (firstRun < _firstRun[code])
            {
                _firstRun[code] = firstRun;
                _firstSteps[code] = firstSteps;
            }
        }

        public List<ViolationTally> Violations() => Enumerable.Range(0, Codes)
            .Where(c => _count[c] > 0)
            .Select(c => new ViolationTally((ViolationCode)c, _count[c], _firstRun[c], _firstSteps[c]))
            .OrderBy(v => v.FirstRun)
            .ToList();
    }
}

/// <summary>
/// One worker's runs: its own machine, states, chooser and scheduler (none is thread-safe), reused from run
/// to run. PERF: nothing is allocated per step unless the run is recorded for its trace; the state is applied
/// in place, except for a transition that may turn out disabled (<see cref="Machine.Machine.MayBeDisabled"/>: a
/// step into a wait, a timeout), which is applied to a copy that then becomes the current state.
/// </summary>
internal sealed class RunExecutor
{
    private readonly Machine.Machine _machine;
    private readonly SimulationOptions _options;
    private readonly SimulationScheduler _scheduler;
    private readonly RandomChooser _chooser = new();
    private readonly RunRandom _random = new(0, 0);
    private readonly List<Transition> _candidates = new(64);
    // By count (a random walk): candidates found disabled at this step, as (position, the lister's index now there).
    private readonly List<(int Position, int Index)> _moved = new(4);
    private readonly MachineState _initial;
    private readonly Violation? _initialViolation;
    private readonly TransitionLister _lister;
    private MachineState _current;
    private MachineState _work;

    // A step whose drawn choices left it disabled: its other choices are tried on _probe (RedrawChoices).
    private readonly MachineState _probe;
    private readonly DepthFirstChooser _probeChooser = new();
    private readonly List<int[]> _enabledChoices = [];

    /// <summary>Timed mode: the figures of the last run; null untimed.</summary>
    public TimedRunFigures? TimedFigures => (_scheduler as TimedScheduler)?.Figures;

    /// <summary>The initial state commits a violation (every run is that one, of no step).</summary>
    public bool InitialViolation => _initialViolation is not null;

    /// <summary>The last run ended with a violation of the settled check after its last step (not of a terminal state).</summary>
    public bool EndedSettled { get; private set; }

    /// <param name="machine">The machine the runs walk: its own (a worker's), full or reduced.</param>
    public RunExecutor(Machine.Machine machine, SimulationOptions options, SimulationScheduler scheduler)
    {
        _machine = machine;
        _options = options;
        _scheduler = scheduler;
        _scheduler.Attach(_machine);
        _lister = new TransitionLister(_machine);
        _current = _machine.NewState();
        _work = _machine.NewState();
        _probe = _machine.NewState();
        // The initial state makes no choice: made once, copied at the start of each run (PERF: making it
        // allocates, a copy does not).
        _initial = _machine.NewState();
        _initialViolation = _machine.CreateInitial(_initial) == Outcome.Violation ? _machine.LastViolation : null;
        // PERF: a run needs no canonical encoding: with gaps between the CPUs' stacks and the caches, a push or pop
        // moves one segment, not the tail of the vector (O(state) per call and return at many CPUs). The copies
        // below take the form from the state they copy.
        _initial.UseGaps();
    }

    /// <summary>Does run <paramref name="run"/>; with <paramref name="record"/>, its steps are added to it.</summary>
    /// <param name="found">The violation the run ended with, and whether it is the state's (settled or terminal)
    /// rather than the last step's; null when it ended without one.</param>
    public RunOutcome Run(ulong run, List<TraceStep>? record, out (Violation Violation, bool Terminal)? found)
    {
        found = null;
        EndedSettled = false;
        _random.Reset(_options.Seed, run);
        _scheduler.StartRun(_random);
        _chooser.Start(_random);
        _chooser.Recording = record is not null;
        if (_initialViolation is not null)
        {
            found = (_initialViolation, true);
            return new RunOutcome(RunEnd.Violation, _initialViolation.Code, 0);
        }
        // The rooms the last run's stacks and caches grew to are kept for the next (no widening again).
        _initial.WidenRoomsTo(_current);
        _current.CopyFrom(_initial);
        _lister.Reset();
        var actor = -1;
        for (long step = 1; step <= _options.MaxSteps; step++)
        {
            // PERF: only the CPUs and caches the last step changed are listed again (TransitionLister), the same
            // list as EnumerateTransitions'; a scheduler that picks by the count alone (random) reads the one it
            // picks through the lister's counts, and the list is built only when a candidate turns out disabled.
            _lister.Update(_current, actor);
            var fromLister = _scheduler.PicksFromLister;
            var listed = !_scheduler.PicksByCount && !fromLister;
            if (listed)
            {
                _lister.CopyTo(_candidates);
            }
            var disabled = 0; // fromLister: candidates of this step found disabled (the scheduler leaves them out)
            var left = _lister.Count; // by count: the candidates left (the lister's list less the disabled ones)
            _moved.Clear();
            while (true)
            {
                var count = listed ? _candidates.Count : fromLister ? _lister.Count - disabled : left;
                if (count == 0)
                {
                    // No transition enabled: the end of the run.
                    if (_machine.CheckTerminal(_current) is { } terminal)
                    {
                        found = (terminal, true);
                        return new RunOutcome(RunEnd.Violation, terminal.Code, step - 1);
                    }
                    return new RunOutcome(RunEnd.Finished, default, step - 1);
                }
                var pick = listed ? _scheduler.Pick(_current, _candidates, step)
                    : fromLister ? _scheduler.PickFromLister(_current, _lister, step)
                    : _scheduler.PickIndex(count);
                var transition = listed ? _candidates[pick] : fromLister ? _lister[pick] : _lister[Moved(pick)];
                // Only a transition that may turn out disabled (a wait, a timeout), leaving a state that must not
                // be used, goes to a copy. PERF: at 192 CPUs a copy per step was most of a run's time.
                var copy = _machine.MayBeDisabled(_current, transition);
                MachineState target;
                if (copy)
                {
                    _work.CopyFrom(_current);
                    target = _work;
                }
                else
                {
                    target = _current;
                }
                _chooser.Start(_random);
                var outcome = _machine.Apply(target, transition, _chooser);
                if (outcome == Outcome.Disabled && _chooser.Calls > 0)
                {
                    outcome = RedrawChoices(transition, target);
                }
                if (outcome == Outcome.Disabled)
                {
                    Debug.Assert(copy, "only a transition the machine says may be disabled is");
                    _scheduler.Disabled(transition);
                    if (fromLister)
                    {
                        disabled++; // PERF: no list is built; the scheduler leaves it out of its next pick
                        continue;
                    }
                    if (listed)
                    {
                        _candidates[pick] = _candidates[^1];
                        _candidates.RemoveAt(_candidates.Count - 1);
                    }
                    else
                    {
                        // PERF: the list is not built (O(CPUs) at every false wait); the removal is recorded as it
                        // would be made in it, so the draws that follow are the same.
                        SetMoved(pick, Moved(left - 1));
                        left--;
                    }
                    continue;
                }
                Debug.Assert(outcome != Outcome.NeedChoice, "the random chooser takes an option at every choice");
                record?.Add(new TraceStep(transition, [.. _chooser.Choices]));
                if (outcome == Outcome.Violation)
                {
                    found = (_machine.LastViolation!, false);
                    return new RunOutcome(RunEnd.Violation, found.Value.Violation.Code, step);
                }
                if (copy)
                {
                    (_current, _work) = (_work, _current);
                }
                _scheduler.Applied(_current, transition);
                actor = transition.Cpu;
                if (_machine.CheckSettled(_current) is { } settled)
                {
                    EndedSettled = true;
                    found = (settled, true);
                    return new RunOutcome(RunEnd.Violation, settled.Code, step);
                }
                break;
            }
        }
        return new RunOutcome(RunEnd.MaxSteps, default, _options.MaxSteps);
    }

    /// <summary>By count: which transition of the lister's list is at <paramref name="position"/> of the candidates
    /// left, where each disabled one was replaced by the last (as a list's swap-removal does).</summary>
    private int Moved(int position)
    {
        foreach (var (at, index) in _moved)
        {
            if (at == position)
            {
                return index;
            }
        }
        return position;
    }

    private void SetMoved(int position, int index)
    {
        for (var i = 0; i < _moved.Count; i++)
        {
            if (_moved[i].Position == position)
            {
                _moved[i] = (position, index);
                return;
            }
        }
        _moved.Add((position, index));
    }

    /// <summary>
    /// A step whose drawn choices left it disabled (a <c>choose()</c> in a <c>wait_until</c> condition that
    /// came out false) is enabled when other choices enable it, as the explorer explores it: one of its
    /// enabled outcomes is drawn uniformly and applied to <paramref name="target"/> (a copy of the current
    /// state). Disabled when no choice enables it.
    /// </summary>
    private Outcome RedrawChoices(Transition transition, MachineState target)
    {
        _enabledChoices.Clear();
        Successors.ForEach(_machine, _current, transition, _probe, _probeChooser, _ =>
        {
            _enabledChoices.Add(_probeChooser.Choices.ToArray());
            return true;
        });
        if (_enabledChoices.Count == 0)
        {
            return Outcome.Disabled;
        }
        var choices = _enabledChoices[_random.Next(_enabledChoices.Count)];
        target.CopyFrom(_current);
        _chooser.StartForced(_random, choices);
        return _machine.Apply(target, transition, _chooser);
    }
}
