using KexecSim.Language.Binding;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// The code that can run under this scenario (docs/symmetry.md, "Code that cannot run"): the symmetry
/// checks walk only it. A branch is dead only when its condition's value is known for every run:
/// a constant under the scenario's consts and <c>define</c>s, or a <c>wait_until</c> that cannot
/// time out (no timeout argument, or <c>timeouts off</c>: it returns only when its condition holds,
/// so it returns true), and <c>!</c>, <c>&amp;&amp;</c>, <c>||</c> of those. The condition itself is
/// always live; nothing else is pruned.
/// </summary>
public sealed partial class ProgramCompiler
{
    /// <summary>The value every run gives <paramref name="condition"/>, or null when it may differ.</summary>
    private bool? KnownCondition(BoundExpression condition)
    {
        switch (condition)
        {
            case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.WaitUntil } wait
                when wait.Arguments.Count < 2 || _scenario is { Timeouts: false }:
                return true;
            case BoundUnary { Op: UnaryOp.LogicalNot } not:
                return !KnownCondition(not.Operand);
            case BoundBinary { Op: BinaryOp.LogicalAnd } and:
                {
                    var left = KnownCondition(and.Left);
                    var right = KnownCondition(and.Right);
                    return left == false || right == false ? false : left == true && right == true ? true : null;
                }
            case BoundBinary { Op: BinaryOp.LogicalOr } or:
                {
                    var left = KnownCondition(or.Left);
                    var right = KnownCondition(or.Right);
                    return left == true || right == true ? true : left == false && right == false ? false : null;
                }
            default:
                return ConstantEvaluator.IsConstant(condition)
                    && ConstantEvaluator.TryEvaluate(condition, _constants, out var value, out _)
                    ? value != 0
                    : null;
        }
    }

    /// <summary>The statements of <paramref name="root"/> that can run: as <see cref="BoundTreeWalker.Statements"/>,
    /// without the branch of an <c>if</c> whose condition is known.</summary>
    /// <remarks>PERF: computed once per root and kept (the symmetry, reduction and place analyses walk every
    /// function's live code many times; walking it afresh each time allocated a stack and an iterator per walk).</remarks>
    private BoundStatement[] LiveStatements(BoundStatement root)
    {
        if (!_liveStatements.TryGetValue(root, out var statements))
        {
            statements = [.. WalkLiveStatements(root)];
            _liveStatements.Add(root, statements);
        }
        return statements;
    }

    private readonly Dictionary<BoundStatement, BoundStatement[]> _liveStatements = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<BoundStatement, BoundExpression[]> _liveExpressions = new(ReferenceEqualityComparer.Instance);

    private IEnumerable<BoundStatement> WalkLiveStatements(BoundStatement root)
    {
        var stack = new Stack<BoundStatement>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var statement = stack.Pop();
            yield return statement;
            IEnumerable<BoundStatement> children = statement is BoundIf branch && KnownCondition(branch.Condition) is { } known
                ? known ? [branch.Then] : branch.Else is null ? [] : [branch.Else]
                : BoundTreeWalker.ChildStatements(statement);
            BoundTreeWalker.PushReversed(stack, children);
        }
    }

    /// <summary>The expressions of the live statements, outermost first, without the branch of a
    /// conditional expression whose condition is known.</summary>
    /// <remarks>PERF: computed once per root and kept, as <see cref="LiveStatements"/>.</remarks>
    private BoundExpression[] LiveExpressions(BoundStatement root)
    {
        if (!_liveExpressions.TryGetValue(root, out var expressions))
        {
            expressions = [.. WalkLiveExpressions(root)];
            _liveExpressions.Add(root, expressions);
        }
        return expressions;
    }

    private IEnumerable<BoundExpression> WalkLiveExpressions(BoundStatement root)
    {
        var stack = new Stack<BoundExpression>();
        foreach (var statement in LiveStatements(root))
        {
            foreach (var expression in BoundTreeWalker.OwnExpressions(statement))
            {
                stack.Push(expression);
                while (stack.Count > 0)
                {
                    var current = stack.Pop();
                    yield return current;
                    if (current is BoundConditional conditional && KnownCondition(conditional.Condition) is { } known)
                    {
                        stack.Push(conditional.Condition);
                        stack.Push(known ? conditional.WhenTrue : conditional.WhenFalse);
                    }
                    else
                    {
                        BoundTreeWalker.PushChildren(stack, current);
                    }
                }
            }
        }
    }

    /// <summary>The intrinsics the live code of <paramref name="roots"/> and every function they call or name
    /// can run: what the machine's reductions may assume never happens (an INIT or NMI nobody can send).</summary>
    private HashSet<IntrinsicId> LiveIntrinsics(IEnumerable<FunctionSymbol> roots)
    {
        var intrinsics = new HashSet<IntrinsicId>();
        foreach (var function in Reachable(roots))
        {
            foreach (var expression in LiveExpressions(function.Body!))
            {
                if (expression is BoundIntrinsicCall call)
                {
                    intrinsics.Add(call.Intrinsic.Id);
                }
            }
        }
        return intrinsics;
    }

    /// <summary>Whether some line value may be one nobody assigned, which is 0 (the first line): a line local
    /// declared without a value, a function returning a line that can fall off its end (KF0806), or a line
    /// variable without an initialiser. The machine's reductions must then take line 0 as named.</summary>
    private bool MayHoldUnassignedLine()
    {
        if (_program.Variables.Any(v => v.Type.Kind == TypeKind.Line && v.Initializer is null))
        {
            return true;
        }
        foreach (var function in _functionOrder)
        {
            if (function.Body is null)
            {
                continue;
            }
            if (function.ReturnType.Kind == TypeKind.Line && ControlFlow.CanCompleteNormally(function.Body))
            {
                return true;
            }
            if (BoundTreeWalker.Statements(function.Body).Any(s => s is BoundLocalDeclaration { Initializer: null } d && d.Local.Type.Kind == TypeKind.Line))
            {
                return true;
            }
        }
        return false;
    }
}
