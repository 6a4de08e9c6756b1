using System.Text;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Loading;

/// <summary>
/// Reads .kflow files and their imports (each loaded once, in dependency order: an import before
/// the file that imports it). Bad bytes, missing files and cycles are diagnostics, not exceptions.
/// An import is searched relative to the importing file, then to the root file's directory (so that a
/// patched copy of a library flow put beside a scenario is the one that runs, whoever imports it),
/// then in each model-path directory (the built-in models last). A file of the same name that the
/// search passed over is never ignored silently: a warning names it (KF0809).
/// A file is known by its real path (<see cref="RealPath"/>): one reached under two names is loaded
/// once, and a cycle through a symlink is a cycle. An import must stay in the model's tree (the
/// directory of the file named on the command line) or a model-path directory, unless the loader
/// allows imports outside: a model cannot make the tool read /etc/passwd and echo its first token.
/// </summary>
public sealed class ModelLoader
{
    /// <summary>Larger files are refused: no hand-written model comes near this.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    private readonly IReadOnlyList<string> _modelPath;
    private readonly DiagnosticBag _diagnostics;
    private readonly bool _allowImportOutside;

    // Keyed by real path; the value of _names is the name the file was first reached by (shown to the user).
    private readonly Dictionary<string, CompilationUnit?> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _inProgress = [];
    private readonly List<CompilationUnit> _order = [];
    private readonly HashSet<string> _reportedShadows = new(StringComparer.Ordinal);
    private string? _rootFile;
    private string? _rootDirectory;

    /// <summary>Real paths of the directories imports may come from: the model's tree and the model path.</summary>
    private readonly List<string> _allowedRoots = [];

    public ModelLoader(IReadOnlyList<string> modelPath, DiagnosticBag diagnostics, bool allowImportOutside = false)
    {
        _modelPath = modelPath;
        _diagnostics = diagnostics;
        _allowImportOutside = allowImportOutside;
        foreach (var directory in modelPath)
        {
            AllowRoot(directory);
        }
    }

    /// <summary>Allows imports from <paramref name="directory"/>; the model's tree is listed first in messages.</summary>
    private void AllowRoot(string directory, bool first = false)
    {
        if (RealPath.Of(Path.GetFullPath(directory), out _) is { } real && !_allowedRoots.Contains(real))
        {
            _allowedRoots.Insert(first ? 0 : _allowedRoots.Count, real);
        }
    }

    /// <summary>All files loaded so far, imports first.</summary>
    public IReadOnlyList<CompilationUnit> Units => _order;

    /// <summary>Loads a file named on the command line (shown to the user as given).</summary>
    public void LoadRoot(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Path.GetFullPath throws on these: they are the user's input, so a diagnostic.
        if (path.Length == 0)
        {
            _diagnostics.Report(DiagnosticCode.FileNotFound, null, default, "\"\": no such file (the file name is empty)");
            return;
        }
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            _diagnostics.Report(DiagnosticCode.FileNotFound, null, default, $"{path}: no such file (a file name cannot hold a NUL character)");
            return;
        }
        var full = Path.GetFullPath(path);
        _rootFile = full;
        _rootDirectory = Path.GetDirectoryName(full);
        // The model's tree: the directory of the file as named (its imports are found from there too).
        AllowRoot(Path.GetDirectoryName(full) ?? ".", first: true);
        Load(RealPath.Of(full, out _) ?? full, full, path, null, default);
    }

    /// <summary>Loads text that does not come from a file (tests, the language server of the future).</summary>
    public void LoadText(string displayPath, string text)
    {
        var source = new SourceText(displayPath, text);
        _rootFile = Path.GetFullPath(displayPath);
        _rootDirectory = Path.GetDirectoryName(_rootFile);
        var unit = Parser.Parse(source, _diagnostics);
        var full = Path.GetFullPath(displayPath);
        var directory = Path.GetDirectoryName(full) ?? ".";
        AllowRoot(directory, first: true);
        var key = (RealPath.Of(directory, out _) is { } realDirectory ? Path.Combine(realDirectory, Path.GetFileName(full)) : full);
        _loaded[key] = unit;
        _names[key] = full;
        _inProgress.Add(key);
        LoadImports(unit, directory);
        _inProgress.RemoveAt(_inProgress.Count - 1);
        _order.Add(unit);
    }

    /// <param name="key">The file's real path (its identity).</param>
    /// <param name="fullPath">The full path it was reached by (its imports are resolved from its directory).</param>
    private void Load(string key, string fullPath, string displayPath, SourceText? importer, TextSpan importSpan)
    {
        if (_loaded.ContainsKey(key))
        {
            return;
        }
        _names[key] = fullPath;
        var source = Read(key, displayPath, importer, importSpan);
        if (source is null)
        {
            _loaded[key] = null;
            return;
        }
        var unit = Parser.Parse(source, _diagnostics);
        _loaded[key] = unit;
        _inProgress.Add(key);
        LoadImports(unit, Path.GetDirectoryName(fullPath) ?? ".");
        _inProgress.RemoveAt(_inProgress.Count - 1);
        _order.Add(unit);
    }

    private void LoadImports(CompilationUnit unit, string directory)
    {
        foreach (var import in unit.Declarations.OfType<ImportDeclaration>())
        {
            var relative = import.Path.Text;
            if (import.Path.IsMissing)
            {
                continue;
            }
            if (relative.Length == 0)
            {
                _diagnostics.Report(DiagnosticCode.FileNotFound, unit.Source, import.Path.Span, "import \"\" names no file");
                continue;
            }
            if (relative.Contains('\0', StringComparison.Ordinal))
            {
                // Path.GetFullPath throws on it (found by the fuzzing harness: docs/fuzzing.md, finding 2).
                _diagnostics.Report(DiagnosticCode.FileNotFound, unit.Source, import.Path.Span,
                    $"cannot find import \"{relative}\" (a file name cannot hold a NUL character)");
                continue;
            }
            var resolved = Resolve(relative, directory);
            if (resolved is null)
            {
                var searched = string.Join(", ", new[] { directory }.Concat(_modelPath).Select(Display).Distinct());
                _diagnostics.Report(DiagnosticCode.FileNotFound, unit.Source, import.Path.Span,
                    $"cannot find import \"{relative}\" (searched: {searched})");
                continue;
            }
            // A path that does not resolve (a /proc/self/fd link to a pipe) is judged by its full path.
            var key = RealPath.Of(resolved, out var problem) ?? resolved;
            if (problem == RealPath.Problem.SymlinkLoop)
            {
                _diagnostics.Report(DiagnosticCode.SymlinkLoop, unit.Source, import.Path.Span,
                    $"import \"{relative}\": {Display(resolved)} is a loop of symbolic links");
                continue;
            }
            if (!_allowImportOutside && !_allowedRoots.Any(root => RealPath.IsUnder(key, root)))
            {
                // Nothing of the outside file is read: the message names the path, never its content.
                _diagnostics.Report(DiagnosticCode.ImportOutsideModel, unit.Source, import.Path.Span,
                    $"import \"{relative}\" is outside the model's directory and the model path ({string.Join(", ", _allowedRoots.Select(Display))}); "
                    + "pass --allow-import-outside to read it");
                continue;
            }
            var cycleStart = _inProgress.IndexOf(key);
            if (cycleStart >= 0)
            {
                var chain = _inProgress.Skip(cycleStart).Append(key).Select(k => Display(_names[k]));
                _diagnostics.Report(DiagnosticCode.ImportCycle, unit.Source, import.Path.Span,
                    $"import cycle: {string.Join(" -> ", chain)}");
                continue;
            }
            ReportShadowed(relative, directory, resolved, unit.Source, import.Path.Span);
            Load(key, resolved, Display(resolved), unit.Source, import.Path.Span);
        }
    }

    /// <summary>The directories an import is searched in, in order, each once.</summary>
    private IEnumerable<string> SearchRoots(string directory)
    {
        IEnumerable<string> roots = [directory];
        if (_rootDirectory is not null)
        {
            roots = roots.Append(_rootDirectory);
        }
        return roots.Concat(_modelPath).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal);
    }

    /// <summary>
    /// The first of the search roots (<see cref="SearchRoots"/>) where <paramref name="relative"/>
    /// names something (a symbolic link too, even one that leads nowhere), as a full path; or null.
    /// </summary>
    private string? Resolve(string relative, string directory)
    {
        foreach (var root in SearchRoots(directory))
        {
            var candidate = Path.GetFullPath(Path.Combine(root, relative));
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Warns (once per file) about each file an import did not use although it has the import's name:
    /// the same path under another search directory (a library flow shadowed by a patched copy, or a
    /// patched copy shadowed by an earlier directory), or a file of the import's file name right beside
    /// the root file (a patched copy put there instead of under the import's subdirectory).
    /// </summary>
    private void ReportShadowed(string relative, string directory, string resolved, SourceText importer, TextSpan span)
    {
        foreach (var root in SearchRoots(directory))
        {
            var candidate = Path.GetFullPath(Path.Combine(root, relative));
            if (candidate != resolved && File.Exists(candidate) && _reportedShadows.Add(candidate))
            {
                _diagnostics.Report(DiagnosticCode.ImportShadowsFile, importer, span,
                    $"import \"{relative}\" is {Display(resolved)}; {Display(candidate)}, of the same name, is not used");
            }
        }
        if (_rootDirectory is not null)
        {
            var beside = Path.GetFullPath(Path.Combine(_rootDirectory, Path.GetFileName(relative)));
            if (beside != resolved && beside != _rootFile && File.Exists(beside) && _reportedShadows.Add(beside))
            {
                var where = Display(Path.GetFullPath(Path.Combine(_rootDirectory, relative)));
                _diagnostics.Report(DiagnosticCode.ImportShadowsFile, importer, span,
                    $"import \"{relative}\" is {Display(resolved)}; {Display(beside)} beside the model, of the same file name, is not used (to use it, put it at {where})");
            }
        }
    }

    /// <summary>A path as the user wants to read it: relative to the working directory when below it.</summary>
    public static string Display(string fullPath)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? fullPath : relative;
    }

    private SourceText? Read(string fullPath, string displayPath, SourceText? importer, TextSpan importSpan)
    {
        var file = InputFile.Read(fullPath, displayPath, MaxFileBytes);
        if (!file.Succeeded)
        {
            var code = file.Problem switch
            {
                InputFileProblem.NotFound => DiagnosticCode.FileNotFound,
                InputFileProblem.TooLarge => DiagnosticCode.FileTooLarge,
                InputFileProblem.Directory or InputFileProblem.NotRegularFile => DiagnosticCode.NotARegularFile,
                _ => DiagnosticCode.FileReadError,
            };
            _diagnostics.Report(code, importer, importSpan, file.Message);
            return null;
        }
        return Decode(displayPath, file.Bytes!, _diagnostics);
    }

    /// <summary>
    /// UTF-8 text to a source; a NUL byte marks a binary file (one diagnostic, nothing parsed); invalid
    /// UTF-8 becomes U+FFFD, which the lexer reports at its position.
    /// </summary>
    public static SourceText? Decode(string displayPath, byte[] bytes, DiagnosticBag diagnostics)
    {
        var nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
        {
            var prefix = new SourceText(displayPath, Encoding.UTF8.GetString(bytes, 0, nul));
            diagnostics.Report(DiagnosticCode.BinaryFile, prefix, new TextSpan(prefix.Length, 0),
                $"this is not a text file (NUL byte at offset {nul}); kflow models are UTF-8 text");
            return null;
        }
        var start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        var text = Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
        return new SourceText(displayPath, text);
    }
}
