namespace KexecSim.Language.Binding;

public enum TypeKind
{
    Error,
    Void,
    Int,
    Bool,
    Cpumask,
    Key,
    Line,
    Enum,
    String,
}

/// <summary>A kflow type. Enum types are distinct; everything else is one shared instance.</summary>
public sealed class KType
{
    public static readonly KType Error = new(TypeKind.Error, "?");
    public static readonly KType Void = new(TypeKind.Void, "void");
    public static readonly KType Int = new(TypeKind.Int, "int");
    public static readonly KType Bool = new(TypeKind.Bool, "bool");
    public static readonly KType Cpumask = new(TypeKind.Cpumask, "cpumask");
    public static readonly KType Key = new(TypeKind.Key, "key");
    public static readonly KType Line = new(TypeKind.Line, "line");
    public static readonly KType String = new(TypeKind.String, "string");

    private KType(TypeKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public static KType ForEnum(string name) => new(TypeKind.Enum, name);

    public TypeKind Kind { get; }

    public string Name { get; }

    public bool IsError => Kind == TypeKind.Error;

    /// <summary>Scalar types live in one value slot (everything but cpumask, void and string).</summary>
    public bool IsScalar => Kind is TypeKind.Int or TypeKind.Bool or TypeKind.Key or TypeKind.Line or TypeKind.Enum;

    /// <summary>Integer-like: int or an enum (enums convert to int, as in C, but not back).</summary>
    public bool IsIntegral => Kind is TypeKind.Int or TypeKind.Enum;

    /// <summary>Whether a value of <paramref name="from"/> may be used where this type is expected.</summary>
    public bool Accepts(KType from) =>
        from.IsError || IsError || ReferenceEquals(this, from) || (Kind == TypeKind.Int && from.Kind == TypeKind.Enum);

    public override string ToString() => Name;
}
