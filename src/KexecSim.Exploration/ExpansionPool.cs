using System.Runtime.ExceptionServices;

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

    /// <summary>The bytes the workers' buffers hold.</summary>
    public long MemoryBytes => _sets.Sum(set => set.Sum(w => w.MemoryBytes));

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

    /// <summary>Waits for set <paramref name="set"/>'s batch. False when a chunk met a violation that ends the search
    /// (the search then runs that part of the level itself).</summary>
    public bool Wait(int set)
    {
        _done[set].Wait();
        var clean = true;
        foreach (var worker in _sets[set])
        {
            if (worker.Error is { } error)
            {
                // As one worker would throw it (the same type and message), with the worker's stack.
                worker.Error = null;
                ExceptionDispatchInfo.Capture(error).Throw();
            }
            clean &= !worker.MetEnd;
        }
        return clean;
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
