using System.Runtime.InteropServices;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// LIVELOCK without the graph (<c>--livelock lean</c>; docs/livelock.md): after a complete breadth-first search that kept
/// no edge, a second pass walks the unfinished states again from the initial one, making each state's successors anew
/// and naming each by the node the search stored it as (its fingerprint in the visited set), and finds the strongly
/// connected components on the fly (Tarjan, "Depth-first search and linear graph algorithms", SIAM J. Comput. 1972,
/// iteratively). Only the states on the walk's path and in components not yet closed keep their edges; a closed
/// component is judged as <see cref="LivelockDetector"/> judges it, on a graph of its own nodes (its edges that leave it
/// lead nowhere there). The components are those of the graph the search would have kept, and the one reported is the
/// same (the fair one with the smallest node), with the same cycle: the result is the graph's, in about twice the time
/// and without its 6 bytes an edge.
/// </summary>
/// <remarks>
/// A finished run stays finished (only <c>done()</c> and <c>platform_reset()</c> set it, and nothing clears it), so every
/// unfinished state is reached from the initial state through unfinished ones: the walk from there meets them all.
/// Memory: an int a node (Tarjan's index), the path's states, the open nodes' low links and their edges.
/// </remarks>
internal sealed class LivelockSearch
{
    private readonly Machine.Machine _machine;
    private readonly StateSymmetry? _symmetry;
    private readonly FingerprintSet _visited;
    private readonly ChunkedArray<byte> _finished;
    private readonly SuccessorEnumerator _successors;
    private readonly TraceChooser _chooser = new();
    private readonly CancellationToken _cancellation;

    // Per node: Tarjan's index; -1 until it is met, Closed once its component is closed (PERF, memory: 4 bytes a node;
    // the low links are kept for the open nodes only).
    private readonly ChunkedArray<int> _index = new();
    private const int Closed = int.MaxValue;

    // The open nodes (met, component not closed), in the order met, each with its low link and its edges in the arena.
    private readonly List<int> _open = [];
    private readonly List<int> _openLow = [];
    private readonly List<int> _openEdges = []; // per open node: where its edges start in the arena
    private readonly List<Edge> _edges = [];
    private readonly List<int> _choices = [];

    // The walk's path: per frame its node, next edge, and where its state vector lies in the vector arena.
    private readonly List<(int Node, int Open, int NextEdge, int EdgeEnd, int VectorStart, int VectorLength)> _path = [];
    private long[] _vectors = new long[1 << 12];
    private int _vectorCount;

    private readonly record struct Edge(int Target, Transition Transition, int ChoiceStart, int ChoiceCount);

    public LivelockSearch(Machine.Machine machine, StateSymmetry? symmetry, FingerprintSet visited, ChunkedArray<byte> finished, CancellationToken cancellation)
    {
        _machine = machine;
        _symmetry = symmetry;
        _visited = visited;
        _finished = finished;
        _successors = new SuccessorEnumerator(machine);
        _cancellation = cancellation;
    }

    /// <summary>Told how the pass goes about every <see cref="ProgressInterval"/> (its seconds and memory are the pass's own:
    /// the search adds its own).</summary>
    public Action<Progress>? Progress { get; init; }

    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Given the bytes the pass holds, why it must stop (the search's memory limit), or null; asked as the pass
    /// starts and every 1,024 states walked. The pass then throws <see cref="LimitReachedException"/>.</summary>
    public Func<long, string?>? Limit { get; init; }

    /// <summary>The pass stopped at a limit (<see cref="Limit"/>): the search reports it without a verdict.</summary>
    public sealed class LimitReachedException(string reason) : Exception(reason)
    {
        public string Reason { get; } = reason;
    }

    private readonly System.Diagnostics.Stopwatch _clock = new();
    private TimeSpan _lastProgress;
    private long _walked;
    private long _edgesMade;

    /// <summary>The bytes the pass holds (its per-node tables, the path's states, the open components' edges).</summary>
    public long MemoryBytes =>
        _index.MemoryBytes + ((long)_vectors.Length * sizeof(long)) + ((long)_path.Capacity * 32)
        + ((long)_edges.Capacity * 40) + ((long)(_open.Capacity + _openLow.Capacity + _openEdges.Capacity + _choices.Capacity) * sizeof(int));

    /// <summary>A closed component with a cycle: its nodes in id order, and its own graph (local ids in that order).</summary>
    public sealed record Component(int[] Nodes, LivelockGraph Graph);

    /// <summary>
    /// Walks every unfinished state from <paramref name="initial"/> (the initial state's stored vector, node 0). With
    /// <paramref name="anyCycle"/>, stops at the first component with a cycle and returns it, fair or not; else returns the
    /// fair component with the smallest node (null when there is none).
    /// </summary>
    public Component? Run(ReadOnlySpan<long> initial, bool anyCycle)
    {
        if (_finished.Count == 0 || _finished[0] != 0)
        {
            return null;
        }
        for (var n = 0; n < _finished.Count; n++)
        {
            _index.Add(-1);
        }
        var parent = _machine.NewState();
        var work = _machine.NewState();
        Component? best = null;
        var counter = 0;
        _clock.Restart();
        _lastProgress = TimeSpan.Zero;
        Open(0, initial, parent, work, ref counter);
        var checkedAt = -1;
        while (_path.Count > 0)
        {
            if (checkedAt < 0 || counter - checkedAt >= 1024)
            {
                checkedAt = counter;
                _cancellation.ThrowIfCancellationRequested();
                Report();
                if (Limit?.Invoke(MemoryBytes) is { } reason)
                {
                    throw new LimitReachedException(reason);
                }
            }
            var frame = _path[^1];
            var descended = false;
            while (frame.NextEdge < frame.EdgeEnd)
            {
                var edge = _edges[frame.NextEdge++];
                var target = edge.Target;
                if (target < 0 || _finished[target] != 0)
                {
                    continue;
                }
                if (_index[target] < 0)
                {
                    _path[^1] = frame;
                    // The successor again, from the frame's state, by the edge's transition and choices.
                    parent.Decode(_vectors.AsSpan(frame.VectorStart, frame.VectorLength));
                    work.CopyFrom(parent);
                    _chooser.Start(edge.ChoiceCount == 0 ? [] : [.. CollectionsMarshal.AsSpan(_choices).Slice(edge.ChoiceStart, edge.ChoiceCount)]);
                    var outcome = _machine.Apply(work, edge.Transition, _chooser);
                    var vector = _symmetry is null ? work.Span : _symmetry.Canonicalize(work);
                    // The step is deterministic given its choices: the state made again is the one stored as the target.
                    if (outcome is Outcome.Disabled or Outcome.NeedChoice or Outcome.Violation
                        || !_visited.TryGet(MachineState.Fingerprint(vector), out var again) || again != target)
                    {
                        throw new InvalidOperationException($"the step {edge.Transition} made again does not reach the state it reached ({outcome})");
                    }
                    Open(target, vector, parent, work, ref counter);
                    descended = true;
                    break;
                }
                if (_index[target] != Closed)
                {
                    _openLow[frame.Open] = Math.Min(_openLow[frame.Open], _index[target]); // open: on Tarjan's stack
                }
            }
            if (descended)
            {
                continue;
            }
            _path.RemoveAt(_path.Count - 1);
            _vectorCount = frame.VectorStart;
            var node = frame.Node;
            var low = _openLow[frame.Open];
            if (low == _index[node] && Close(frame.Open) is { } component)
            {
                if (anyCycle)
                {
                    return component;
                }
                if ((best is null || component.Nodes[0] < best.Nodes[0]) && new LivelockDetector(component.Graph, _cancellation).FairComponents().Any())
                {
                    best = component;
                }
            }
            if (_path.Count > 0)
            {
                var up = _path[^1].Open;
                _openLow[up] = Math.Min(_openLow[up], low);
            }
        }
        Report(force: true);
        return best;
    }

    private void Report(bool force = false)
    {
        if (Progress is not { } progress || (!force && _clock.Elapsed - _lastProgress < ProgressInterval))
        {
            return;
        }
        _lastProgress = _clock.Elapsed;
        progress(new Progress(_walked, _edgesMade, _path.Count, _open.Count, _clock.Elapsed.TotalSeconds, MemoryBytes)
        {
            Phase = "LIVELOCK pass",
            Of = _finished.Count,
        });
    }

    /// <summary>Meets <paramref name="node"/>, whose stored vector is <paramref name="vector"/>: its edges into the arena,
    /// its frame onto the path.</summary>
    private void Open(int node, ReadOnlySpan<long> vector, MachineState parent, MachineState work, ref int counter)
    {
        _index[node] = counter;
        _openLow.Add(counter++);
        _walked++;
        if (_vectorCount + vector.Length > _vectors.Length)
        {
            Array.Resize(ref _vectors, Math.Max(_vectors.Length * 2, _vectorCount + vector.Length));
        }
        var start = _vectorCount;
        vector.CopyTo(_vectors.AsSpan(start));
        _vectorCount += vector.Length;
        _open.Add(node);
        _openEdges.Add(_edges.Count);
        var first = _edges.Count;

        parent.Decode(_vectors.AsSpan(start, vector.Length));
        _symmetry?.SetParent(parent);
        _successors.Start(parent, work);
        while (_successors.MoveNext())
        {
            var outcome = _successors.Outcome;
            var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
            var target = -1;
            if (violation is null)
            {
                var stored = _symmetry is null ? work.Span : _symmetry.Canonicalize(work);
                if (!_visited.TryGet(MachineState.Fingerprint(stored), out target) || target < 0)
                {
                    throw new InvalidOperationException("a successor the search stored is not in its visited set");
                }
            }
            var choices = _successors.Choices;
            _edges.Add(new Edge(target, _successors.Transition, _choices.Count, choices.Length));
            _edgesMade++;
            foreach (var choice in choices)
            {
                _choices.Add(choice);
            }
        }
        _path.Add((node, _open.Count - 1, first, _edges.Count, start, vector.Length));
    }

    /// <summary>Closes the component rooted at the open node <paramref name="at"/> (the open nodes from it on): a component
    /// with a cycle (more than one node, or one with an edge to itself) as its own graph; null for one without.</summary>
    private Component? Close(int at)
    {
        var root = _open[at];
        var count = _open.Count - at;
        var members = _open.GetRange(at, count).ToArray();
        var edgesFrom = _openEdges[at];
        Component? component = null;
        var selfLoop = false;
        if (count == 1)
        {
            for (var e = edgesFrom; e < _edges.Count; e++)
            {
                selfLoop |= _edges[e].Target == root;
            }
        }
        if (count > 1 || selfLoop)
        {
            // Local ids in node order (the graph's detector takes the smallest node as the cycle's entry), each with its
            // place among the open nodes (PERF: one sort, no search per member).
            var positions = new int[count];
            for (var i = 0; i < count; i++)
            {
                positions[i] = at + i;
            }
            var order = (int[])members.Clone();
            Array.Sort(order, positions);
            var local = new Dictionary<int, int>(count);
            for (var i = 0; i < order.Length; i++)
            {
                local[order[i]] = i;
            }
            var graph = new LivelockGraph(small: true);
            foreach (var _ in order)
            {
                graph.AddNode(false);
            }
            for (var i = 0; i < order.Length; i++)
            {
                if ((i & 4095) == 4095)
                {
                    _cancellation.ThrowIfCancellationRequested();
                }
                var position = positions[i];
                var end = position + 1 < _open.Count ? _openEdges[position + 1] : _edges.Count;
                graph.BeginEdges(i);
                for (var e = _openEdges[position]; e < end; e++)
                {
                    var edge = _edges[e];
                    graph.AddEdge(edge.Target >= 0 && local.TryGetValue(edge.Target, out var inside) ? inside : -1, edge.Transition);
                }
            }
            component = new Component(order, graph);
        }
        foreach (var member in members)
        {
            _index[member] = Closed;
        }
        var choicesFrom = edgesFrom < _edges.Count ? _edges[edgesFrom].ChoiceStart : _choices.Count;
        _open.RemoveRange(at, count);
        _openLow.RemoveRange(at, count);
        _openEdges.RemoveRange(at, count);
        _edges.RemoveRange(edgesFrom, _edges.Count - edgesFrom);
        _choices.RemoveRange(choicesFrom, _choices.Count - choicesFrom);
        return component;
    }
}
