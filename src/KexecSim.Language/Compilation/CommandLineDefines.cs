using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>What the VALUE of <c>-D NAME=VALUE</c> is, before it is resolved against a model.</summary>
public enum DefineValueKind
{
    Integer,
    Bool,

    /// <summary>The name of a const, an enum member or a built-in constant of the model.</summary>
    Name,
}

/// <summary>A well-formed <c>-D</c> VALUE: an integer, true/false, or a name (LANGUAGE.md §6).</summary>
public readonly record struct DefineValue(DefineValueKind Kind, long Value, string Name);

/// <summary>
/// <c>-D NAME=VALUE</c>: VALUE is read with the language's own lexer, so that a value is accepted or
/// refused exactly as the same literal would be in a model (<c>1_</c> is KF0008 there and here).
/// Problems are diagnostics without a file (<c>kexecsim: error KFnnnn: -D …</c>).
/// </summary>
public static class CommandLineDefines
{
    private const string Expected = "an integer, true, false, or the name of a const or enum value";

    /// <summary>Splits and checks one <c>NAME=VALUE</c>; false (with a diagnostic) when it is malformed.</summary>
    public static bool TryParse(string define, DiagnosticBag diagnostics, out string name, out string value)
    {
        ArgumentNullException.ThrowIfNull(define);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var equals = define.IndexOf('=', StringComparison.Ordinal);
        name = equals < 0 ? define : define[..equals];
        value = equals < 0 ? string.Empty : define[(equals + 1)..];
        if (equals <= 0 || !IsIdentifier(name))
        {
            diagnostics.Report(DiagnosticCode.InvalidCommandLineDefine, null, default, $"-D {define}: expected NAME=VALUE, VALUE being {Expected}");
            return false;
        }
        return TryRead(name, value, diagnostics) is not null;
    }

    /// <summary>The value's meaning, or null (with a diagnostic) when it is not one of the accepted forms.</summary>
    public static DefineValue? TryRead(string name, string value, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var lexed = new DiagnosticBag();
        var tokens = Lexer.Tokenize(new SourceText("-D", value), lexed);
        var problem = lexed.ToSortedList().FirstOrDefault(d => d.IsError);
        if (problem is not null)
        {
            // The lexer's own code and words: a bad literal reads the same here as in a model.
            diagnostics.Report(problem.Code, null, default, $"-D {name}={value}: {problem.Message}");
            return null;
        }
        var kinds = tokens.Select(t => t.Kind).ToList();
        switch (kinds.Count)
        {
            case 2 when kinds[0] == TokenKind.Integer:
                return new DefineValue(DefineValueKind.Integer, tokens[0].Value, string.Empty);
            case 3 when kinds[0] == TokenKind.Minus && kinds[1] == TokenKind.Integer:
                return new DefineValue(DefineValueKind.Integer, unchecked(-tokens[1].Value), string.Empty);
            case 2 when kinds[0] is TokenKind.TrueKeyword or TokenKind.FalseKeyword:
                return new DefineValue(DefineValueKind.Bool, kinds[0] == TokenKind.TrueKeyword ? 1 : 0, string.Empty);
            case 2 when kinds[0] == TokenKind.Identifier:
                return new DefineValue(DefineValueKind.Name, 0, tokens[0].Text);
        }
        diagnostics.Report(DiagnosticCode.InvalidCommandLineDefine, null, default, $"-D {name}={value}: VALUE must be {Expected}");
        return null;
    }

    private static bool IsIdentifier(string text) =>
        text.Length > 0 && (char.IsAsciiLetter(text[0]) || text[0] == '_') && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
