using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>
/// The regression corpus (tests/corpus): one case per file, or per folder with a main.kflow, grouped by
/// outcome (clean, warnings, errors/&lt;phase&gt;). Each case's expected diagnostics (file:line:col:
/// severity code) sit beside it and must match exactly, in order.
/// </summary>
public sealed class CorpusTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPaths.Corpus, "*.kflow", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var directory = Path.GetDirectoryName(file)!;
            if (IsInsideFolderCase(directory))
            {
                if (Path.GetFileName(file) == "main.kflow" && File.Exists(Path.Combine(directory, "main.kflow")))
                {
                    data.Add(Path.GetRelativePath(TestPaths.Corpus, directory));
                }
                continue;
            }
            data.Add(Path.GetRelativePath(TestPaths.Corpus, file));
        }
        return data;
    }

    private static bool IsInsideFolderCase(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null && dir.FullName.Length > TestPaths.Corpus.Length; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "main.kflow")))
            {
                return true;
            }
        }
        return false;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_reports_exactly_the_expected_diagnostics(string name)
    {
        var path = Path.Combine(TestPaths.Corpus, name);
        var isFolder = Directory.Exists(path);
        var directory = isFolder ? path : Path.GetDirectoryName(path)!;
        var root = isFolder ? Path.Combine(path, "main.kflow") : path;
        var expectedFile = isFolder ? Path.Combine(path, "expected") : Path.ChangeExtension(path, ".expected");
        var expected = File.ReadAllLines(expectedFile).Where(l => l.Length > 0).ToList();

        var result = FrontEnd.Load(root, new LoadOptions { ModelPath = [TestPaths.Models] });
        var actual = result.Diagnostics.Select(d => Format(d, directory)).ToList();

        Assert.Equal(expected, actual);
        var group = name.Split(Path.DirectorySeparatorChar)[0];
        switch (group)
        {
            case "clean":
                Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
                Assert.Equal(result.Program!.Scenarios.Count, result.Scenarios.Count);
                break;
            case "warnings":
                Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
                Assert.NotEmpty(result.Diagnostics);
                break;
            case "errors":
                Assert.Contains(result.Diagnostics, d => d.IsError);
                Assert.Empty(result.Scenarios);
                break;
            default:
                Assert.Fail($"corpus case outside clean/, warnings/ or errors/: {name}");
                break;
        }
    }

    private static string Format(Diagnostic diagnostic, string caseDirectory)
    {
        var (line, column) = diagnostic.Position;
        var file = diagnostic.Source is null ? "<none>" : Path.GetRelativePath(caseDirectory, Path.GetFullPath(diagnostic.Source.Path));
        var severity = diagnostic.IsError ? "error" : "warning";
        return $"{file.Replace('\\', '/')}:{line}:{column}: {severity} {diagnostic.Code.Format()}";
    }
}
