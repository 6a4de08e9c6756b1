using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// The explored graph a LIVELOCK is looked for in (SEMANTICS.md section 7): per node whether its run has
/// finished and, for each expanded node, its edges (the successor's node id, -1 for a violation) with
/// their transitions as labels. Nodes are added in id order; they may be expanded in any order (the
/// breadth-first search expands them in id order, the depth-first one in its stack's order), each once,
/// its edges recorded together.
/// PERF: flat arrays, 6 bytes per edge: the target's node id, and the number of the edge's label in the graph's
/// table of labels (a model has a few hundred transitions; past 65,535 labels, an edge's label is kept aside). A
/// label is the packed transition itself when it has no tag, else the number of a tagged transition
/// (<see cref="TaggedLabels"/>) with the top bit set.
/// </summary>
public sealed class LivelockGraph
{
    /// <param name="enabled">False: nothing is recorded (a bitstate search keeps no node id for a visited
    /// state), there is no cycle to find, and a LIVELOCK is not looked for.</param>
    /// <param name="small">Memory: arrays that start small (<c>--livelock lean</c>'s graph of one component; many are made).</param>
    public LivelockGraph(bool enabled = true, bool small = false)
    {
        Enabled = enabled;
        _finished = new(small);
        _edgeStarts = new(small);
        _edgeEnds = new(small);
        _targets = new(small);
        _labels = new(small);
    }

    /// <summary>Whether the graph records anything.</summary>
    public bool Enabled { get; }

    private readonly ChunkedArray<byte> _finished; // per node id: 1 when its run has finished
    // Per node id: where its edges start and end (0 and 0 until it is expanded); the node being expanded
    // has its end at the last edge added.
    private readonly ChunkedArray<int> _edgeStarts;
    private readonly ChunkedArray<int> _edgeEnds;
    private int _open = -1;
    private readonly ChunkedArray<int> _targets;
    private readonly ChunkedArray<ushort> _labels;
    private readonly TaggedLabels _tagged = new();

    // The labels, numbered in the order met; an edge whose label has no number of 16 bits has it aside.
    private const ushort Aside = ushort.MaxValue;
    private readonly Dictionary<int, ushort> _labelNumbers = [];
    private readonly List<int> _labelValues = [];
    private readonly Dictionary<int, int> _asideLabels = [];


    /// <summary>How many nodes were added.</summary>
    public int Nodes => _finished.Count;

    /// <summary>How many nodes were expanded (their edges recorded).</summary>
    public int Expanded { get; private set; }

    public int Edges => _targets.Count;

    /// <summary>Whether every node was expanded: only then is a cycle found in it a cycle of the whole graph.</summary>
    public bool Complete => Expanded == Nodes;

    public long MemoryBytes =>
        _finished.MemoryBytes
        + _edgeStarts.MemoryBytes + _edgeEnds.MemoryBytes + _targets.MemoryBytes + _labels.MemoryBytes
        + _tagged.MemoryBytes + ((long)_labelValues.Capacity * sizeof(int)) + ((long)_labelNumbers.Count * 24) + ((long)_asideLabels.Count * 24);

    /// <summary>Adds the next node (its id is <see cref="Nodes"/> before the call).</summary>
    /// <param name="finished">Whether the node's run has finished (it is on no livelock).</param>
    public void AddNode(bool finished)
    {
        if (Enabled)
        {
            _finished.Add(finished ? (byte)1 : (byte)0);
        }
    }

    /// <summary>Starts the edges of the next node in id order (node <see cref="Expanded"/>, when every node
    /// so far was expanded in id order).</summary>
    public void BeginEdges()
    {
        if (Enabled)
        {
            BeginEdges(Expanded);
        }
    }

    /// <summary>Starts the edges of <paramref name="node"/> (an added node, not yet expanded): the edges added
    /// until the next call are its own.</summary>
    public void BeginEdges(int node)
    {
        if (!Enabled)
        {
            return;
        }
        if (_open >= 0)
        {
            _edgeEnds[_open] = _targets.Count;
        }
        while (_edgeStarts.Count <= node)
        {
            _edgeStarts.Add(0);
            _edgeEnds.Add(0);
        }
        _edgeStarts[node] = _targets.Count;
        _open = node;
        Expanded++;
    }

    /// <summary>Adds an edge from the node being expanded.</summary>
    /// <param name="target">The successor's node id, or -1 when the transition commits a violation.</param>
    public void AddEdge(int target, Transition label)
    {
        if (!Enabled)
        {
            return;
        }
        var packed = PackedTransition.Pack(label);
        _targets.Add(target);
        _labels.Add(Number(packed.Tag == 0 && packed.Head >= 0 ? packed.Head : int.MinValue | _tagged.Intern(packed.Head, packed.Tag)));
    }

    /// <summary>The number of <paramref name="label"/> in the table (numbered when first met), or <see cref="Aside"/> with
    /// the label kept aside for the edge being added.</summary>
    private ushort Number(int label)
    {
        if (!_labelNumbers.TryGetValue(label, out var number))
        {
            if (_labelValues.Count == Aside)
            {
                _asideLabels[_targets.Count - 1] = label; // the edge's target is added already
                return Aside;
            }
            number = (ushort)_labelValues.Count;
            _labelNumbers[label] = number;
            _labelValues.Add(label);
        }
        return number;
    }

    /// <summary>Writes the graph (docs/checkpoint.md): a resumed search looks for LIVELOCK in the whole graph.</summary>
    internal void Save(BinaryWriter writer)
    {
        _finished.Save(writer);
        _edgeStarts.Save(writer);
        _edgeEnds.Save(writer);
        writer.Write(_open);
        writer.Write(Expanded);
        _targets.Save(writer);
        _labels.Save(writer);
        _tagged.Save(writer);
        Checkpoint.WriteInts(writer, _labelValues);
        writer.Write(_asideLabels.Count);
        foreach (var (edge, label) in _asideLabels)
        {
            writer.Write(edge);
            writer.Write(label);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote into an empty graph.</summary>
    internal void Load(BinaryReader reader)
    {
        _finished.Load(reader);
        _edgeStarts.Load(reader);
        _edgeEnds.Load(reader);
        _open = reader.ReadInt32();
        Expanded = reader.ReadInt32();
        _targets.Load(reader);
        _labels.Load(reader);
        _tagged.Load(reader);
        Checkpoint.ReadInts(reader, _labelValues);
        if (_labelValues.Count > Aside)
        {
            throw new InvalidDataException("the graph's table of labels is longer than its numbers can be");
        }
        for (var i = 0; i < _labelValues.Count; i++)
        {
            _labelNumbers[_labelValues[i]] = (ushort)i;
        }
        var aside = Checkpoint.ReadCount(reader);
        for (var i = 0; i < aside; i++)
        {
            var edge = reader.ReadInt32();
            _asideLabels[edge] = reader.ReadInt32();
        }
    }

    public bool Finished(int node) => _finished[node] != 0;

    /// <summary>Each node's finished mark (1 when its run has finished), the graph's own array (not a copy): what
    /// <c>--livelock lean</c>'s pass needs when the search lets the rest of the graph go at the memory limit, and stops
    /// using this graph.</summary>
    internal ChunkedArray<byte> FinishedMarks => _finished;

    /// <summary>The first edge of <paramref name="node"/> (an expanded node).</summary>
    public int EdgeStart(int node) => node < _edgeStarts.Count ? _edgeStarts[node] : 0;

    /// <summary>One past the last edge of <paramref name="node"/> (an expanded node).</summary>
    public int EdgeEnd(int node) => node == _open ? _targets.Count : node < _edgeEnds.Count ? _edgeEnds[node] : 0;

    public int Target(int edge) => _targets[edge];

    public PackedTransition Label(int edge)
    {
        var number = _labels[edge];
        var label = number == Aside ? _asideLabels[edge] : _labelValues[number];
        return label >= 0 ? new PackedTransition(label, 0) : _tagged[label & int.MaxValue];
    }

    /// <summary>Whether the graph has a cycle of unfinished states (fair or not).</summary>
    public bool HasUnfinishedCycle(CancellationToken cancellation = default) => Enabled && new LivelockDetector(this, cancellation).HasCycle();

    /// <summary>
    /// After a complete search (null otherwise): the first fair cycle of unfinished states, as a lasso
    /// trace (the path to its first node, then the cycle), with the LIVELOCK it commits.
    /// </summary>
    /// <param name="nodes">How each node was reached.</param>
    /// <param name="machine">A machine of the program, to describe where the CPUs cycle.</param>
    /// <param name="cancellation">Stops the detection (<see cref="OperationCanceledException"/>).</param>
    public Trace? FindLivelock(NodeTable nodes, CompiledProgram program, Machine.Machine machine, CancellationToken cancellation = default)
    {
        if (!Enabled || !Complete)
        {
            return null; // nothing recorded, or not every state was expanded
        }
        var detector = new LivelockDetector(this, cancellation);
        var component = detector.FairComponents().FirstOrDefault();
        return component is null ? null : Lasso(detector, component, id => id, nodes, program, machine);
    }

    /// <summary>
    /// The lasso trace of <paramref name="graph"/>'s first fair component (null when it has none), whose node ids are
    /// <paramref name="node"/>'s for the search's node table (<c>--livelock lean</c>: a component's own graph).
    /// </summary>
    internal static Trace? Lasso(LivelockGraph graph, Func<int, int> node, NodeTable nodes, CompiledProgram program, Machine.Machine machine,
        CancellationToken cancellation)
    {
        var detector = new LivelockDetector(graph, cancellation);
        var component = detector.FairComponents().FirstOrDefault();
        return component is null ? null : Lasso(detector, component, node, nodes, program, machine);
    }

    private static Trace? Lasso(LivelockDetector detector, List<int> component, Func<int, int> node, NodeTable nodes, CompiledProgram program,
        Machine.Machine machine)
    {
        var entry = component[0];
        var cycle = detector.CycleFrom(entry, [.. component]);
        var steps = nodes.PathTo(node(entry));
        var cycleStart = steps.Count;
        // Each cycle edge: find the transition (and choices) from its source's state that reaches its target.
        var replayer = new Replayer(program);
        foreach (var edge in cycle)
        {
            if (replayer.StepBetween(steps, nodes.PathTo(node(detector.Target(edge)))) is not { } step)
            {
                return null;
            }
            steps.Add(step);
        }
        var violation = Replayer.LivelockViolation(machine, steps, cycleStart, replayer.StateAfter(steps)!);
        return new Trace(steps, violation, violationIsTerminal: true) { CycleStart = cycleStart };
    }
}
