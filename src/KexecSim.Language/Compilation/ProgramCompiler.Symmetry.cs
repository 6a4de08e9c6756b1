using KexecSim.Language.Binding;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// The static checks of a <c>symmetric</c> declaration (LANGUAGE.md section 6). A promise the code
/// breaks outright is an error; code that observes the order of CPU ids makes the declaration
/// unusable: the first such reason here is the specification's <see cref="SymmetrySpec.UnusableReason"/>,
/// and the warning KF0803 says why whenever that specification is unusable (BuildSymmetrySpec), so
/// the warning and <see cref="SymmetrySpec.IsUsable"/> never disagree. Only code that can run under
/// the scenario is checked (ProgramCompiler.LiveCode.cs).
/// </summary>
public sealed partial class ProgramCompiler
{
    private string? CheckSymmetry(List<int> symmetric, List<(FunctionSymbol Function, long[] Arguments)?> entries, List<List<int>> initCpus)
    {
        var scenario = _scenario!;
        var source = scenario.Source;
        var span = scenario.SymmetricSpan;
        var set = symmetric.ToHashSet();
        var list = Describe(symmetric);

        var first = entries[symmetric[0]];
        foreach (var cpu in symmetric.Skip(1))
        {
            var other = entries[cpu];
            var same = (first is null && other is null) || (first is { } a && other is { } b
                && ReferenceEquals(a.Function, b.Function) && a.Arguments.SequenceEqual(b.Arguments));
            if (!same)
            {
                Report(source, DiagnosticCode.SymmetricDifferentEntry, span,
                    $"'symmetric {list}' is not true: CPU {symmetric[0]} runs {Describe(first)} but CPU {cpu} runs {Describe(other)}");
                return null;
            }
        }
        for (var i = 0; i < initCpus.Count; i++)
        {
            var covered = symmetric.Count(initCpus[i].Contains);
            if (covered != 0 && covered != symmetric.Count)
            {
                Report(source, DiagnosticCode.SymmetricDifferentInit, span,
                    $"'symmetric {list}' is not true: the 'init cpu' block at {new SourceSpan(source, scenario.InitCpus[i].Span)} runs on only some of them");
                return null;
            }
        }

        // Code the symmetric CPUs may run: their entry, every handler, their init blocks, and callees.
        var roots = new List<FunctionSymbol>(_program.Handlers);
        if (first is { } entry)
        {
            roots.Add(entry.Function);
        }
        for (var i = 0; i < initCpus.Count; i++)
        {
            if (initCpus[i].Any(set.Contains))
            {
                roots.Add(scenario.InitCpus[i].Body);
            }
        }
        var symmetricCode = Reachable(roots);

        // All code of the scenario, for uses that single out one of the symmetric CPUs.
        var allRoots = new List<FunctionSymbol>(_program.Handlers);
        allRoots.AddRange(entries.Where(e => e is not null).Select(e => e!.Value.Function));
        allRoots.AddRange(scenario.InitCpus.Select(b => b.Body));
        if (scenario.Init is not null)
        {
            allRoots.Add(scenario.Init);
        }
        var allCode = Reachable(allRoots);
        var cpuIds = CpuIdValues(allCode);

        var broken = false;
        foreach (var function in symmetricCode)
        {
            foreach (var expression in LiveExpressions(function.Body!))
            {
                if (expression is BoundBinary { Op: BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual } comparison
                    && SinglesOut(comparison, cpuIds, symmetric, function.Source))
                {
                    var text = function.Source!.Excerpt(comparison.Span);
                    Report(function.Source, DiagnosticCode.SymmetricComparesCpuId, comparison.Span,
                        $"'{text}' compares a CPU id with a constant, so CPUs {list} are not interchangeable (scenario \"{scenario.Name}\" declares them symmetric)");
                    if (!broken)
                    {
                        Report(source, DiagnosticCode.SymmetricComparesCpuId, span,
                            $"'symmetric {list}' is not true: '{text}' at {new SourceSpan(function.Source!, comparison.Span)} compares a CPU id with a constant");
                    }
                    broken = true;
                }
            }
        }
        if (broken)
        {
            return null;
        }

        // Order observations: sound reduction would need more than a sort of interchangeable CPUs.
        foreach (var function in allCode)
        {
            foreach (var statement in LiveStatements(function.Body!))
            {
                if (statement is BoundForEachCpu loop)
                {
                    return Ignore(function, loop.Span, "for_each_cpu visits CPUs in id order");
                }
            }
            foreach (var expression in LiveExpressions(function.Body!))
            {
                switch (expression)
                {
                    case BoundBinary binary when binary.Op is BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual
                        && IsCpuId(binary.Left, cpuIds) && IsCpuId(binary.Right, cpuIds):
                        return Ignore(function, binary.Span, "it orders CPU ids");
                    case BoundBinary binary when binary.Op is not (BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual
                        or BinaryOp.Greater or BinaryOp.GreaterOrEqual or BinaryOp.LogicalAnd or BinaryOp.LogicalOr)
                        && (IsCpuId(binary.Left, cpuIds) || IsCpuId(binary.Right, cpuIds)):
                        return Ignore(function, binary.Span, "it computes with a CPU id");
                    case BoundIntrinsicCall call when NamesSymmetricCpu(call, set):
                        return Ignore(function, call.Span, "it names one of them by number");
                    case BoundGlobal { Cpu: { } c } when ConstantEvaluator.IsConstant(c) && set.Contains((int)Evaluate(c, function.Source)):
                        return Ignore(function, expression.Span, "it names one of them by number");
                    case BoundRegionLine { Cpu: { } c } when ConstantEvaluator.IsConstant(c) && set.Contains((int)Evaluate(c, function.Source)):
                        return Ignore(function, expression.Span, "it names one of them by number");
                }
            }
        }
        return null;

        string Ignore(FunctionSymbol function, TextSpan at, string why)
        {
            var text = function.Source!.Excerpt(at);
            // The warning (KF0803) is reported once the specification is built, with whichever reason wins.
            return $"'{text}' at {new SourceSpan(function.Source!, at)}: {why}";
        }
    }

    /// <summary>
    /// Whether a comparison of a CPU id with a constant tells symmetric CPUs apart: <c>cpu == 2</c>
    /// does when 2 is one of them; <c>cpu == -1</c> or <c>cpu == 0</c> with CPU 0 outside the set
    /// is the same for all of them and keeps the promise.
    /// </summary>
    private bool SinglesOut(BoundBinary comparison, HashSet<Symbol> cpuIds, List<int> symmetric, SourceText? source)
    {
        BinaryOp op;
        BoundExpression constant;
        if (IsCpuId(comparison.Left, cpuIds) && ConstantEvaluator.IsConstant(comparison.Right))
        {
            op = comparison.Op;
            constant = comparison.Right;
        }
        else if (IsCpuId(comparison.Right, cpuIds) && ConstantEvaluator.IsConstant(comparison.Left))
        {
            // c OP id  is  id OP' c
            op = comparison.Op switch
            {
                BinaryOp.Less => BinaryOp.Greater,
                BinaryOp.LessOrEqual => BinaryOp.GreaterOrEqual,
                BinaryOp.Greater => BinaryOp.Less,
                BinaryOp.GreaterOrEqual => BinaryOp.LessOrEqual,
                _ => comparison.Op,
            };
            constant = comparison.Left;
        }
        else
        {
            return false;
        }
        var value = Evaluate(constant, source);
        var outcomes = symmetric.Select(cpu => Arithmetic.TryApply(op, cpu, value, out var r) && r != 0).Distinct().Count();
        return outcomes > 1;
    }

    private bool NamesSymmetricCpu(BoundIntrinsicCall call, HashSet<int> set)
    {
        if (call.Intrinsic.Id is not (IntrinsicId.SendIpi or IntrinsicId.SendNmi or IntrinsicId.SendInit
            or IntrinsicId.CpumaskSetCpu or IntrinsicId.CpumaskClearCpu or IntrinsicId.CpumaskTestCpu))
        {
            return false;
        }
        var cpu = call.Arguments[0];
        return ConstantEvaluator.IsConstant(cpu) && set.Contains((int)Evaluate(cpu, null));
    }

    private static string Describe(List<int> cpus) => cpus.Count switch
    {
        0 => "(none)",
        _ when cpus[^1] - cpus[0] == cpus.Count - 1 => cpus.Count == 1 ? $"{cpus[0]}" : $"{cpus[0]}..{cpus[^1]}",
        _ => string.Join(", ", cpus),
    };

    private static string Describe((FunctionSymbol Function, long[] Arguments)? entry) =>
        entry is { } e ? $"{e.Function.Name}({string.Join(", ", e.Arguments)})" : "nothing";

    private List<FunctionSymbol> Reachable(IEnumerable<FunctionSymbol> roots)
    {
        var seen = new HashSet<FunctionSymbol>(ReferenceEqualityComparer.Instance);
        var order = new List<FunctionSymbol>();
        var stack = new Stack<FunctionSymbol>(roots);
        while (stack.Count > 0)
        {
            var function = stack.Pop();
            if (function.Body is null || !seen.Add(function))
            {
                continue;
            }
            order.Add(function);
            foreach (var expression in LiveExpressions(function.Body))
            {
                switch (expression)
                {
                    case BoundCall call:
                        stack.Push(call.Function);
                        break;
                    case BoundFunctionReference reference:
                        stack.Push(reference.Function);
                        break;
                }
            }
        }
        return order;
    }

    /// <summary>Locals, parameters and variables that hold a CPU id (a flow-insensitive fixpoint).</summary>
    private HashSet<Symbol> CpuIdValues(List<FunctionSymbol> code)
    {
        var ids = new HashSet<Symbol>(ReferenceEqualityComparer.Instance);
        bool changed;
        do
        {
            changed = false;
            foreach (var function in code)
            {
                foreach (var statement in LiveStatements(function.Body!))
                {
                    switch (statement)
                    {
                        case BoundLocalDeclaration { Initializer: { } value } declaration when IsCpuId(value, ids):
                            changed |= ids.Add(declaration.Local);
                            break;
                        case BoundAssignment { Kind: AssignmentKind.Assign, Value: { } value } assignment when IsCpuId(value, ids):
                            changed |= assignment.Target switch
                            {
                                BoundLocal l => ids.Add(l.Local),
                                BoundGlobal g => ids.Add(g.Variable),
                                _ => false,
                            };
                            break;
                        case BoundForEachCpu loop:
                            changed |= ids.Add(loop.Variable);
                            break;
                    }
                }
                foreach (var expression in LiveExpressions(function.Body!))
                {
                    if (expression is BoundCall call)
                    {
                        for (var i = 0; i < call.Arguments.Count; i++)
                        {
                            if (IsCpuId(call.Arguments[i], ids))
                            {
                                changed |= ids.Add(call.Function.Parameters[i]);
                            }
                        }
                    }
                    if (expression is BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.Cmpxchg or IntrinsicId.Xchg or IntrinsicId.AtomicSet } atomic
                        && atomic.Arguments.Skip(1).Any(a => IsCpuId(a, ids)))
                    {
                        changed |= atomic.Arguments[0] switch
                        {
                            BoundLocal l => ids.Add(l.Local),
                            BoundGlobal g => ids.Add(g.Variable),
                            _ => false,
                        };
                    }
                }
            }
        }
        while (changed);
        return ids;
    }

    private static bool IsCpuId(BoundExpression expression, HashSet<Symbol> ids) => expression switch
    {
        BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.ThisCpu or IntrinsicId.CpumaskFirst } => true,
        BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.AtomicRead or IntrinsicId.Cmpxchg or IntrinsicId.Xchg } call => IsCpuId(call.Arguments[0], ids),
        BoundLocal local => ids.Contains(local.Local),
        BoundGlobal global => ids.Contains(global.Variable),
        BoundConditional conditional => IsCpuId(conditional.WhenTrue, ids) || IsCpuId(conditional.WhenFalse, ids),
        _ => false,
    };
}
