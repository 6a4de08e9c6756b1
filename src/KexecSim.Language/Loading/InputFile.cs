using System.Runtime.InteropServices;

namespace KexecSim.Language.Loading;

/// <summary>Why an input file could not be read (each a one-line message naming the file).</summary>
public enum InputFileProblem
{
    None,

    /// <summary>Nothing at that path.</summary>
    NotFound,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A device, FIFO or socket: /dev/zero, a named pipe, stdin, a terminal.</summary>
    NotRegularFile,

    /// <summary>More bytes than the budget (files that report no size, like procfs, are read up to it).</summary>
    TooLarge,

    /// <summary>Permissions, I/O errors.</summary>
    Unreadable,
}

/// <summary>What a path names (the file type bits of <c>st_mode</c>).</summary>
public enum FileKind
{
    RegularFile,
    Directory,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    Other,
}

/// <summary>The bytes of an input file, or why there are none.</summary>
public sealed record InputFileResult(byte[]? Bytes, InputFileProblem Problem, string Message)
{
    public bool Succeeded => Bytes is not null;
}

/// <summary>
/// Reads an input file (a model, an import, a trace) safely: only a regular file is opened (never a
/// device, FIFO or socket, which could be endless or block forever), and it is read through a byte
/// budget, so that a file that lies about its size (procfs) cannot exhaust memory.
/// </summary>
public static class InputFile
{
    /// <summary>Reads at most <paramref name="maxBytes"/> bytes of <paramref name="path"/>; the message names <paramref name="displayPath"/>.</summary>
    public static InputFileResult Read(string path, string displayPath, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(displayPath);
        try
        {
            if (Directory.Exists(path))
            {
                return Fail(InputFileProblem.Directory, $"{displayPath}: is a directory, not a file");
            }
            if (!File.Exists(path))
            {
                return Fail(InputFileProblem.NotFound, $"{displayPath}: no such file");
            }
            if (KindOf(path) is { } kind and not FileKind.RegularFile)
            {
                return Fail(InputFileProblem.NotRegularFile, $"{displayPath}: is a {Describe(kind)}, not a regular file");
            }
            var info = new FileInfo(path);
            if (info.Length > maxBytes)
            {
                return Fail(InputFileProblem.TooLarge, $"{displayPath}: file is {info.Length} bytes; the limit is {maxBytes} bytes");
            }
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            while (true)
            {
                var read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - buffer.Length));
                if (read == 0)
                {
                    break;
                }
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBytes)
                {
                    return Fail(InputFileProblem.TooLarge, $"{displayPath}: file is more than {maxBytes} bytes; the limit is {maxBytes} bytes");
                }
            }
            return new InputFileResult(buffer.ToArray(), InputFileProblem.None, string.Empty);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return Fail(InputFileProblem.Unreadable, $"{displayPath}: cannot read: {e.Message}");
        }
    }

    private static InputFileResult Fail(InputFileProblem problem, string message) => new(null, problem, message);

    /// <summary>
    /// What the path names after following links, found without opening it (opening a FIFO blocks until
    /// a writer comes). Null where the platform cannot say (not Linux, or no statx): callers then rely
    /// on the byte budget alone. Public so that every reader and writer of the tool asks the same way.
    /// </summary>
    public static FileKind? KindOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            // struct statx has the same layout on every Linux architecture: stx_mode is a u16 at offset 28.
            var buffer = new byte[256];
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
            {
                return null;
            }
            return (BitConverter.ToUInt16(buffer, 28) & 0xF000) switch
            {
                0x8000 => FileKind.RegularFile,
                0x4000 => FileKind.Directory,
                0x2000 => FileKind.CharacterDevice,
                0x6000 => FileKind.BlockDevice,
                0x1000 => FileKind.Fifo,
                0xC000 => FileKind.Socket,
                _ => FileKind.Other,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The kind in words, as a message names it ("character device", "FIFO (named pipe)").</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.RegularFile => "regular file",
        FileKind.Directory => "directory",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.Fifo => "FIFO (named pipe)",
        FileKind.Socket => "socket",
        _ => "special file",
    };

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
