using System.Runtime.ExceptionServices;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// The parallel breadth-first search's workers: one <see cref="ExpansionWorker"/> per worker, worker 0
/// run on the search's own thread and the others on threads of their own, started once per search and
/// woken once per batch. A batch is a run of a level's states cut into contiguous chunks, one per
/// worker; <see cref="Expand"/> returns when every chunk is expanded.
/// PERF: one barrier, two phases per batch; nothing is allocated per batch.
/// </summary>
internal sealed class ExpansionPool : IDisposable
{
    private readonly ExpansionWorker[] _workers;
    private readonly Thread[] _threads;
    private readonly Barrier _barrier;
    private StateQueue? _level;
    private volatile bool _stopping;

    /// <param name="memo">With symmetry, the search's memo of representatives (read by the workers while
    /// they expand, written only by the merge); null without symmetry.</param>
    /// <param name="visited">Without symmetry: the search's visited set, read by the workers while they expand
    /// (written only by the merge); null when it is not a <see cref="FingerprintSet"/>.</param>
    public ExpansionPool(Reductions reductions, ExpectationPolicy policy, RepresentativeMemo? memo, int workers, FingerprintSet? visited = null)
    {
        _workers = new ExpansionWorker[workers];
        for (var w = 0; w < workers; w++)
        {
            _workers[w] = new ExpansionWorker(reductions, policy, memo, visited);
        }
        _barrier = new Barrier(workers);
        _threads = new Thread[workers - 1];
        for (var t = 0; t < _threads.Length; t++)
        {
            var worker = _workers[t + 1];
            _threads[t] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"kexecsim worker {t + 1}" };
            _threads[t].Start();
        }
    }

    public int Count => _workers.Length;

    public ExpansionWorker this[int worker] => _workers[worker];

    /// <summary>The bytes the workers' buffers hold.</summary>
    public long MemoryBytes => _workers.Sum(w => w.MemoryBytes);

    /// <summary>
    /// Expands the level's states <paramref name="from"/> to <paramref name="to"/> (exclusive), in
    /// contiguous chunks of about equal size. False when a chunk met a violation that ends the search
    /// (the search then runs that part of the level itself).
    /// </summary>
    public bool Expand(StateQueue level, int from, int to)
    {
        var count = to - from;
        for (var w = 0; w < _workers.Length; w++)
        {
            _workers[w].Assign(from + (int)((long)count * w / _workers.Length), from + (int)((long)count * (w + 1) / _workers.Length));
        }
        _level = level;
        _barrier.SignalAndWait(); // go
        Run(_workers[0]);
        _barrier.SignalAndWait(); // every chunk done
        var clean = true;
        foreach (var worker in _workers)
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

    private void Loop(ExpansionWorker worker)
    {
        while (true)
        {
            _barrier.SignalAndWait();
            if (_stopping)
            {
                return;
            }
            Run(worker);
            _barrier.SignalAndWait();
        }
    }

    private void Run(ExpansionWorker worker)
    {
        try
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            worker.Expand(_level!);
            worker.AllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        catch (Exception e)
        {
            worker.Error = e;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _barrier.SignalAndWait();
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        _barrier.Dispose();
    }
}
