namespace KexecSim.Tests;

/// <summary>Locations in the repository, found by walking up from the test binaries.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Corpus => Path.Combine(RepositoryRoot, "tests", "corpus");

    public static string Models => Path.Combine(RepositoryRoot, "models");

    /// <summary>The contract folder beside the repository (CI clones it there too).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    /// <summary>
    /// The contract's examples: <c>../shared/examples</c> when the contract folder sits beside the
    /// checkout, otherwise the copy kept in <c>tests/fixtures/shared-examples</c> (a clean clone alone).
    /// </summary>
    public static string SharedExamples
    {
        get
        {
            var beside = Path.Combine(Shared, "examples");
            return Directory.Exists(beside) ? beside : Path.Combine(RepositoryRoot, "tests", "fixtures", "shared-examples");
        }
    }

    /// <summary>
    /// The contract's robustness reproducers: <c>../shared/cases/robustness</c> beside the checkout, otherwise
    /// the copy of those the tests use, kept in <c>tests/fixtures/robustness</c>.
    /// </summary>
    public static string RobustnessCases
    {
        get
        {
            var beside = Path.Combine(Shared, "cases", "robustness");
            return Directory.Exists(beside) ? beside : Path.Combine(RepositoryRoot, "tests", "fixtures", "robustness");
        }
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
        throw new InvalidOperationException("cannot find the repository root (KexecSim.slnx) above " + AppContext.BaseDirectory);
    }
}
