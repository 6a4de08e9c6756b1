using BenchmarkDotNet.Attributes;
using KexecSim.Exploration;
using KexecSim.Language.Compilation;
using KexecSim.Language;
using KexecSim.Machine;

namespace KexecSim.Benchmarks;

/// <summary>
/// What coverage recording costs the machine: every transition of the first states of
/// 'stop-mask-reboot' (4 CPUs) applied with the machine's execution marks off and on.
/// </summary>
[MemoryDiagnoser]
public class CoverageBenchmarks
{
    private const int StateCount = 5_000;
    private readonly List<long[]> _states = [];
    private readonly List<Transition> _transitions = [];
    private Machine.Machine _machine = null!;
    private MachineState _parent = null!;
    private MachineState _work = null!;

    // Up to four choices, each its first option (a step needing more ends with NeedChoice).
    private readonly TraceChooser _chooser = new();
    private readonly int[] _firstOptions = [0, 0, 0, 0];

    [Params(false, true)]
    public bool Marks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var models = Path.Combine(ExplorerBenchmarksRoot.Find(), "models");
        var options = new LoadOptions { ModelPath = [models], Compile = new CompileOptions { Cpus = 4 } };
        var program = FrontEnd.Load(Path.Combine(models, "catalog", "seed000-stop-wbinvd.kflow"), options)
            .Scenarios.Single(s => s.ScenarioName == "stop-mask-reboot");
        _machine = new Machine.Machine(program);
        _parent = _machine.NewState();
        _work = _machine.NewState();
        // Breadth-first, the first StateCount states (choices taken as their first option).
        _machine.CreateInitial(_parent);
        var seen = new HashSet<ulong> { MachineState.Fingerprint(_parent.Span) };
        _states.Add(_parent.Span.ToArray());
        for (var i = 0; i < _states.Count && _states.Count < StateCount; i++)
        {
            _parent.Decode(_states[i]);
            _machine.EnumerateTransitions(_parent, _transitions);
            foreach (var transition in _transitions)
            {
                _work.CopyFrom(_parent);
                _chooser.Start(_firstOptions);
                if (_machine.Apply(_work, transition, _chooser) != Outcome.Ok)
                {
                    continue;
                }
                if (seen.Add(MachineState.Fingerprint(_work.Span)))
                {
                    _states.Add(_work.Span.ToArray());
                }
            }
        }
        _machine.Marks = Marks ? new ExecutionMarks(program) : null;
    }

    /// <summary>Every transition of every collected state, applied once.</summary>
    [Benchmark]
    public int ApplyAll()
    {
        var applied = 0;
        foreach (var state in _states)
        {
            _parent.Decode(state);
            _machine.EnumerateTransitions(_parent, _transitions);
            foreach (var transition in _transitions)
            {
                _work.CopyFrom(_parent);
                _chooser.Start(_firstOptions);
                if (_machine.Apply(_work, transition, _chooser) == Outcome.Ok)
                {
                    applied++;
                }
            }
        }
        return applied;
    }
}

internal static class ExplorerBenchmarksRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KexecSim.slnx")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
