namespace KexecSim.Cli;

/// <summary>Where the built-in models live: beside the executable (copied at build), else in the source tree.</summary>
public static class Catalog
{
    /// <summary>A source checkout's models/ (so that edits take effect without a rebuild), else the copy beside the executable.</summary>
    public static string ModelsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models");
                if (File.Exists(Path.Combine(dir.FullName, "KexecSim.slnx")) && Directory.Exists(Path.Combine(candidate, "catalog")))
                {
                    return candidate;
                }
            }
            return Path.Combine(AppContext.BaseDirectory, "models");
        }
    }

    public static string CatalogDirectory => Path.Combine(ModelsDirectory, "catalog");

    /// <summary>The catalog's scenario files, in a stable order.</summary>
    public static IReadOnlyList<string> ScenarioFiles() =>
        Directory.Exists(CatalogDirectory)
            ? Directory.GetFiles(CatalogDirectory, "*.kflow", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
}
