using KexecSim.Language.Loading;

namespace KexecSim.Cli;

/// <summary>
/// Files the command writes (trace files): checked before the work that fills them, written atomically,
/// and their failures said in words of our own, never as .NET exception text.
/// </summary>
internal static class OutputFile
{
    /// <summary>Why <paramref name="path"/> cannot take an output file, or null when it looks writable.</summary>
    /// <remarks>
    /// Run before a search, so that a typo does not cost the search and then its verdict. A device
    /// (/dev/stdout, /dev/null, /dev/full) is written to in place and cannot be tried in advance;
    /// anything else is tried by creating, then removing, a file beside it.
    /// </remarks>
    public static string? Problem(string path)
    {
        if (path.Length == 0)
        {
            return "expected a file name";
        }
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "the path contains a NUL character";
        }
        try
        {
            if (Directory.Exists(path))
            {
                return "is a directory";
            }
            var target = Target(path);
            if (Path.GetFileName(target).Length == 0)
            {
                return "expected a file name";
            }
            var directory = Path.GetDirectoryName(target)!;
            if (!Directory.Exists(directory))
            {
                return $"no such directory {directory}";
            }
            if (IsDevice(target))
            {
                return null;
            }
            var probe = TemporaryBeside(target);
            try
            {
                using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                }
            }
            catch (Exception e) when (IsIoFailure(e))
            {
                return $"cannot create a file in {directory}: {Describe(e)}";
            }
            return null;
        }
        catch (Exception e) when (IsIoFailure(e))
        {
            return $"cannot write there: {Describe(e)}";
        }
    }

    /// <summary>Whether <c>--checkpoint</c> <paramref name="directory"/> can take a checkpoint (created when
    /// missing); when not, one line naming the option and the directory is said.</summary>
    public static bool CheckCheckpointDirectory(string directory, TextWriter stderr)
    {
        string? problem;
        try
        {
            problem = File.Exists(directory) ? "is a file, not a directory" : null;
            if (problem is null)
            {
                Directory.CreateDirectory(directory);
                problem = Problem(Path.Combine(directory, "manifest.json"));
            }
        }
        catch (Exception e) when (IsIoFailure(e))
        {
            problem = $"cannot create it: {Describe(e)}";
        }
        if (problem is not null)
        {
            stderr.WriteLine($"kexecsim: --checkpoint {(directory.Length == 0 ? "\"\"" : directory)}: {problem}");
            return false;
        }
        return true;
    }

    /// <summary>Whether <c>--trace</c> <paramref name="path"/> can take a trace file; when not, one line naming the
    /// option and the path is said.</summary>
    public static bool CheckTracePath(string path, TextWriter stderr) => CheckPath("--trace", path, stderr);

    /// <summary>Whether <paramref name="option"/>'s <paramref name="path"/> can take an output file; when not, one line
    /// naming the option and the path is said.</summary>
    public static bool CheckPath(string option, string path, TextWriter stderr)
    {
        if (Problem(path) is { } problem)
        {
            stderr.WriteLine($"kexecsim: {option} {(path.Length == 0 ? "\"\"" : path)}: {problem}");
            return false;
        }
        return true;
    }

    /// <summary>
    /// Writes <paramref name="text"/> to <paramref name="path"/> through a temporary file in the same
    /// directory, renamed over it only once complete and flushed: a crash mid-write leaves the previous
    /// file whole. A symbolic link is followed (the file it names is replaced); a device is written in place.
    /// </summary>
    public static void WriteAtomically(string path, string text)
    {
        var target = Target(path);
        if (IsDevice(target))
        {
            File.WriteAllText(target, text);
            return;
        }
        var temporary = TemporaryBeside(target);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(target))
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(target));
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Exceptions that are the file system saying no (not bugs).</summary>
    public static bool IsIoFailure(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException;

    /// <summary>An I/O failure in words (the operating system's reason, never .NET's message).</summary>
    public static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        DirectoryNotFoundException => "no such directory",
        FileNotFoundException => "no such file or directory",
        PathTooLongException => "the name is too long",
        ArgumentException or NotSupportedException => "not a valid path",
        // On Unix an IOException's HResult is the errno.
        IOException { HResult: var errno } => errno switch
        {
            1 or 13 => "permission denied",
            2 => "no such file or directory",
            5 => "input/output error",
            17 => "already exists",
            20 => "a part of the path is not a directory",
            21 => "is a directory",
            27 => "file too large",
            28 => "no space left on device",
            30 => "read-only file system",
            36 => "the name is too long",
            122 => "disk quota exceeded",
            _ => "input/output error",
        },
        _ => "input/output error",
    };

    /// <summary>The file a path names, after following symbolic links.</summary>
    private static string Target(string path)
    {
        var full = Path.GetFullPath(path);
        return new FileInfo(full).LinkTarget is null ? full : File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
    }

    private static string TemporaryBeside(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (IsIoFailure(e))
        {
            // The write already failed; that is the error to report.
        }
    }

    /// <summary>
    /// True when the path exists and is neither a regular file nor a directory (a device, FIFO or
    /// socket): it cannot be replaced by a rename, only written; and it is no input to read. (KexecSim.Language's input reader asks
    /// the same question of its inputs.)
    /// </summary>
    public static bool IsDevice(string path) =>
        File.Exists(path) && InputFile.KindOf(path) is { } kind && kind is not (FileKind.RegularFile or FileKind.Directory);
}
