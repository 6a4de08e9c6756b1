using System.Runtime.ExceptionServices;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// The parallel breadth-first search's workers, started once per search. A batch is a run of a level's states
/// cut into contiguous chunks, one per worker, each written into that worker's own buffers.
/// <list type="bullet">
/// <item>Plain (<see cref="Expand"/>): worker 0 runs on the search's own thread and the others on threads of their
/// own; the call returns when every chunk is expanded, and the search then merges them while the workers wait.</item>
/// <item>Pipelined (<see cref="Post"/>, <see cref="Wait"/>): two sets of workers, every one expanded on a thread of its
/// own, so that one batch is expanded while the search merges the batch before it (PERF: the merge is serial; with
/// the workers waiting for it, two workers gave a search no faster than one). A worker then reads nothing the merge
/// writes (no memo, no visited set): it only reads the level, which no one writes while it is expanded.</item>
/// </list>
/// PERF: nothing is allocated per batch.
/// </summary>
internal sealed class ExpansionPool : IDisposable
{
    private readonly ExpansionWorker[][] _sets;
    private readonly Thread[] _threads;
    private readonly int _firstOnThread;            // 1 plain (worker 0 is the search's), 0 pipelined
    private readonly SemaphoreSlim[] _go;           // per thread: a batch was posted
    private readonly Queue<int>[] _jobs;            // per thread: the sets posted to it, in order
    private readonly CountdownEvent[] _done;        // per set: the threads' chunks of its batch done
    private readonly StateQueue?[] _levels;         // per set: the level its batch is of
    private volatile bool _stopping;

    /// <param name="memo">With symmetry, the search's memo of representatives (read by the workers of a plain pool while
    /// they expand, written only by the merge); null without symmetry.</param>
    /// <param name="visited">Without symmetry: the search's visited set, read by the workers of a plain pool while they
    /// expand (written only by the merge); null when it is not a <see cref="FingerprintSet"/>.</param>
    /// <param name="pipelined">Two sets of workers on threads of their own (<see cref="Post"/>); their workers read neither
    /// the memo nor the visited set.</param>
    public ExpansionPool(Reductions reductions, ExpectationPolicy policy, RepresentativeMemo? memo, int workers, FingerprintSet? visited = null, bool pipelined = false)
    {
        Pipelined = pipelined;
        _sets = new ExpansionWorker[pipelined ? 2 : 1][];
        for (var s = 0; s < _sets.Length; s++)
        {
            _sets[s] = new ExpansionWorker[workers];
            for (var w = 0; w < workers; w++)
            {
                _sets[s][w] = pipelined
                    ? new ExpansionWorker(reductions, policy, null, null, symmetry: memo is not null)
                    : new ExpansionWorker(reductions, policy, memo, visited);
            }
        }
        _firstOnThread = pipelined ? 0 : 1;
        _threads = new Thread[workers - _firstOnThread];
        _go = new SemaphoreSlim[_threads.Length];
        _jobs = new Queue<int>[_threads.Length];
        _done = [.. _sets.Select(_ => new CountdownEvent(0))];
        _levels = new StateQueue?[_sets.Length];
        for (var t = 0; t < _threads.Length; t++)
        {
            var thread = t;
            _go[t] = new SemaphoreSlim(0);
            _jobs[t] = new Queue<int>(2);
            _threads[t] = new Thread(() => Loop(thread)) { IsBackground = true, Name = $"kexecsim worker {t + _firstOnThread}" };
            _threads[t].Start();
        }
    }

    /// <summary>Whether batches are expanded while the one before is merged (<see cref="Post"/>).</summary>
    public bool Pipelined { get; }

    /// <summary>Workers per batch.</summary>
    public int Count => _sets[0].Length;

    /// <summary>Worker <paramref name="worker"/> of the plain pool (of set 0).</summary>
    public ExpansionWorker this[int worker] => _sets[0][worker];

    /// <summary>The workers of set <paramref name="set"/>, chunk 0 first.</summary>
    public ExpansionWorker[] Set(int set) => _sets[set];

    /// <summary>The bytes the workers' buffers hold.</summary>
    public long MemoryBytes => _sets.Sum(set => set.Sum(w => w.MemoryBytes));

    /// <summary>
    /// Plain pool: expands the level's states <paramref name="from"/> to <paramref name="to"/> (exclusive), in
    /// contiguous chunks of about equal size. False when a chunk met a violation that ends the search
    /// (the search then runs that part of the level itself).
    /// </summary>
    public bool Expand(StateQueue level, int from, int to)
    {
        Post(0, level, from, to);
        Run(_sets[0][0], level);
        return Wait(0);
    }

    /// <summary>Starts set <paramref name="set"/>'s workers on the level's states <paramref name="from"/> to
    /// <paramref name="to"/> (exclusive), the set's last batch having been waited for.</summary>
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

    /// <summary>Waits for set <paramref name="set"/>'s batch. False when a chunk met a violation that ends the search.</summary>
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
            Run(_sets[set][thread + _firstOnThread], _levels[set]!);
            _done[set].Signal();
        }
    }

    private static void Run(ExpansionWorker worker, StateQueue level)
    {
        try
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            worker.Expand(level);
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
