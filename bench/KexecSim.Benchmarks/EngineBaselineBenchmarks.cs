using BenchmarkDotNet.Attributes;
using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Language.Compilation;
using KexecSim.Program;

namespace KexecSim.Benchmarks;

/// <summary>
/// The figures issue 8 (the engine rebuild) is measured against, one core: a full proof of the stop
/// protocol ('stop-mask-reboot', 1f5e7eb7868e) at 5 and 6 CPUs, and the largest catalog scenario
/// ('parked-init-stray-nmi-smi'). states/s = states / mean; bytes per state = allocated / states.
/// </summary>
[MemoryDiagnoser]
public class EngineBaselineBenchmarks
{
    private CompiledProgram _program = null!;

    [Params("stop-mask-reboot@5", "stop-mask-reboot@6", "parked-init-stray-nmi-smi")]
    public string Scenario { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var models = Path.Combine(Root(), "models");
        var at = Scenario.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? Scenario : Scenario[..at];
        int? cpus = at < 0 ? null : int.Parse(Scenario[(at + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var file = name.StartsWith("stop", StringComparison.Ordinal) ? "seed000-stop-wbinvd.kflow" : "seed002-parked-cpus.kflow";
        var loaded = FrontEnd.Load(Path.Combine(models, "catalog", file),
            new LoadOptions { ModelPath = [models], Compile = new CompileOptions { Cpus = cpus } });
        _program = loaded.Scenarios.Single(s => s.ScenarioName == name);
        var result = new BreadthFirstExplorer(_program).Run();
        Console.WriteLine($"// {Scenario}: {result.Statistics.States} states, {result.Statistics.Transitions} transitions, {result.Outcome}");
    }

    private static string Root()
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

    [Benchmark]
    public long FullSearch() => new BreadthFirstExplorer(_program).Run().Statistics.States;
}
