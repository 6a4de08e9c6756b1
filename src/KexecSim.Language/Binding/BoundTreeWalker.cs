namespace KexecSim.Language.Binding;

/// <summary>Enumerates a bound tree's statements and expressions without recursion (trees may be deep).</summary>
public static class BoundTreeWalker
{
    public static IEnumerable<BoundStatement> Statements(BoundStatement root)
    {
        var stack = new Stack<BoundStatement>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var statement = stack.Pop();
            yield return statement;
            PushReversed(stack, ChildStatements(statement));
        }
    }

    /// <summary>Pushes <paramref name="children"/> last first, so they pop in order. PERF: without the copy
    /// <see cref="Enumerable.Reverse{T}(IEnumerable{T})"/> makes (children are always arrays or lists).</summary>
    public static void PushReversed<T>(Stack<T> stack, IEnumerable<T> children)
    {
        if (children is IReadOnlyList<T> list)
        {
            for (var i = list.Count - 1; i >= 0; i--)
            {
                stack.Push(list[i]);
            }
            return;
        }
        foreach (var child in children.Reverse())
        {
            stack.Push(child);
        }
    }

    public static IEnumerable<BoundStatement> ChildStatements(BoundStatement statement)
    {
        switch (statement)
        {
            case BoundBlock block:
                return block.Statements;
            case BoundIf i:
                return i.Else is null ? [i.Then] : [i.Then, i.Else];
            case BoundLoop loop:
                {
                    var list = new List<BoundStatement>(3);
                    if (loop.Initializer is not null)
                    {
                        list.Add(loop.Initializer);
                    }
                    list.Add(loop.Body);
                    if (loop.Step is not null)
                    {
                        list.Add(loop.Step);
                    }
                    return list;
                }
            case BoundForEachCpu f:
                return [f.Body];
            case BoundForEachLine f:
                return [f.Body];
            case BoundEither either:
                return either.Branches;
            case BoundAtomic atomic:
                return [atomic.Body];
            default:
                return [];
        }
    }

    /// <summary>The expressions directly held by one statement (not those of nested statements).</summary>
    public static IEnumerable<BoundExpression> OwnExpressions(BoundStatement statement)
    {
        switch (statement)
        {
            case BoundLocalDeclaration { Initializer: { } initializer }:
                yield return initializer;
                break;
            case BoundAssignment assignment:
                yield return assignment.Target;
                if (assignment.Value is not null)
                {
                    yield return assignment.Value;
                }
                break;
            case BoundExpressionStatement e:
                yield return e.Expression;
                break;
            case BoundIf i:
                yield return i.Condition;
                break;
            case BoundLoop { Condition: { } condition }:
                yield return condition;
                break;
            case BoundForEachCpu f:
                yield return f.Mask;
                break;
            case BoundReturn { Value: { } value }:
                yield return value;
                break;
        }
    }

    /// <summary>Every expression in the tree, outermost first.</summary>
    public static IEnumerable<BoundExpression> Expressions(BoundStatement root)
    {
        var stack = new Stack<BoundExpression>();
        foreach (var statement in Statements(root))
        {
            foreach (var expression in OwnExpressions(statement))
            {
                stack.Push(expression);
                while (stack.Count > 0)
                {
                    var current = stack.Pop();
                    yield return current;
                    PushChildren(stack, current);
                }
            }
        }
    }

    /// <summary>Pushes <see cref="Children"/> of <paramref name="expression"/> in their order (so the last pops first).
    /// PERF: without the array <see cref="Children"/> makes per node.</summary>
    public static void PushChildren(Stack<BoundExpression> stack, BoundExpression expression)
    {
        switch (expression)
        {
            case BoundGlobal { Cpu: { } cpu }:
                stack.Push(cpu);
                break;
            case BoundRegionLine line:
                if (line.Cpu is not null)
                {
                    stack.Push(line.Cpu);
                }
                stack.Push(line.Index);
                break;
            case BoundUnary u:
                stack.Push(u.Operand);
                break;
            case BoundBinary b:
                stack.Push(b.Left);
                stack.Push(b.Right);
                break;
            case BoundConditional c:
                stack.Push(c.Condition);
                stack.Push(c.WhenTrue);
                stack.Push(c.WhenFalse);
                break;
            case BoundCall call:
                for (var i = 0; i < call.Arguments.Count; i++)
                {
                    stack.Push(call.Arguments[i]);
                }
                break;
            case BoundIntrinsicCall call:
                for (var i = 0; i < call.Arguments.Count; i++)
                {
                    stack.Push(call.Arguments[i]);
                }
                break;
        }
    }

    public static IEnumerable<BoundExpression> Children(BoundExpression expression) => expression switch
    {
        BoundGlobal { Cpu: { } cpu } => [cpu],
        BoundRegionLine line => line.Cpu is null ? [line.Index] : [line.Cpu, line.Index],
        BoundUnary u => [u.Operand],
        BoundBinary b => [b.Left, b.Right],
        BoundConditional c => [c.Condition, c.WhenTrue, c.WhenFalse],
        BoundCall call => call.Arguments,
        BoundIntrinsicCall call => call.Arguments,
        _ => [],
    };
}
