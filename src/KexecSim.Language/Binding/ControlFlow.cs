namespace KexecSim.Language.Binding;

/// <summary>Reachability facts used for "unreachable code" and "missing return" diagnostics.</summary>
public static class ControlFlow
{
    /// <summary>Whether execution can reach the point after the statement.</summary>
    public static bool CanCompleteNormally(BoundStatement statement) => statement switch
    {
        BoundReturn or BoundBreak or BoundContinue => false,
        BoundBlock block => block.Statements.All(CanCompleteNormally),
        BoundIf { Else: null } => true,
        BoundIf i => CanCompleteNormally(i.Then) || CanCompleteNormally(i.Else!),
        BoundLoop loop => !IsAlwaysTrue(loop.Condition) || ContainsBreak(loop.Body),
        BoundEither either => either.Branches.Any(CanCompleteNormally),
        BoundAtomic atomic => CanCompleteNormally(atomic.Body),
        _ => true,
    };

    private static bool IsAlwaysTrue(BoundExpression? condition) => condition is null || condition is BoundLiteral { Value: not 0 };

    /// <summary>A break that leaves this loop (not one of a nested loop).</summary>
    private static bool ContainsBreak(BoundStatement statement) => statement switch
    {
        BoundBreak => true,
        BoundBlock block => block.Statements.Any(ContainsBreak),
        BoundIf i => ContainsBreak(i.Then) || (i.Else is not null && ContainsBreak(i.Else)),
        BoundEither either => either.Branches.Any(ContainsBreak),
        BoundAtomic atomic => ContainsBreak(atomic.Body),
        _ => false,
    };
}
