using System.Runtime.InteropServices;

namespace KexecSim.Language.Loading;

/// <summary>
/// A file's one true name: every symbolic link resolved and every <c>.</c> and <c>..</c> removed
/// (<c>realpath(3)</c>), so that a file reached under two names (a symlink, <c>a/../b.kflow</c>) is
/// one file, and a symlink cannot take an import out of the model's tree unseen.
/// </summary>
public static class RealPath
{
    /// <summary>Why a path has no real path.</summary>
    public enum Problem
    {
        None,

        /// <summary>A component is missing, unreadable or not a directory.</summary>
        Unresolvable,

        /// <summary>Too many levels of symbolic links: a loop (ELOOP).</summary>
        SymlinkLoop,
    }

    /// <summary>The real path of <paramref name="path"/>, or null and why not.</summary>
    public static string? Of(string path, out Problem problem)
    {
        ArgumentNullException.ThrowIfNull(path);
        problem = Problem.None;
        if (OperatingSystem.IsWindows())
        {
            // No realpath(3): the full path, with a final link followed (enough for the tests' platforms).
            var full = Path.GetFullPath(path);
            try
            {
                var target = File.Exists(full) ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) : null;
                return target?.FullName ?? full;
            }
            catch (IOException)
            {
                problem = Problem.SymlinkLoop;
                return null;
            }
        }
        var resolved = RealPathNative(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            var errno = Marshal.GetLastPInvokeError();
            problem = errno == (OperatingSystem.IsMacOS() ? ELoopMacOs : ELoopLinux) ? Problem.SymlinkLoop : Problem.Unresolvable;
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            // realpath(path, NULL) allocates with malloc; on Unix FreeHGlobal is free(3).
            Marshal.FreeHGlobal(resolved);
        }
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="directory"/> or below it (both real paths).</summary>
    public static bool IsUnder(string path, string directory)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(directory);
        var root = directory.EndsWith(Path.DirectorySeparatorChar) ? directory : directory + Path.DirectorySeparatorChar;
        return path == directory || path.StartsWith(root, StringComparison.Ordinal);
    }

    private const int ELoopLinux = 40;
    private const int ELoopMacOs = 62;

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr RealPathNative(string path, IntPtr resolved);
}
