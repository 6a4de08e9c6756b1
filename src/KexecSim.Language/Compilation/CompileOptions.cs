using KexecSim.Program;

namespace KexecSim.Language.Compilation;

public sealed record CompileOptions
{
    /// <summary>
    /// Values that override consts as they are, without a type check: the values a trace file recorded
    /// (the command line's <c>-D</c> goes through <see cref="CommandLineDefines"/>).
    /// </summary>
    public IReadOnlyDictionary<string, long> Defines { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// <c>-D NAME=VALUE</c> as written: VALUE an integer, true/false, or the name of a const or enum value
    /// (resolved in each model), type-checked against the const like a scenario's <c>define</c>. They
    /// override the declaration and the scenario's <c>define</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> CommandLineDefines { get; init; } = new Dictionary<string, string>();

    /// <summary>Skip (instead of reporting) a <c>-D</c> of a const the model lacks: <c>check</c> over the
    /// catalog applies each <c>-D</c> to the models that have the const and names the others itself.</summary>
    public bool SkipDefinesOfMissingConstants { get; init; }

    /// <summary><c>--cpus N</c>: stretch or shrink CPU ranges that end at the last CPU.</summary>
    public int? Cpus { get; init; }

    public static readonly CompileOptions Default = new();
}

internal static class SourceSpans
{
    public static DebugSpan Of(SourceText? source, TextSpan span) => new(source ?? Empty, span);

    public static readonly SourceText Empty = new("<built-in>", string.Empty);
}
