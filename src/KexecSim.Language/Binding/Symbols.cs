using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

public abstract class Symbol(string name, SourceText? source, TextSpan span)
{
    public string Name { get; } = name;

    /// <summary>The file that declares the symbol (null for built-ins).</summary>
    public SourceText? Source { get; } = source;

    public TextSpan Span { get; } = span;

    public abstract string KindName { get; }

    public override string ToString() => Name;
}

/// <summary><c>const NAME = expr;</c>: a compile-time int or bool; scenarios may override it with <c>define</c>.</summary>
public sealed class ConstSymbol(string name, SourceText source, ConstDeclaration declaration)
    : Symbol(name, source, declaration.Name.Span)
{
    public ConstDeclaration Declaration { get; } = declaration;

    public KType Type { get; set; } = KType.Error;

    public BoundExpression? Value { get; set; }

    public override string KindName => "constant";
}

public sealed class EnumSymbol(string name, SourceText source, TextSpan span) : Symbol(name, source, span)
{
    public KType Type { get; } = KType.ForEnum(name);

    public List<EnumMemberSymbol> Members { get; } = [];

    public override string KindName => "enum";
}

public sealed class EnumMemberSymbol(string name, SourceText source, TextSpan span, EnumSymbol owner, long value)
    : Symbol(name, source, span)
{
    public EnumSymbol Owner { get; } = owner;

    public long Value { get; } = value;

    public override string KindName => "enum member";
}

/// <summary>A region of modelled memory lines, or an alias that concatenates other regions.</summary>
public sealed class RegionSymbol(string name, SourceText? source, TextSpan span) : Symbol(name, source, span)
{
    /// <summary>Number of lines (per CPU when <see cref="IsPercpu"/>); a constant expression. Null for aliases.</summary>
    public BoundExpression? Lines { get; set; }

    public bool IsPercpu { get; set; }

    /// <summary>The key the initial content was written with; null: the old kernel's key.</summary>
    public BoundExpression? InitialKey { get; set; }

    /// <summary>For an alias: the regions it concatenates, in order.</summary>
    public List<RegionSymbol>? AliasOf { get; set; }

    /// <summary>True for the implicit <c>text</c>, <c>data</c> and <c>next_kernel</c> regions.</summary>
    public bool IsImplicit { get; init; }

    public bool IsAlias => AliasOf is not null;

    public override string KindName => "region";
}

/// <summary>A <c>shared</c> or <c>percpu</c> kernel variable, homed on a line.</summary>
public sealed class GlobalVariableSymbol(string name, SourceText source, TextSpan span, bool isPercpu, KType type)
    : Symbol(name, source, span)
{
    public bool IsPercpu { get; } = isPercpu;

    public KType Type { get; } = type;

    public BoundExpression? Initializer { get; set; }

    public RegionSymbol? HomeRegion { get; set; }

    public BoundExpression? HomeIndex { get; set; }

    /// <summary>Position among all global variables (declaration order across files).</summary>
    public int Ordinal { get; set; }

    public override string KindName => IsPercpu ? "percpu variable" : "shared variable";
}

public sealed class ParameterSymbol(string name, KType type, int ordinal) 
{
    public string Name { get; } = name;

    public KType Type { get; } = type;

    public int Ordinal { get; } = ordinal;
}

/// <summary>A function, a handler, or a scenario's <c>init</c>/<c>final</c> block, as code homed on a line.</summary>
public sealed class FunctionSymbol(string name, SourceText source, TextSpan span) : Symbol(name, source, span)
{
    public List<LocalSymbol> Parameters { get; } = [];

    public KType ReturnType { get; set; } = KType.Void;

    public RegionSymbol? HomeRegion { get; set; }

    public BoundExpression? HomeIndex { get; set; }

    public BoundBlock? Body { get; set; }

    /// <summary>Every local of the body (parameters first), in declaration order.</summary>
    public List<LocalSymbol> Locals { get; } = [];

    public FunctionDeclaration? Declaration { get; init; }

    public HandlerKind? Handler { get; init; }

    /// <summary>For <c>handler vector V</c>: the vector expression (a constant).</summary>
    public BoundExpression? Vector { get; set; }

    public bool IsSynthetic { get; init; }

    /// <summary>Position among all functions (declaration order across files).</summary>
    public int Ordinal { get; set; }

    public override string KindName => Handler is null ? "function" : "handler";
}

public sealed class LocalSymbol(string name, KType type, TextSpan span, int ordinal) : Symbol(name, null, span)
{
    public KType Type { get; } = type;

    /// <summary>Index among the function's locals.</summary>
    public int Ordinal { get; } = ordinal;

    public bool IsParameter { get; init; }

    public bool IsHidden { get; init; }

    public bool IsRead { get; set; }

    public override string KindName => IsParameter ? "parameter" : "local variable";
}

/// <summary>A built-in named value: OLD_CONTENT, GARBAGE, KEY_NONE, SEV status words, ...</summary>
public sealed class BuiltinConstantSymbol(string name, KType type, long value) : Symbol(name, null, default)
{
    public KType Type { get; } = type;

    public long Value { get; } = value;

    public override string KindName => "built-in constant";
}
