using System.Xml.Linq;
using KexecSim.Language.Diagnostics;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// References run one way (STYLE.md, "Layout"): language → program ← machine ← exploration ←
/// reporting ← CLI. The compiled program (<c>src/KexecSim.Program</c>) is the contract between the
/// compiler and the machine: it references nothing of ours, and the machine, the explorer and the
/// reports never reference the front end. A reference that runs the wrong way fails here, read from
/// the projects' <c>ProjectReference</c> items and, for what the compiler kept, from the built assemblies.
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>The projects under src/ and the projects each may reference directly.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["KexecSim.Program"] = [],
        ["KexecSim.Language"] = ["KexecSim.Program"],
        ["KexecSim.Machine"] = ["KexecSim.Program"],
        ["KexecSim.Exploration"] = ["KexecSim.Machine", "KexecSim.Program"],
        ["KexecSim.Reporting"] = ["KexecSim.Exploration", "KexecSim.Machine", "KexecSim.Program"],
        ["KexecSim.Cli"] = ["KexecSim.Reporting", "KexecSim.Exploration", "KexecSim.Machine", "KexecSim.Program", "KexecSim.Language"],
    };

    /// <summary>What each project must never reach, directly or through another project.</summary>
    private static readonly Dictionary<string, string[]> Forbidden = new(StringComparer.Ordinal)
    {
        ["KexecSim.Program"] = ["KexecSim.Language", "KexecSim.Machine", "KexecSim.Exploration", "KexecSim.Reporting", "KexecSim.Cli"],
        ["KexecSim.Language"] = ["KexecSim.Machine", "KexecSim.Exploration", "KexecSim.Reporting", "KexecSim.Cli"],
        ["KexecSim.Machine"] = ["KexecSim.Language", "KexecSim.Exploration", "KexecSim.Reporting", "KexecSim.Cli"],
        ["KexecSim.Exploration"] = ["KexecSim.Language", "KexecSim.Reporting", "KexecSim.Cli"],
        ["KexecSim.Reporting"] = ["KexecSim.Language", "KexecSim.Cli"],
        ["KexecSim.Cli"] = [],
    };

    private static string Source => Path.Combine(TestPaths.RepositoryRoot, "src");

    private static IReadOnlyList<string> References(string project)
    {
        var file = Path.Combine(Source, project, project + ".csproj");
        return XDocument.Load(file).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();
    }

    private static HashSet<string> Reached(string project)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(References(project));
        while (pending.TryPop(out var next))
        {
            if (reached.Add(next))
            {
                foreach (var reference in References(next))
                {
                    pending.Push(reference);
                }
            }
        }
        return reached;
    }

    [Fact]
    public void Every_file_docs_architecture_names_exists()
    {
        // docs/architecture.md tells a reader where each rule lives; a file moved or renamed without
        // it would send them nowhere.
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "architecture.md"));
        var named = System.Text.RegularExpressions.Regex.Matches(doc, "`((?:src|tests)/[^`]+)`").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(named.Count >= 15, $"the table names {named.Count} files");
        Assert.All(named, path => Assert.True(
            File.Exists(Path.Combine(TestPaths.RepositoryRoot, path)) || Directory.Exists(Path.Combine(TestPaths.RepositoryRoot, path)),
            $"docs/architecture.md names {path}, which does not exist"));
    }

    [Fact]
    public void Every_source_project_has_a_place_in_the_layering()
    {
        var projects = Directory.GetDirectories(Source).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Allowed.Keys.Order(StringComparer.Ordinal), projects);
    }

    [Fact]
    public void Project_references_run_one_way()
    {
        var wrong = Allowed.Keys
            .SelectMany(project => References(project).Where(r => !Allowed[project].Contains(r)).Select(r => $"{project} → {r}"))
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void No_project_reaches_what_it_must_not_even_indirectly()
    {
        var wrong = Forbidden
            .SelectMany(rule => Reached(rule.Key).Intersect(rule.Value).Select(r => $"{rule.Key} reaches {r}"))
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void The_built_assemblies_agree()
    {
        static string[] Of(Type type) => type.Assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("KexecSim.", StringComparison.Ordinal)).ToArray();
        Assert.Empty(Of(typeof(KexecSim.Program.CompiledProgram)));
        Assert.DoesNotContain("KexecSim.Language", Of(typeof(KexecSim.Machine.Machine)));
        Assert.DoesNotContain("KexecSim.Language", Of(typeof(BreadthFirstExplorer)));
        Assert.DoesNotContain("KexecSim.Language", Of(typeof(KexecSim.Reporting.TraceFile)));
    }

    /// <summary>The explorer prints coverage findings with its own codes: they stay the front end's numbers and words.</summary>
    [Fact]
    public void Coverage_codes_are_the_front_ends()
    {
        foreach (var code in Enum.GetValues<CoverageCode>())
        {
            var diagnostic = Enum.Parse<DiagnosticCode>(code.ToString());
            Assert.Equal((int)diagnostic, (int)code);
            Assert.Equal(diagnostic.Format(), code.Format());
            Assert.Equal(diagnostic.DefaultSeverity().Keyword(), code.Severity().Keyword());
        }
        var front = Enum.GetValues<DiagnosticCode>().Where(c => (int)c is >= 950 and < 1000).Select(c => (int)c);
        Assert.Equal(front, Enum.GetValues<CoverageCode>().Select(c => (int)c));
    }
}
