using System.Text.RegularExpressions;
using KexecSim.Language.Binding;
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

    private static string LanguagePage => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "language.md")).ReplaceLineEndings("\n");

    /// <summary>The step class the page must give an intrinsic: local, step, or step that may block.</summary>
    private static string StepClass(Intrinsic intrinsic) => intrinsic.IsLocal ? "local" : intrinsic.IsBlocking ? "step, may block" : "step";

    [Fact]
    public void Every_intrinsic_is_documented_with_its_signature_and_step()
    {
        var page = LanguagePage;
        var problems = new List<string>();
        foreach (var intrinsic in Intrinsics.All.Values.OrderBy(i => i.Id))
        {
            var row = Regex.Match(page, $@"^\| `{Regex.Escape(intrinsic.Name)}\((?<params>[^)]*)\)(?: -> (?<returns>\w+))?` \| (?<step>[^|]+) \| (?<what>[^|]+) \|$", RegexOptions.Multiline);
            if (!row.Success)
            {
                problems.Add($"{intrinsic.Name}: no row '| `{intrinsic.Name}(...)` | step | what it does |' in docs/language.md");
                continue;
            }
            // Parameters: one "type name" per parameter, optional ones in brackets, '...' for the variadic rest.
            var parameters = Regex.Matches(row.Groups["params"].Value, @"(?<type>[a-z]+) [A-Za-z_]+").Select(m => m.Groups["type"].Value).ToList();
            var expected = intrinsic.Parameters.Select(Intrinsic.Describe).ToList();
            if (!parameters.SequenceEqual(expected))
            {
                problems.Add($"{intrinsic.Name}: parameters ({string.Join(", ", parameters)}), the binder's ({string.Join(", ", expected)})");
            }
            var optional = row.Groups["params"].Value.Count(c => c == '[');
            if (optional != intrinsic.Parameters.Length - intrinsic.RequiredCount || row.Groups["params"].Value.Contains("...", StringComparison.Ordinal) != intrinsic.IsVariadic)
            {
                problems.Add($"{intrinsic.Name}: optional or variadic parameters differ from the binder's");
            }
            var returns = row.Groups["returns"].Success ? row.Groups["returns"].Value : "void";
            if (returns != intrinsic.ReturnType.Name)
            {
                problems.Add($"{intrinsic.Name}: returns {returns}, the binder's {intrinsic.ReturnType.Name}");
            }
            if (row.Groups["step"].Value != StepClass(intrinsic))
            {
                problems.Add($"{intrinsic.Name}: step '{row.Groups["step"].Value}', the binder's '{StepClass(intrinsic)}'");
            }
        }
        Assert.Empty(problems);
        // And no row documents an intrinsic that does not exist.
        var documented = Regex.Matches(page[page.IndexOf("\n## Intrinsics\n", StringComparison.Ordinal)..page.IndexOf("\n## The initial machine state\n", StringComparison.Ordinal)],
            @"^\| `(?<name>[a-z_0-9]+)\(", RegexOptions.Multiline).Select(m => m.Groups["name"].Value).ToList();
        Assert.Equal(Intrinsics.All.Keys.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_kernel_name_is_a_row_of_the_kernel_table()
    {
        var page = LanguagePage;
        var missing = KernelNames.All.Select(n => $"| `{n.Kernel}` | {n.Kflow} | {n.Note} |").Where(row => !page.Contains(row + "\n", StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void The_initial_state_section_names_the_traps()
    {
        var page = LanguagePage;
        var section = page[page.IndexOf("\n## The initial machine state\n", StringComparison.Ordinal)..page.IndexOf("\n## Scenarios\n", StringComparison.Ordinal)];
        foreach (var fact in new[] { "**IF = 0**", "`RUNNING`", "`HALTED`", "**`text[0]`**", "**`data[0]`**", "`next_kernel`", "`OLD_CONTENT`", "old kernel" })
        {
            Assert.Contains(fact, section, StringComparison.Ordinal);
        }
    }
}
