using System.Diagnostics;
using System.Runtime.InteropServices;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// Exhaustive breadth-first search over the machine's states (the classic explicit-state algorithm,
/// as in SPIN's BFS mode: Holzmann, "The SPIN Model Checker", 2003): the first <see cref="ISearch"/>
/// strategy. States are visited level by level, so the first violation found is one with the fewest
/// steps; the visited set keeps 64-bit fingerprints only, and the node table each state's parent and
/// transition, from which the trace is rebuilt.
/// </summary>
public sealed class BreadthFirstExplorer : ISearch
{
    private readonly CompiledProgram _program;
    private readonly CheckOptions _options;
    private readonly Machine.Machine _machine;

    // Coverage: what the machine ever executed, recorded in place (no allocation per transition).
    private readonly ExecutionMarks _marks;

    private readonly NodeTable _nodes = new();
    private readonly IVisitedSet _visited;
    private BreadthFirstFrontier _frontier = new();
    private LivelockGraph _graph;
    private ChunkedArray<byte>? _finishedMarks; // --livelock lean (or the graph let go): per node, 1 when its run has finished
    private bool _graphDropped;                 // the graph was let go at the memory limit (DropGraph)
    private bool _leanPassRan;                  // the second pass of --livelock lean ran (Lean)
    private readonly SuccessorEnumerator _successors;
    private readonly ExpectationPolicy _policy;
    private readonly SearchLimits _limits;
    private readonly Stopwatch _clock = new();
    private readonly Reductions _reductions;
    private readonly StateSymmetry? _symmetry;
    private readonly RepresentativeMemo _representatives = new();
    private long _transitions;
    private long _peakMemory;
    private bool _started;

    // Checkpoints (docs/checkpoint.md): the search time before this process (a resumed search), when the
    // last checkpoint was written or resumed from, and the level resumed at (not saved again to its own directory).
    private readonly CheckpointOptions? _checkpoint;
    private TimeSpan _elapsedBefore;
    private TimeSpan _lastSaved;
    private int _resumedDepth = -1;

    private TimeSpan Elapsed => _elapsedBefore + _clock.Elapsed;

    // With workers: started at the first level wide enough for them (a small search starts no thread).
    private ExpansionPool? _pool;

    // An exception a worker threw in a batch the search's thread is running again (ExpandPipelined): thrown if the batch
    // is run to its end without it (a worker's failure alone), dropped if the search stops first.
    private Exception? _workerError;

    // Expand's pipeline (PERF): the successor made but not yet stored, and the second state successors are made in.
    private MachineState? _spare;
    // PERF: fields, not a tuple (a tuple's assignment was a block copy with a slow start, once per successor).
    private MachineState? _pendingState;
    private ulong _pendingFingerprint;
    private int _pendingNode;
    private Transition _pendingTransition;
    private bool _pendingFinished;
    private readonly List<int> _pendingChoices = new(8);
    private bool _hasPending;

    // With workers: whether a worker's machine evaluated `final` in a batch that was merged.
    private bool _workersEvaluatedFinal;

    // With workers: whether a worker's machine executed a hlt() with the step reaching it in a merged batch.
    private bool _workersMergedAHalt;

    private bool MergedAHalt => _machine.MergedAHalt || _workersMergedAHalt;

    public BreadthFirstExplorer(CompiledProgram program, CheckOptions? options = null)
    {
        _program = program;
        _options = options ?? CheckOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Workers, 1, nameof(options));
        // --livelock off: no graph, so no node id of a state found again is needed (8 bytes a slot instead of 12).
        _visited = _options.BitstateBytes is { } bytes ? new BitstateSet(bytes) : new FingerprintSet(keepNodes: _options.Livelock);
        // No graph: a bitstate search keeps no node id for a visited state; --livelock off looks for no cycle.
        // --livelock lean: no graph either, only each node's finished mark, for the second pass (LivelockSearch).
        _graph = new LivelockGraph(enabled: _visited is FingerprintSet && _options.Livelock && !_options.LivelockLean);
        _finishedMarks = _visited is FingerprintSet && _options.Livelock && _options.LivelockLean ? new ChunkedArray<byte>() : null;
        _reductions = new Reductions(program, _options);
        _machine = _reductions.Machine;
        _successors = new SuccessorEnumerator(_machine);
        _symmetry = _reductions.Symmetry;
        _marks = new ExecutionMarks(program);
        _machine.Marks = _marks;
        _policy = new ExpectationPolicy(program.Expect, _options.Livelock);
        _limits = new SearchLimits(_options, _options.ResidentSet);
        _checkpoint = _options.Checkpoint;
    }

    /// <summary>The bytes the search's own structures hold: visited set, frontier, node table, LIVELOCK graph,
    /// the symmetry memo (the figure reported: the same for any number of workers).</summary>
    private long MemoryBytes => _representatives.MemoryBytes + _visited.MemoryBytes + _frontier.MemoryBytes + _nodes.MemoryBytes + _graph.MemoryBytes
        + (_finishedMarks?.MemoryBytes ?? 0);

    /// <summary>Searches until a verdict or a limit; once per explorer (its tables fill as it goes).</summary>
    public CheckResult Run()
    {
        if (_started)
        {
            throw new InvalidOperationException("a breadth-first explorer runs once; make a new one for another search");
        }
        _started = true;
        _clock.Restart();
        var parent = _machine.NewState();
        var work = _machine.NewState();
        if (_machine.CreateInitial(parent) == Outcome.Violation)
        {
            var trace = new Trace([], _machine.LastViolation, violationIsTerminal: true);
            return Result(Verdict.Violation, _machine.LastViolation, trace, _policy.Others, 0, null);
        }

        var initial = _symmetry is null ? parent.Span : _symmetry.Canonicalize(parent);
        long lastCheck = 0;
        if (_checkpoint?.Resume is { } resume)
        {
            lastCheck = Resume(resume);
        }
        else
        {
            _visited.TryAdd(MachineState.Fingerprint(initial), 0, out _);
            var root = _nodes.Add(-1, default, []);
            AddNode(parent.Finished);
            _frontier.Start(initial, root);
        }

        try
        {
            if (SearchLevels(parent, work, lastCheck) is { } ended)
            {
                return ended;
            }
        }
        finally
        {
            _pool?.Dispose();
            _pool = null;
        }

        _peakMemory = Math.Max(_peakMemory, MemoryBytes);
        var levels = _frontier.Depth;
        // LIVELOCK detection after the search stops on Ctrl-C, SIGTERM and the time limit too (a graph of millions of
        // nodes takes seconds).
        using var stop = _limits.Stopper(Elapsed);
        try
        {
            // PERF: a graph found to have no cycle of unfinished states has no LIVELOCK to look for (with --livelock lean, a
            // second pass saved).
            var mayCycle = true;
            if (_reductions.ReducedGraph(MergedAHalt) && _policy.LooksForLivelock && (mayCycle = HasUnfinishedCycle(stop.Token)))
            {
                // LIVELOCK's fairness is per CPU and per transition, which the reduced graph does not keep: a
                // cycle of unfinished states in it means one in the full graph (and none means none:
                // docs/reduction.md), so only then is the search run again in full.
                var full = new BreadthFirstExplorer(_program, Reductions.Unreduced(_options)).Run();
                return full.WithReductionsUndone(_reductions.SymmetryUse, _reductions.Use(MergedAHalt), _reductions.Untracked?.Lines ?? [], MergedAHalt);
            }
            if (_policy.LooksForLivelock && mayCycle && FindLivelock(stop.Token) is { } livelock)
            {
                if (_policy.EndsSearch(ViolationCode.Livelock))
                {
                    return Result(Verdict.Violation, livelock.Violation, livelock, _policy.Others, levels, null);
                }
                _policy.Keep(livelock.Violation!, livelock);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Result(Verdict.LimitReached, null, null, _policy.Others, levels, _limits.StopReason());
        }
        catch (LivelockSearch.LimitReachedException limit)
        {
            return Result(Verdict.LimitReached, null, null, _policy.Others, levels, $"{limit.Reason} in the LIVELOCK pass");
        }
        // LANGUAGE.md section 6: expect CODE not met. A violation of another code is the outcome (a
        // MODEL_ERROR first: the model itself is wrong), never a pass with nothing to show.
        var verdict = _policy.Conclude();
        return Result(verdict.Verdict, verdict.Violation, verdict.Trace, verdict.Others, levels, null);
    }

    /// <summary>
    /// Nothing lost at the memory limit (<c>--memory-limit</c>, or the default ceiling) for the LIVELOCK graph's sake: when
    /// the search reaches it with the graph much of its memory (<see cref="SearchLimits.GraphIsMuchOf"/>), it lets the graph
    /// go but for each node's finished mark, and goes on as <c>--livelock lean</c> does (docs/livelock.md): the same result,
    /// LIVELOCK looked for in a second pass, and a line in the report that says so. Not when checkpoints are written (a
    /// checkpoint's identity says which graph it holds).
    /// </summary>
    private bool DropGraph(string reason, long memory)
    {
        if (!_graph.Enabled || _checkpoint?.Directory is not null || !SearchLimits.GraphIsMuchOf(reason, _graph.MemoryBytes, memory))
        {
            return false;
        }
        // The old graph is let go at once: its finished marks are this search's now.
        _finishedMarks = _graph.FinishedMarks;
        _graph = new LivelockGraph(enabled: false);
        _graphDropped = true;
        // The graph's memory back to the system before the resident set is read again. Only an aggressive collection
        // decommits enough (measured: with a forced, non-compacting one the resident set at N = 5 stayed over a 230 MB limit
        // the aggressive one passes at 214 MB); it compacts the heap, a one-time pause (the graph is let go once).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return true;
    }

    /// <summary>Whether the explored graph has a cycle of unfinished states: the graph's, or with <c>--livelock lean</c> the
    /// second pass's (stopping at the first).</summary>
    private bool HasUnfinishedCycle(CancellationToken cancellation) =>
        _finishedMarks is null ? _graph.HasUnfinishedCycle(cancellation) : Lean(anyCycle: true, cancellation) is not null;

    /// <summary>The first fair cycle of unfinished states as a lasso trace (<see cref="LivelockGraph.FindLivelock"/>), from
    /// the graph, or with <c>--livelock lean</c> from the second pass's component.</summary>
    private Trace? FindLivelock(CancellationToken cancellation)
    {
        if (_finishedMarks is null)
        {
            return _graph.FindLivelock(_nodes, _program, _machine, cancellation);
        }
        return Lean(anyCycle: false, cancellation) is { } component
            ? LivelockGraph.Lasso(component.Graph, id => component.Nodes[id], _nodes, _program, _machine, cancellation)
            : null;
    }

    /// <summary>The second pass of <c>--livelock lean</c> over the complete search's states (the frontier let go first).</summary>
    private LivelockSearch.Component? Lean(bool anyCycle, CancellationToken cancellation)
    {
        _frontier = new BreadthFirstFrontier();
        var initial = _machine.NewState();
        _machine.CreateInitial(initial);
        var search = new LivelockSearch(_machine, _symmetry, (FingerprintSet)_visited, _finishedMarks!, cancellation)
        {
            Progress = _options.Progress is { } progress ? p => progress(p with { Seconds = Elapsed.TotalSeconds, MemoryBytes = MemoryBytes + p.MemoryBytes }) : null,
            ProgressInterval = _options.ProgressInterval,
            Limit = passBytes => _limits.Reached(_visited.Count, MemoryBytes + passBytes, Elapsed),
        };
        var component = search.Run(_symmetry is null ? initial.Span : _symmetry.Canonicalize(initial), anyCycle);
        _peakMemory = Math.Max(_peakMemory, MemoryBytes + search.MemoryBytes);
        _leanPassRan = true;
        return component;
    }

    /// <summary>The levels, from the initial state's: a result that ends the search, or null when every
    /// level was expanded.</summary>
    private CheckResult? SearchLevels(MachineState parent, MachineState work, long lastCheck)
    {
        var lastProgress = Elapsed;
        // A violation one step past this level is shortest only if no state of this level is itself a
        // terminal violation: once one is found, the rest of the level is scanned for those alone.
        CheckResult? found = null;
        do
        {
            var current = _frontier.Current;
            var depth = _frontier.Depth;
            // A level boundary: the only place a checkpoint is written (nothing of this level expanded yet).
            if (_checkpoint?.Directory is { } directory && CheckpointDue(directory, depth))
            {
                Save(directory, lastCheck);
            }
            if (_options.MaxDepth is { } maxDepth && depth >= maxDepth && current.Count > 0)
            {
                return Result(Verdict.LimitReached, null, null, _policy.Others, depth, $"--max-depth {maxDepth} reached");
            }
            // With workers, the level goes by batches expanded in parallel and merged in order; a batch in
            // which a worker met a violation that ends the search, and the rest of the level, are expanded
            // here, one state after the other, exactly as with one worker.
            var sequentialUntil = 0;
            var i = 0;
            while (i < current.Count)
            {
                RethrowWorkerError(i, sequentialUntil, found);
                if (_options.Workers > 1 && found is null && i >= sequentialUntil && current.Count >= _options.MinParallelBatch)
                {
                    _pool ??= new ExpansionPool(_reductions, _policy, _options.Workers, symmetry: _symmetry is not null);
                    if (ExpandPipelined(current, ref i, ref sequentialUntil, depth, ref lastCheck, ref lastProgress) is { } halted)
                    {
                        return halted;
                    }
                    continue;
                }
                var encoding = current.Get(i, out var node);
                parent.Decode(encoding);
                if (Expand(parent, work, node, depth, ref found) is { } ended)
                {
                    return ended;
                }
                if (CheckLimits(current, i, depth, ref lastCheck, ref lastProgress) is { } reason)
                {
                    return Result(Verdict.LimitReached, null, null, _policy.Others, depth, reason);
                }
                i++;
            }
            RethrowWorkerError(i, sequentialUntil, found);
            if (found is not null)
            {
                return found;
            }
        }
        while (_frontier.Advance());
        return null;

    }

    /// <summary>
    /// The rest of the level from <paramref name="i"/> by pipelined batches (<see cref="ExpansionPool.Post"/>): each batch is
    /// posted before the one before it is merged, so the workers expand it meanwhile; the merges go in order. A batch in
    /// which a worker met a violation that ends the search is left, with the rest of the level, to the search's own
    /// thread (<paramref name="i"/> is then its first state and <paramref name="sequentialUntil"/> its end). A batch still
    /// being expanded when the level stops here is waited for and dropped: its workers' marks are never merged, for the
    /// search ends at this level.
    /// </summary>
    private CheckResult? ExpandPipelined(StateQueue current, ref int i, ref int sequentialUntil, int depth, ref long lastCheck, ref TimeSpan lastProgress)
    {
        var pool = _pool!;
        var set = 0;
        var from = i;
        var end = Math.Min(current.Count, from + (pool.Count * ChunkStates(current, from)));
        pool.Post(set, current, from, end);
        while (true)
        {
            var nextEnd = -1;
            if (end < current.Count)
            {
                nextEnd = Math.Min(current.Count, end + (pool.Count * ChunkStates(current, end)));
                pool.Post(1 - set, current, end, nextEnd);
            }
            var clean = pool.Wait(set);
            var stopped = clean ? Merge(pool.Set(set), current, from, depth, ref lastCheck, ref lastProgress) : null;
            if (!clean || stopped is not null)
            {
                if (nextEnd >= 0)
                {
                    pool.Wait(1 - set);
                    pool.TakeError(1 - set); // dropped: one worker would not have gone on to it
                }
                _workerError = pool.TakeError(set);
                i = from;
                sequentialUntil = end;
                return stopped;
            }
            if (nextEnd < 0)
            {
                i = end;
                return null;
            }
            (set, from, end) = (1 - set, end, nextEnd);
        }
    }

    /// <summary>
    /// A worker's exception (<see cref="_workerError"/>) once the search's thread has run the batch again to its end
    /// without meeting it (had the batch met it, it would have thrown here, as one worker does): the worker failed where
    /// one worker does not. After a violation was found in the batch the rest is only scanned for terminal ones, as with
    /// one worker, so the worker's exception may lie where one worker never goes: dropped.
    /// </summary>
    private void RethrowWorkerError(int i, int sequentialUntil, CheckResult? found)
    {
        if (_workerError is not { } error || i < sequentialUntil)
        {
            return;
        }
        _workerError = null;
        if (found is null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    /// <summary>PERF and memory: a worker holds its chunk's successors as whole vectors until the merge, so a chunk
    /// is sized to about <see cref="WorkerBufferBytes"/> of them (at 64 CPUs a state is kilobytes and has dozens of
    /// successors: 512 states a chunk held hundreds of MB, past <c>--memory-limit</c> between two of its checks).
    /// The results are the same for any chunk size (the merge goes in order).</summary>
    private int ChunkStates(StateQueue current, int index)
    {
        var stateBytes = (long)current.Get(index, out _).Length * sizeof(long);
        // Successors per state: as measured so far, and at least one per CPU (the first levels measure too few).
        var successors = Math.Max(_program.Platform.Cpus, _transitions / Math.Max(1, _visited.Count));
        return (int)Math.Clamp(WorkerBufferBytes / Math.Max(1, stateBytes * successors), 1, _options.ChunkStates);
    }

    private const long WorkerBufferBytes = 8L * 1024 * 1024;

    private bool CheckpointDue(string directory, int depth)
    {
        if (depth == _resumedDepth && Path.GetFullPath(directory) == Path.GetFullPath(_checkpoint!.Resume!.Directory))
        {
            return false; // the level this search resumed at is what that directory holds
        }
        return _checkpoint!.Every <= TimeSpan.Zero || Elapsed - _lastSaved >= _checkpoint.Every;
    }

    /// <summary>Writes a checkpoint of the search at this level boundary (docs/checkpoint.md).</summary>
    private void Save(string directory, long lastCheck)
    {
        try
        {
            Checkpoint.Write(directory, _checkpoint!.Identity, _frontier.Depth, _visited.Count, _transitions,
            [
                ("search", writer => SaveSearch(writer, lastCheck)),
                ("visited", writer =>
                {
                    if (_visited is FingerprintSet set)
                    {
                        set.Save(writer);
                    }
                    else
                    {
                        ((BitstateSet)_visited).Save(writer);
                    }
                }),
                ("nodes", _nodes.Save),
                ("graph", writer =>
                {
                    _graph.Save(writer);
                    _finishedMarks?.Save(writer); // --livelock lean (a checkpoint's identity says which)
                }),
                ("frontier", _frontier.Save),
            ]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"--checkpoint {directory}: cannot write: {e.Message}");
        }
        _lastSaved = Elapsed;
    }

    /// <summary>The search's own figures: counters, flags, coverage marks and the violations kept aside.</summary>
    private void SaveSearch(BinaryWriter writer, long lastCheck)
    {
        writer.Write(_transitions);
        writer.Write(_peakMemory);
        writer.Write(lastCheck);
        writer.Write(Elapsed.Ticks);
        writer.Write(_workersEvaluatedFinal);
        writer.Write(_workersMergedAHalt);
        writer.Write(_machine.FinalEvaluations);
        writer.Write(_machine.MergedAHalt);
        writer.Write(_marks.FlagBytes.Length);
        writer.Write(_marks.FlagBytes);
        writer.Write(_marks.VectorsSent);
        writer.Write(_marks.EventsRaised);
        writer.Write(_policy.Others.Count);
        foreach (var (violation, trace) in _policy.Others)
        {
            writer.Write((int)violation.Code);
            writer.Write(trace.ViolationIsTerminal);
            writer.Write(trace.LastStepCommits);
            writer.Write(trace.Rederived);
            writer.Write(trace.PutBackSteps);
            writer.Write(trace.Steps.Count);
            foreach (var step in trace.Steps)
            {
                var packed = PackedTransition.Pack(step.Transition);
                writer.Write(packed.Head);
                writer.Write(packed.Tag);
                writer.Write(step.Choices.Length);
                foreach (var choice in step.Choices)
                {
                    writer.Write(choice);
                }
            }
        }
    }

    /// <summary>Puts back the search a checkpoint saved (its level boundary); returns where the limits were last checked.</summary>
    private long Resume(Checkpoint checkpoint)
    {
        try
        {
            return Load(checkpoint);
        }
        catch (CheckpointException e)
        {
            throw new CheckpointException($"--resume {checkpoint.Directory}: {e.Message}");
        }
    }

    private long Load(Checkpoint checkpoint)
    {
        long lastCheck = 0;
        checkpoint.Load("search", reader =>
        {
            _transitions = reader.ReadInt64();
            _peakMemory = reader.ReadInt64();
            lastCheck = reader.ReadInt64();
            _elapsedBefore = TimeSpan.FromTicks(reader.ReadInt64());
            _workersEvaluatedFinal = reader.ReadBoolean();
            _workersMergedAHalt = reader.ReadBoolean();
            _machine.RestoreRunCounters(reader.ReadInt64(), reader.ReadBoolean());
            var marks = reader.ReadBytes(Checkpoint.ReadCount(reader));
            _marks.Restore(marks, reader.ReadUInt64(), reader.ReadInt32());
            var kept = Checkpoint.ReadCount(reader);
            for (var k = 0; k < kept; k++)
            {
                var code = (ViolationCode)reader.ReadInt32();
                var terminal = reader.ReadBoolean();
                var commits = reader.ReadBoolean();
                var rederived = reader.ReadBoolean();
                var putBack = reader.ReadInt32();
                var count = Checkpoint.ReadCount(reader);
                var steps = new List<TraceStep>(count);
                for (var s = 0; s < count; s++)
                {
                    var transition = new PackedTransition(reader.ReadInt32(), reader.ReadInt64()).Unpack();
                    var choices = new int[Checkpoint.ReadCount(reader)];
                    for (var c = 0; c < choices.Length; c++)
                    {
                        choices[c] = reader.ReadInt32();
                    }
                    steps.Add(new TraceStep(transition, choices));
                }
                var trace = _reductions.Restore(steps, code, terminal, commits, rederived, putBack);
                _policy.Restore(trace.Violation!, trace);
            }
        });
        checkpoint.Load("visited", reader =>
        {
            if (_visited is FingerprintSet set)
            {
                set.Load(reader);
            }
            else
            {
                ((BitstateSet)_visited).Load(reader);
            }
        });
        checkpoint.Load("nodes", _nodes.Load);
        checkpoint.Load("graph", reader =>
        {
            _graph.Load(reader);
            _finishedMarks?.Load(reader);
        });
        checkpoint.Load("frontier", _frontier.Load);
        if (_frontier.Depth != checkpoint.Depth || _visited.Count != checkpoint.States || _transitions != checkpoint.Transitions)
        {
            throw new CheckpointException("the checkpoint is damaged: its stores do not agree with its manifest");
        }
        _resumedDepth = checkpoint.Depth;
        _lastSaved = Elapsed;
        return lastCheck;
    }

    /// <summary>
    /// Limits and progress, looked at after the level's state <paramref name="index"/> was expanded: at the
    /// level's first state and every <see cref="SearchLimits.TransitionsBetweenChecks"/> transitions (the
    /// same points with any number of workers: the merge calls it after each state it merges). Why the
    /// search must stop, or null.
    /// </summary>
    private string? CheckLimits(StateQueue current, int index, int depth, ref long lastCheck, ref TimeSpan lastProgress)
    {
        if (_transitions - lastCheck < SearchLimits.TransitionsBetweenChecks && index != 0)
        {
            // Between the checks at fixed points, only an interruption or the time limit stops the search (neither
            // is reproducible anyway); the memory limit and progress keep their fixed points.
            return _limits.Urgent(_clock) ? _limits.Reached(_visited.Count, MemoryBytes + (_pool?.MemoryBytes ?? 0), _clock.Elapsed) : null;
        }
        lastCheck = _transitions;
        var memory = MemoryBytes;
        _peakMemory = Math.Max(_peakMemory, memory);
        // --memory-limit also counts the workers' record buffers (not in the reported figure, which is the
        // same for any number of workers).
        if (_limits.Reached(_visited.Count, memory + (_pool?.MemoryBytes ?? 0), Elapsed) is { } reason)
        {
            var graphBytes = _graph.MemoryBytes;
            if (!DropGraph(reason, memory))
            {
                return SearchLimits.WithGraphHint(reason, graphBytes, memory);
            }
            memory = MemoryBytes;
            if (_limits.Reached(_visited.Count, memory + (_pool?.MemoryBytes ?? 0), Elapsed) is { } still)
            {
                return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{still}, still with the LIVELOCK graph ({graphBytes / (1024.0 * 1024):0.#} MB) let go: --livelock off checks every state's safety in less");
            }
        }
        if (_options.Progress is { } progress && Elapsed - lastProgress > _options.ProgressInterval)
        {
            lastProgress = Elapsed;
            progress(new Progress(_visited.Count, _transitions, depth, current.Count - index + _frontier.NextCount, Elapsed.TotalSeconds, memory));
        }
        return null;
    }

    /// <summary>
    /// Merges a batch the workers expanded (no chunk met a violation that ends the search), chunk 0
    /// first and each state's records in the order they were made: exactly what <see cref="Expand"/>
    /// does with one worker, so node ids, kept violations, statistics and the checks of limits are the
    /// same. Returns the result when a limit stops the search inside the batch.
    /// </summary>
    private CheckResult? Merge(ExpansionWorker[] workers, StateQueue current, int from, int depth, ref long lastCheck, ref TimeSpan lastProgress)
    {
        var prefetch = _visited as FingerprintSet;
        foreach (var worker in workers)
        {
            var record = 0;
            // PERF: the slots of the states a few records ahead are prefetched, so their probes seldom miss the cache.
            var ahead = 0;
            for (var i = worker.From; i < worker.To; i++)
            {
                var node = current.NodeAt(i);
                _graph.BeginEdges();
                var end = worker.ParentEnd(i - worker.From);
                if (record == end && worker.Terminal(i - worker.From) is { } terminal && _policy.Keeps(terminal.Code))
                {
                    _policy.Keep(terminal, BuildTrace(node, null, [], terminal, terminal: true));
                }
                for (; record < end; record++)
                {
                    for (; prefetch is not null && ahead < worker.RecordCount && ahead < record + PrefetchDistance; ahead++)
                    {
                        ref readonly var next = ref worker.RecordAt(ahead);
                        if (next.Kind == ExpansionWorker.RecordKind.State)
                        {
                            prefetch.Prefetch(next.Fingerprint);
                        }
                    }
                    ref readonly var r = ref worker.RecordAt(record);
                    _transitions++;
                    if (r.Kind != ExpansionWorker.RecordKind.State)
                    {
                        _graph.AddEdge(-1, r.Transition);
                        var violation = worker.ViolationAt(record);
                        if (_policy.Keeps(violation.Code))
                        {
                            var trace = BuildTrace(node, r.Transition, worker.Choices(r), violation, terminal: r.Kind == ExpansionWorker.RecordKind.SettledViolation);
                            _policy.Keep(trace.Violation!, trace);
                        }
                        continue;
                    }
                    if (_visited.TryAdd(r.Fingerprint, _nodes.Count, out var target))
                    {
                        var added = _nodes.Add(node, r.Transition, worker.Choices(r));
                        AddNode(r.Finished);
                        _frontier.Push(worker.Vector(r), added);
                    }
                    if (_symmetry is not null)
                    {
                        _representatives.Set(r.Raw, target);
                    }
                    _graph.AddEdge(target, r.Transition);
                }
                if (CheckLimits(current, i, depth, ref lastCheck, ref lastProgress) is { } reason)
                {
                    // Coverage as one worker would have it at this state: the batch's states up to here
                    // run again on this machine (the workers' marks are merged only after a whole batch).
                    ReplayMarks(current, from, i);
                    return Result(Verdict.LimitReached, null, null, _policy.Others, depth, reason);
                }
            }
        }
        foreach (var worker in workers)
        {
            _marks.UnionWith(worker.Marks);
            _workersEvaluatedFinal |= worker.FinalEvaluated;
            _workersMergedAHalt |= worker.MergedAHalt;
        }
        return null;
    }

    /// <summary>How many records ahead of the one it stores the merge prefetches visited-set slots.</summary>
    private const int PrefetchDistance = 8;

    /// <summary>Makes the machine calls <see cref="Expand"/> makes for the level's states
    /// <paramref name="from"/> to <paramref name="to"/> (inclusive), for their coverage marks only.</summary>
    private void ReplayMarks(StateQueue current, int from, int to)
    {
        var parent = _machine.NewState();
        var work = _machine.NewState();
        for (var i = from; i <= to; i++)
        {
            parent.Decode(current.Get(i, out _));
            var successors = 0;
            _successors.Start(parent, work);
            while (_successors.MoveNext())
            {
                successors++;
                if (_successors.Outcome != Outcome.Violation)
                {
                    _machine.CheckSettled(work);
                }
            }
            if (successors == 0)
            {
                _machine.CheckTerminal(parent);
            }
        }
    }

    /// <summary>
    /// Expands one state of the level: every transition and every branch of its choices, each successor
    /// looked up in the visited set. Returns a result that ends the search now (a terminal violation
    /// the expectation stops at), else null; <paramref name="found"/> is set when a successor commits
    /// one (the rest of the level is then scanned for terminal violations only). PERF: a method of its
    /// own, so the JIT compiles it fully rather than as an on-stack-replacement part of <see cref="Run"/>.
    /// </summary>
    private CheckResult? Expand(MachineState parent, MachineState work, int node, int depth, ref CheckResult? found)
    {
        _graph.BeginEdges();
        var successors = 0;
        _symmetry?.SetParent(parent);
        _successors.Start(parent, work);
        // PERF: without symmetry a successor is stored one successor late (pipelined): its fingerprint's slot in the
        // visited set is prefetched when it is made and probed after the next one is made, so the probe seldom
        // misses the cache; stores, node ids, edges and violations keep their order (each store is made before
        // anything that follows its successor). The successors are made in two states in turn.
        var prefetch = _symmetry is null ? _visited as FingerprintSet : null;
        var spare = prefetch is null ? null : _spare ??= _machine.NewState();
        var first = work;
        while (_successors.MoveNext())
        {
            successors++;
            _transitions++;
            if (found is not null)
            {
                break; // only whether the state has a successor matters now
            }
            var transition = _successors.Transition;
            var outcome = _successors.Outcome;
            work = _successors.Work;
            var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
            if (violation is not null)
            {
                StorePending();
                _graph.AddEdge(-1, transition);
                if (_policy.EndsSearch(violation.Code))
                {
                    var trace = BuildTrace(node, transition, _successors.Choices, violation, terminal: outcome != Outcome.Violation);
                    found = Result(Verdict.Violation, trace.Violation, trace, _policy.Others, depth + 1, null);
                    break;
                }
                if (_policy.Keeps(violation.Code))
                {
                    var trace = BuildTrace(node, transition, _successors.Choices, violation, terminal: outcome != Outcome.Violation);
                    _policy.Keep(trace.Violation!, trace);
                }
                continue;
            }
            // The state vector is its own canonical encoding: hashed and queued as it is (with symmetry,
            // its orbit's representative; a successor vector met before is known by its own fingerprint
            // without being canonicalised again).
            int target;
            if (prefetch is not null)
            {
                var fingerprint = MachineState.Fingerprint(work.Span);
                prefetch.Prefetch(fingerprint);
                StorePending();
                _pendingState = work;
                _pendingFingerprint = fingerprint;
                _pendingNode = node;
                _pendingTransition = transition;
                _pendingFinished = work.Finished;
                _pendingChoices.Clear();
                _pendingChoices.AddRange(_successors.Choices);
                _hasPending = true;
                _successors.Redirect(ReferenceEquals(work, spare) ? first : spare!);
                continue;
            }
            if (_symmetry is null)
            {
                Store(work.Span, MachineState.Fingerprint(work.Span), node, transition, work.Finished, _successors.Choices, out target);
            }
            else
            {
                var raw = MachineState.Fingerprint(work.Span);
                if (!_representatives.TryGet(raw, out target))
                {
                    var stored = _symmetry.Canonicalize(work);
                    Store(stored, _symmetry.LastWasIdentity ? raw : MachineState.Fingerprint(stored), node, transition, work.Finished, _successors.Choices, out target);
                    _representatives.Set(raw, target);
                }
            }
            _graph.AddEdge(target, transition);
        }
        StorePending();
        if (successors == 0 && _machine.CheckTerminal(parent) is { } terminal)
        {
            if (_policy.EndsSearch(terminal.Code))
            {
                return Result(Verdict.Violation, terminal, BuildTrace(node, null, [], terminal, terminal: true), _policy.Others, depth, null);
            }
            if (_policy.Keeps(terminal.Code))
            {
                _policy.Keep(terminal, BuildTrace(node, null, [], terminal, terminal: true));
            }
        }
        return null;
    }

    /// <summary>Stores the successor the pipeline of <see cref="Expand"/> holds, if any, and adds its edge.</summary>
    private void StorePending()
    {
        if (!_hasPending)
        {
            return;
        }
        _hasPending = false;
        Store(_pendingState!.Span, _pendingFingerprint, _pendingNode, _pendingTransition, _pendingFinished, CollectionsMarshal.AsSpan(_pendingChoices), out var target);
        _graph.AddEdge(target, _pendingTransition);
    }

    private void AddNode(bool finished)
    {
        _graph.AddNode(finished);
        _finishedMarks?.Add(finished ? (byte)1 : (byte)0);
    }

    /// <summary>Looks a stored vector up in the visited set; a new one becomes a node and joins the next level.</summary>
    private void Store(ReadOnlySpan<long> stored, ulong fingerprint, int node, Transition transition, bool finished, ReadOnlySpan<int> choices, out int target)
    {
        if (_visited.TryAdd(fingerprint, _nodes.Count, out target))
        {
            var added = _nodes.Add(node, transition, choices);
            AddNode(finished);
            _frontier.Push(stored, added);
        }
    }

    private Trace BuildTrace(int node, Transition? last, ReadOnlySpan<int> lastChoices, Violation violation, bool terminal) =>
        _reductions.Build(_nodes.PathTo(node), last is { } t ? new TraceStep(t, lastChoices.ToArray()) : null, violation, terminal);

    private CheckResult Result(Verdict verdict, Violation? violation, Trace? trace, IReadOnlyList<(Violation, Trace)> others, int depth, string? limit) => new()
    {
        Program = _program,
        Verdict = verdict,
        Violation = violation,
        Trace = trace,
        // The initial state counts even when its init blocks commit a violation (it is then never visited).
        Statistics = new Statistics(Math.Max(1, _visited.Count), _transitions, depth, Elapsed.TotalSeconds, _peakMemory),
        OtherViolations = others,
        LimitReason = limit,
        Symmetry = _reductions.SymmetryUse,
        Bitstate = _visited is BitstateSet bits ? new BitstateUse(bits.Bits, bits.Hashes, bits.HashFactor, bits.OmissionProbability) : null,
        Reduction = _reductions.Use(MergedAHalt),
        UntrackedLines = _reductions.Untracked?.Lines ?? [],
        MergedHalts = MergedAHalt,
        FinalEvaluated = _machine.FinalEvaluations > 0 || _workersEvaluatedFinal,
        LivelockOff = !_options.Livelock,
        LivelockGraphDropped = _graphDropped,
        LeanPassRan = _leanPassRan,
        Coverage = Coverage.Analyze(_program, _marks, exhaustive: verdict == Verdict.Pass),
    };
}
