using KexecSim.Program;

namespace KexecSim.Language.Diagnostics;

/// <summary>A problem in the user's input: data, never an exception (STYLE.md, habit 2).</summary>
public sealed record Diagnostic(DiagnosticCode Code, DiagnosticSeverity Severity, SourceText? Source, TextSpan Span, string Message)
{
    /// <summary>One line, whatever the input held: control characters escaped, long echoed tokens cut.</summary>
    public string Message { get; init; } = DiagnosticText.Clean(Message);

    public bool IsError => Severity == DiagnosticSeverity.Error;

    public (int Line, int Column) Position => Source?.GetLineColumn(Span.Start) ?? (0, 0);

    /// <summary>The kernel-style line: <c>file:line:col: error KFnnnn: message</c>, always one line.</summary>
    public override string ToString()
    {
        var severity = Severity.Keyword();
        if (Source is null)
        {
            return $"kexecsim: {severity} {Code.Format()}: {Message}";
        }
        var (line, column) = Position;
        return $"{DiagnosticText.Escape(Source.Path)}:{line}:{column}: {severity} {Code.Format()}: {Message}";
    }
}

/// <summary>Collects diagnostics; sorted by file, position and code when read.</summary>
public sealed class DiagnosticBag
{
    /// <summary>Past this many errors in one file the rest are summarised, so that binary junk does not flood.</summary>
    public const int MaxErrorsPerFile = 200;

    private readonly List<Diagnostic> _items = [];
    private readonly Dictionary<SourceText, int> _errorsPerFile = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<SourceText> _truncated = new(ReferenceEqualityComparer.Instance);

    public int Count => _items.Count;

    public bool HasErrors => _items.Any(d => d.IsError);

    public int ErrorCount => _items.Count(d => d.IsError);

    /// <summary>
    /// Whether another error in <paramref name="source"/> would be shown (the file is not past
    /// <see cref="MaxErrorsPerFile"/>): costly message parts such as "did you mean" are skipped when not.
    /// </summary>
    public bool ShowsMoreErrors(SourceText? source) =>
        source is null || !_errorsPerFile.TryGetValue(source, out var count) || count < MaxErrorsPerFile;

    public void Report(DiagnosticCode code, SourceText? source, TextSpan span, string message)
    {
        var severity = code.DefaultSeverity();
        if (severity == DiagnosticSeverity.Error && source is not null)
        {
            _errorsPerFile.TryGetValue(source, out var count);
            if (count >= MaxErrorsPerFile)
            {
                if (_truncated.Add(source))
                {
                    _items.Add(new Diagnostic(DiagnosticCode.TooManyErrors, DiagnosticSeverity.Error, source, span,
                        $"too many errors in this file (more than {MaxErrorsPerFile}); the rest are not shown"));
                }
                return;
            }
            _errorsPerFile[source] = count + 1;
        }
        _items.Add(new Diagnostic(code, severity, source, span, message));
    }

    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            _items.Add(d);
        }
    }

    /// <summary>Sorted: by file path, then position, then code, then message; duplicates removed.</summary>
    public IReadOnlyList<Diagnostic> ToSortedList()
    {
        return _items
            .DistinctBy(d => (d.Source?.Path, d.Span, d.Code, d.Message))
            .OrderBy(d => d.Source?.Path ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(d => d.Span.Start)
            .ThenBy(d => (int)d.Code)
            .ThenBy(d => d.Message, StringComparer.Ordinal)
            .ToList();
    }
}
