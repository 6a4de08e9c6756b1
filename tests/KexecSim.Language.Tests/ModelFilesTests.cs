using KexecSim.Program;

namespace KexecSim.Language.Tests;

/// <summary>Every model the project ships, and every example of the contract, loads without errors.</summary>
public sealed class ModelFilesTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var root in new[] { TestPaths.Models, TestPaths.SharedExamples })
        {
            Assert.True(Directory.Exists(root), $"missing {root}");
            foreach (var file in Directory.GetFiles(root, "*.kflow", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(Path.GetDirectoryName(TestPaths.RepositoryRoot)!, file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Loads_without_errors(string file)
    {
        var path = Path.Combine(Path.GetDirectoryName(TestPaths.RepositoryRoot)!, file);
        var result = FrontEnd.Load(path, new LoadOptions { ModelPath = [TestPaths.Models] });
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        Assert.Equal(result.Program!.Scenarios.Count, result.Scenarios.Count);
    }

    [Fact]
    public void The_first_example_has_its_two_scenarios()
    {
        var result = FrontEnd.Load(Path.Combine(TestPaths.SharedExamples, "first.kflow"));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(["nmi-then-jump", "nmi-then-jump-stray-smi"], result.Scenarios.Select(s => s.ScenarioName));
        Assert.True(result.Scenarios[0].Expect.IsPass);
        Assert.Equal(ViolationCode.ExecClobbered, result.Scenarios[1].Expect.Code);
        Assert.Equal(1, result.Scenarios[1].Faults.Single(f => f.Fault == FaultKind.Smi).Budget);
    }
}
