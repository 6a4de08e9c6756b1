using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>A checkpoint that cannot be written, read or resumed from: the message says why, in words (exit 2).</summary>
public sealed class CheckpointException(string message) : Exception(message);

/// <summary>
/// <c>check --checkpoint DIR</c> / <c>--resume DIR</c> (docs/checkpoint.md): where a breadth-first search
/// saves itself, how often, what it resumes from, and what it is (the <see cref="Identity"/> a resumed search
/// must have).
/// </summary>
public sealed record CheckpointOptions
{
    /// <summary>The directory the search saves itself in at level boundaries, or null for none.</summary>
    public string? Directory { get; init; }

    /// <summary>At most one checkpoint per this much search time; zero: at every level.</summary>
    public TimeSpan Every { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A checkpoint opened (and checked) with <see cref="Checkpoint.Open"/> to continue from, or null.</summary>
    public Checkpoint? Resume { get; init; }

    /// <summary>What the search is: named values written to the manifest and compared on resume (the tool's
    /// version, the model's and the compiled program's hashes, the options that change the search).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Identity { get; init; } = [];
}

/// <summary>
/// A saved breadth-first search: a directory with <c>manifest.json</c> and one binary file per store (the
/// visited set, the node table, the LIVELOCK graph, the frontier's level, and the search's counters, coverage
/// marks and kept violations), each named by its generation and checked by its XXH128 in the manifest.
/// Writing one is atomic: every file is written to a temporary name, flushed to disk and renamed; the
/// manifest, renamed last, is what makes a generation the current one; the files of older generations are
/// removed after it (docs/checkpoint.md).
/// </summary>
public sealed class Checkpoint
{
    /// <summary>The manifest's <c>format</c>: bumped whenever a store's layout changes (an older checkpoint is refused).</summary>
    public const string Format = "kexecsim-checkpoint/2";

    public const string ManifestName = "manifest.json";

    /// <summary>The stores, in the order they are written and read.</summary>
    internal static readonly string[] Stores = ["search", "visited", "nodes", "graph", "frontier"];

    private readonly Dictionary<string, (string Path, long Bytes, string Hash)> _files;

    private Checkpoint(string directory, int generation, int depth, long states, long transitions,
        IReadOnlyList<KeyValuePair<string, string>> identity, Dictionary<string, (string Path, long Bytes, string Hash)> files)
    {
        Directory = directory;
        Generation = generation;
        Depth = depth;
        States = states;
        Transitions = transitions;
        Identity = identity;
        _files = files;
    }

    public string Directory { get; }

    public int Generation { get; }

    /// <summary>The level the search resumes at: its states are saved, none of them expanded.</summary>
    public int Depth { get; }

    public long States { get; }

    public long Transitions { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Identity { get; }

    /// <summary>This build's version (the assembly's informational version, with its commit when it has one).</summary>
    public static string ToolVersion { get; } =
        typeof(Checkpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Checkpoint).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>
    /// A hash (XXH128, hex) of what the compiler made of the model: every function's code, the regions,
    /// lines, variables, strings, CPUs and entries. Two programs with the same hash run the same machine.
    /// </summary>
    public static string ProgramHash(CompiledProgram program)
    {
        var hash = new XxHash128();
        var word = new byte[8];
        void Add(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(word, value);
            hash.Append(word);
        }
        void AddText(string text)
        {
            Add(text.Length);
            hash.Append(MemoryMarshal.AsBytes(text.AsSpan()));
        }
        AddText(program.ScenarioName);
        Add(program.Platform.Cpus);
        foreach (var function in program.Functions)
        {
            AddText(function.Name);
            Add(function.ParameterCount);
            Add(function.SlotCount);
            Add(function.Code.Length);
            foreach (var instruction in function.Code)
            {
                Add((long)instruction.Op);
                Add((long)instruction.Flags);
                Add(instruction.A);
                Add(instruction.B);
            }
            foreach (var table in function.BranchTables)
            {
                Add(table.Length);
                foreach (var target in table)
                {
                    Add(target);
                }
            }
        }
        foreach (var region in program.Regions)
        {
            AddText(region.Name);
            Add(region.Lines.Length);
            foreach (var line in region.Lines)
            {
                Add(line);
            }
        }
        foreach (var line in program.Lines)
        {
            AddText(line.Name);
            Add(line.HomeRegion);
            Add(line.InitialKey);
        }
        foreach (var variable in program.Variables)
        {
            AddText(variable.Name);
            Add(variable.InitialValue);
            Add(variable.IsPercpu ? 1 : 0);
        }
        foreach (var text in program.Strings)
        {
            AddText(text);
        }
        foreach (var (vector, handler) in program.VectorHandlers.OrderBy(v => v.Key))
        {
            Add(vector);
            Add(handler);
        }
        Add(program.NmiHandler);
        Add(program.MceHandler);
        Add(program.InitFunction);
        Add(program.FinalFunction);
        foreach (var entry in program.Entries)
        {
            AddText(entry?.ToString() ?? "-");
        }
        foreach (var cpu in program.SymmetricCpus)
        {
            Add(cpu);
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>A hash (XXH128, hex) of texts, each with its length (a model's source files, in order).</summary>
    public static string TextHash(IEnumerable<string> texts)
    {
        var hash = new XxHash128();
        Span<byte> length = stackalloc byte[8];
        foreach (var text in texts)
        {
            BinaryPrimitives.WriteInt64LittleEndian(length, text.Length);
            hash.Append(length);
            hash.Append(MemoryMarshal.AsBytes(text.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>
    /// Opens the checkpoint in <paramref name="directory"/> for a search that is <paramref name="identity"/>:
    /// reads its manifest, checks every file's size and checksum, and compares the identities.
    /// </summary>
    /// <exception cref="CheckpointException">No checkpoint there, a damaged one, or one of another search
    /// (the message names each value that differs).</exception>
    public static Checkpoint Open(string directory, IReadOnlyList<KeyValuePair<string, string>> identity)
    {
        var checkpoint = ReadManifest(directory);
        var differences = new List<string>();
        foreach (var (key, value) in identity)
        {
            var saved = checkpoint.Identity.FirstOrDefault(i => i.Key == key);
            if (saved.Key is null)
            {
                differences.Add($"{key} was not recorded, is now {value}");
            }
            else if (saved.Value != value)
            {
                differences.Add($"{key} was {saved.Value}, is now {value}");
            }
        }
        foreach (var (key, value) in checkpoint.Identity)
        {
            if (!identity.Any(i => i.Key == key))
            {
                differences.Add($"{key} was {value}, is now not given");
            }
        }
        if (differences.Count > 0)
        {
            throw new CheckpointException($"the checkpoint is of another search: {string.Join("; ", differences)}");
        }
        foreach (var store in Stores)
        {
            var (path, bytes, expected) = checkpoint._files[store];
            var name = Path.GetFileName(path);
            if (!File.Exists(path))
            {
                throw new CheckpointException($"the checkpoint is incomplete: {name} is missing");
            }
            var hash = new XxHash128();
            long length;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                length = stream.Length;
                hash.Append(stream);
            }
            catch (IOException e)
            {
                throw new CheckpointException($"{name} cannot be read: {e.Message}");
            }
            if (length != bytes)
            {
                throw new CheckpointException($"the checkpoint is damaged: {name} has {length} bytes, the manifest says {bytes}");
            }
            var actual = Convert.ToHexStringLower(hash.GetCurrentHash());
            if (actual != expected)
            {
                throw new CheckpointException($"the checkpoint is damaged: {name} has checksum {actual}, the manifest says {expected}");
            }
        }
        return checkpoint;
    }

    private static Checkpoint ReadManifest(string directory)
    {
        var manifest = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifest))
        {
            throw new CheckpointException(System.IO.Directory.Exists(directory) ? $"no checkpoint there (no {ManifestName})" : "no such directory");
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var root = document.RootElement;
            var format = root.GetProperty("format").GetString();
            if (format != Format)
            {
                throw new CheckpointException($"the checkpoint's format is {format}; this kexecsim reads {Format}");
            }
            var identity = root.GetProperty("identity").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetString() ?? string.Empty)).ToList();
            var files = new Dictionary<string, (string, long, string)>(StringComparer.Ordinal);
            foreach (var file in root.GetProperty("files").EnumerateArray())
            {
                var name = file.GetProperty("name").GetString()!;
                if (name != Path.GetFileName(name) || name.StartsWith('.'))
                {
                    throw new FormatException($"a file name is not one of the checkpoint's: {name}");
                }
                files[file.GetProperty("store").GetString()!] = (Path.Combine(directory, name), file.GetProperty("bytes").GetInt64(), file.GetProperty("xxh128").GetString()!);
            }
            if (Stores.FirstOrDefault(s => !files.ContainsKey(s)) is { } lacking)
            {
                throw new FormatException($"it lists no {lacking} file");
            }
            return new Checkpoint(directory, root.GetProperty("generation").GetInt32(), root.GetProperty("depth").GetInt32(),
                root.GetProperty("states").GetInt64(), root.GetProperty("transitions").GetInt64(), identity, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new CheckpointException($"the checkpoint is damaged: {ManifestName} is not a checkpoint manifest ({e.Message})");
        }
        catch (IOException e)
        {
            throw new CheckpointException($"{ManifestName} cannot be read: {e.Message}");
        }
    }

    /// <summary>Reads one store of this checkpoint; it must read the whole file.</summary>
    internal void Load(string store, Action<BinaryReader> load)
    {
        var path = _files[store].Path;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var reader = new BinaryReader(stream);
            load(reader);
            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException("bytes are left after its last record");
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException or InvalidOperationException)
        {
            throw new CheckpointException($"the checkpoint is damaged: {Path.GetFileName(path)}: {e.Message}");
        }
    }

    /// <summary>
    /// Writes a checkpoint of generation one past the one <paramref name="directory"/> holds (1 for none):
    /// each store to its file (temporary name, flushed to disk, renamed), then the manifest the same way,
    /// then the older generations' files are removed.
    /// </summary>
    internal static void Write(string directory, IReadOnlyList<KeyValuePair<string, string>> identity, int depth, long states, long transitions,
        IReadOnlyList<(string Store, Action<BinaryWriter> Save)> stores)
    {
        System.IO.Directory.CreateDirectory(directory);
        var generation = 1;
        try
        {
            generation = ReadManifest(directory).Generation + 1;
        }
        catch (CheckpointException)
        {
            // none there, or damaged: this one starts again at 1
        }
        var written = new List<(string Store, string Name, long Bytes, string Hash)>();
        foreach (var (store, save) in stores)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{store}-{generation}.bin");
            var path = Path.Combine(directory, name);
            var temporary = path + ".tmp";
            var hashing = new HashingStream(new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1));
            using (var buffered = new BufferedStream(hashing, 1 << 20))
            using (var writer = new BinaryWriter(buffered))
            {
                save(writer);
                writer.Flush();
                buffered.Flush();
                hashing.Inner.Flush(flushToDisk: true);
                written.Add((store, name, hashing.Inner.Length, Convert.ToHexStringLower(hashing.Hash.GetCurrentHash())));
            }
            File.Move(temporary, path, overwrite: true);
        }
        var manifest = Path.Combine(directory, ManifestName);
        var manifestTemporary = manifest + ".tmp";
        using (var stream = new FileStream(manifestTemporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("format", Format);
                json.WriteNumber("generation", generation);
                json.WriteNumber("depth", depth);
                json.WriteNumber("states", states);
                json.WriteNumber("transitions", transitions);
                json.WriteStartObject("identity");
                foreach (var (key, value) in identity)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
                json.WriteStartArray("files");
                foreach (var (store, name, bytes, hash) in written)
                {
                    json.WriteStartObject();
                    json.WriteString("store", store);
                    json.WriteString("name", name);
                    json.WriteNumber("bytes", bytes);
                    json.WriteString("xxh128", hash);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(manifestTemporary, manifest, overwrite: true);
        var current = written.Select(w => w.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var store in Stores)
        {
            foreach (var old in System.IO.Directory.EnumerateFiles(directory, store + "-*.bin"))
            {
                if (!current.Contains(Path.GetFileName(old)))
                {
                    File.Delete(old);
                }
            }
        }
    }

    internal static void WriteInts(BinaryWriter writer, List<int> values)
    {
        writer.Write(values.Count);
        writer.Write(values.Capacity);
        writer.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(values)));
    }

    /// <summary>Reads what <see cref="WriteInts"/> wrote into an empty list, with the capacity it had.</summary>
    internal static void ReadInts(BinaryReader reader, List<int> values)
    {
        var count = ReadCount(reader);
        var capacity = ReadCount(reader);
        values.Capacity = Math.Max(count, capacity);
        CollectionsMarshal.SetCount(values, count);
        ReadExactly(reader, MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(values)));
    }

    internal static int ReadCount(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        return count >= 0 ? count : throw new InvalidDataException($"a count is negative ({count})");
    }

    internal static void ReadExactly(BinaryReader reader, Span<byte> bytes) => reader.BaseStream.ReadExactly(bytes);

    /// <summary>Passes writes on to a file and hashes them on the way.</summary>
    private sealed class HashingStream(FileStream inner) : Stream
    {
        public FileStream Inner { get; } = inner;

        public XxHash128 Hash { get; } = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Inner.Length;

        public override long Position { get => Inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => Inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Hash.Append(buffer);
            Inner.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
