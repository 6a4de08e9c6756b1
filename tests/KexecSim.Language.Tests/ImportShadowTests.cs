namespace KexecSim.Language.Tests;

/// <summary>
/// A patched copy of a library flow put beside a scenario is never silently ignored: imports are
/// searched beside the root model too, and KF0809 names every same-named file an import passed over.
/// </summary>
public sealed class ImportShadowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kexecsim-shadow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Scenario = "import \"linux/flow.kflow\";\nscenario \"s\" { cpu 0 runs entry(); expect pass; }\n";

    /// <summary>A library like models/: flow.kflow imports leaf.kflow by the path under the library root.</summary>
    private string Library()
    {
        Write("lib/linux/flow.kflow", "import \"linux/leaf.kflow\";\nfn entry() { leaf(); done(); }\n");
        Write("lib/linux/leaf.kflow", "fn leaf() { }\n");
        return Path.Combine(_dir, "lib");
    }

    private static string[] Diagnostics(FrontEndResult result) => result.Diagnostics.Select(d => d.ToString()).ToArray();

    [Fact]
    public void A_patched_copy_under_the_import_path_beside_the_scenario_runs_and_the_library_flow_is_named()
    {
        var lib = Library();
        var root = Write("patch/scenario.kflow", Scenario);
        var patched = Write("patch/linux/leaf.kflow", "fn leaf() { pr_warn(\"patched\"); }\n");
        var result = FrontEnd.Load(root, new LoadOptions { ModelPath = [lib] });
        Assert.Equal([
            $"{lib}/linux/flow.kflow:1:8: warning KF0809: import \"linux/leaf.kflow\" is {patched}; {lib}/linux/leaf.kflow, of the same name, is not used",
        ], Diagnostics(result));
        Assert.Contains(result.Units, u => u.Source.Path == patched);
        Assert.DoesNotContain(result.Units, u => u.Source.Path == Path.Combine(lib, "linux", "leaf.kflow"));
        Assert.Single(result.Scenarios);
    }

    [Fact]
    public void A_patched_copy_right_beside_the_scenario_is_named_with_where_it_must_go()
    {
        var lib = Library();
        var root = Write("patch/scenario.kflow", Scenario);
        var beside = Write("patch/leaf.kflow", "fn leaf() { pr_warn(\"patched\"); }\n");
        var result = FrontEnd.Load(root, new LoadOptions { ModelPath = [lib] });
        Assert.Equal([
            $"{lib}/linux/flow.kflow:1:8: warning KF0809: import \"linux/leaf.kflow\" is {lib}/linux/leaf.kflow; {beside} beside the model, "
                + $"of the same file name, is not used (to use it, put it at {Path.Combine(_dir, "patch", "linux", "leaf.kflow")})",
        ], Diagnostics(result));
        Assert.DoesNotContain(result.Units, u => u.Source.Path == beside);
    }

    [Fact]
    public void A_model_path_copy_shadows_the_built_in_one_once_whoever_imports_it()
    {
        var lib = Library();
        Write("lib/linux/other.kflow", "import \"linux/leaf.kflow\";\nfn other() { leaf(); }\n");
        var patches = Path.Combine(_dir, "patches");
        var patched = Write("patches/linux/leaf.kflow", "fn leaf() { }\n");
        var root = Write("patch/scenario.kflow", "import \"linux/flow.kflow\";\nimport \"linux/other.kflow\";\nscenario \"s\" { cpu 0 runs entry(); expect pass; }\n");
        var result = FrontEnd.Load(root, new LoadOptions { ModelPath = [patches, lib] });
        Assert.Equal([
            $"{lib}/linux/flow.kflow:1:8: warning KF0809: import \"linux/leaf.kflow\" is {patched}; {lib}/linux/leaf.kflow, of the same name, is not used",
        ], Diagnostics(result));
    }

    [Fact]
    public void An_import_with_one_candidate_says_nothing()
    {
        var lib = Library();
        var root = Write("patch/scenario.kflow", Scenario);
        Assert.Empty(Diagnostics(FrontEnd.Load(root, new LoadOptions { ModelPath = [lib] })));
    }

    [Fact]
    public void The_catalog_shadows_nothing()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Models, "catalog"), "*.kflow"))
        {
            var result = FrontEnd.Load(file, new LoadOptions { ModelPath = [TestPaths.Models] });
            Assert.DoesNotContain(result.Diagnostics, d => d.Code == KexecSim.Language.Diagnostics.DiagnosticCode.ImportShadowsFile);
        }
    }
}
