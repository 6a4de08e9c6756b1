using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>Runs the kexecsim command in-process, with a scratch folder for model files.</summary>
public abstract class CliFixture : IDisposable
{
    protected string Scratch { get; } = Directory.CreateTempSubdirectory("kexecsim-cli-").FullName;

    public void Dispose()
    {
        Directory.Delete(Scratch, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = KexecSimCli.Run(args, stdout, stderr);
        return (exit, stdout.ToString().ReplaceLineEndings("\n"), stderr.ToString().ReplaceLineEndings("\n"));
    }

    protected string Write(string name, string text)
    {
        var path = Path.Combine(Scratch, name);
        File.WriteAllText(path, text);
        return path;
    }
}
