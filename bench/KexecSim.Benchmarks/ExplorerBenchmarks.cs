using BenchmarkDotNet.Attributes;
using KexecSim.Exploration;
using KexecSim.Language.Compilation;
using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Benchmarks;

/// <summary>
/// Exhaustive search throughput on the stop protocol of the catalog (1f5e7eb7868e with WBINVD on
/// every CPU): 'stop-mask-reboot' at 5 CPUs is 151,168 states. states/s = states / mean time.
/// </summary>
[MemoryDiagnoser]
public class ExplorerBenchmarks
{
    private CompiledProgram _stopMask = null!;
    private CompiledProgram _onlineCount = null!;

    [Params(4, 5)]
    public int Cpus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = FindRoot();
        var models = Path.Combine(root, "models");
        var options = new LoadOptions { ModelPath = [models], Compile = new CompileOptions { Cpus = Cpus } };
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", "seed000-stop-wbinvd.kflow"), options);
        _stopMask = loaded.Scenarios.Single(s => s.ScenarioName == "stop-mask-reboot");
        _onlineCount = loaded.Scenarios.Single(s => s.ScenarioName == "stop-online-count-reboot");
        var result = new BreadthFirstExplorer(_stopMask).Run();
        Console.WriteLine($"// stop-mask-reboot at {Cpus} CPUs: {result.Statistics.States} states, {result.Statistics.Transitions} transitions");
    }

    private static string FindRoot()
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

    /// <summary>A full proof: every state explored.</summary>
    [Benchmark]
    public long StopMaskProof() => new BreadthFirstExplorer(_stopMask).Run().Statistics.States;

    /// <summary>A search that ends at the shortest RESET_HANG.</summary>
    [Benchmark]
    public long OnlineCountCounterexample() => new BreadthFirstExplorer(_onlineCount).Run().Statistics.States;
}
