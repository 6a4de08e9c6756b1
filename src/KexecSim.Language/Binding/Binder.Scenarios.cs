using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

public sealed partial class Binder
{
    private static readonly string[] PlatformSettings =
    [
        "vendor", "cpus", "bsp", "features", "bugs", "cpuid", "sme_active", "next_sme_active",
        "cache", "evictions", "snp_guests", "wbinvd_us",
    ];

    private void BindScenario(ScenarioDeclaration declaration)
    {
        var name = declaration.Name.Text;
        if (declaration.Name.IsMissing)
        {
            return;
        }
        if (name.Length == 0)
        {
            Report(DiagnosticCode.UnknownScenario, declaration.Name.Span, "a scenario needs a non-empty name");
        }
        if (_scenarios.FirstOrDefault(s => s.Name == name) is { } existing)
        {
            Report(DiagnosticCode.DuplicateScenario, declaration.Name.Span,
                $"scenario \"{name}\" is already declared at {new SourceSpan(existing.Source, existing.Declaration.Name.Span)}");
        }
        var scenario = new BoundScenario(name, _source, declaration);
        var seen = new Dictionary<string, ScenarioItem>(StringComparer.Ordinal);
        foreach (var item in declaration.Items)
        {
            var word = item.Keyword.Text;
            if (item is DescribeItem or PlatformItem or SymmetricItem or TimeoutsItem or FinalItem or ExpectItem
                || (item is InitItem { Cpus: null }))
            {
                if (seen.TryGetValue(word, out var first))
                {
                    Report(DiagnosticCode.DuplicateScenarioItem, item.Keyword.Span,
                        $"'{word}' appears twice in this scenario (first at {new SourceSpan(_source, first.Keyword.Span)})");
                    continue;
                }
                seen[word] = item;
            }
            BindScenarioItem(scenario, item);
        }
        _scenarios.Add(scenario);
    }

    private void BindScenarioItem(BoundScenario scenario, ScenarioItem item)
    {
        switch (item)
        {
            case DescribeItem describe:
                scenario.Description = describe.Text.Text;
                break;
            case PlatformItem platform:
                BindPlatform(scenario.Platform, platform);
                break;
            case DefineItem define:
                {
                    // Any const may be defined, whatever its type (LANGUAGE.md §6): int, bool, key, an enum.
                    var value = BindScenarioConstant(define.Value, anyConstantType: true);
                    if (!_globals.TryGetValue(define.Name.Text, out var symbol) || symbol is not ConstSymbol constant)
                    {
                        if (define.Name.Text.Length > 0)
                        {
                            var what = symbol is null ? "no such constant" : $"'{define.Name.Text}' is a {symbol.KindName}";
                            Report(DiagnosticCode.UndefinedDefine, define.Name.Span,
                                $"'define {define.Name.Text}' overrides nothing: {what}{Spelling.DidYouMean(define.Name.Text, _constants.Select(c => c.Name))}");
                        }
                        break;
                    }
                    if (!value.Type.IsError && !constant.Type.IsError && !Fits(constant.Type, value))
                    {
                        Report(DiagnosticCode.TypeMismatch, define.Value.Span, $"'{constant.Name}' is {constant.Type}, not {value.Type}");
                        break;
                    }
                    if (scenario.Defines.Any(d => ReferenceEquals(d.Constant, constant)))
                    {
                        Report(DiagnosticCode.DuplicateScenarioItem, define.Name.Span, $"'{constant.Name}' is defined twice in this scenario");
                        break;
                    }
                    scenario.Defines.Add(new BoundDefine(define.Span, constant, value));
                    break;
                }
            case InitItem init:
                {
                    var label = init.Cpus is null ? "init" : $"init cpu {_source.Excerpt(TextSpan.FromBounds(init.Cpus[0].Span.Start, init.Cpus[^1].Span.End))}";
                    var function = BindScenarioBlock($"{label} of \"{scenario.Name}\"", init.Keyword.Span, init.Body);
                    if (init.Cpus is null)
                    {
                        scenario.Init = function;
                    }
                    else
                    {
                        scenario.InitCpus.Add(new BoundInitCpu(init.Span, BindCpuRanges(init.Cpus), function));
                    }
                    break;
                }
            case RunsItem runs:
                {
                    var cpus = BindCpuRanges(runs.Cpus);
                    var entry = runs.Entry;
                    if (entry.Name.Text.Length == 0)
                    {
                        break;
                    }
                    if (!_globals.TryGetValue(entry.Name.Text, out var symbol) || symbol is not FunctionSymbol function)
                    {
                        var message = Intrinsics.All.ContainsKey(entry.Name.Text)
                            ? $"'{entry.Name.Text}' is an intrinsic; a CPU must run a function of the model"
                            : $"unknown function '{entry.Name.Text}'{DidYouMean(entry.Name.Text, SuggestionSet.Functions, () => _functions.Select(f => f.Name))}";
                        Report(DiagnosticCode.UnknownFunction, entry.Name.Span, message);
                        break;
                    }
                    _function = null;
                    _scope = new Scope(null);
                    var arguments = entry.Arguments.Select(a => BindExpression(a)).ToList();
                    if (arguments.Count != function.Parameters.Count)
                    {
                        Report(DiagnosticCode.ArgumentCount, entry.Name.Span,
                            $"'{function.Name}' expects {Plural(function.Parameters.Count, "argument")}, got {arguments.Count}");
                        break;
                    }
                    var ok = true;
                    for (var i = 0; i < arguments.Count; i++)
                    {
                        var parameter = function.Parameters[i];
                        if (parameter.Type.Kind == TypeKind.Cpumask)
                        {
                            Report(DiagnosticCode.EntryArgumentsNotConstant, arguments[i].Span, "an entry function cannot take a cpumask parameter");
                            ok = false;
                        }
                        else if (!Fits(parameter.Type, arguments[i]))
                        {
                            Report(DiagnosticCode.ArgumentTypes, arguments[i].Span, $"parameter '{parameter.Name}' of '{function.Name}' is {parameter.Type}, not {arguments[i].Type}");
                            ok = false;
                        }
                        else if (!arguments[i].Type.IsError && !ConstantEvaluator.IsConstant(arguments[i]))
                        {
                            Report(DiagnosticCode.EntryArgumentsNotConstant, arguments[i].Span, "an entry function's arguments must be constants");
                            ok = false;
                        }
                    }
                    if (ok)
                    {
                        scenario.Runs.Add(new BoundRuns(runs.Span, cpus, function, arguments));
                    }
                    break;
                }
            case SymmetricItem symmetric:
                scenario.Symmetric = BindCpuRanges(symmetric.Cpus);
                scenario.SymmetricSpan = symmetric.Keyword.Span;
                break;
            case TimeoutsItem timeouts:
                scenario.Timeouts = timeouts.Enabled;
                break;
            case InjectItem inject:
                {
                    FaultKind? fault = inject.Fault.Text switch
                    {
                        "nmi" => FaultKind.Nmi,
                        "smi" => FaultKind.Smi,
                        "mce" => FaultKind.Mce,
                        _ => null,
                    };
                    var budget = BindScenarioConstant(inject.Budget);
                    var cpus = inject.Cpus is null ? null : BindCpuRanges(inject.Cpus);
                    if (fault is null)
                    {
                        if (inject.Fault.Text.Length > 0)
                        {
                            Report(DiagnosticCode.UnknownScenarioItem, inject.Fault.Span,
                                $"unknown fault '{inject.Fault.Text}': inject nmi, smi or mce{Spelling.DidYouMean(inject.Fault.Text, ["nmi", "smi", "mce"])}");
                        }
                        break;
                    }
                    if (scenario.Injects.Any(i => i.Fault == fault))
                    {
                        Report(DiagnosticCode.DuplicateScenarioItem, inject.Fault.Span, $"'inject {inject.Fault.Text}' appears twice in this scenario");
                        break;
                    }
                    scenario.Injects.Add(new BoundInject(inject.Span, fault.Value, budget, cpus));
                    break;
                }
            case FinalItem final:
                scenario.Final = BindScenarioBlock($"final of \"{scenario.Name}\"", final.Keyword.Span, final.Body);
                break;
            case ExpectItem expect:
                {
                    var word = expect.Outcome.Text;
                    if (word.Length == 0)
                    {
                        break;
                    }
                    if (word == "pass")
                    {
                        scenario.Expect = Expectation.Pass;
                    }
                    else if (ViolationCodes.TryParse(word, out var code))
                    {
                        scenario.Expect = new Expectation(true, code);
                    }
                    else
                    {
                        Report(DiagnosticCode.UnknownViolation, expect.Outcome.Span,
                            $"unknown violation '{word}'{Spelling.DidYouMean(word, ViolationCodes.AllNames.Append("pass"))} (expect pass or one of: {string.Join(", ", ViolationCodes.AllNames)})");
                    }
                    break;
                }
        }
    }

    private FunctionSymbol BindScenarioBlock(string name, TextSpan span, BlockStatement body)
    {
        var function = new FunctionSymbol(name, _source, span) { IsSynthetic = true };
        BindBody(function, body);
        return function;
    }

    /// <summary>A constant int expression of a scenario (values fixed per instance, with defines applied);
    /// with <paramref name="anyConstantType"/>, any type a const may have (a define's value).</summary>
    private BoundExpression BindScenarioConstant(ExpressionSyntax syntax, bool anyConstantType = false)
    {
        _function = null;
        _scope = new Scope(null);
        var bound = BindExpression(syntax);
        if (anyConstantType && !bound.Type.IsError && bound.Type.Kind is not (TypeKind.Int or TypeKind.Bool or TypeKind.Enum or TypeKind.Key))
        {
            Report(DiagnosticCode.TypeMismatch, syntax.Span, $"a constant must be an int, a bool, a key or an enum value, not {bound.Type}");
            return new BoundErrorExpression(syntax.Span);
        }
        if (!anyConstantType && !bound.Type.IsError && !bound.Type.IsIntegral && bound.Type.Kind != TypeKind.Bool)
        {
            Report(DiagnosticCode.TypeMismatch, syntax.Span, $"expected a constant int, not {bound.Type}");
            return new BoundErrorExpression(syntax.Span);
        }
        return RequireConstant(bound) ? bound : new BoundErrorExpression(syntax.Span);
    }

    private List<BoundCpuRange> BindCpuRanges(IReadOnlyList<CpuRange> ranges)
    {
        var result = new List<BoundCpuRange>(ranges.Count);
        foreach (var range in ranges)
        {
            var first = BindScenarioConstant(range.First);
            var last = range.Last is null ? null : BindScenarioConstant(range.Last);
            result.Add(new BoundCpuRange(range.Span, first, last));
        }
        return result;
    }

    private void BindPlatform(BoundPlatform platform, PlatformItem item)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in item.Entries)
        {
            var name = entry.Name.Text;
            if (!PlatformSettings.Contains(name))
            {
                Report(DiagnosticCode.UnknownPlatformItem, entry.Name.Span,
                    $"unknown platform setting '{name}'{Spelling.DidYouMean(name, PlatformSettings)}");
                continue;
            }
            if (!seen.Add(name))
            {
                Report(DiagnosticCode.DuplicateScenarioItem, entry.Name.Span, $"platform setting '{name}' appears twice");
                continue;
            }
            switch (name)
            {
                case "vendor":
                    platform.Vendor = Word(entry, ["intel", "amd"], DiagnosticCode.UnknownVendor, "vendor") == "amd" ? Vendor.Amd : Vendor.Intel;
                    break;
                case "cache":
                    platform.Cache = Word(entry, ["private", "package"], DiagnosticCode.UnknownPlatformItem, "cache") == "package"
                        ? CacheTopology.Package : CacheTopology.Private;
                    break;
                case "evictions":
                    platform.Evictions = Word(entry, ["on", "off"], DiagnosticCode.ExpectedOnOff, "evictions") != "off";
                    break;
                case "features":
                    foreach (var value in entry.Values)
                    {
                        if (value is NameExpression n && Intrinsics.Features.Contains(n.Identifier.Text))
                        {
                            platform.Features.Add(n.Identifier.Text);
                        }
                        else
                        {
                            var word = value is NameExpression u ? u.Identifier.Text : _source.Excerpt(value.Span);
                            if (KernelNames.WithoutKernelPrefix(word) is { } featureName && Intrinsics.Features.Contains(featureName))
                            {
                                Report(DiagnosticCode.UnknownFeature, value.Span, $"unknown CPU feature '{word}'; did you mean {featureName}? (kernel name)");
                                continue;
                            }
                            Report(DiagnosticCode.UnknownFeature, value.Span,
                                $"unknown CPU feature '{word}' (features: {string.Join(", ", Intrinsics.Features)}){Spelling.DidYouMean(word, Intrinsics.Features)}");
                        }
                    }
                    ReportPairs(entry);
                    break;
                case "bugs":
                    foreach (var value in entry.Values)
                    {
                        if (value is NameExpression n)
                        {
                            platform.Bugs.Add(n.Identifier.Text);
                        }
                        else
                        {
                            Report(DiagnosticCode.UnknownBug, value.Span, "a bug is named by an identifier, e.g. TDX_PW_MCE");
                        }
                    }
                    ReportPairs(entry);
                    break;
                case "cpuid":
                    foreach (var (leaf, value) in entry.Pairs)
                    {
                        platform.Cpuid.Add((BindScenarioConstant(leaf), BindScenarioConstant(value)));
                    }
                    foreach (var value in entry.Values)
                    {
                        Report(DiagnosticCode.ExpectedToken, value.Span, "expected 'leaf = value' in the cpuid table");
                    }
                    break;
                default:
                    {
                        if (entry.Values.Count != 1 || entry.Pairs.Count != 0)
                        {
                            Report(DiagnosticCode.ExpectedExpression, entry.Name.Span, $"platform setting '{name}' takes exactly one value");
                            break;
                        }
                        var value = BindScenarioConstant(entry.Values[0]);
                        var wantsBool = name is "sme_active" or "next_sme_active";
                        if (!value.Type.IsError && wantsBool != (value.Type.Kind == TypeKind.Bool))
                        {
                            Report(DiagnosticCode.TypeMismatch, value.Span, $"platform setting '{name}' takes {(wantsBool ? "true or false" : "an int")}, not {value.Type}");
                            break;
                        }
                        switch (name)
                        {
                            case "cpus":
                                platform.Cpus = value;
                                platform.CpusSpan = value.Span;
                                break;
                            case "bsp": platform.Bsp = value; break;
                            case "sme_active": platform.SmeActive = value; break;
                            case "next_sme_active": platform.NextSmeActive = value; break;
                            case "snp_guests": platform.SnpGuests = value; break;
                            case "wbinvd_us": platform.WbinvdMicroseconds = value; break;
                        }
                        break;
                    }
            }
        }
    }

    private void ReportPairs(PlatformEntry entry)
    {
        foreach (var (leaf, _) in entry.Pairs)
        {
            Report(DiagnosticCode.UnexpectedToken, leaf.Span, $"unexpected '=' in platform setting '{entry.Name.Text}'");
        }
    }

    /// <summary>A platform setting that takes one word from a fixed set.</summary>
    private string? Word(PlatformEntry entry, string[] words, DiagnosticCode code, string setting)
    {
        if (entry.Values.Count == 1 && entry.Pairs.Count == 0 && entry.Values[0] is NameExpression n && words.Contains(n.Identifier.Text))
        {
            return n.Identifier.Text;
        }
        var span = entry.Values.Count > 0 ? entry.Values[0].Span : entry.Name.Span;
        var found = entry.Values.Count > 0 ? _source.Excerpt(entry.Values[0].Span) : string.Empty;
        Report(code, span, $"'{setting}' must be {string.Join(" or ", words)}{(found.Length > 0 ? $", not '{found}'" : string.Empty)}{Spelling.DidYouMean(found, words)}");
        return null;
    }

    // ───────────────────────────── Cross-function checks ─────────────────────────────

    /// <summary>No intrinsic that blocks may run inside atomic { }, including through a call.</summary>
    /// <summary>Whether some <c>atomic { }</c> was bound (<see cref="CheckBlockingInAtomic"/> has work only then).</summary>
    private bool _anyAtomic;

    private void CheckBlockingInAtomic()
    {
        if (!_anyAtomic)
        {
            return; // PERF: nothing to check; the walk below visits every statement of the model
        }
        var all = _functions.Concat(_handlers).Concat(_scenarios.SelectMany(ScenarioBlocks)).ToList();
        var blocking = new Dictionary<FunctionSymbol, string?>(ReferenceEqualityComparer.Instance);
        foreach (var function in all.Where(f => f.Body is not null))
        {
            _source = function.Source!;
            foreach (var atomic in BoundTreeWalker.Statements(function.Body!).OfType<BoundAtomic>())
            {
                foreach (var call in BoundTreeWalker.Expressions(atomic.Body).OfType<BoundCall>())
                {
                    if (MayBlock(call.Function, blocking, []) is { } what)
                    {
                        Report(DiagnosticCode.BlockingInAtomic, call.Span,
                            $"'{call.Function.Name}' can block (it reaches '{what}') and cannot be called inside atomic {{ }}");
                    }
                }
            }
        }
    }

    private static IEnumerable<FunctionSymbol> ScenarioBlocks(BoundScenario scenario)
    {
        if (scenario.Init is not null)
        {
            yield return scenario.Init;
        }
        foreach (var init in scenario.InitCpus)
        {
            yield return init.Body;
        }
        if (scenario.Final is not null)
        {
            yield return scenario.Final;
        }
    }

    /// <summary>
    /// The blocking intrinsic <paramref name="function"/> reaches first (in its expressions' order, through
    /// calls), or null; remembered in <paramref name="memo"/>. A call to a function already being walked
    /// counts as not blocking. Depth-first with an explicit stack of walks, not recursion: a chain of
    /// 100,000 calls made the stack so deep that every garbage collection scanned it (issue 12).
    /// </summary>
    private static string? MayBlock(FunctionSymbol function, Dictionary<FunctionSymbol, string?> memo, HashSet<FunctionSymbol> visiting)
    {
        var walks = new Stack<(FunctionSymbol Function, IEnumerator<BoundExpression> Expressions)>();
        string? returned = null;
        if (!Enter(function, out returned))
        {
            return returned;
        }
        while (walks.Count > 0)
        {
            var (current, expressions) = walks.Peek();
            string? result = null;
            var done = false;
            var calledDeeper = false;
            while (!done && expressions.MoveNext())
            {
                var expression = expressions.Current;
                if (expression is BoundIntrinsicCall { Intrinsic.IsBlocking: true } i)
                {
                    result = i.Intrinsic.Name;
                    done = true;
                }
                else if (expression is BoundCall call)
                {
                    if (Enter(call.Function, out var known))
                    {
                        calledDeeper = true;
                        break;
                    }
                    if (known is not null)
                    {
                        result = known;
                        done = true;
                    }
                }
            }
            if (calledDeeper)
            {
                continue;
            }
            // This walk ends: its result goes to the walk that called it (which stops at a blocking one).
            walks.Pop();
            expressions.Dispose();
            visiting.Remove(current);
            memo[current] = result;
            returned = result;
            while (returned is not null && walks.Count > 0)
            {
                var (caller, callerExpressions) = walks.Pop();
                callerExpressions.Dispose();
                visiting.Remove(caller);
                memo[caller] = returned;
            }
        }
        return memo.GetValueOrDefault(function);

        // Starts walking a function (true), or gives its answer without a walk (false).
        bool Enter(FunctionSymbol callee, out string? answer)
        {
            if (memo.TryGetValue(callee, out answer))
            {
                return false;
            }
            answer = null;
            if (callee.Body is null || !visiting.Add(callee))
            {
                return false;
            }
            walks.Push((callee, BoundTreeWalker.Expressions(callee.Body).GetEnumerator()));
            return true;
        }
    }
}
