using BenchmarkDotNet.Attributes;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Language.Compilation;
using KexecSim.Machine;

namespace KexecSim.Benchmarks;

/// <summary>
/// The search's hot loop one operation at a time (issue 9): step (copy the parent, apply one transition),
/// canonicalise (symmetry's representative of a successor), hash (the fingerprint of a vector), insert (a
/// fresh fingerprint into a visited set the size of a real search) and decode (a vector back into a state).
/// Every figure is per operation (<c>OperationsPerInvoke</c>); none may allocate.
/// </summary>
/// <remarks>
/// The states are real: a breadth-first search of <c>bench/models/stop-spin.kflow</c>, scenario
/// <c>A_noTO</c>, 5 CPUs, reduced by symmetry as the explorer does by default, run in
/// <see cref="Setup"/> until it has stored <see cref="StateCount"/> states. Every branch it ran is kept as
/// a step (parent, transition, choices) and its successor, before canonicalisation, as a successor.
/// </remarks>
[MemoryDiagnoser]
public class HotLoopBenchmarks
{
    /// <summary>Distinct (canonical) states the setup's search stores before it stops.</summary>
    public const int StateCount = 20_000;

    /// <summary>Steps (and successors) the step and canonicalise benchmarks run per invocation.</summary>
    private const int StepCount = 20_000;

    /// <summary>
    /// The visited set's size at the end of the insert benchmark: <c>A_noTO</c> at 5 CPUs without
    /// symmetry (docs/benchmarks.md, 1,664,576 states): a 2^22-slot (64 MB) table, as the set grows to.
    /// </summary>
    private const int SearchStates = 1_664_576;

    /// <summary>Fresh fingerprints inserted per invocation (the set holds SearchStates - InsertCount before).</summary>
    private const int InsertCount = 500_000;

    private Machine.Machine _machine = null!;
    private StateSymmetry _symmetry = null!;
    private MachineState _work = null!;
    private readonly TraceChooser _chooser = new();

    // The stored states' vectors (canonical), in search order.
    private long[][] _states = [];

    // Parents decoded once; the steps in the order the search ran them (grouped by parent, as it does).
    private MachineState[] _parents = [];
    private (int Parent, Transition Transition, int[] Choices)[] _steps = [];

    // Successors as Apply left them (before canonicalisation), decoded.
    private MachineState[] _successors = [];

    // The insert benchmark: fingerprints already in the set, and fresh ones.
    private ulong[] _prefill = [];
    private ulong[] _fresh = [];
    private FingerprintSet _visited = null!;

    [GlobalSetup]
    public void Setup()
    {
        var models = Path.Combine(ExplorerBenchmarksRoot.Find(), "models");
        var file = Path.Combine(ExplorerBenchmarksRoot.Find(), "bench", "models", "stop-spin.kflow");
        var program = FrontEnd.Load(file, new LoadOptions { ModelPath = [models], Compile = new CompileOptions { Cpus = 5 } })
            .Scenarios.Single(s => s.ScenarioName == "A_noTO");
        _machine = new Machine.Machine(program);
        _machine.Marks = new ExecutionMarks(program); // as the explorer runs it
        _symmetry = new StateSymmetry(_machine.Layout);
        _work = _machine.NewState();

        // Breadth-first with symmetry, as BreadthFirstExplorer: every branch of every transition.
        var parent = _machine.NewState();
        _machine.CreateInitial(parent);
        var states = new List<long[]> { _symmetry.Canonicalize(parent).ToArray() };
        var visited = new HashSet<ulong> { MachineState.Fingerprint(states[0]) };
        var parents = new List<MachineState>();
        var steps = new List<(int, Transition, int[])>();
        var successors = new List<MachineState>();
        var transitions = new List<Transition>();
        var branches = new DepthFirstChooser();
        for (var i = 0; i < states.Count && states.Count < StateCount; i++)
        {
            parent.Decode(states[i]);
            _machine.EnumerateTransitions(parent, transitions);
            var decoded = _machine.NewState();
            decoded.Decode(states[i]);
            var parentIndex = -1;
            foreach (var transition in transitions)
            {
                branches.Reset();
                do
                {
                    _work.CopyFrom(parent);
                    var outcome = _machine.Apply(_work, transition, branches);
                    if (outcome == Outcome.Disabled)
                    {
                        continue;
                    }
                    if (outcome != Outcome.Ok || _machine.CheckSettled(_work) is not null)
                    {
                        throw new InvalidOperationException($"A_noTO is expected to pass; {outcome} at state {i}");
                    }
                    if (steps.Count < StepCount)
                    {
                        if (parentIndex < 0)
                        {
                            parentIndex = parents.Count;
                            parents.Add(decoded);
                        }
                        steps.Add((parentIndex, transition, branches.Choices.ToArray()));
                        var successor = _machine.NewState();
                        successor.Decode(_work.Span);
                        successors.Add(successor);
                    }
                    var stored = _symmetry.Canonicalize(_work);
                    if (visited.Add(MachineState.Fingerprint(stored)) && states.Count < StateCount)
                    {
                        states.Add(stored.ToArray());
                    }
                }
                while (branches.Advance());
            }
        }
        if (states.Count < StateCount || steps.Count < StepCount)
        {
            throw new InvalidOperationException($"the search ended at {states.Count} states and {steps.Count} steps");
        }
        _states = [.. states];
        _parents = [.. parents];
        _steps = [.. steps];
        _successors = [.. successors];

        // Fingerprints are XXH3 outputs: uniform 64-bit values, so random ones stand for a real search's.
        var random = new Random(9);
        _prefill = new ulong[SearchStates - InsertCount];
        _fresh = new ulong[InsertCount];
        for (var i = 0; i < _prefill.Length; i++)
        {
            _prefill[i] = (ulong)random.NextInt64(long.MinValue, long.MaxValue) | 1; // all 64 bits, as XXH3's
        }
        for (var i = 0; i < _fresh.Length; i++)
        {
            _fresh[i] = (ulong)random.NextInt64(long.MinValue, long.MaxValue) | 1;
        }
        var words = _states.Sum(s => s.Length) / _states.Length;
        var choices = _steps.Count(s => s.Choices.Length > 0);
        Console.WriteLine($"// A_noTO@5: {_states.Length} states ({words} words each), {_steps.Length} steps from {_parents.Length} parents ({choices} with choices)");
    }

    /// <summary>A set as a real search has it before its last <see cref="InsertCount"/> states (no growth while measured).</summary>
    [IterationSetup(Target = nameof(Insert))]
    public void FillVisited()
    {
        _visited = new FingerprintSet(1 << 22);
        for (var i = 0; i < _prefill.Length; i++)
        {
            _visited.TryAdd(_prefill[i], i, out _);
        }
    }

    /// <summary>Copy a parent into the work state and apply one transition (with its recorded choices).</summary>
    [Benchmark(OperationsPerInvoke = StepCount)]
    public int Step()
    {
        var ok = 0;
        foreach (var (parent, transition, choices) in _steps)
        {
            _work.CopyFrom(_parents[parent]);
            _chooser.Start(choices);
            if (_machine.Apply(_work, transition, _chooser) == Outcome.Ok)
            {
                ok++;
            }
        }
        return ok;
    }

    /// <summary>Symmetry's representative of a successor (the vector the search would store).</summary>
    [Benchmark(OperationsPerInvoke = StepCount)]
    public long Canonicalise()
    {
        long sum = 0;
        foreach (var successor in _successors)
        {
            var stored = _symmetry.Canonicalize(successor);
            sum += stored.Length + stored[^1];
        }
        return sum;
    }

    /// <summary>The 64-bit fingerprint (XXH3) of a stored vector.</summary>
    [Benchmark(OperationsPerInvoke = StateCount)]
    public ulong Hash()
    {
        ulong sum = 0;
        foreach (var state in _states)
        {
            sum ^= MachineState.Fingerprint(state);
        }
        return sum;
    }

    /// <summary>A fresh fingerprint into the visited set (1.16 M → 1.66 M entries in 2^22 slots).</summary>
    [Benchmark(OperationsPerInvoke = InsertCount)]
    public int Insert()
    {
        var added = 0;
        var visited = _visited;
        var fresh = _fresh;
        var next = _prefill.Length;
        for (var i = 0; i < fresh.Length; i++)
        {
            if (visited.TryAdd(fresh[i], next + i, out _))
            {
                added++;
            }
        }
        return added;
    }

    /// <summary>A stored vector back into a state (copy and the per-CPU segment starts).</summary>
    [Benchmark(OperationsPerInvoke = StateCount)]
    public int Decode()
    {
        var length = 0;
        foreach (var state in _states)
        {
            _work.Decode(state);
            length += _work.Span.Length;
        }
        return length;
    }
}
