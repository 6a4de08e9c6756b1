using KexecSim.Language.Diagnostics;
using KexecSim.Language.Loading;

namespace KexecSim.Language.Tests;

/// <summary>
/// Imports stay in the model's tree or the model path unless allowed, and a file is one file whatever
/// name reaches it (issue 12, item 5). Each test builds its own directories and symbolic links.
/// </summary>
public sealed class ImportSecurityTests : IDisposable
{
    // <temp>/outside.kflow and <temp>/model/...: the model's tree is <temp>/model.
    private readonly string _top;
    private readonly string _model;

    public ImportSecurityTests()
    {
        _top = RealPath.Of(Directory.CreateTempSubdirectory("kexecsim-imports-").FullName, out _)!;
        _model = Directory.CreateDirectory(Path.Combine(_top, "model")).FullName;
    }

    public void Dispose() => Directory.Delete(_top, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_top, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[] Lines(FrontEndResult result) => result.Diagnostics.Select(d => d.ToString()).ToArray();

    private string Outside(string importPath, params string[] roots) =>
        $"error KF0406: import \"{importPath}\" is outside the model's directory and the model path ({string.Join(", ", roots.Select(ModelLoader.Display))}); pass --allow-import-outside to read it";

    [Fact]
    public void An_absolute_import_of_a_system_file_is_refused_without_reading_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var main = Write("model/main.kflow", "import \"/etc/passwd\";\nfn f() { }\n");
        var result = FrontEnd.Load(main);
        // Before: "/etc/passwd:1:1: error KF0104: expected a declaration, found 'root'" (its first token).
        Assert.Equal([$"{main}:1:8: {Outside("/etc/passwd", _model)}"], Lines(result));
    }

    [Fact]
    public void A_relative_import_that_climbs_out_of_the_tree_is_refused_unless_allowed()
    {
        Write("outside.kflow", "fn helper() { }\n");
        var main = Write("model/main.kflow", "import \"../outside.kflow\";\nfn f() { helper(); }\n");
        var refused = FrontEnd.Load(main);
        Assert.Equal(
        [
            $"{main}:1:8: {Outside("../outside.kflow", _model)}",
            $"{main}:2:10: error KF0208: unknown function 'helper'",
        ], Lines(refused));

        var allowed = FrontEnd.Load(main, new LoadOptions { AllowImportOutside = true });
        Assert.Empty(allowed.Diagnostics);
        Assert.Equal(2, allowed.Units.Count);
    }

    [Fact]
    public void A_symlink_in_the_tree_that_points_out_of_it_is_refused()
    {
        Write("outside.kflow", "fn helper() { }\n");
        File.CreateSymbolicLink(Path.Combine(_model, "link.kflow"), Path.Combine(_top, "outside.kflow"));
        var main = Write("model/main.kflow", "import \"link.kflow\";\nfn f() { }\n");
        Assert.Equal([$"{main}:1:8: {Outside("link.kflow", _model)}"], Lines(FrontEnd.Load(main)));
    }

    [Fact]
    public void Subdirectories_of_the_tree_and_the_model_path_are_inside()
    {
        Write("model/lib/a.kflow", "import \"../common.kflow\";\nfn a() { c(); }\n");
        Write("model/common.kflow", "fn c() { }\n");
        Write("library/shared.kflow", "fn s() { }\n");
        var main = Write("model/main.kflow", "import \"lib/a.kflow\";\nimport \"shared.kflow\";\nfn f() { a(); s(); }\n");
        var result = FrontEnd.Load(main, new LoadOptions { ModelPath = [Path.Combine(_top, "library")] });
        Assert.Empty(result.Diagnostics);
        Assert.Equal(4, result.Units.Count);
    }

    [Fact]
    public void A_model_path_file_may_not_climb_out_of_the_model_path()
    {
        Write("secret.kflow", "fn secret() { }\n");
        var shared = Write("library/shared.kflow", "import \"../secret.kflow\";\nfn s() { }\n");
        var main = Write("model/main.kflow", "import \"shared.kflow\";\nfn f() { s(); }\n");
        var library = Path.Combine(_top, "library");
        var result = FrontEnd.Load(main, new LoadOptions { ModelPath = [library] });
        Assert.Equal([$"{ModelLoader.Display(shared)}:1:8: {Outside("../secret.kflow", _model, library)}"], Lines(result));
    }

    [Fact]
    public void A_file_imported_under_two_names_is_loaded_once()
    {
        Write("model/lib/a.kflow", "fn a() { }\n");
        File.CreateSymbolicLink(Path.Combine(_model, "alias.kflow"), Path.Combine(_model, "lib", "a.kflow"));
        var main = Write("model/main.kflow",
            "import \"lib/a.kflow\";\nimport \"lib/../lib/a.kflow\";\nimport \"alias.kflow\";\nimport \"./lib//a.kflow\";\nfn f() { a(); }\n");
        var result = FrontEnd.Load(main);
        // Loaded twice, 'a' would be declared twice (KF0202).
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.Units.Count);
    }

    [Fact]
    public void An_import_of_the_root_through_a_symlinked_directory_is_a_cycle()
    {
        Directory.CreateSymbolicLink(Path.Combine(_model, "self"), _model);
        var main = Write("model/main.kflow", "import \"self/self/main.kflow\";\nfn f() { }\n");
        var display = ModelLoader.Display(main);
        Assert.Equal([$"{main}:1:8: error KF0401: import cycle: {display} -> {display}"], Lines(FrontEnd.Load(main)));
    }

    [Fact]
    public void A_loop_of_symbolic_links_is_one_diagnostic()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        File.CreateSymbolicLink(Path.Combine(_model, "ping.kflow"), Path.Combine(_model, "pong.kflow"));
        File.CreateSymbolicLink(Path.Combine(_model, "pong.kflow"), Path.Combine(_model, "ping.kflow"));
        var main = Write("model/main.kflow", "fn f() { }\nimport \"ping.kflow\";\n");
        var ping = ModelLoader.Display(Path.Combine(_model, "ping.kflow"));
        Assert.Equal([$"{main}:2:8: error KF0407: import \"ping.kflow\": {ping} is a loop of symbolic links"], Lines(FrontEnd.Load(main)));
    }
}
