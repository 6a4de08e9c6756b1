using System.IO.Compression;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// `dotnet pack` makes a .NET tool package that installs as `kexecsim` and checks the catalog it
/// carries: packs the build under test (no rebuild), installs it into a temporary tool path from a
/// local folder only (a NuGet config that clears every other source), and runs it from a directory
/// outside the repository, so that the models it checks can only be the package's own.
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kexecsim-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        ? "Release" : "Debug";

    [Fact]
    public void The_packed_tool_installs_as_kexecsim_and_checks_the_catalog_it_carries()
    {
        var feed = Path.Combine(_dir, "nupkg");
        var project = Path.Combine(TestPaths.RepositoryRoot, "src", "KexecSim.Cli", "KexecSim.Cli.csproj");
        var pack = ProcessRunner.Exec(ProcessRunner.Dotnet, _dir, "pack", project, "--no-build", "-c", Configuration, "-o", feed);
        Assert.True(pack.Exit == 0, pack.Out + pack.Err);

        // The package is a tool whose command is kexecsim, with every model of models/ inside.
        var package = Assert.Single(Directory.GetFiles(feed, "KexecSim.*.nupkg"));
        using (var zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("LICENSE", entries);
            using var settings = new StreamReader(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
            Assert.Contains("<Command Name=\"kexecsim\" EntryPoint=\"kexecsim.dll\" Runner=\"dotnet\" />", settings.ReadToEnd(), StringComparison.Ordinal);
            var models = Directory.GetFiles(TestPaths.Models, "*.kflow", SearchOption.AllDirectories)
                .Select(f => "tools/net10.0/any/models/" + Path.GetRelativePath(TestPaths.Models, f).Replace('\\', '/'));
            Assert.All(models, m => Assert.Contains(m, entries));
        }

        File.WriteAllText(Path.Combine(_dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var tools = Path.Combine(_dir, "tools");
        var install = ProcessRunner.Exec(ProcessRunner.Dotnet, _dir, "tool", "install", "--tool-path", tools, "--configfile", Path.Combine(_dir, "nuget.config"), "KexecSim");
        Assert.True(install.Exit == 0, install.Out + install.Err);
        Assert.Contains("Tool 'kexecsim' (version '0.1.0') was successfully installed.", install.Out, StringComparison.Ordinal);

        var kexecsim = Path.Combine(tools, OperatingSystem.IsWindows() ? "kexecsim.exe" : "kexecsim");
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work")).FullName;
        var check = ProcessRunner.Exec(kexecsim, work, "check");
        Assert.True(check.Exit == ExitCodes.Success, check.Out + check.Err);

        // Every catalog scenario ran and met its expectation, from the models installed with the tool.
        var scenarios = Directory.GetFiles(Path.Combine(TestPaths.Models, "catalog"), "*.kflow")
            .Sum(f => KexecSim.Language.FrontEnd.Load(f, new KexecSim.Language.LoadOptions { ModelPath = [TestPaths.Models] }).Scenarios.Count);
        Assert.True(scenarios > 0);
        Assert.Equal(scenarios, check.Out.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
        Assert.Contains("tools/.store/kexecsim/0.1.0/kexecsim/0.1.0/tools/net10.0/any/models/linux/", check.Out + check.Err, StringComparison.Ordinal);
    }
}
