using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace KexecSim.Benchmarks;

public static class Program
{
    // BenchmarkDotNet builds a project of its own per job and gives up after two minutes by default;
    // on the project's busy 2-core machine that build alone has taken longer (issue 9's hot loop run).
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
        .Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10)));
}
