using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// LIVELOCK (SEMANTICS.md section 7): a reachable cycle along which the run never finishes, fair to
/// every transition that stays enabled on it. The explored graph's strongly connected components
/// are found with Tarjan's algorithm (Tarjan, "Depth-first search and linear graph algorithms",
/// SIAM J. Comput. 1972), iteratively; a component of unfinished states is a fair livelock when every
/// transition enabled in all of its states is also taken inside it (so a cycle through the whole
/// component takes each of them: weak fairness). Event deliveries get strong fairness: one that is
/// enabled anywhere on the cycle must be taken on it (a pending interrupt is taken once unmasked).
/// </summary>
public sealed class LivelockDetector
{
    private readonly LivelockGraph _graph;
    private readonly int _nodes;
    private readonly CancellationToken _cancellation;

    /// <param name="graph">A completely expanded graph. Event deliveries get strong fairness: taken if
    /// enabled anywhere on the cycle (hardware takes a pending interrupt as soon as it is unmasked).</param>
    /// <param name="cancellation">Ctrl-C, SIGTERM or the time limit: the detection stops
    /// (<see cref="OperationCanceledException"/>) within a few thousand nodes; on a graph of millions it takes seconds.</param>
    public LivelockDetector(LivelockGraph graph, CancellationToken cancellation = default)
    {
        _graph = graph;
        _nodes = graph.Nodes;
        _cancellation = cancellation;
    }

    private int EdgeStart(int node) => _graph.EdgeStart(node);

    private int EdgeEnd(int node) => _graph.EdgeEnd(node);

    private int TargetOf(int edge) => _graph.Target(edge);

    private bool Finished(int node) => _graph.Finished(node);

    private static bool IsStrong(PackedTransition label) => label.Kind == TransitionKind.Deliver;

    /// <summary>The fair livelock components, each as its node ids, smallest first node first.</summary>
    public IEnumerable<List<int>> FairComponents()
    {
        foreach (var component in Components())
        {
            if (IsCycle(component) && IsFair(component))
            {
                yield return component;
            }
        }
    }

    /// <summary>Whether some cycle of unfinished states exists at all, fair or not (with symmetry, the
    /// reduced graph has one exactly when the full graph has one).</summary>
    public bool HasCycle() => Components().Any(IsCycle);

    private bool IsCycle(List<int> component)
    {
        if (component.Count > 1)
        {
            return true;
        }
        var node = component[0];
        for (var e = EdgeStart(node); e < EdgeEnd(node); e++)
        {
            if (TargetOf(e) == node)
            {
                return true;
            }
        }
        return false;
    }

    private bool IsFair(List<int> component)
    {
        var inside = new HashSet<int>(component);
        HashSet<PackedTransition>? enabledEverywhere = null;
        var enabledSomewhere = new HashSet<PackedTransition>();
        var takenInside = new HashSet<PackedTransition>();
        foreach (var node in component)
        {
            var enabled = new HashSet<PackedTransition>();
            for (var e = EdgeStart(node); e < EdgeEnd(node); e++)
            {
                var label = _graph.Label(e);
                enabled.Add(label);
                if (IsStrong(label))
                {
                    enabledSomewhere.Add(label);
                }
                if (inside.Contains(TargetOf(e)))
                {
                    takenInside.Add(label);
                }
            }
            if (enabledEverywhere is null)
            {
                enabledEverywhere = enabled;
            }
            else
            {
                enabledEverywhere.IntersectWith(enabled);
            }
        }
        return enabledEverywhere!.IsSubsetOf(takenInside) && enabledSomewhere.IsSubsetOf(takenInside);
    }

    /// <summary>Tarjan's strongly connected components over the unfinished states (iterative).</summary>
    private List<List<int>> Components()
    {
        var index = new int[_nodes];
        var low = new int[_nodes];
        var onStack = new bool[_nodes];
        Array.Fill(index, -1);
        var stack = new Stack<int>();
        var result = new List<List<int>>();
        var counter = 0;
        var work = new Stack<(int Node, int Edge)>();
        for (var root = 0; root < _nodes; root++)
        {
            if ((root & 4095) == 0)
            {
                _cancellation.ThrowIfCancellationRequested();
            }
            if (index[root] >= 0 || Finished(root))
            {
                continue;
            }
            work.Push((root, EdgeStart(root)));
            index[root] = low[root] = counter++;
            stack.Push(root);
            onStack[root] = true;
            while (work.Count > 0)
            {
                var (node, edge) = work.Pop();
                var descended = false;
                for (; edge < EdgeEnd(node); edge++)
                {
                    var target = TargetOf(edge);
                    if (target < 0 || Finished(target))
                    {
                        continue;
                    }
                    if (index[target] < 0)
                    {
                        work.Push((node, edge + 1));
                        index[target] = low[target] = counter++;
                        stack.Push(target);
                        onStack[target] = true;
                        work.Push((target, EdgeStart(target)));
                        descended = true;
                        break;
                    }
                    if (onStack[target])
                    {
                        low[node] = Math.Min(low[node], index[target]);
                    }
                }
                if (descended)
                {
                    continue;
                }
                if (low[node] == index[node])
                {
                    if (stack.Peek() == node)
                    {
                        // PERF: a single state is a component worth keeping only with a self-loop.
                        stack.Pop();
                        onStack[node] = false;
                        if (IsCycle([node]))
                        {
                            result.Add([node]);
                        }
                    }
                    else
                    {
                        var component = new List<int>();
                        int member;
                        do
                        {
                            member = stack.Pop();
                            onStack[member] = false;
                            component.Add(member);
                        }
                        while (member != node);
                        component.Sort();
                        result.Add(component);
                    }
                }
                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }
            }
        }
        result.Sort((a, b) => a[0].CompareTo(b[0]));
        return result;
    }

    /// <summary>A cycle through <paramref name="start"/> inside the component: the edges to follow, as (from, edge index).</summary>
    public List<int> CycleFrom(int start, HashSet<int> component)
    {
        // Breadth-first back to start, inside the component.
        // Per node reached: the edge that reached it and the node that edge leaves.
        var previous = new Dictionary<int, (int Edge, int From)>();
        var queue = new Queue<int>();
        for (var e = EdgeStart(start); e < EdgeEnd(start); e++)
        {
            var target = TargetOf(e);
            if (target == start)
            {
                return [e];
            }
            if (component.Contains(target) && !previous.ContainsKey(target))
            {
                previous[target] = (e, start);
                queue.Enqueue(target);
            }
        }
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            for (var e = EdgeStart(node); e < EdgeEnd(node); e++)
            {
                var target = TargetOf(e);
                if (target == start)
                {
                    var path = new List<int> { e };
                    for (var n = node; n != start; n = previous[n].From)
                    {
                        path.Add(previous[n].Edge);
                    }
                    path.Reverse();
                    return path;
                }
                if (component.Contains(target) && !previous.ContainsKey(target))
                {
                    previous[target] = (e, node);
                    queue.Enqueue(target);
                }
            }
        }
        return [];
    }

    public int Target(int edge) => TargetOf(edge);
}
