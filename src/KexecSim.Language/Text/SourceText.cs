namespace KexecSim.Language.Text;

/// <summary>The text of one .kflow file with a line table for positions.</summary>
public sealed class SourceText
{
    private readonly int[] _lineStarts;

    public SourceText(string path, string text)
    {
        Path = path;
        Text = text;
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }
        _lineStarts = starts.ToArray();
    }

    /// <summary>The path as shown to the user (relative where the user gave it relative).</summary>
    public string Path { get; }

    public string Text { get; }

    public int Length => Text.Length;

    public char this[int index] => Text[index];

    /// <summary>1-based line and column of an offset; the column counts UTF-16 units, tabs as one.</summary>
    public (int Line, int Column) GetLineColumn(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        var index = Array.BinarySearch(_lineStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }
        return (index + 1, offset - _lineStarts[index] + 1);
    }

    /// <summary>The text of a 1-based line without its line break.</summary>
    public string GetLine(int line)
    {
        if (line < 1 || line > _lineStarts.Length)
        {
            return string.Empty;
        }
        var start = _lineStarts[line - 1];
        var end = line < _lineStarts.Length ? _lineStarts[line] : Text.Length;
        return Text[start..end].TrimEnd('\n', '\r');
    }

    public string ToString(TextSpan span) => Text.Substring(span.Start, span.Length);

    /// <summary>
    /// The text of a span as a diagnostic quotes it: on one line (every run of white space, line breaks
    /// included, is one space) and at most <see cref="Diagnostics.DiagnosticText.MaxTokenLength"/> characters.
    /// </summary>
    public string Excerpt(TextSpan span)
    {
        var text = ToString(span);
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, 2 * Diagnostics.DiagnosticText.MaxTokenLength));
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }
            if (space)
            {
                builder.Append(' ');
                space = false;
            }
            builder.Append(c);
            if (builder.Length > Diagnostics.DiagnosticText.MaxTokenLength)
            {
                break;
            }
        }
        return Diagnostics.DiagnosticText.Token(builder.ToString());
    }
}

/// <summary>A range of characters in one source file.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    public static TextSpan FromBounds(int start, int end) => new(start, Math.Max(0, end - start));

    public TextSpan Cover(TextSpan other) => FromBounds(Math.Min(Start, other.Start), Math.Max(End, other.End));

    public override string ToString() => $"[{Start}..{End})";
}

/// <summary>A span together with the file it belongs to.</summary>
public readonly record struct SourceSpan(SourceText Source, TextSpan Span)
{
    public (int Line, int Column) Start => Source.GetLineColumn(Span.Start);

    public override string ToString()
    {
        var (line, column) = Start;
        return $"{Diagnostics.DiagnosticText.Escape(Source.Path)}:{line}:{column}";
    }
}
