using System.Runtime.InteropServices;
using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// The search's node table: for each distinct state found, by node id (0 is the initial state), its
/// parent node, the transition that reached it and that step's choices, from which a trace is rebuilt.
/// PERF: 8 bytes per node in two flat arrays: the parent, and a label — the packed transition itself
/// when it has no tag, else the number of a tagged transition (<see cref="TaggedLabels"/>: a model has a
/// few hundred) with the top bit set, as the LIVELOCK graph's edges. Choices are rare (a step with an
/// <c>either</c> or <c>choose</c>): only the nodes that made some are in a side table.
/// </summary>
public sealed class NodeTable
{
    private readonly ChunkedArray<int> _parents = new();
    private readonly ChunkedArray<int> _labels = new();
    private readonly TaggedLabels _tagged = new();

    // The nodes whose step made choices: where their choice count, then the choices, start in the pool.
    private readonly Dictionary<int, int> _choiceStarts = [];
    private readonly List<int> _choicePool = [];

    public int Count => _parents.Count;

    /// <summary>The bytes the table's arrays hold (as allocated; a dictionary entry as 24 bytes).</summary>
    public long MemoryBytes =>
        _parents.MemoryBytes + _labels.MemoryBytes + ((long)_choicePool.Capacity * sizeof(int))
        + (long)_choiceStarts.Count * 24 + _tagged.MemoryBytes;

    /// <summary>Adds a node and returns its id (ids are given in order: 0, 1, 2, ...).</summary>
    /// <param name="parent">The parent node; -1 for the initial state.</param>
    public int Add(int parent, Transition transition, ReadOnlySpan<int> choices)
    {
        _parents.Add(parent);
        _labels.Add(Label(transition));
        var node = _parents.Count - 1;
        SetChoices(node, choices);
        return node;
    }

    /// <summary>
    /// Gives <paramref name="node"/> another way in: a new parent, transition and choices (the depth-bounded
    /// search of <c>--shorten</c> does this when it reaches a state by a shorter path). The old choices stay
    /// in the pool, unused.
    /// </summary>
    public void Reparent(int node, int parent, Transition transition, ReadOnlySpan<int> choices)
    {
        _parents[node] = parent;
        _labels[node] = Label(transition);
        _choiceStarts.Remove(node);
        SetChoices(node, choices);
    }

    private int Label(Transition transition)
    {
        var packed = PackedTransition.Pack(transition);
        return packed.Tag == 0 && packed.Head >= 0 ? packed.Head : int.MinValue | _tagged.Intern(packed.Head, packed.Tag);
    }

    private void SetChoices(int node, ReadOnlySpan<int> choices)
    {
        if (!choices.IsEmpty)
        {
            _choiceStarts[node] = _choicePool.Count;
            _choicePool.Add(choices.Length);
            _choicePool.AddRange(choices);
        }
    }

    /// <summary>Writes the table (docs/checkpoint.md); the choices' list capacity too, so the memory figures go on as they would.</summary>
    internal void Save(BinaryWriter writer)
    {
        _parents.Save(writer);
        _labels.Save(writer);
        _tagged.Save(writer);
        writer.Write(_choiceStarts.Count);
        foreach (var (node, start) in _choiceStarts)
        {
            writer.Write(node);
            writer.Write(start);
        }
        Checkpoint.WriteInts(writer, _choicePool);
    }

    /// <summary>Reads what <see cref="Save"/> wrote into an empty table.</summary>
    internal void Load(BinaryReader reader)
    {
        _parents.Load(reader);
        _labels.Load(reader);
        if (_labels.Count != _parents.Count)
        {
            throw new InvalidDataException("the node table's arrays differ in length");
        }
        _tagged.Load(reader);
        var choices = Checkpoint.ReadCount(reader);
        for (var i = 0; i < choices; i++)
        {
            var node = reader.ReadInt32();
            _choiceStarts[node] = reader.ReadInt32();
        }
        Checkpoint.ReadInts(reader, _choicePool);
    }

    /// <summary>The node's parent; -1 for the initial state.</summary>
    public int Parent(int node) => _parents[node];

    /// <summary>The transition from the parent's state to this node's.</summary>
    public Transition Transition(int node)
    {
        var label = _labels[node];
        return (label >= 0 ? new PackedTransition(label, 0) : _tagged[label & int.MaxValue]).Unpack();
    }

    /// <summary>The values of the nondeterministic choices the node's step made, in order.</summary>
    public ReadOnlySpan<int> Choices(int node) =>
        _choiceStarts.TryGetValue(node, out var start) ? CollectionsMarshal.AsSpan(_choicePool).Slice(start + 1, _choicePool[start]) : [];

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
