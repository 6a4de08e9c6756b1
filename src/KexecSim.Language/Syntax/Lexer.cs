using System.Text;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Syntax;

/// <summary>Turns kflow text into tokens. Never throws on bad input: every problem is a diagnostic.</summary>
public sealed class Lexer
{
    private readonly SourceText _source;
    private readonly string _text;
    private readonly DiagnosticBag _diagnostics;
    private int _position;

    public Lexer(SourceText source, DiagnosticBag diagnostics)
    {
        _source = source;
        _text = source.Text;
        _diagnostics = diagnostics;
    }

    public static List<Token> Tokenize(SourceText source, DiagnosticBag diagnostics)
    {
        var lexer = new Lexer(source, diagnostics);
        // PERF: room for dense code (3 tokens per 5 characters: 'v = v * 3 + 1;') so that a huge file's list
        // never grows (each growth copied every token so far).
        var tokens = new List<Token>(source.Length / 5 * 3 + 16);
        while (true)
        {
            // Bad tokens stay in the stream (already reported): the parser stops at them quietly.
            var token = lexer.Next();
            tokens.Add(token);
            if (token.Kind == TokenKind.EndOfFile)
            {
                return tokens;
            }
        }
    }

    private static readonly Dictionary<string, TokenKind>.AlternateLookup<ReadOnlySpan<char>> KeywordLookup =
        new Dictionary<string, TokenKind>(TokenFacts.Keywords, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly Dictionary<TokenKind, string> KeywordText = TokenFacts.Keywords.ToDictionary(k => k.Value, k => k.Key);

    private static readonly string[] PunctuationText = Enum.GetValues<TokenKind>()
        .Select(k => TokenFacts.Display(k).Trim('\''))
        .ToArray();

    private readonly Dictionary<string, string> _identifiers = new(StringComparer.Ordinal);

    private string Intern(ReadOnlySpan<char> text)
    {
        var lookup = _identifiers.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(text, out var interned))
        {
            interned = text.ToString();
            lookup[text] = interned;
        }
        return interned;
    }

    private char Current => _position < _text.Length ? _text[_position] : '\0';

    private char Peek(int offset) => _position + offset < _text.Length ? _text[_position + offset] : '\0';

    private void Report(DiagnosticCode code, int start, int length, string message) =>
        _diagnostics.Report(code, _source, new TextSpan(start, length), message);

    public Token Next()
    {
        SkipTrivia();
        var start = _position;
        if (_position >= _text.Length)
        {
            return new Token(TokenKind.EndOfFile, new TextSpan(_text.Length, 0), string.Empty);
        }

        var c = Current;
        if (char.IsAsciiLetter(c) || c == '_')
        {
            while (char.IsAsciiLetterOrDigit(Current) || Current == '_')
            {
                _position++;
            }
            // PERF: keywords are found without allocating; identifiers are interned per file.
            var span = _text.AsSpan(start, _position - start);
            if (KeywordLookup.TryGetValue(span, out var keyword))
            {
                return new Token(keyword, TextSpan.FromBounds(start, _position), KeywordText[keyword]);
            }
            return new Token(TokenKind.Identifier, TextSpan.FromBounds(start, _position), Intern(span));
        }
        if (char.IsAsciiDigit(c))
        {
            return LexNumber();
        }
        if (c == '"')
        {
            return LexString();
        }

        TokenKind punct;
        var length = 1;
        switch (c)
        {
            case '(': punct = TokenKind.OpenParen; break;
            case ')': punct = TokenKind.CloseParen; break;
            case '{': punct = TokenKind.OpenBrace; break;
            case '}': punct = TokenKind.CloseBrace; break;
            case '[': punct = TokenKind.OpenBracket; break;
            case ']': punct = TokenKind.CloseBracket; break;
            case ';': punct = TokenKind.Semicolon; break;
            case ',': punct = TokenKind.Comma; break;
            case '?': punct = TokenKind.Question; break;
            case ':': punct = TokenKind.Colon; break;
            case '~': punct = TokenKind.Tilde; break;
            case '^': punct = TokenKind.Caret; break;
            case '*': punct = TokenKind.Star; break;
            case '/': punct = TokenKind.Slash; break;
            case '%': punct = TokenKind.Percent; break;
            case '.':
                if (Peek(1) == '.') { punct = TokenKind.DotDot; length = 2; }
                else { return BadCharacter(start); }
                break;
            case '=':
                if (Peek(1) == '=') { punct = TokenKind.EqualsEquals; length = 2; }
                else { punct = TokenKind.Equals; }
                break;
            case '!':
                if (Peek(1) == '=') { punct = TokenKind.BangEquals; length = 2; }
                else { punct = TokenKind.Bang; }
                break;
            case '+':
                if (Peek(1) == '+') { punct = TokenKind.PlusPlus; length = 2; }
                else if (Peek(1) == '=') { punct = TokenKind.PlusEquals; length = 2; }
                else { punct = TokenKind.Plus; }
                break;
            case '-':
                if (Peek(1) == '-') { punct = TokenKind.MinusMinus; length = 2; }
                else if (Peek(1) == '=') { punct = TokenKind.MinusEquals; length = 2; }
                else if (Peek(1) == '>') { punct = TokenKind.Arrow; length = 2; }
                else { punct = TokenKind.Minus; }
                break;
            case '<':
                if (Peek(1) == '<') { punct = TokenKind.LessLess; length = 2; }
                else if (Peek(1) == '=') { punct = TokenKind.LessEquals; length = 2; }
                else { punct = TokenKind.Less; }
                break;
            case '>':
                if (Peek(1) == '>') { punct = TokenKind.GreaterGreater; length = 2; }
                else if (Peek(1) == '=') { punct = TokenKind.GreaterEquals; length = 2; }
                else { punct = TokenKind.Greater; }
                break;
            case '&':
                if (Peek(1) == '&') { punct = TokenKind.AmpersandAmpersand; length = 2; }
                else { punct = TokenKind.Ampersand; }
                break;
            case '|':
                if (Peek(1) == '|') { punct = TokenKind.PipePipe; length = 2; }
                else { punct = TokenKind.Pipe; }
                break;
            default:
                return BadCharacter(start);
        }
        _position += length;
        return new Token(punct, new TextSpan(start, length), PunctuationText[(int)punct]);
    }

    /// <summary>A run of characters that cannot start a token is one diagnostic, not one per byte.</summary>
    private Token BadCharacter(int start)
    {
        var c = Current;
        var invalidUtf8 = c == '\uFFFD';
        _position++;
        while (_position < _text.Length && Current == c)
        {
            _position++;
        }
        if (invalidUtf8)
        {
            Report(DiagnosticCode.InvalidUtf8, start, _position - start, "invalid UTF-8 byte sequence");
        }
        else
        {
            Report(DiagnosticCode.UnexpectedCharacter, start, _position - start, $"unexpected character {Describe(c)}");
        }
        return new Token(TokenKind.Bad, TextSpan.FromBounds(start, _position), string.Empty);
    }

    private static string Describe(char c) =>
        c < 0x20 || c == 0x7f || c > 0x7e ? $"U+{(int)c:X4}" : $"'{c}'";

    private void SkipTrivia()
    {
        while (_position < _text.Length)
        {
            var c = Current;
            if (c is ' ' or '\t' or '\r' or '\n' or '\f' or '\v')
            {
                _position++;
            }
            else if (c == '/' && Peek(1) == '/')
            {
                while (_position < _text.Length && Current != '\n')
                {
                    CheckInComment();
                    _position++;
                }
            }
            else if (c == '/' && Peek(1) == '*')
            {
                var start = _position;
                _position += 2;
                while (true)
                {
                    if (_position >= _text.Length)
                    {
                        Report(DiagnosticCode.UnterminatedComment, start, 2, "unterminated comment: '/*' has no matching '*/'");
                        break;
                    }
                    if (Current == '*' && Peek(1) == '/')
                    {
                        _position += 2;
                        break;
                    }
                    CheckInComment();
                    _position++;
                }
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>Comments may hold any text, but not bytes that are not UTF-8.</summary>
    private void CheckInComment()
    {
        if (Current == '\uFFFD')
        {
            var start = _position;
            while (Peek(1) == '\uFFFD')
            {
                _position++;
            }
            Report(DiagnosticCode.InvalidUtf8, start, _position - start + 1, "invalid UTF-8 byte sequence");
        }
    }

    private Token LexNumber()
    {
        var start = _position;
        // PERF: the common literal (up to 18 decimal digits, no '_' or letters) without the substrings below.
        var end = start;
        long quick = 0;
        while (end < _text.Length && char.IsAsciiDigit(_text[end]) && end - start < 18)
        {
            quick = quick * 10 + (_text[end] - '0');
            end++;
        }
        if (end < _text.Length ? !(char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_') : end > start)
        {
            _position = end;
            return new Token(TokenKind.Integer, TextSpan.FromBounds(start, end), Intern(_text.AsSpan(start, end - start)), quick);
        }
        var isHex = Current == '0' && (Peek(1) == 'x' || Peek(1) == 'X');
        if (isHex)
        {
            _position += 2;
        }
        while (char.IsAsciiLetterOrDigit(Current) || Current == '_')
        {
            _position++;
        }
        var span = TextSpan.FromBounds(start, _position);
        var text = _text[start.._position];
        var digits = (isHex ? text[2..] : text).Replace("_", string.Empty, StringComparison.Ordinal);
        var valid = digits.Length > 0 && !text.EndsWith('_') && digits.All(ch => isHex ? char.IsAsciiHexDigit(ch) : char.IsAsciiDigit(ch));
        if (!valid)
        {
            Report(DiagnosticCode.InvalidNumber, start, span.Length, $"invalid integer literal '{text}'");
            return new Token(TokenKind.Integer, span, text, 0);
        }
        long value = 0;
        var overflow = false;
        if (isHex)
        {
            // Hex literals are bit patterns: up to 64 bits, as in C (0xFFFF_FFFF_FFFF_FFFF is -1).
            var significant = digits.TrimStart('0');
            if (significant.Length > 16)
            {
                overflow = true;
            }
            else
            {
                foreach (var ch in significant)
                {
                    value = (value << 4) | (long)Convert.ToInt32(ch.ToString(), 16);
                }
            }
        }
        else
        {
            overflow = !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
        }
        if (overflow)
        {
            Report(DiagnosticCode.IntegerLiteralOutOfRange, start, span.Length,
                $"integer literal '{text}' does not fit in a signed 64-bit value");
            value = 0;
        }
        return new Token(TokenKind.Integer, span, text, value);
    }

    private Token LexString()
    {
        var start = _position;
        _position++;
        var builder = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length || Current == '\n')
            {
                Report(DiagnosticCode.UnterminatedString, start, 1, "unterminated string literal");
                break;
            }
            var c = Current;
            if (c == '"')
            {
                _position++;
                break;
            }
            if (c == '\\')
            {
                var next = Peek(1);
                switch (next)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case 'n': builder.Append('\n'); break;
                    default:
                        Report(DiagnosticCode.InvalidEscape, _position, next == '\0' || next == '\n' ? 1 : 2,
                            next == '\0' || next == '\n'
                                ? "invalid escape sequence at end of line"
                                : $"invalid escape sequence '\\{next}' (only \\\", \\\\ and \\n are allowed)");
                        break;
                }
                _position += next == '\0' || next == '\n' ? 1 : 2;
                continue;
            }
            if (c == '\uFFFD')
            {
                Report(DiagnosticCode.InvalidUtf8, _position, 1, "invalid UTF-8 byte sequence");
            }
            builder.Append(c);
            _position++;
        }
        return new Token(TokenKind.String, TextSpan.FromBounds(start, _position), builder.ToString());
    }
}
