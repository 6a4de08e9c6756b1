namespace KexecSim.Exploration;

/// <summary>
/// The parallel breadth-first search's workers, started once per search, each on a thread of its own. A batch is a run
/// of a level's states cut into contiguous chunks, one per worker, each written into that worker's own buffers. The pool
/// has two sets of workers, so that one batch is expanded while the search merges the batch before it
/// (<see cref="Post"/>, <see cref="Wait"/>; PERF: the merge is serial, and with the workers waiting for it two workers
/// made a search with symmetry no faster than one, and one without it slower). A worker therefore reads nothing the merge
/// writes: only the level, which no one writes while it is expanded.
/// PERF: nothing is allocated per batch.
/// </summary>
internal sealed class ExpansionPool : IDisposable
{
    private readonly ExpansionWorker[][] _sets = new ExpansionWorker[2][];
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _go;       // per thread: a batch was posted
    private readonly Queue<int>[] _jobs;        // per thread: the sets posted to it, in order
    private readonly CountdownEvent[] _done;    // per set: the threads' chunks of its batch done
    private readonly StateQueue?[] _levels = new StateQueue?[2];
    private readonly long[] _setBytes = new long[2];    // per set: its buffers' bytes when it was last waited for
    private volatile bool _stopping;

    /// <param name="symmetry">Whether the workers canonicalise (the search reduces by symmetry).</param>
    public ExpansionPool(Reductions reductions, ExpectationPolicy policy, int workers, bool symmetry)
    {
        for (var s = 0; s < _sets.Length; s++)
        {
            _sets[s] = new ExpansionWorker[workers];
            for (var w = 0; w < workers; w++)
            {
                _sets[s][w] = new ExpansionWorker(reductions, policy, symmetry);
            }
        }
        _threads = new Thread[workers];
        _go = new SemaphoreSlim[workers];
        _jobs = new Queue<int>[workers];
        _done = [new CountdownEvent(0), new CountdownEvent(0)];
        _setBytes[0] = _sets[0].Sum(w => w.MemoryBytes);
        _setBytes[1] = _sets[1].Sum(w => w.MemoryBytes);
        for (var t = 0; t < workers; t++)
        {
            var thread = t;
            _go[t] = new SemaphoreSlim(0);
            _jobs[t] = new Queue<int>(2);
            _threads[t] = new Thread(() => Loop(thread)) { IsBackground = true, Name = $"kexecsim worker {t}" };
            _threads[t].Start();
        }
    }

    /// <summary>Workers per batch.</summary>
    public int Count => _threads.Length;

    /// <summary>The workers of set <paramref name="set"/> (0 or 1), chunk 0 first.</summary>
    public ExpansionWorker[] Set(int set) => _sets[set];

    /// <summary>The bytes the workers' buffers hold, each set's as it was when last waited for (a set being expanded
    /// grows its buffers meanwhile: read then, the figure, and where <c>--memory-limit</c> stops, would depend on
    /// timing).</summary>
    public long MemoryBytes => _setBytes[0] + _setBytes[1];

    /// <summary>Starts set <paramref name="set"/>'s workers on the level's states <paramref name="from"/> to
    /// <paramref name="to"/> (exclusive), in contiguous chunks of about equal size; the set's last batch must have
    /// been waited for.</summary>
    public void Post(int set, StateQueue level, int from, int to)
    {
        var workers = _sets[set];
        var count = to - from;
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w].Assign(from + (int)((long)count * w / workers.Length), from + (int)((long)count * (w + 1) / workers.Length));
        }
        _levels[set] = level;
        _done[set].Reset(_threads.Length);
        for (var t = 0; t < _threads.Length; t++)
        {
            lock (_jobs[t])
            {
                _jobs[t].Enqueue(set);
            }
            _go[t].Release();
        }
    }

    /// <summary>Waits for set <paramref name="set"/>'s batch. False when a chunk met a violation that ends the search or
    /// threw (the search then runs that part of the level itself, and meets either where one worker would, or not at
    /// all: a worker's exception is not thrown here, <see cref="TakeError"/> has it).</summary>
    public bool Wait(int set)
    {
        _done[set].Wait();
        var clean = true;
        long bytes = 0;
        foreach (var worker in _sets[set])
        {
            clean &= worker.Error is null && !worker.MetEnd;
            bytes += worker.MemoryBytes;
        }
        _setBytes[set] = bytes;
        return clean;
    }

    /// <summary>The exception the first chunk that threw in set <paramref name="set"/>'s last batch threw (null: none), and
    /// the set's errors cleared.</summary>
    public Exception? TakeError(int set)
    {
        Exception? first = null;
        foreach (var worker in _sets[set])
        {
            first ??= worker.Error;
            worker.Error = null;
        }
        return first;
    }

    private void Loop(int thread)
    {
        while (true)
        {
            _go[thread].Wait();
            if (_stopping)
            {
                return;
            }
            int set;
            lock (_jobs[thread])
            {
                set = _jobs[thread].Dequeue();
            }
            var worker = _sets[set][thread];
            try
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                worker.Expand(_levels[set]!);
                worker.AllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                worker.Error = e;
            }
            _done[set].Signal();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var go in _go)
        {
            go.Release();
        }
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        foreach (var go in _go)
        {
            go.Dispose();
        }
        foreach (var done in _done)
        {
            done.Dispose();
        }
    }
}
