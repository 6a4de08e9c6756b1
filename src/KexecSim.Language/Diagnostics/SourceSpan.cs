using KexecSim.Program;

namespace KexecSim.Language.Diagnostics;

/// <summary>A span together with the file it belongs to.</summary>
public readonly record struct SourceSpan(SourceText Source, TextSpan Span)
{
    public (int Line, int Column) Start => Source.GetLineColumn(Span.Start);

    public override string ToString()
    {
        var (line, column) = Start;
        return $"{DiagnosticText.Escape(Source.Path)}:{line}:{column}";
    }
}

/// <summary>Source text as the front end quotes it in messages.</summary>
public static class SourceExcerpts
{
    /// <summary>
    /// The text of a span as a diagnostic quotes it: on one line (every run of white space, line breaks
    /// included, is one space) and at most <see cref="DiagnosticText.MaxTokenLength"/> characters.
    /// </summary>
    public static string Excerpt(this SourceText source, TextSpan span)
    {
        var text = source.ToString(span);
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, 2 * DiagnosticText.MaxTokenLength));
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
            if (builder.Length > DiagnosticText.MaxTokenLength)
            {
                break;
            }
        }
        return DiagnosticText.Token(builder.ToString());
    }
}
