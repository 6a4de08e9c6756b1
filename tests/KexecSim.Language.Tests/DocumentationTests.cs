using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>The documentation keeps up with the code.</summary>
public sealed class DocumentationTests
{
    [Fact]
    public void Every_diagnostic_code_is_documented_with_its_severity()
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "diagnostics.md"));
        foreach (var code in Enum.GetValues<DiagnosticCode>())
        {
            var severity = code.DefaultSeverity().Keyword();
            Assert.Contains($"| {code.Format()} | {severity} |", text);
        }
    }
}
