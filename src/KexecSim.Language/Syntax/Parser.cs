using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Syntax;

/// <summary>
/// Hand-written recursive-descent parser with error recovery: it reports every syntax error it can
/// find in a file and always returns a tree (error nodes stand where input was missing).
/// Nesting is bounded (<see cref="MaxNesting"/>, <see cref="MaxExpressionHeight"/>) so that hostile
/// input becomes a diagnostic, never a stack overflow.
/// </summary>
public sealed class Parser
{
    public const int MaxNesting = 256;
    public const int MaxExpressionHeight = 512;

    private static readonly HashSet<string> ScenarioItemWords =
        ["describe", "platform", "define", "init", "cpu", "symmetric", "timeouts", "inject", "final", "expect"];

    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private readonly DiagnosticBag _diagnostics;
    private int _position;
    private int _nesting;
    private bool _nestingReported;
    private bool _complexityReported;
    private int _lastErrorPosition = -1;
    private int _statementHeadNesting = -1;

    private Parser(SourceText source, List<Token> tokens, DiagnosticBag diagnostics)
    {
        _source = source;
        _tokens = tokens;
        _diagnostics = diagnostics;
    }

    public static CompilationUnit Parse(SourceText source, DiagnosticBag diagnostics)
    {
        var tokens = Lexer.Tokenize(source, diagnostics);
        return new Parser(source, tokens, diagnostics).ParseCompilationUnit();
    }

    // ───────────────────────────── Token helpers ─────────────────────────────

    // PERF: read in place (a token is 40 bytes; Current.Kind alone used to copy it out of the list).
    private ref readonly Token Current => ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens)[_position];

    private ref readonly Token Peek(int offset) => ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens)[Math.Min(_position + offset, _tokens.Count - 1)];

    private ref readonly Token Previous => ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens)[Math.Max(0, _position - 1)];

    private Token NextToken()
    {
        var token = Current;
        if (token.Kind != TokenKind.EndOfFile)
        {
            _position++;
        }
        return token;
    }

    private bool At(TokenKind kind) => Current.Kind == kind;

    private bool AtWord(string word) => Current.Kind == TokenKind.Identifier && Current.Text == word;

    private bool TryConsume(TokenKind kind, out Token token)
    {
        if (At(kind))
        {
            token = NextToken();
            return true;
        }
        token = default;
        return false;
    }

    /// <summary>Consumes the expected token, or reports it missing just after the previous token and synthesises it.</summary>
    private Token Expect(TokenKind kind)
    {
        if (At(kind))
        {
            return NextToken();
        }
        var at = _position == 0 ? Current.Span.Start : Previous.Span.End;
        ReportOnce(DiagnosticCode.ExpectedToken, new TextSpan(at, 0),
            $"expected {TokenFacts.Display(kind)}{Before()}");
        return new Token(kind, new TextSpan(at, 0), string.Empty);
    }

    private string Before() => Current.Kind == TokenKind.EndOfFile ? " at end of file" : $" before {Describe(Current)}";

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.EndOfFile => "end of file",
        TokenKind.Identifier => $"'{token.Text}'",
        TokenKind.Integer => $"'{token.Text}'",
        TokenKind.String => "string",
        _ => TokenFacts.Display(token.Kind),
    };

    private Token ExpectIdentifier(string what)
    {
        if (At(TokenKind.Identifier))
        {
            return NextToken();
        }
        var at = Current.Span;
        if (Current.Kind is TokenKind.EndOfFile or TokenKind.Semicolon or TokenKind.CloseBrace or TokenKind.CloseParen)
        {
            at = new TextSpan(Previous.Span.End, 0);
        }
        if (TokenFacts.Keywords.Values.Contains(Current.Kind) && Peek(1).Kind is not (TokenKind.OpenParen or TokenKind.OpenBrace))
        {
            // A reserved word used as a name: say so, and take it as the name to avoid a cascade.
            ReportOnce(DiagnosticCode.ExpectedToken, at, $"expected {what}, but '{Current.Text}' is a reserved word");
            var word = NextToken();
            return new Token(TokenKind.Identifier, word.Span, word.Text);
        }
        ReportOnce(DiagnosticCode.ExpectedToken, at, $"expected {what}{Before()}");
        return new Token(TokenKind.Identifier, new TextSpan(at.Start, 0), string.Empty);
    }

    /// <summary>Reports at most one syntax error per token position, to avoid cascades.</summary>
    private void ReportOnce(DiagnosticCode code, TextSpan span, string message)
    {
        // One error per position; none at a token the lexer already reported.
        if (_lastErrorPosition == _position || Current.Kind == TokenKind.Bad)
        {
            _lastErrorPosition = _position;
            return;
        }
        _lastErrorPosition = _position;
        _diagnostics.Report(code, _source, span, message);
    }

    private bool EnterNesting(TextSpan span)
    {
        if (_nesting >= MaxNesting)
        {
            if (!_nestingReported)
            {
                _nestingReported = true;
                _diagnostics.Report(DiagnosticCode.NestingTooDeep, _source, span,
                    $"nesting too deep (more than {MaxNesting} levels of parentheses, blocks or statements)");
            }
            return false;
        }
        _nesting++;
        return true;
    }

    private void LeaveNesting() => _nesting--;

    /// <summary>Skips a balanced group starting at the current opener (iteratively: it may be 100,000 deep).</summary>
    private void SkipBalanced()
    {
        var depth = 0;
        do
        {
            switch (Current.Kind)
            {
                case TokenKind.OpenParen or TokenKind.OpenBrace or TokenKind.OpenBracket:
                    depth++;
                    break;
                case TokenKind.CloseParen or TokenKind.CloseBrace or TokenKind.CloseBracket:
                    depth--;
                    break;
                case TokenKind.EndOfFile:
                    return;
            }
            NextToken();
        }
        while (depth > 0);
    }

    private static bool StartsDeclaration(TokenKind kind) => kind is TokenKind.ImportKeyword or TokenKind.ConstKeyword
        or TokenKind.EnumKeyword or TokenKind.RegionKeyword or TokenKind.SharedKeyword or TokenKind.PercpuKeyword
        or TokenKind.FnKeyword or TokenKind.HandlerKeyword or TokenKind.ScenarioKeyword;

    // ───────────────────────────── Declarations ─────────────────────────────

    private CompilationUnit ParseCompilationUnit()
    {
        var declarations = new List<DeclarationSyntax>();
        while (!At(TokenKind.EndOfFile))
        {
            var start = _position;
            var declaration = ParseDeclaration();
            if (declaration is not null)
            {
                declarations.Add(declaration);
            }
            if (_position == start)
            {
                // Resynchronise on the next token that can start a declaration, skipping whole groups.
                ReportOnce(DiagnosticCode.ExpectedDeclaration, Current.Span,
                    $"expected a declaration (const, enum, region, shared, percpu, fn, handler, scenario or import), found {Describe(Current)}");
                while (!At(TokenKind.EndOfFile) && !StartsDeclaration(Current.Kind))
                {
                    if (Current.Kind is TokenKind.OpenBrace or TokenKind.OpenParen or TokenKind.OpenBracket)
                    {
                        SkipBalanced();
                    }
                    else
                    {
                        NextToken();
                    }
                }
            }
        }
        return new CompilationUnit(_source, declarations);
    }

    private DeclarationSyntax? ParseDeclaration()
    {
        switch (Current.Kind)
        {
            case TokenKind.ImportKeyword:
                {
                    var keyword = NextToken();
                    var path = At(TokenKind.String) ? NextToken() : Expect(TokenKind.String);
                    var semi = Expect(TokenKind.Semicolon);
                    return new ImportDeclaration(keyword.Span.Cover(semi.Span), path);
                }
            case TokenKind.ConstKeyword:
                {
                    var keyword = NextToken();
                    var name = ExpectIdentifier("a constant name");
                    Expect(TokenKind.Equals);
                    var value = ParseExpression();
                    var semi = Expect(TokenKind.Semicolon);
                    return new ConstDeclaration(keyword.Span.Cover(semi.Span), name, value);
                }
            case TokenKind.EnumKeyword:
                return ParseEnum();
            case TokenKind.RegionKeyword:
                return ParseRegion();
            case TokenKind.SharedKeyword or TokenKind.PercpuKeyword:
                return ParseVariableDeclaration();
            case TokenKind.FnKeyword:
                return ParseFunction();
            case TokenKind.HandlerKeyword:
                return ParseHandler();
            case TokenKind.ScenarioKeyword:
                return ParseScenario();
            default:
                return null;
        }
    }

    private EnumDeclaration ParseEnum()
    {
        var keyword = NextToken();
        var name = ExpectIdentifier("an enum name");
        Expect(TokenKind.OpenBrace);
        var members = new List<EnumMember>();
        while (!At(TokenKind.CloseBrace) && !At(TokenKind.EndOfFile) && !StartsDeclaration(Current.Kind))
        {
            var start = _position;
            var memberName = ExpectIdentifier("an enum member name");
            ExpressionSyntax? value = null;
            if (TryConsume(TokenKind.Equals, out _))
            {
                value = ParseExpression();
            }
            members.Add(new EnumMember(memberName, value, memberName.Span.Cover(value?.Span ?? memberName.Span)));
            if (!TryConsume(TokenKind.Comma, out _))
            {
                break;
            }
            if (_position == start)
            {
                NextToken();
            }
        }
        var close = Expect(TokenKind.CloseBrace);
        TryConsume(TokenKind.Semicolon, out _); // C habit: `enum X { ... };`
        return new EnumDeclaration(keyword.Span.Cover(close.Span), name, members);
    }

    private RegionDeclaration ParseRegion()
    {
        var keyword = NextToken();
        var name = ExpectIdentifier("a region name");
        if (TryConsume(TokenKind.Equals, out _))
        {
            var parts = new List<Token> { ExpectIdentifier("a region name") };
            while (TryConsume(TokenKind.Comma, out _))
            {
                parts.Add(ExpectIdentifier("a region name"));
            }
            var end = Expect(TokenKind.Semicolon);
            return new RegionDeclaration(keyword.Span.Cover(end.Span), name, null, false, null, parts);
        }
        Expect(TokenKind.OpenBracket);
        var lines = ParseExpression();
        Expect(TokenKind.CloseBracket);
        var isPercpu = TryConsume(TokenKind.PercpuKeyword, out _);
        ExpressionSyntax? key = null;
        if (TryConsume(TokenKind.KeyKeyword, out _))
        {
            key = ParseExpression();
        }
        if (!isPercpu && TryConsume(TokenKind.PercpuKeyword, out _))
        {
            isPercpu = true;
        }
        var semi = Expect(TokenKind.Semicolon);
        return new RegionDeclaration(keyword.Span.Cover(semi.Span), name, lines, isPercpu, key, null);
    }

    private HomeClause? ParseHomeClause()
    {
        if (!TryConsume(TokenKind.InKeyword, out var keyword))
        {
            return null;
        }
        var region = ExpectIdentifier("a region name");
        Expect(TokenKind.OpenBracket);
        var index = ParseExpression();
        var close = Expect(TokenKind.CloseBracket);
        return new HomeClause(keyword.Span.Cover(close.Span), region, index);
    }

    private VariableDeclaration ParseVariableDeclaration()
    {
        var keyword = NextToken();
        var type = ParseType();
        var name = ExpectIdentifier("a variable name");
        ExpressionSyntax? initializer = null;
        if (TryConsume(TokenKind.Equals, out _))
        {
            initializer = ParseExpression();
        }
        var home = ParseHomeClause();
        var semi = Expect(TokenKind.Semicolon);
        return new VariableDeclaration(keyword.Span.Cover(semi.Span), keyword.Kind == TokenKind.PercpuKeyword, type, name, initializer, home);
    }

    private static bool IsTypeKeyword(TokenKind kind) => kind is TokenKind.IntKeyword or TokenKind.BoolKeyword
        or TokenKind.CpumaskKeyword or TokenKind.KeyKeyword or TokenKind.LineKeyword;

    private TypeSyntax ParseType()
    {
        if (IsTypeKeyword(Current.Kind) || At(TokenKind.Identifier))
        {
            return new TypeSyntax(NextToken());
        }
        ReportOnce(DiagnosticCode.ExpectedType, Current.Span, $"expected a type (int, bool, cpumask, key, line or an enum){Before()}");
        return new TypeSyntax(new Token(TokenKind.Identifier, new TextSpan(Current.Span.Start, 0), string.Empty));
    }

    private FunctionDeclaration ParseFunction()
    {
        var keyword = NextToken();
        var name = ExpectIdentifier("a function name");
        Expect(TokenKind.OpenParen);
        var parameters = new List<Parameter>();
        if (!At(TokenKind.CloseParen))
        {
            while (true)
            {
                var start = _position;
                var type = ParseType();
                var parameterName = ExpectIdentifier("a parameter name");
                parameters.Add(new Parameter(type, parameterName, type.Span.Cover(parameterName.Span)));
                if (!TryConsume(TokenKind.Comma, out _))
                {
                    break;
                }
                if (_position == start)
                {
                    break;
                }
            }
        }
        Expect(TokenKind.CloseParen);
        TypeSyntax? returnType = null;
        if (TryConsume(TokenKind.Arrow, out _))
        {
            returnType = ParseType();
        }
        var home = ParseHomeClause();
        var body = ParseBlock();
        return new FunctionDeclaration(keyword.Span.Cover(body.Span), name, parameters, returnType, home, body);
    }

    private HandlerDeclaration ParseHandler()
    {
        var keyword = NextToken();
        HandlerKind kind;
        ExpressionSyntax? vector = null;
        if (AtWord("vector"))
        {
            NextToken();
            kind = HandlerKind.Vector;
            vector = ParseExpression();
        }
        else if (AtWord("nmi"))
        {
            NextToken();
            kind = HandlerKind.Nmi;
        }
        else if (AtWord("mce"))
        {
            NextToken();
            kind = HandlerKind.Mce;
        }
        else
        {
            ReportOnce(DiagnosticCode.ExpectedToken, Current.Span, $"expected 'vector NAME', 'nmi' or 'mce' after 'handler'{Before()}");
            kind = HandlerKind.Nmi;
            if (At(TokenKind.Identifier))
            {
                NextToken();
            }
        }
        var home = ParseHomeClause();
        var body = ParseBlock();
        return new HandlerDeclaration(keyword.Span.Cover(body.Span), keyword, kind, vector, home, body);
    }

    // ───────────────────────────── Scenarios ─────────────────────────────

    private ScenarioDeclaration ParseScenario()
    {
        var keyword = NextToken();
        var name = At(TokenKind.String) ? NextToken() : Expect(TokenKind.String);
        Expect(TokenKind.OpenBrace);
        var items = new List<ScenarioItem>();
        while (!At(TokenKind.CloseBrace) && !At(TokenKind.EndOfFile))
        {
            var start = _position;
            var item = ParseScenarioItem();
            if (item is not null)
            {
                items.Add(item);
            }
            if (_position == start)
            {
                NextToken();
            }
        }
        var close = Expect(TokenKind.CloseBrace);
        return new ScenarioDeclaration(keyword.Span.Cover(close.Span), name, items);
    }

    private ScenarioItem? ParseScenarioItem()
    {
        if (!At(TokenKind.Identifier))
        {
            ReportOnce(DiagnosticCode.UnknownScenarioItem, Current.Span,
                $"expected a scenario item (describe, platform, define, init, cpu, symmetric, timeouts, inject, final, expect){Before()}");
            SkipItem();
            return null;
        }
        var word = Current.Text;
        switch (word)
        {
            case "describe":
                {
                    var keyword = NextToken();
                    var text = At(TokenKind.String) ? NextToken() : Expect(TokenKind.String);
                    var semi = Expect(TokenKind.Semicolon);
                    return new DescribeItem(keyword.Span.Cover(semi.Span), keyword, text);
                }
            case "platform":
                return ParsePlatform();
            case "define":
                {
                    var keyword = NextToken();
                    var name = ExpectIdentifier("a constant name");
                    Expect(TokenKind.Equals);
                    var value = ParseExpression();
                    var semi = Expect(TokenKind.Semicolon);
                    return new DefineItem(keyword.Span.Cover(semi.Span), keyword, name, value);
                }
            case "init":
                {
                    var keyword = NextToken();
                    IReadOnlyList<CpuRange>? cpus = null;
                    if (AtWord("cpu"))
                    {
                        NextToken();
                        cpus = ParseCpuRanges();
                    }
                    var body = ParseBlock();
                    return new InitItem(keyword.Span.Cover(body.Span), keyword, cpus, body);
                }
            case "cpu":
                {
                    var keyword = NextToken();
                    var cpus = ParseCpuRanges();
                    if (AtWord("runs"))
                    {
                        NextToken();
                    }
                    else
                    {
                        ReportOnce(DiagnosticCode.ExpectedToken, At(TokenKind.Identifier) ? Current.Span : new TextSpan(Previous.Span.End, 0),
                            $"expected 'runs'{Before()}");
                    }
                    var callName = ExpectIdentifier("the entry function's name");
                    var call = ParseCallRest(callName);
                    var semi = Expect(TokenKind.Semicolon);
                    return new RunsItem(keyword.Span.Cover(semi.Span), keyword, cpus, call);
                }
            case "symmetric":
                {
                    var keyword = NextToken();
                    var cpus = ParseCpuRanges();
                    var semi = Expect(TokenKind.Semicolon);
                    return new SymmetricItem(keyword.Span.Cover(semi.Span), keyword, cpus);
                }
            case "timeouts":
                {
                    var keyword = NextToken();
                    var enabled = ParseOnOff();
                    var semi = Expect(TokenKind.Semicolon);
                    return new TimeoutsItem(keyword.Span.Cover(semi.Span), keyword, enabled);
                }
            case "inject":
                {
                    var keyword = NextToken();
                    var fault = ExpectIdentifier("'nmi', 'smi' or 'mce'");
                    var budget = ParseExpression();
                    IReadOnlyList<CpuRange>? cpus = null;
                    if (AtWord("on"))
                    {
                        NextToken();
                        cpus = ParseCpuRanges();
                    }
                    var semi = Expect(TokenKind.Semicolon);
                    return new InjectItem(keyword.Span.Cover(semi.Span), keyword, fault, budget, cpus);
                }
            case "final":
                {
                    var keyword = NextToken();
                    var body = ParseBlock();
                    return new FinalItem(keyword.Span.Cover(body.Span), keyword, body);
                }
            case "expect":
                {
                    var keyword = NextToken();
                    var outcome = ExpectIdentifier("a violation code or 'pass'");
                    var semi = Expect(TokenKind.Semicolon);
                    return new ExpectItem(keyword.Span.Cover(semi.Span), keyword, outcome);
                }
            default:
                ReportOnce(DiagnosticCode.UnknownScenarioItem, Current.Span,
                    $"unknown scenario item '{word}'{Spelling.DidYouMean(word, ScenarioItemWords)}");
                SkipItem();
                return null;
        }
    }

    /// <summary>Skips to the end of the current item: past the next ';' or a whole braced block.</summary>
    private void SkipItem()
    {
        while (!At(TokenKind.EndOfFile) && !At(TokenKind.CloseBrace))
        {
            if (At(TokenKind.OpenBrace) || At(TokenKind.OpenParen) || At(TokenKind.OpenBracket))
            {
                var wasBrace = At(TokenKind.OpenBrace);
                SkipBalanced();
                if (wasBrace)
                {
                    return;
                }
                continue;
            }
            if (NextToken().Kind == TokenKind.Semicolon)
            {
                return;
            }
        }
    }

    private bool ParseOnOff()
    {
        if (AtWord("on"))
        {
            NextToken();
            return true;
        }
        if (AtWord("off"))
        {
            NextToken();
            return false;
        }
        ReportOnce(DiagnosticCode.ExpectedOnOff, Current.Span, $"expected 'on' or 'off'{Before()}");
        if (At(TokenKind.Identifier))
        {
            NextToken();
        }
        return true;
    }

    private List<CpuRange> ParseCpuRanges()
    {
        var ranges = new List<CpuRange>();
        while (true)
        {
            var first = ParseExpression();
            ExpressionSyntax? last = null;
            if (TryConsume(TokenKind.DotDot, out _))
            {
                last = ParseExpression();
            }
            ranges.Add(new CpuRange(first.Span.Cover(last?.Span ?? first.Span), first, last));
            if (!TryConsume(TokenKind.Comma, out _))
            {
                return ranges;
            }
        }
    }

    private PlatformItem ParsePlatform()
    {
        var keyword = NextToken();
        Expect(TokenKind.OpenBrace);
        var entries = new List<PlatformEntry>();
        while (!At(TokenKind.CloseBrace) && !At(TokenKind.EndOfFile))
        {
            var start = _position;
            if (!At(TokenKind.Identifier))
            {
                ReportOnce(DiagnosticCode.UnknownPlatformItem, Current.Span, $"expected a platform setting{Before()}");
                SkipItem();
                if (_position == start)
                {
                    NextToken();
                }
                continue;
            }
            var name = NextToken();
            var values = new List<ExpressionSyntax>();
            var pairs = new List<(ExpressionSyntax, ExpressionSyntax)>();
            if (!At(TokenKind.Semicolon))
            {
                while (true)
                {
                    // Setting values are words (intel, private, on): a reserved word there is still a word.
                    var value = TokenFacts.Keywords.Values.Contains(Current.Kind) && Current.Kind is not (TokenKind.TrueKeyword or TokenKind.FalseKeyword)
                        ? new NameExpression(NextToken() with { Kind = TokenKind.Identifier })
                        : ParseExpression();
                    if (TryConsume(TokenKind.Equals, out _))
                    {
                        pairs.Add((value, ParseExpression()));
                    }
                    else
                    {
                        values.Add(value);
                    }
                    if (!TryConsume(TokenKind.Comma, out _))
                    {
                        break;
                    }
                }
            }
            var semi = Expect(TokenKind.Semicolon);
            entries.Add(new PlatformEntry(name.Span.Cover(semi.Span), name, values, pairs));
            if (_position == start)
            {
                NextToken();
            }
        }
        var close = Expect(TokenKind.CloseBrace);
        return new PlatformItem(keyword.Span.Cover(close.Span), keyword, entries);
    }

    // ───────────────────────────── Statements ─────────────────────────────

    private BlockStatement ParseBlock()
    {
        var open = Expect(TokenKind.OpenBrace);
        var statements = new List<StatementSyntax>();
        while (!At(TokenKind.CloseBrace) && !At(TokenKind.EndOfFile))
        {
            if (StartsDeclaration(Current.Kind))
            {
                // A missing '}' before the next top-level declaration: stop here and let the caller report.
                break;
            }
            var start = _position;
            statements.Add(ParseStatement());
            if (_position == start)
            {
                NextToken();
            }
        }
        var close = Expect(TokenKind.CloseBrace);
        return new BlockStatement(open.Span.Cover(close.Span), statements);
    }

    private StatementSyntax ParseStatement()
    {
        if (!EnterNesting(Current.Span))
        {
            var start = Current.Span;
            SkipStatementTokens();
            return new EmptyStatement(start.Cover(Previous.Span));
        }
        try
        {
            return ParseStatementCore();
        }
        finally
        {
            LeaveNesting();
        }
    }

    /// <summary>Skips one statement's tokens without recursion (used past the nesting limit).</summary>
    private void SkipStatementTokens()
    {
        while (!At(TokenKind.EndOfFile) && !At(TokenKind.CloseBrace))
        {
            if (At(TokenKind.OpenBrace))
            {
                SkipBalanced();
                if (!At(TokenKind.ElseKeyword) && !At(TokenKind.OrKeyword))
                {
                    return;
                }
                continue;
            }
            if (At(TokenKind.OpenParen) || At(TokenKind.OpenBracket))
            {
                SkipBalanced();
                continue;
            }
            if (NextToken().Kind == TokenKind.Semicolon && !At(TokenKind.ElseKeyword))
            {
                return;
            }
        }
    }

    private StatementSyntax ParseStatementCore()
    {
        switch (Current.Kind)
        {
            case TokenKind.OpenBrace:
                return ParseBlock();
            case TokenKind.Semicolon:
                return new EmptyStatement(NextToken().Span);
            case TokenKind.IfKeyword:
                {
                    var keyword = NextToken();
                    Expect(TokenKind.OpenParen);
                    var condition = ParseExpression();
                    Expect(TokenKind.CloseParen);
                    var then = ParseStatement();
                    StatementSyntax? @else = null;
                    if (TryConsume(TokenKind.ElseKeyword, out _))
                    {
                        @else = ParseStatement();
                    }
                    return new IfStatement(keyword.Span.Cover((@else ?? then).Span), condition, then, @else);
                }
            case TokenKind.WhileKeyword:
                {
                    var keyword = NextToken();
                    Expect(TokenKind.OpenParen);
                    var condition = ParseExpression();
                    Expect(TokenKind.CloseParen);
                    var body = ParseStatement();
                    return new WhileStatement(keyword.Span.Cover(body.Span), condition, body);
                }
            case TokenKind.ForKeyword:
                return ParseFor();
            case TokenKind.LoopKeyword:
                {
                    var keyword = NextToken();
                    var body = ParseBlock();
                    return new LoopStatement(keyword.Span.Cover(body.Span), body);
                }
            case TokenKind.ForEachCpuKeyword:
                {
                    var keyword = NextToken();
                    Expect(TokenKind.OpenParen);
                    var variable = ExpectIdentifier("a loop variable");
                    Expect(TokenKind.InKeyword);
                    var mask = ParseExpression();
                    Expect(TokenKind.CloseParen);
                    var body = ParseStatement();
                    return new ForEachCpuStatement(keyword.Span.Cover(body.Span), variable, mask, body);
                }
            case TokenKind.ForEachLineKeyword:
                {
                    var keyword = NextToken();
                    Expect(TokenKind.OpenParen);
                    var variable = ExpectIdentifier("a loop variable");
                    Expect(TokenKind.InKeyword);
                    var region = ExpectIdentifier("a region name");
                    Expect(TokenKind.CloseParen);
                    var body = ParseStatement();
                    return new ForEachLineStatement(keyword.Span.Cover(body.Span), variable, region, body);
                }
            case TokenKind.BreakKeyword:
                {
                    var keyword = NextToken();
                    var semi = Expect(TokenKind.Semicolon);
                    return new BreakStatement(keyword.Span.Cover(semi.Span));
                }
            case TokenKind.ContinueKeyword:
                {
                    var keyword = NextToken();
                    var semi = Expect(TokenKind.Semicolon);
                    return new ContinueStatement(keyword.Span.Cover(semi.Span));
                }
            case TokenKind.ReturnKeyword:
                {
                    var keyword = NextToken();
                    ExpressionSyntax? value = null;
                    if (!At(TokenKind.Semicolon))
                    {
                        value = ParseExpression();
                    }
                    var semi = Expect(TokenKind.Semicolon);
                    return new ReturnStatement(keyword.Span.Cover(semi.Span), value);
                }
            case TokenKind.EitherKeyword:
                {
                    var keyword = NextToken();
                    var branches = new List<BlockStatement> { ParseBlock() };
                    while (TryConsume(TokenKind.OrKeyword, out _))
                    {
                        branches.Add(ParseBlock());
                    }
                    if (branches.Count < 2)
                    {
                        _diagnostics.Report(DiagnosticCode.EitherNeedsOr, _source, keyword.Span,
                            "'either' needs at least one 'or { ... }' branch");
                    }
                    return new EitherStatement(keyword.Span.Cover(branches[^1].Span), branches);
                }
            case TokenKind.AtomicKeyword:
                {
                    var keyword = NextToken();
                    var body = ParseBlock();
                    return new AtomicStatement(keyword.Span.Cover(body.Span), body);
                }
        }

        if (IsLocalDeclarationStart())
        {
            var declaration = ParseLocalDeclaration();
            return declaration;
        }

        var simple = ParseSimpleStatement();
        var end = Expect(TokenKind.Semicolon);
        return Extend(simple, end);
    }

    private static StatementSyntax Extend(StatementSyntax statement, Token semicolon)
    {
        var span = statement.Span.Cover(semicolon.Span);
        return statement switch
        {
            AssignmentStatement a => new AssignmentStatement(span, a.Target, a.Operator, a.Value),
            ExpressionStatement e => new ExpressionStatement(span, e.Expression),
            _ => statement,
        };
    }

    private bool IsLocalDeclarationStart() =>
        IsTypeKeyword(Current.Kind) || (At(TokenKind.Identifier) && Peek(1).Kind == TokenKind.Identifier);

    private LocalDeclarationStatement ParseLocalDeclaration(bool requireSemicolon = true)
    {
        var type = ParseType();
        var declarators = new List<VariableDeclarator>();
        while (true)
        {
            var name = ExpectIdentifier("a variable name");
            ExpressionSyntax? initializer = null;
            if (TryConsume(TokenKind.Equals, out _))
            {
                initializer = ParseExpression();
            }
            declarators.Add(new VariableDeclarator(name, initializer, name.Span.Cover(initializer?.Span ?? name.Span)));
            if (!TryConsume(TokenKind.Comma, out _))
            {
                break;
            }
        }
        var end = requireSemicolon ? Expect(TokenKind.Semicolon) : Previous;
        return new LocalDeclarationStatement(type.Span.Cover(end.Span), type, declarators);
    }

    /// <summary>An expression, an assignment, or an increment (without the ';').</summary>
    private StatementSyntax ParseSimpleStatement()
    {
        _statementHeadNesting = _nesting + 1;
        var expression = ParseExpression();
        _statementHeadNesting = -1;
        switch (Current.Kind)
        {
            case TokenKind.Equals or TokenKind.PlusEquals or TokenKind.MinusEquals:
                {
                    var op = NextToken();
                    var value = ParseExpression();
                    return new AssignmentStatement(expression.Span.Cover(value.Span), expression, op, value);
                }
            case TokenKind.PlusPlus or TokenKind.MinusMinus:
                {
                    var op = NextToken();
                    return new AssignmentStatement(expression.Span.Cover(op.Span), expression, op, null);
                }
            default:
                return new ExpressionStatement(expression.Span, expression);
        }
    }

    private ForStatement ParseFor()
    {
        var keyword = NextToken();
        Expect(TokenKind.OpenParen);
        StatementSyntax? initializer = null;
        if (!At(TokenKind.Semicolon))
        {
            initializer = IsLocalDeclarationStart() ? ParseLocalDeclaration(requireSemicolon: false) : ParseSimpleStatement();
        }
        Expect(TokenKind.Semicolon);
        ExpressionSyntax? condition = null;
        if (!At(TokenKind.Semicolon))
        {
            condition = ParseExpression();
        }
        Expect(TokenKind.Semicolon);
        StatementSyntax? step = null;
        if (!At(TokenKind.CloseParen))
        {
            step = ParseSimpleStatement();
        }
        Expect(TokenKind.CloseParen);
        var body = ParseStatement();
        return new ForStatement(keyword.Span.Cover(body.Span), initializer, condition, step, body);
    }

    // ───────────────────────────── Expressions ─────────────────────────────

    public ExpressionSyntax ParseExpression()
    {
        var start = Current.Span;
        if (!EnterNesting(start))
        {
            SkipExpressionTokens();
            return new ErrorExpression(start.Cover(Previous.Span));
        }
        try
        {
            var condition = ParseBinary(1);
            if (Current.Kind is TokenKind.PlusPlus or TokenKind.MinusMinus && _nesting != _statementHeadNesting)
            {
                ReportOnce(DiagnosticCode.UnexpectedToken, Current.Span,
                    $"{TokenFacts.Display(Current.Kind)} is a statement in kflow, not an operator inside an expression: write it on its own line");
                NextToken();
            }
            if (!TryConsume(TokenKind.Question, out _))
            {
                return condition;
            }
            var whenTrue = ParseExpression();
            Expect(TokenKind.Colon);
            var whenFalse = ParseExpression();
            return CheckHeight(new ConditionalExpression(condition, whenTrue, whenFalse));
        }
        finally
        {
            LeaveNesting();
        }
    }

    /// <summary>Past the nesting limit: skips what would have been the expression, balancing groups.</summary>
    private void SkipExpressionTokens()
    {
        while (!At(TokenKind.EndOfFile))
        {
            switch (Current.Kind)
            {
                case TokenKind.OpenParen or TokenKind.OpenBracket:
                    SkipBalanced();
                    continue;
                case TokenKind.Semicolon or TokenKind.CloseParen or TokenKind.CloseBracket or TokenKind.CloseBrace
                    or TokenKind.OpenBrace or TokenKind.Comma or TokenKind.Colon:
                    return;
            }
            NextToken();
        }
    }

    private ExpressionSyntax CheckHeight(ExpressionSyntax expression)
    {
        if (expression.Height <= MaxExpressionHeight)
        {
            return expression;
        }
        if (!_complexityReported)
        {
            _complexityReported = true;
            _diagnostics.Report(DiagnosticCode.ExpressionTooComplex, _source, new TextSpan(expression.Span.Start, 0),
                $"expression too complex (more than {MaxExpressionHeight} nested operations); split it with locals");
        }
        return new ErrorExpression(expression.Span);
    }

    private static int BinaryPrecedence(TokenKind kind) => kind switch
    {
        TokenKind.PipePipe => 1,
        TokenKind.AmpersandAmpersand => 2,
        TokenKind.Pipe => 3,
        TokenKind.Caret => 4,
        TokenKind.Ampersand => 5,
        TokenKind.EqualsEquals or TokenKind.BangEquals => 6,
        TokenKind.Less or TokenKind.LessEquals or TokenKind.Greater or TokenKind.GreaterEquals => 7,
        TokenKind.LessLess or TokenKind.GreaterGreater => 8,
        TokenKind.Plus or TokenKind.Minus => 9,
        TokenKind.Star or TokenKind.Slash or TokenKind.Percent => 10,
        _ => 0,
    };

    private ExpressionSyntax ParseBinary(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            var precedence = BinaryPrecedence(Current.Kind);
            if (precedence == 0 || precedence < minPrecedence)
            {
                return left;
            }
            var op = NextToken();
            var right = precedence < 10 ? ParseBinary(precedence + 1) : ParseUnary();
            left = CheckHeight(new BinaryExpression(left, op, right));
        }
    }

    private ExpressionSyntax ParseUnary()
    {
        if (Current.Kind is TokenKind.Bang or TokenKind.Minus or TokenKind.Tilde or TokenKind.Plus)
        {
            var op = Current;
            if (!EnterNesting(op.Span))
            {
                while (Current.Kind is TokenKind.Bang or TokenKind.Minus or TokenKind.Tilde or TokenKind.Plus)
                {
                    NextToken();
                }
                var rest = ParsePostfix();
                return new ErrorExpression(op.Span.Cover(rest.Span));
            }
            try
            {
                NextToken();
                var operand = ParseUnary();
                return CheckHeight(new UnaryExpression(op, operand));
            }
            finally
            {
                LeaveNesting();
            }
        }
        if (Current.Kind is TokenKind.PlusPlus or TokenKind.MinusMinus)
        {
            ReportOnce(DiagnosticCode.UnexpectedToken, Current.Span,
                $"{TokenFacts.Display(Current.Kind)} is a statement in kflow: write 'x{Current.Text};' on its own");
            NextToken();
            return ParseUnary();
        }
        return ParsePostfix();
    }

    private ExpressionSyntax ParsePostfix()
    {
        var expression = ParsePrimary();
        while (At(TokenKind.OpenBracket))
        {
            NextToken();
            var index = ParseExpression();
            var close = Expect(TokenKind.CloseBracket);
            expression = CheckHeight(new IndexExpression(expression, index, expression.Span.Cover(close.Span)));
        }
        return expression;
    }

    private ExpressionSyntax ParsePrimary()
    {
        switch (Current.Kind)
        {
            case TokenKind.Integer or TokenKind.TrueKeyword or TokenKind.FalseKeyword:
                return new LiteralExpression(NextToken());
            case TokenKind.String:
                return new StringExpression(NextToken());
            case TokenKind.Identifier:
                {
                    var name = NextToken();
                    return At(TokenKind.OpenParen) ? ParseCallRest(name) : new NameExpression(name);
                }
            case TokenKind.OpenParen:
                {
                    // Nesting is counted by ParseExpression, once per parenthesis.
                    var open = NextToken();
                    var inner = ParseExpression();
                    var close = Expect(TokenKind.CloseParen);
                    return CheckHeight(new ParenthesizedExpression(open.Span.Cover(close.Span), inner));
                }
            default:
                {
                    var span = Current.Kind is TokenKind.EndOfFile or TokenKind.Semicolon or TokenKind.CloseParen or TokenKind.CloseBrace
                        ? new TextSpan(Previous.Span.End, 0)
                        : Current.Span;
                    ReportOnce(DiagnosticCode.ExpectedExpression, span, $"expected an expression{Before()}");
                    return new ErrorExpression(span);
                }
        }
    }

    private CallExpression ParseCallRest(Token name)
    {
        var open = Expect(TokenKind.OpenParen);
        var arguments = new List<ExpressionSyntax>();
        if (!At(TokenKind.CloseParen) && open.Span.Length > 0)
        {
            while (true)
            {
                var start = _position;
                arguments.Add(ParseExpression());
                if (!TryConsume(TokenKind.Comma, out _) || _position == start)
                {
                    break;
                }
            }
        }
        var close = open.Span.Length > 0 ? Expect(TokenKind.CloseParen) : open;
        return new CallExpression(name, arguments, name.Span.Cover(close.Span));
    }
}
