using System.Diagnostics;

namespace KexecSim.Cli.Tests;

/// <summary>Runs a program as a separate process (the real kexecsim, dotnet pack, dotnet tool) and collects its output.</summary>
public static class ProcessRunner
{
    /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static (int Exit, string Out, string Err) Exec(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["CI"] = "true";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return (process.ExitCode, stdout.Result.ReplaceLineEndings("\n"), stderr.Result.ReplaceLineEndings("\n"));
    }

    /// <summary>Starts the kexecsim built with the tests without waiting for it (for signals and peak memory while
    /// it runs); its output streams are read as they come.</summary>
    public static (Process Process, Task<string> Out, Task<string> Err) StartKexecsim(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "kexecsim.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    /// <summary>Sends SIG<paramref name="signal"/> (INT, TERM, ...) to <paramref name="process"/> with kill(1).</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The kexecsim built with the tests, run in <paramref name="workingDirectory"/> (paths in its output are relative to it).</summary>
    public static (int Exit, string Out, string Err) Kexecsim(string workingDirectory, params string[] args) =>
        Exec(Dotnet, workingDirectory, [Path.Combine(AppContext.BaseDirectory, "kexecsim.dll"), .. args]);
}
