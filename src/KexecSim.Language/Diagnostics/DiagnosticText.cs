using System.Globalization;
using System.Text;

namespace KexecSim.Language.Diagnostics;

/// <summary>
/// Makes text from a model or a path safe to print as one diagnostic line: control characters (line
/// breaks, terminal escapes) are escaped, so that a model cannot forge a second <c>file:line:col:</c>
/// line or drive the terminal; quoted tokens echoed from the input are cut to
/// <see cref="MaxTokenLength"/> characters, and a whole message to <see cref="MaxMessageLength"/>.
/// </summary>
public static class DiagnosticText
{
    /// <summary>An echoed token ('…' or "…") longer than this is cut, with an ellipsis.</summary>
    public const int MaxTokenLength = 60;

    /// <summary>A message longer than this is cut, with an ellipsis.</summary>
    public const int MaxMessageLength = 1000;

    private const char Ellipsis = '\u2026';

    /// <summary>A message: long quoted tokens cut, then control characters escaped.</summary>
    public static string Clean(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = CutQuotedTokens(message);
        if (cut.Length > MaxMessageLength)
        {
            cut = string.Concat(cut.AsSpan(0, MaxMessageLength - 1), Ellipsis.ToString());
        }
        return Escape(cut);
    }

    /// <summary>Control characters as C-style escapes (<c>\n</c>, <c>\x1b</c>, <c>\u2028</c>); the rest unchanged.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(NeedsEscape))
        {
            return text;
        }
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c))
            {
                builder.Append(c);
                continue;
            }
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }
        return builder.ToString();
    }

    /// <summary>A token to quote in a message, cut to <see cref="MaxTokenLength"/> characters.</summary>
    public static string Token(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Length <= MaxTokenLength ? token : string.Concat(token.AsSpan(0, MaxTokenLength - 1), Ellipsis.ToString());
    }

    // C0, DEL, C1, and the Unicode line and paragraph separators (some terminals break lines there).
    private static bool NeedsEscape(char c) => c < ' ' || c is >= '\u007f' and <= '\u009f' || c is '\u2028' or '\u2029';

    /// <summary>
    /// Cuts each quoted run longer than <see cref="MaxTokenLength"/>. A quote opens a token only where a
    /// word cannot continue (so the apostrophe of "region's" is not one) and closes it likewise.
    /// </summary>
    private static string CutQuotedTokens(string message)
    {
        StringBuilder? builder = null;
        var copied = 0;
        for (var i = 0; i < message.Length; i++)
        {
            var quote = message[i];
            if (quote is not ('\'' or '"') || (i > 0 && char.IsLetterOrDigit(message[i - 1])))
            {
                continue;
            }
            var close = -1;
            for (var j = i + 1; j < message.Length; j++)
            {
                if (message[j] == quote && (j + 1 == message.Length || !char.IsLetterOrDigit(message[j + 1])))
                {
                    close = j;
                    break;
                }
            }
            if (close < 0)
            {
                break;
            }
            var length = close - i - 1;
            if (length > MaxTokenLength)
            {
                builder ??= new StringBuilder(message.Length);
                builder.Append(message, copied, i + 1 - copied);
                builder.Append(Token(message.Substring(i + 1, length)));
                copied = close;
            }
            i = close;
        }
        if (builder is null)
        {
            return message;
        }
        builder.Append(message, copied, message.Length - copied);
        return builder.ToString();
    }
}
