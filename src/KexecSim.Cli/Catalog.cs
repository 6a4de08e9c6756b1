namespace KexecSim.Cli;

/// <summary>Where the built-in models live: beside the executable (copied at build), else in the source tree.</summary>
public static class Catalog
{
    public static string ModelsDirectory
    {
        get
        {
            var besideExecutable = Path.Combine(AppContext.BaseDirectory, "models");
            if (Directory.Exists(besideExecutable))
            {
                return besideExecutable;
            }
            // Running from a source checkout without a copy: walk up to the repository's models/.
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models");
                if (Directory.Exists(Path.Combine(candidate, "catalog")))
                {
                    return candidate;
                }
            }
            return besideExecutable;
        }
    }

    public static string CatalogDirectory => Path.Combine(ModelsDirectory, "catalog");

    /// <summary>The catalog's scenario files, in a stable order.</summary>
    public static IReadOnlyList<string> ScenarioFiles() =>
        Directory.Exists(CatalogDirectory)
            ? Directory.GetFiles(CatalogDirectory, "*.kflow", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
}
