using System.Runtime.InteropServices;
using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// The search's node table: for each distinct state found, by node id (0 is the initial state), its
/// parent node, the transition that reached it and that step's choices, from which a trace is rebuilt.
/// PERF: parallel flat arrays, no object per node; the choices of all nodes share one pool
/// (a node without choices, the common case, costs no pool entry).
/// </summary>
public sealed class NodeTable
{
    private readonly List<int> _parents = [];
    private readonly List<int> _heads = [];
    private readonly List<long> _tags = [];

    // Per node: 0 when it made no choice, else the index in the pool of its choice count, followed by the choices.
    private readonly List<int> _choiceStarts = [];
    private readonly List<int> _choicePool = [0];

    public int Count => _parents.Count;

    /// <summary>The bytes the table's arrays hold (their capacity, as allocated).</summary>
    public long MemoryBytes =>
        ((long)_parents.Capacity + _heads.Capacity + _choiceStarts.Capacity + _choicePool.Capacity) * sizeof(int)
        + (long)_tags.Capacity * sizeof(long);

    /// <summary>Adds a node and returns its id (ids are given in order: 0, 1, 2, ...).</summary>
    /// <param name="parent">The parent node; -1 for the initial state.</param>
    public int Add(int parent, Transition transition, ReadOnlySpan<int> choices)
    {
        var packed = PackedTransition.Pack(transition);
        _parents.Add(parent);
        _heads.Add(packed.Head);
        _tags.Add(packed.Tag);
        if (choices.IsEmpty)
        {
            _choiceStarts.Add(0);
        }
        else
        {
            _choiceStarts.Add(_choicePool.Count);
            _choicePool.Add(choices.Length);
            _choicePool.AddRange(choices);
        }
        return _parents.Count - 1;
    }

    /// <summary>
    /// Gives <paramref name="node"/> another way in: a new parent, transition and choices (the depth-bounded
    /// search of <c>--shorten</c> does this when it reaches a state by a shorter path). The old choices stay
    /// in the pool, unused.
    /// </summary>
    public void Reparent(int node, int parent, Transition transition, ReadOnlySpan<int> choices)
    {
        var packed = PackedTransition.Pack(transition);
        _parents[node] = parent;
        _heads[node] = packed.Head;
        _tags[node] = packed.Tag;
        if (choices.IsEmpty)
        {
            _choiceStarts[node] = 0;
        }
        else
        {
            _choiceStarts[node] = _choicePool.Count;
            _choicePool.Add(choices.Length);
            _choicePool.AddRange(choices);
        }
    }

    /// <summary>The node's parent; -1 for the initial state.</summary>
    public int Parent(int node) => _parents[node];

    /// <summary>The transition from the parent's state to this node's.</summary>
    public Transition Transition(int node) => new PackedTransition(_heads[node], _tags[node]).Unpack();

    /// <summary>The values of the nondeterministic choices the node's step made, in order.</summary>
    public ReadOnlySpan<int> Choices(int node)
    {
        var start = _choiceStarts[node];
        return start == 0 ? [] : CollectionsMarshal.AsSpan(_choicePool).Slice(start + 1, _choicePool[start]);
    }

    /// <summary>The steps from the initial state to <paramref name="node"/>.</summary>
    public List<TraceStep> PathTo(int node)
    {
        var steps = new List<TraceStep>();
        for (var n = node; n > 0; n = _parents[n])
        {
            steps.Add(new TraceStep(Transition(n), Choices(n).ToArray()));
        }
        steps.Reverse();
        return steps;
    }
}
