using System.Runtime.InteropServices;
using KexecSim.Program;

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
            return ReadThroughBudget(stream, info.Length, displayPath, maxBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // Our words, never the exception's: its text repeats the path and varies with the runtime.
            return Fail(InputFileProblem.Unreadable, $"{displayPath}: cannot read: {Reason(e)}");
        }
    }

    /// <summary>Past the first piece (the size the file reports), a read goes on in pieces of this size.</summary>
    private const int PieceBytes = 1 << 20;

    /// <summary>
    /// Reads to the end in pieces, and gives up as soon as more than <paramref name="maxBytes"/> came:
    /// at most the budget and one piece are ever held (no buffer that doubles past the budget). The
    /// first piece is the reported size and one byte (to see the end); a file that reports no size
    /// (procfs) starts with 64 KiB. Pieces are multiples of 8 bytes past that, as /proc/self/pagemap
    /// needs (it refuses other sizes).
    /// </summary>
    private static InputFileResult ReadThroughBudget(Stream stream, long reportedLength, string displayPath, long maxBytes)
    {
        var pieces = new List<byte[]>();
        var piece = new byte[(int)Math.Min(Math.Min(maxBytes + 1, Array.MaxLength), Math.Max(reportedLength + 1, 64 * 1024))];
        var filled = 0;
        long total = 0;
        while (true)
        {
            if (filled == piece.Length)
            {
                pieces.Add(piece);
                piece = new byte[PieceBytes];
                filled = 0;
            }
            var read = stream.Read(piece, filled, piece.Length - filled);
            if (read == 0)
            {
                break;
            }
            filled += read;
            total += read;
            if (total > maxBytes)
            {
                return Fail(InputFileProblem.TooLarge, $"{displayPath}: file is more than {maxBytes} bytes; the limit is {maxBytes} bytes");
            }
        }
        var bytes = new byte[total];
        var at = 0;
        foreach (var full in pieces)
        {
            full.CopyTo(bytes, at);
            at += full.Length;
        }
        Array.Copy(piece, 0, bytes, at, filled);
        return new InputFileResult(bytes, InputFileProblem.None, string.Empty);
    }

    /// <summary>Why a read failed, in a few words: the errno where the system gives one (Linux, macOS).</summary>
    private static string Reason(Exception e)
    {
        if (e is UnauthorizedAccessException)
        {
            return "permission denied";
        }
        if (e is NotSupportedException or ArgumentException)
        {
            return "not a path this system can open";
        }
        if (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "no such file (it went away while being read)";
        }
        if (e is PathTooLongException)
        {
            return "the path is too long";
        }
        // On Unix, .NET puts the errno in an IOException's HResult; elsewhere it is an HRESULT.
        var errno = e.HResult;
        if (OperatingSystem.IsWindows() || errno <= 0)
        {
            return "an I/O error";
        }
        return errno switch
        {
            1 => "operation not permitted (EPERM)",
            5 => "an I/O error (EIO)",
            6 => "no such device or address (ENXIO)",
            12 => "out of memory (ENOMEM)",
            13 => "permission denied (EACCES)",
            21 => "is a directory (EISDIR)",
            22 => "the system refused the read (EINVAL)",
            _ => $"an I/O error (errno {errno})",
        };
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
