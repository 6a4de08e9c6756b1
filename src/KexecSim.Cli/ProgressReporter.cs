using System.Globalization;
using KexecSim.Exploration;

namespace KexecSim.Cli;

/// <summary>Progress of a long check on a terminal; silent in CI and when standard error is redirected.</summary>
public static class ProgressReporter
{
    private static bool _shown;

    public static bool Enabled(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;

    public static Action<Progress>? For(TextWriter stderr)
    {
        if (!Enabled(stderr))
        {
            return null;
        }
        return p =>
        {
            _shown = true;
            stderr.Write(p.Phase is { } phase
                ? string.Create(CultureInfo.InvariantCulture,
                    $"\r  {phase}: {p.States:N0} of {p.Of:N0} states, path {p.Depth:N0}, open {p.Queue:N0}, {p.MemoryBytes / (1024 * 1024):N0} MB   ")
                : string.Create(CultureInfo.InvariantCulture,
                    $"\r  {p.States:N0} states, {p.StatesPerSecond:N0} states/s, depth {p.Depth}, queue {p.Queue:N0}, {p.MemoryBytes / (1024 * 1024):N0} MB   "));
        };
    }

    public static void Clear(TextWriter stderr)
    {
        if (_shown)
        {
            stderr.Write("\r" + new string(' ', 100) + "\r");
            _shown = false;
        }
    }
}
