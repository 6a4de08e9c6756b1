using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

public sealed partial class Binder
{
    private BoundExpression BindExpression(ExpressionSyntax syntax, bool allowVoid = false)
    {
        var bound = BindExpressionCore(syntax);
        if (!allowVoid && bound.Type.Kind == TypeKind.Void)
        {
            var what = bound switch
            {
                BoundCall c => $"'{c.Function.Name}'",
                BoundIntrinsicCall i => $"'{i.Intrinsic.Name}'",
                _ => "this expression",
            };
            Report(DiagnosticCode.VoidValueUsed, syntax.Span, $"{what} returns nothing; its value cannot be used");
            return new BoundErrorExpression(syntax.Span);
        }
        return bound;
    }

    private BoundExpression BindExpressionCore(ExpressionSyntax syntax)
    {
        switch (syntax)
        {
            case LiteralExpression literal:
                return literal.Token.Kind switch
                {
                    TokenKind.TrueKeyword => new BoundLiteral(syntax.Span, KType.Bool, 1),
                    TokenKind.FalseKeyword => new BoundLiteral(syntax.Span, KType.Bool, 0),
                    _ => new BoundLiteral(syntax.Span, KType.Int, literal.Token.Value),
                };
            case StringExpression:
                Report(DiagnosticCode.StringNotAllowed, syntax.Span, "a string can only be a message or a file name here");
                return new BoundErrorExpression(syntax.Span);
            case NameExpression name:
                return BindName(name);
            case ParenthesizedExpression parenthesized:
                return BindExpressionCore(parenthesized.Inner);
            case UnaryExpression unary:
                return BindUnary(unary);
            case BinaryExpression binary:
                return BindBinary(binary);
            case ConditionalExpression conditional:
                return BindConditional(conditional);
            case CallExpression call:
                return BindCall(call);
            case IndexExpression index:
                return BindIndex(index);
            case ErrorExpression:
                return new BoundErrorExpression(syntax.Span);
            default:
                throw new InvalidOperationException($"unexpected expression {syntax.GetType().Name}");
        }
    }

    private IEnumerable<string> VisibleNames()
    {
        for (var scope = _scope; scope is not null; scope = scope.Parent)
        {
            foreach (var name in scope.LocalNames)
            {
                yield return name;
            }
        }
        foreach (var name in _globals.Keys)
        {
            yield return name;
        }
        yield return "cpu_all_mask";
    }

    private BoundExpression BindName(NameExpression name)
    {
        var text = name.Identifier.Text;
        if (text.Length == 0)
        {
            return new BoundErrorExpression(name.Span);
        }
        if (_scope.Lookup(text) is { } local)
        {
            local.IsRead = true;
            return new BoundLocal(name.Span, local);
        }
        if (text == "cpu_all_mask")
        {
            return new BoundAllCpusMask(name.Span);
        }
        if (_globals.TryGetValue(text, out var symbol))
        {
            switch (symbol)
            {
                case ConstSymbol constant:
                    EnsureConstantBound(constant);
                    return new BoundConstReference(name.Span, constant);
                case EnumMemberSymbol member:
                    return new BoundLiteral(name.Span, member.Owner.Type, member.Value);
                case BuiltinConstantSymbol builtin:
                    return new BoundLiteral(name.Span, builtin.Type, builtin.Value);
                case GlobalVariableSymbol variable:
                    return new BoundGlobal(name.Span, variable, null);
                case RegionSymbol region:
                    Report(DiagnosticCode.TypeMismatch, name.Span, $"region '{region.Name}' is not a value; write {region.Name}[i] for one of its lines");
                    return new BoundErrorExpression(name.Span);
                case FunctionSymbol function:
                    Report(DiagnosticCode.TypeMismatch, name.Span, $"function '{function.Name}' is not a value; call it with {function.Name}(...)");
                    return new BoundErrorExpression(name.Span);
                case EnumSymbol e:
                    Report(DiagnosticCode.TypeMismatch, name.Span, $"enum '{e.Name}' is a type, not a value");
                    return new BoundErrorExpression(name.Span);
            }
        }
        if (Intrinsics.All.ContainsKey(text))
        {
            Report(DiagnosticCode.TypeMismatch, name.Span, $"intrinsic '{text}' is not a value; call it with {text}(...)");
            return new BoundErrorExpression(name.Span);
        }
        if (KernelNames.Find(text) is { } kernelName)
        {
            Report(DiagnosticCode.UnknownName, name.Span, $"unknown name '{text}'{kernelName.Hint}");
            return new BoundErrorExpression(name.Span);
        }
        Report(DiagnosticCode.UnknownName, name.Span, $"unknown name '{text}'{DidYouMean(text, _scope, VisibleNames)}");
        return new BoundErrorExpression(name.Span);
    }

    private BoundExpression BindUnary(UnaryExpression unary)
    {
        var operand = BindExpression(unary.Operand);
        if (operand.Type.IsError)
        {
            return new BoundErrorExpression(unary.Span);
        }
        switch (unary.Operator.Kind)
        {
            case TokenKind.Bang:
                if (operand.Type.Kind is TypeKind.Bool || operand.Type.IsIntegral)
                {
                    return new BoundUnary(unary.Span, UnaryOp.LogicalNot, operand, KType.Bool);
                }
                break;
            case TokenKind.Plus:
                if (operand.Type.IsIntegral)
                {
                    return operand;
                }
                break;
            default:
                if (operand.Type.IsIntegral)
                {
                    var op = unary.Operator.Kind == TokenKind.Minus ? UnaryOp.Negate : UnaryOp.BitwiseNot;
                    return new BoundUnary(unary.Span, op, operand, KType.Int);
                }
                break;
        }
        Report(DiagnosticCode.TypeMismatch, unary.Operator.Span, $"operator {TokenFacts.Display(unary.Operator.Kind)} cannot be applied to {operand.Type}");
        return new BoundErrorExpression(unary.Span);
    }

    private BoundExpression BindBinary(BinaryExpression binary)
    {
        var left = BindExpression(binary.Left);
        var right = BindExpression(binary.Right);
        var (op, kind) = binary.Operator.Kind switch
        {
            TokenKind.Plus => (BinaryOp.Add, 0),
            TokenKind.Minus => (BinaryOp.Subtract, 0),
            TokenKind.Star => (BinaryOp.Multiply, 0),
            TokenKind.Slash => (BinaryOp.Divide, 0),
            TokenKind.Percent => (BinaryOp.Modulo, 0),
            TokenKind.Ampersand => (BinaryOp.BitAnd, 0),
            TokenKind.Pipe => (BinaryOp.BitOr, 0),
            TokenKind.Caret => (BinaryOp.BitXor, 0),
            TokenKind.LessLess => (BinaryOp.ShiftLeft, 0),
            TokenKind.GreaterGreater => (BinaryOp.ShiftRight, 0),
            TokenKind.Less => (BinaryOp.Less, 1),
            TokenKind.LessEquals => (BinaryOp.LessOrEqual, 1),
            TokenKind.Greater => (BinaryOp.Greater, 1),
            TokenKind.GreaterEquals => (BinaryOp.GreaterOrEqual, 1),
            TokenKind.EqualsEquals => (BinaryOp.Equal, 2),
            TokenKind.BangEquals => (BinaryOp.NotEqual, 2),
            TokenKind.AmpersandAmpersand => (BinaryOp.LogicalAnd, 3),
            _ => (BinaryOp.LogicalOr, 3),
        };
        if (left.Type.IsError || right.Type.IsError)
        {
            return new BoundErrorExpression(binary.Span);
        }
        var ok = kind switch
        {
            0 or 1 => left.Type.IsIntegral && right.Type.IsIntegral,
            2 => left.Type.Kind != TypeKind.Cpumask && (ReferenceEquals(left.Type, right.Type) || (left.Type.IsIntegral && right.Type.IsIntegral
                && (left.Type.Kind == TypeKind.Int || right.Type.Kind == TypeKind.Int))
                || (IsTruthValue(left.Type) && IsTruthValue(right.Type) && (left.Type.Kind == TypeKind.Bool || right.Type.Kind == TypeKind.Bool))),
            _ => IsTruthValue(left.Type) && IsTruthValue(right.Type),
        };
        if (!ok)
        {
            var hint = kind == 2 && left.Type.Kind == TypeKind.Cpumask ? " (compare masks with cpumask_weight or cpumask_empty)" : string.Empty;
            Report(DiagnosticCode.TypeMismatch, binary.Operator.Span,
                $"operator {TokenFacts.Display(binary.Operator.Kind)} cannot be applied to {left.Type} and {right.Type}{hint}");
            return new BoundErrorExpression(binary.Span);
        }
        return new BoundBinary(binary.Span, op, left, right, kind == 0 ? KType.Int : KType.Bool);
    }

    private static bool IsTruthValue(KType type) => type.Kind == TypeKind.Bool || type.IsIntegral;

    private BoundExpression BindConditional(ConditionalExpression conditional)
    {
        var condition = BindCondition(conditional.Condition);
        var whenTrue = BindExpression(conditional.WhenTrue);
        var whenFalse = BindExpression(conditional.WhenFalse);
        if (whenTrue.Type.IsError || whenFalse.Type.IsError || condition.Type.IsError)
        {
            return new BoundErrorExpression(conditional.Span);
        }
        if (whenTrue.Type.Kind == TypeKind.Cpumask || whenFalse.Type.Kind == TypeKind.Cpumask)
        {
            Report(DiagnosticCode.TypeMismatch, conditional.Span, "'?:' cannot choose between cpumasks");
            return new BoundErrorExpression(conditional.Span);
        }
        if (ReferenceEquals(whenTrue.Type, whenFalse.Type))
        {
            return new BoundConditional(conditional.Span, condition, whenTrue, whenFalse);
        }
        if (whenTrue.Type.IsIntegral && whenFalse.Type.IsIntegral)
        {
            return new BoundConditional(conditional.Span, condition, Widen(whenTrue), Widen(whenFalse));
        }
        Report(DiagnosticCode.TypeMismatch, conditional.Span, $"the branches of '?:' have different types: {whenTrue.Type} and {whenFalse.Type}");
        return new BoundErrorExpression(conditional.Span);
    }

    /// <summary>An enum value used as an int (the only implicit conversion).</summary>
    private static BoundExpression Widen(BoundExpression expression) =>
        expression.Type.Kind == TypeKind.Enum ? new BoundBinary(expression.Span, BinaryOp.Add, expression, new BoundLiteral(expression.Span, KType.Int, 0), KType.Int) : expression;

    private BoundExpression BindIndex(IndexExpression index)
    {
        // R[c][i]: a percpu region's line on CPU c.
        if (index.Target is IndexExpression inner && inner.Target is NameExpression innerName
            && _scope.Lookup(innerName.Identifier.Text) is null
            && _globals.TryGetValue(innerName.Identifier.Text, out var innerSymbol) && innerSymbol is RegionSymbol percpuRegion)
        {
            if (!percpuRegion.IsPercpu)
            {
                Report(DiagnosticCode.NotIndexable, inner.Span, $"region '{percpuRegion.Name}' is not percpu: write {percpuRegion.Name}[i]");
                return new BoundErrorExpression(index.Span);
            }
            var cpu = BindInt(inner.Index, "a CPU number");
            var line = BindInt(index.Index, "a line index");
            return new BoundRegionLine(index.Span, percpuRegion, cpu, line);
        }
        if (index.Target is NameExpression name && _scope.Lookup(name.Identifier.Text) is null
            && _globals.TryGetValue(name.Identifier.Text, out var symbol))
        {
            switch (symbol)
            {
                case RegionSymbol region:
                    return new BoundRegionLine(index.Span, region, null, BindInt(index.Index, "a line index"));
                case GlobalVariableSymbol { IsPercpu: true } variable:
                    return new BoundGlobal(index.Span, variable, BindInt(index.Index, "a CPU number"));
                case GlobalVariableSymbol variable:
                    Report(DiagnosticCode.NotIndexable, index.Span, $"'{variable.Name}' is a shared variable: only percpu variables take [cpu]");
                    BindExpression(index.Index);
                    return new BoundErrorExpression(index.Span);
            }
        }
        var target = BindExpression(index.Target);
        BindExpression(index.Index);
        if (!target.Type.IsError)
        {
            Report(DiagnosticCode.NotIndexable, index.Target.Span, "only a region or a percpu variable can be indexed");
        }
        return new BoundErrorExpression(index.Span);
    }

    private BoundExpression BindInt(ExpressionSyntax syntax, string what)
    {
        var bound = BindExpression(syntax);
        if (!bound.Type.IsError && !bound.Type.IsIntegral)
        {
            Report(DiagnosticCode.TypeMismatch, syntax.Span, $"expected {what} (an int), not {bound.Type}");
            return new BoundErrorExpression(syntax.Span);
        }
        return bound;
    }

    // ───────────────────────────── Calls ─────────────────────────────

    private BoundExpression BindCall(CallExpression call)
    {
        var name = call.Name.Text;
        if (name.Length == 0)
        {
            return new BoundErrorExpression(call.Span);
        }
        if (Intrinsics.All.TryGetValue(name, out var intrinsic))
        {
            return BindIntrinsicCall(call, intrinsic);
        }
        if (!_globals.TryGetValue(name, out var symbol))
        {
            // A kernel name gets its kflow equivalent rather than the nearest spelling (KernelNames).
            if (KernelNames.Find(name) is { } kernelName)
            {
                foreach (var argument in call.Arguments)
                {
                    BindExpression(argument);
                }
                Report(DiagnosticCode.UnknownFunction, call.Name.Span, $"unknown function '{name}'{kernelName.Hint}");
                return new BoundErrorExpression(call.Span);
            }
            foreach (var argument in call.Arguments)
            {
                BindExpression(argument);
            }
            var suggestion = DidYouMean(name, SuggestionSet.FunctionsAndIntrinsics, () => _functions.Select(f => f.Name).Concat(Intrinsics.All.Keys));
            Report(DiagnosticCode.UnknownFunction, call.Name.Span, $"unknown function '{name}'{suggestion}");
            return new BoundErrorExpression(call.Span);
        }
        if (symbol is not FunctionSymbol function)
        {
            Report(DiagnosticCode.NotAFunction, call.Name.Span, $"'{name}' is a {symbol.KindName}, not a function");
            return new BoundErrorExpression(call.Span);
        }
        var arguments = new List<BoundExpression>(call.Arguments.Count);
        for (var i = 0; i < call.Arguments.Count; i++)
        {
            arguments.Add(BindExpression(call.Arguments[i]));
        }
        if (arguments.Count != function.Parameters.Count)
        {
            Report(DiagnosticCode.ArgumentCount, call.Name.Span,
                $"'{name}' expects {Plural(function.Parameters.Count, "argument")}, got {arguments.Count}");
            return new BoundErrorExpression(call.Span);
        }
        var ok = true;
        for (var i = 0; i < arguments.Count; i++)
        {
            var parameterType = function.Parameters[i].Type;
            var argument = arguments[i];
            ok &= parameterType.Kind == TypeKind.Cpumask ? argument.Type.IsError || IsMaskOperand(argument) : Fits(parameterType, argument);
        }
        if (!ok)
        {
            Report(DiagnosticCode.ArgumentTypes, call.Name.Span,
                $"'{name}' expects ({string.Join(", ", function.Parameters.Select(p => p.Type.Name))}), got ({string.Join(", ", arguments.Select(a => a.Type.Name))})");
            return new BoundErrorExpression(call.Span);
        }
        return new BoundCall(call.Span, function, arguments);
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private BoundExpression BindIntrinsicCall(CallExpression call, Intrinsic intrinsic)
    {
        var count = call.Arguments.Count;
        var max = intrinsic.IsVariadic ? int.MaxValue : intrinsic.Parameters.Length;
        if (count < intrinsic.RequiredCount || count > max)
        {
            foreach (var argument in call.Arguments)
            {
                if (argument is not (StringExpression or NameExpression))
                {
                    BindExpression(argument);
                }
            }
            var expected = intrinsic.RequiredCount == intrinsic.Parameters.Length || intrinsic.IsVariadic
                ? Plural(intrinsic.RequiredCount, "argument") + (intrinsic.IsVariadic ? " or more" : string.Empty)
                : $"{intrinsic.RequiredCount} to {intrinsic.Parameters.Length} arguments";
            Report(DiagnosticCode.ArgumentCount, call.Name.Span, $"'{intrinsic.Name}' expects {expected}, got {count}");
            return new BoundErrorExpression(call.Span);
        }

        var arguments = new List<BoundExpression>(count);
        var got = new List<string>(count);
        var ok = true;
        var specificErrorReported = false;
        for (var i = 0; i < count; i++)
        {
            var kind = i < intrinsic.Parameters.Length ? intrinsic.Parameters[i] : ParamKind.Any;
            var syntax = call.Arguments[i];
            var (argument, fits, described, reported) = BindArgument(kind, syntax, intrinsic, arguments);
            arguments.Add(argument);
            got.Add(described);
            ok &= fits;
            specificErrorReported |= reported;
        }
        if (!ok)
        {
            if (!specificErrorReported)
            {
                var expectedList = string.Join(", ", intrinsic.Parameters.Take(Math.Max(count, intrinsic.RequiredCount)).Select(Intrinsic.Describe));
                Report(DiagnosticCode.ArgumentTypes, call.Name.Span, $"'{intrinsic.Name}' expects ({expectedList}), got ({string.Join(", ", got)})");
            }
            return new BoundErrorExpression(call.Span);
        }
        if (_atomicDepth > 0 && intrinsic.IsBlocking)
        {
            Report(DiagnosticCode.BlockingInAtomic, call.Name.Span, $"'{intrinsic.Name}' can block and cannot appear inside atomic {{ }}");
        }
        var type = intrinsic.Id switch
        {
            IntrinsicId.AtomicRead or IntrinsicId.Cmpxchg or IntrinsicId.Xchg => arguments[0].Type,
            _ => intrinsic.ReturnType,
        };
        return new BoundIntrinsicCall(call.Span, intrinsic, arguments, type);
    }

    /// <summary>Binds one intrinsic argument by its parameter kind: (bound, fits, type as shown, specific error reported).</summary>
    private (BoundExpression, bool, string, bool) BindArgument(ParamKind kind, ExpressionSyntax syntax, Intrinsic intrinsic, List<BoundExpression> previous)
    {
        switch (kind)
        {
            case ParamKind.Feature:
                {
                    if (syntax is NameExpression { Identifier.Text: var feature } && Intrinsics.Features.Contains(feature))
                    {
                        return (new BoundLiteral(syntax.Span, KType.Int, Intrinsics.Features.ToList().IndexOf(feature)), true, "feature", false);
                    }
                    var word = syntax is NameExpression n ? n.Identifier.Text : _source.Excerpt(syntax.Span);
                    if (KernelNames.WithoutKernelPrefix(word) is { } featureName && Intrinsics.Features.Contains(featureName))
                    {
                        Report(DiagnosticCode.UnknownFeature, syntax.Span, $"unknown CPU feature '{word}'; did you mean {featureName}? (kernel name)");
                        return (new BoundErrorExpression(syntax.Span), false, "?", true);
                    }
                    Report(DiagnosticCode.UnknownFeature, syntax.Span,
                        $"unknown CPU feature '{word}' (features: {string.Join(", ", Intrinsics.Features)}){Spelling.DidYouMean(word, Intrinsics.Features)}");
                    return (new BoundErrorExpression(syntax.Span), false, "?", true);
                }
            case ParamKind.Bug:
                {
                    if (syntax is NameExpression { Identifier.Text: var bug } && _bugNames.Contains(bug))
                    {
                        return (new BoundString(syntax.Span, bug), true, "bug", false);
                    }
                    var word = syntax is NameExpression n ? n.Identifier.Text : _source.Excerpt(syntax.Span);
                    if (KernelNames.WithoutKernelPrefix(word) is { } bugName && _bugNames.Contains(bugName))
                    {
                        Report(DiagnosticCode.UnknownBug, syntax.Span, $"unknown CPU bug '{word}'; did you mean {bugName}? (kernel name)");
                        return (new BoundErrorExpression(syntax.Span), false, "?", true);
                    }
                    Report(DiagnosticCode.UnknownBug, syntax.Span,
                        $"unknown CPU bug '{word}': not TDX_PW_MCE nor in any scenario's 'bugs' list{Spelling.DidYouMean(word, _bugNames)}");
                    return (new BoundErrorExpression(syntax.Span), false, "?", true);
                }
            case ParamKind.Function:
                {
                    if (syntax is NameExpression name && _globals.TryGetValue(name.Identifier.Text, out var symbol) && symbol is FunctionSymbol function)
                    {
                        if (function.Parameters.Count != 0)
                        {
                            Report(DiagnosticCode.ArgumentTypes, syntax.Span, $"'{intrinsic.Name}' needs a function without parameters; '{function.Name}' has {function.Parameters.Count}");
                            return (new BoundErrorExpression(syntax.Span), false, "function", true);
                        }
                        return (new BoundFunctionReference(syntax.Span, function), true, "function", false);
                    }
                    if (syntax is NameExpression unknown && !_globals.ContainsKey(unknown.Identifier.Text))
                    {
                        var suggestion = DidYouMean(unknown.Identifier.Text, SuggestionSet.Functions, () => _functions.Select(f => f.Name));
                        Report(DiagnosticCode.UnknownFunction, syntax.Span, $"unknown function '{unknown.Identifier.Text}'{suggestion}");
                        return (new BoundErrorExpression(syntax.Span), false, "?", true);
                    }
                    var other = BindExpression(syntax, allowVoid: true);
                    return (other, false, other.Type.Name, other.Type.IsError);
                }
            case ParamKind.String:
                if (syntax is StringExpression s)
                {
                    return (new BoundString(syntax.Span, s.Token.Text), true, "string", false);
                }
                {
                    var other = BindExpression(syntax);
                    return (other, other.Type.IsError, other.Type.Name, other.Type.IsError);
                }
            case ParamKind.Any:
                if (syntax is StringExpression any)
                {
                    return (new BoundString(syntax.Span, any.Token.Text), true, "string", false);
                }
                {
                    var other = BindExpression(syntax);
                    var fits = other.Type.IsError || other.Type.IsScalar;
                    return (other, fits, other.Type.Name, other.Type.IsError);
                }
        }

        var argument = BindExpression(syntax);
        var type = argument.Type;
        if (type.IsError)
        {
            return (argument, true, "?", true);
        }
        var ok = kind switch
        {
            ParamKind.Int or ParamKind.Vector => type.IsIntegral,
            ParamKind.Bool or ParamKind.Condition => type.Kind == TypeKind.Bool || type.IsIntegral,
            ParamKind.Key => type.Kind == TypeKind.Key,
            ParamKind.Line => type.Kind == TypeKind.Line,
            ParamKind.Mask => IsMaskOperand(argument),
            ParamKind.MaskDestination => argument is BoundLocal or BoundGlobal && type.Kind == TypeKind.Cpumask,
            ParamKind.Variable => argument is BoundLocal or BoundGlobal
                && (intrinsic.Id is IntrinsicId.Cmpxchg or IntrinsicId.Xchg or IntrinsicId.AtomicRead or IntrinsicId.AtomicSet ? type.IsScalar : type.IsIntegral),
            ParamKind.VariableValue => previous.Count == 0 || previous[0].Type.IsError || Fits(previous[0].Type, argument),
            ParamKind.MemoryVariable => argument is BoundGlobal,
            _ => false,
        };
        if (!ok && kind == ParamKind.MaskDestination && argument is BoundAllCpusMask)
        {
            Report(DiagnosticCode.NotAssignable, syntax.Span, $"'{intrinsic.Name}' would modify cpu_all_mask, which is constant");
            return (argument, false, "cpumask", true);
        }
        if (!ok && kind is ParamKind.Variable or ParamKind.MemoryVariable && type.IsScalar)
        {
            var what = kind == ParamKind.MemoryVariable ? "a shared or percpu variable" : "a variable";
            Report(DiagnosticCode.ArgumentTypes, syntax.Span, $"'{intrinsic.Name}' needs {what} here, not a computed value");
            return (argument, false, type.Name, true);
        }
        return (argument, ok, type.Name, false);
    }
}
