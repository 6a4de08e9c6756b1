using KexecSim.Program;

namespace KexecSim.Language.Syntax;

/// <summary>Base of every syntax node: each knows its span in its file.</summary>
public abstract class SyntaxNode(TextSpan span)
{
    public TextSpan Span { get; } = span;
}

// ───────────────────────────── Types ─────────────────────────────

/// <summary>A type name: a type keyword or an enum's identifier.</summary>
public sealed class TypeSyntax(Token name) : SyntaxNode(name.Span)
{
    public Token Name { get; } = name;
}

// ───────────────────────────── Expressions ─────────────────────────────

public abstract class ExpressionSyntax(TextSpan span, int height) : SyntaxNode(span)
{
    /// <summary>Height of the expression tree; bounded by the parser so later phases can recurse safely.</summary>
    public int Height { get; } = height;
}

public sealed class LiteralExpression(Token token) : ExpressionSyntax(token.Span, 1)
{
    public Token Token { get; } = token;
}

public sealed class StringExpression(Token token) : ExpressionSyntax(token.Span, 1)
{
    public Token Token { get; } = token;
}

public sealed class NameExpression(Token identifier) : ExpressionSyntax(identifier.Span, 1)
{
    public Token Identifier { get; } = identifier;
}

public sealed class ParenthesizedExpression(TextSpan span, ExpressionSyntax inner) : ExpressionSyntax(span, inner.Height + 1)
{
    public ExpressionSyntax Inner { get; } = inner;
}

public sealed class UnaryExpression(Token op, ExpressionSyntax operand)
    : ExpressionSyntax(op.Span.Cover(operand.Span), operand.Height + 1)
{
    public Token Operator { get; } = op;
    public ExpressionSyntax Operand { get; } = operand;
}

public sealed class BinaryExpression(ExpressionSyntax left, Token op, ExpressionSyntax right)
    : ExpressionSyntax(left.Span.Cover(right.Span), Math.Max(left.Height, right.Height) + 1)
{
    public ExpressionSyntax Left { get; } = left;
    public Token Operator { get; } = op;
    public ExpressionSyntax Right { get; } = right;
}

public sealed class ConditionalExpression(ExpressionSyntax condition, ExpressionSyntax whenTrue, ExpressionSyntax whenFalse)
    : ExpressionSyntax(condition.Span.Cover(whenFalse.Span),
        Math.Max(condition.Height, Math.Max(whenTrue.Height, whenFalse.Height)) + 1)
{
    public ExpressionSyntax Condition { get; } = condition;
    public ExpressionSyntax WhenTrue { get; } = whenTrue;
    public ExpressionSyntax WhenFalse { get; } = whenFalse;
}

public sealed class CallExpression(Token name, IReadOnlyList<ExpressionSyntax> arguments, TextSpan span)
    : ExpressionSyntax(span, arguments.Count == 0 ? 1 : arguments.Max(a => a.Height) + 1)
{
    public Token Name { get; } = name;
    public IReadOnlyList<ExpressionSyntax> Arguments { get; } = arguments;
}

/// <summary><c>target[index]</c>: another CPU's percpu variable, a region's line, or a percpu region's CPU.</summary>
public sealed class IndexExpression(ExpressionSyntax target, ExpressionSyntax index, TextSpan span)
    : ExpressionSyntax(span, Math.Max(target.Height, index.Height) + 1)
{
    public ExpressionSyntax Target { get; } = target;
    public ExpressionSyntax Index { get; } = index;
}

/// <summary>Stands where an expression was expected but none could be parsed (already diagnosed).</summary>
public sealed class ErrorExpression(TextSpan span) : ExpressionSyntax(span, 1);

// ───────────────────────────── Statements ─────────────────────────────

public abstract class StatementSyntax(TextSpan span) : SyntaxNode(span);

public sealed class BlockStatement(TextSpan span, IReadOnlyList<StatementSyntax> statements) : StatementSyntax(span)
{
    public IReadOnlyList<StatementSyntax> Statements { get; } = statements;
}

public sealed class VariableDeclarator(Token name, ExpressionSyntax? initializer, TextSpan span) : SyntaxNode(span)
{
    public Token Name { get; } = name;
    public ExpressionSyntax? Initializer { get; } = initializer;
}

public sealed class LocalDeclarationStatement(TextSpan span, TypeSyntax type, IReadOnlyList<VariableDeclarator> declarators) : StatementSyntax(span)
{
    public TypeSyntax Type { get; } = type;
    public IReadOnlyList<VariableDeclarator> Declarators { get; } = declarators;
}

/// <summary><c>x = e</c>, <c>x += e</c>, <c>x -= e</c>, <c>x++</c>, <c>x--</c>.</summary>
public sealed class AssignmentStatement(TextSpan span, ExpressionSyntax target, Token op, ExpressionSyntax? value) : StatementSyntax(span)
{
    public ExpressionSyntax Target { get; } = target;
    public Token Operator { get; } = op;
    public ExpressionSyntax? Value { get; } = value;
}

public sealed class ExpressionStatement(TextSpan span, ExpressionSyntax expression) : StatementSyntax(span)
{
    public ExpressionSyntax Expression { get; } = expression;
}

public sealed class IfStatement(TextSpan span, ExpressionSyntax condition, StatementSyntax then, StatementSyntax? @else) : StatementSyntax(span)
{
    public ExpressionSyntax Condition { get; } = condition;
    public StatementSyntax Then { get; } = then;
    public StatementSyntax? Else { get; } = @else;
}

public sealed class WhileStatement(TextSpan span, ExpressionSyntax condition, StatementSyntax body) : StatementSyntax(span)
{
    public ExpressionSyntax Condition { get; } = condition;
    public StatementSyntax Body { get; } = body;
}

public sealed class ForStatement(TextSpan span, StatementSyntax? initializer, ExpressionSyntax? condition, StatementSyntax? step, StatementSyntax body)
    : StatementSyntax(span)
{
    public StatementSyntax? Initializer { get; } = initializer;
    public ExpressionSyntax? Condition { get; } = condition;
    public StatementSyntax? Step { get; } = step;
    public StatementSyntax Body { get; } = body;
}

public sealed class LoopStatement(TextSpan span, StatementSyntax body) : StatementSyntax(span)
{
    public StatementSyntax Body { get; } = body;
}

public sealed class ForEachCpuStatement(TextSpan span, Token variable, ExpressionSyntax mask, StatementSyntax body) : StatementSyntax(span)
{
    public Token Variable { get; } = variable;
    public ExpressionSyntax Mask { get; } = mask;
    public StatementSyntax Body { get; } = body;
}

public sealed class ForEachLineStatement(TextSpan span, Token variable, Token region, StatementSyntax body) : StatementSyntax(span)
{
    public Token Variable { get; } = variable;
    public Token Region { get; } = region;
    public StatementSyntax Body { get; } = body;
}

public sealed class BreakStatement(TextSpan span) : StatementSyntax(span);

public sealed class ContinueStatement(TextSpan span) : StatementSyntax(span);

public sealed class ReturnStatement(TextSpan span, ExpressionSyntax? value) : StatementSyntax(span)
{
    public ExpressionSyntax? Value { get; } = value;
}

public sealed class EitherStatement(TextSpan span, IReadOnlyList<BlockStatement> branches) : StatementSyntax(span)
{
    public IReadOnlyList<BlockStatement> Branches { get; } = branches;
}

public sealed class AtomicStatement(TextSpan span, BlockStatement body) : StatementSyntax(span)
{
    public BlockStatement Body { get; } = body;
}

public sealed class EmptyStatement(TextSpan span) : StatementSyntax(span);

// ───────────────────────────── Declarations ─────────────────────────────

public abstract class DeclarationSyntax(TextSpan span) : SyntaxNode(span);

public sealed class ImportDeclaration(TextSpan span, Token path) : DeclarationSyntax(span)
{
    public Token Path { get; } = path;
}

public sealed class ConstDeclaration(TextSpan span, Token name, ExpressionSyntax value) : DeclarationSyntax(span)
{
    public Token Name { get; } = name;
    public ExpressionSyntax Value { get; } = value;
}

public sealed class EnumMember(Token name, ExpressionSyntax? value, TextSpan span) : SyntaxNode(span)
{
    public Token Name { get; } = name;
    public ExpressionSyntax? Value { get; } = value;
}

public sealed class EnumDeclaration(TextSpan span, Token name, IReadOnlyList<EnumMember> members) : DeclarationSyntax(span)
{
    public Token Name { get; } = name;
    public IReadOnlyList<EnumMember> Members { get; } = members;
}

/// <summary><c>region NAME[LINES] [percpu] [key K];</c> or the alias form <c>region NAME = R1, R2;</c>.</summary>
public sealed class RegionDeclaration(TextSpan span, Token name, ExpressionSyntax? lines, bool isPercpu, ExpressionSyntax? key, IReadOnlyList<Token>? aliasOf)
    : DeclarationSyntax(span)
{
    public Token Name { get; } = name;
    public ExpressionSyntax? Lines { get; } = lines;
    public bool IsPercpu { get; } = isPercpu;
    public ExpressionSyntax? Key { get; } = key;
    public IReadOnlyList<Token>? AliasOf { get; } = aliasOf;
}

/// <summary><c>in REGION[i]</c>: where a variable or a function lives.</summary>
public sealed class HomeClause(TextSpan span, Token region, ExpressionSyntax index) : SyntaxNode(span)
{
    public Token Region { get; } = region;
    public ExpressionSyntax Index { get; } = index;
}

public sealed class VariableDeclaration(TextSpan span, bool isPercpu, TypeSyntax type, Token name, ExpressionSyntax? initializer, HomeClause? home)
    : DeclarationSyntax(span)
{
    public bool IsPercpu { get; } = isPercpu;
    public TypeSyntax Type { get; } = type;
    public Token Name { get; } = name;
    public ExpressionSyntax? Initializer { get; } = initializer;
    public HomeClause? Home { get; } = home;
}

public sealed class Parameter(TypeSyntax type, Token name, TextSpan span) : SyntaxNode(span)
{
    public TypeSyntax Type { get; } = type;
    public Token Name { get; } = name;
}

public sealed class FunctionDeclaration(TextSpan span, Token name, IReadOnlyList<Parameter> parameters, TypeSyntax? returnType, HomeClause? home, BlockStatement body)
    : DeclarationSyntax(span)
{
    public Token Name { get; } = name;
    public IReadOnlyList<Parameter> Parameters { get; } = parameters;
    public TypeSyntax? ReturnType { get; } = returnType;
    public HomeClause? Home { get; } = home;
    public BlockStatement Body { get; } = body;
}

public sealed class HandlerDeclaration(TextSpan span, Token keyword, HandlerKind kind, ExpressionSyntax? vector, HomeClause? home, BlockStatement body)
    : DeclarationSyntax(span)
{
    public Token Keyword { get; } = keyword;
    public HandlerKind Kind { get; } = kind;
    public ExpressionSyntax? Vector { get; } = vector;
    public HomeClause? Home { get; } = home;
    public BlockStatement Body { get; } = body;
}

public sealed class ScenarioDeclaration(TextSpan span, Token name, IReadOnlyList<ScenarioItem> items) : DeclarationSyntax(span)
{
    public Token Name { get; } = name;
    public IReadOnlyList<ScenarioItem> Items { get; } = items;
}

// ───────────────────────────── Scenario items ─────────────────────────────

public abstract class ScenarioItem(TextSpan span, Token keyword) : SyntaxNode(span)
{
    public Token Keyword { get; } = keyword;
}

/// <summary>One element of a CPU list: <c>3</c> or <c>1..N-1</c>.</summary>
public sealed class CpuRange(TextSpan span, ExpressionSyntax first, ExpressionSyntax? last) : SyntaxNode(span)
{
    public ExpressionSyntax First { get; } = first;
    public ExpressionSyntax? Last { get; } = last;
}

public sealed class DescribeItem(TextSpan span, Token keyword, Token text) : ScenarioItem(span, keyword)
{
    public Token Text { get; } = text;
}

/// <summary>One line of a <c>platform { }</c> block: a name and its values (words, expressions, or <c>leaf = value</c> pairs).</summary>
public sealed class PlatformEntry(TextSpan span, Token name, IReadOnlyList<ExpressionSyntax> values, IReadOnlyList<(ExpressionSyntax Leaf, ExpressionSyntax Value)> pairs)
    : SyntaxNode(span)
{
    public Token Name { get; } = name;
    public IReadOnlyList<ExpressionSyntax> Values { get; } = values;
    public IReadOnlyList<(ExpressionSyntax Leaf, ExpressionSyntax Value)> Pairs { get; } = pairs;
}

public sealed class PlatformItem(TextSpan span, Token keyword, IReadOnlyList<PlatformEntry> entries) : ScenarioItem(span, keyword)
{
    public IReadOnlyList<PlatformEntry> Entries { get; } = entries;
}

public sealed class DefineItem(TextSpan span, Token keyword, Token name, ExpressionSyntax value) : ScenarioItem(span, keyword)
{
    public Token Name { get; } = name;
    public ExpressionSyntax Value { get; } = value;
}

public sealed class InitItem(TextSpan span, Token keyword, IReadOnlyList<CpuRange>? cpus, BlockStatement body) : ScenarioItem(span, keyword)
{
    /// <summary>Null for <c>init { }</c> (runs on CPU 0); the CPUs of <c>init cpu … { }</c> otherwise.</summary>
    public IReadOnlyList<CpuRange>? Cpus { get; } = cpus;
    public BlockStatement Body { get; } = body;
}

public sealed class RunsItem(TextSpan span, Token keyword, IReadOnlyList<CpuRange> cpus, CallExpression entry) : ScenarioItem(span, keyword)
{
    public IReadOnlyList<CpuRange> Cpus { get; } = cpus;
    public CallExpression Entry { get; } = entry;
}

public sealed class SymmetricItem(TextSpan span, Token keyword, IReadOnlyList<CpuRange> cpus) : ScenarioItem(span, keyword)
{
    public IReadOnlyList<CpuRange> Cpus { get; } = cpus;
}

public sealed class TimeoutsItem(TextSpan span, Token keyword, bool enabled) : ScenarioItem(span, keyword)
{
    public bool Enabled { get; } = enabled;
}

public sealed class InjectItem(TextSpan span, Token keyword, Token fault, ExpressionSyntax budget, IReadOnlyList<CpuRange>? cpus) : ScenarioItem(span, keyword)
{
    public Token Fault { get; } = fault;
    public ExpressionSyntax Budget { get; } = budget;
    public IReadOnlyList<CpuRange>? Cpus { get; } = cpus;
}

public sealed class FinalItem(TextSpan span, Token keyword, BlockStatement body) : ScenarioItem(span, keyword)
{
    public BlockStatement Body { get; } = body;
}

public sealed class ExpectItem(TextSpan span, Token keyword, Token outcome) : ScenarioItem(span, keyword)
{
    public Token Outcome { get; } = outcome;
}

// ───────────────────────────── File ─────────────────────────────

public sealed class CompilationUnit(SourceText source, IReadOnlyList<DeclarationSyntax> declarations) : SyntaxNode(new TextSpan(0, source.Length))
{
    public SourceText Source { get; } = source;
    public IReadOnlyList<DeclarationSyntax> Declarations { get; } = declarations;
}
