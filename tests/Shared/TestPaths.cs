namespace KexecSim.Tests;

/// <summary>Locations in the repository, found by walking up from the test binaries.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Corpus => Path.Combine(RepositoryRoot, "tests", "corpus");

    public static string Models => Path.Combine(RepositoryRoot, "models");

    /// <summary>The contract folder beside the repository (CI clones it there too).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

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
