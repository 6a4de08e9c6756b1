using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

/// <summary>
/// Resolves names and checks types over all loaded files (one global namespace, as if the imports
/// were pasted in load order). Keeps going after errors: every error of every file is reported.
/// </summary>
public sealed partial class Binder
{
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, Symbol> _globals = new(StringComparer.Ordinal);
    private readonly List<ConstSymbol> _constants = [];
    private readonly List<EnumSymbol> _enums = [];
    private readonly List<RegionSymbol> _regions = [];
    private readonly List<GlobalVariableSymbol> _variables = [];
    private readonly List<FunctionSymbol> _functions = [];
    private readonly List<FunctionSymbol> _handlers = [];
    private readonly List<BoundScenario> _scenarios = [];
    private readonly HashSet<string> _bugNames = new(Intrinsics.KnownBugs, StringComparer.Ordinal);
    private readonly Dictionary<SyntaxNode, Symbol> _declared = new(ReferenceEqualityComparer.Instance);

    // Per-body state.
    private SourceText _source = null!;
    private FunctionSymbol? _function;
    private Scope _scope = new(null);
    private int _loopDepth;
    private int _atomicDepth;

    private Binder(DiagnosticBag diagnostics)
    {
        _diagnostics = diagnostics;
    }

    private sealed class Scope(Scope? parent)
    {
        public Scope? Parent { get; } = parent;
        // PERF: made on the first local (most blocks declare none; a huge model has hundreds of thousands).
        private Dictionary<string, LocalSymbol>? _locals;
        private List<LocalSymbol>? _declared;

        public Dictionary<string, LocalSymbol> Locals => _locals ??= new(StringComparer.Ordinal);
        public List<LocalSymbol> Declared => _declared ??= [];

        public IEnumerable<string> LocalNames => _locals?.Keys ?? Enumerable.Empty<string>();
        public bool Declares(string name) => _locals?.ContainsKey(name) == true;
        public List<LocalSymbol> DeclaredSoFar() => _declared is null ? [] : [.. _declared];

        public LocalSymbol? Lookup(string name)
        {
            for (var scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope._locals is { } locals && locals.TryGetValue(name, out var local))
                {
                    return local;
                }
            }
            return null;
        }
    }

    public static BoundProgram Bind(IReadOnlyList<CompilationUnit> units, DiagnosticBag diagnostics)
    {
        var binder = new Binder(diagnostics);
        return binder.BindProgram(units);
    }

    private void Report(DiagnosticCode code, TextSpan span, string message) => _diagnostics.Report(code, _source, span, message);

    private void Report(SourceText source, DiagnosticCode code, TextSpan span, string message) => _diagnostics.Report(code, source, span, message);

    // "Did you mean" for names not found (issue 12): a file with thousands of unknown names compared
    // each with every name in scope. Now nothing is computed for an error past the file's cap (it is not
    // shown), and a word is compared with the same candidates once: the key is the word, the candidate
    // set (a scope or a kind of declaration) and how many locals had been declared (a scope's set grows).
    private readonly Dictionary<(string Word, object Set, int Version), string?> _suggestions = [];
    private int _localsDeclared;

    /// <summary>The suffix <c>; did you mean 'x'?</c> for an unknown <paramref name="word"/> about to be reported in the current file.</summary>
    private string DidYouMean(string word, object set, Func<IEnumerable<string>> candidates)
    {
        if (!_diagnostics.ShowsMoreErrors(_source) || word.Length > Spelling.MaxWordLength)
        {
            return string.Empty;
        }
        var key = (word, set, _localsDeclared);
        if (!_suggestions.TryGetValue(key, out var suggestion))
        {
            suggestion = Spelling.Suggest(word, candidates());
            _suggestions[key] = suggestion;
        }
        return Spelling.Suffix(suggestion);
    }

    /// <summary>Candidate sets of <see cref="DidYouMean"/> that do not depend on the scope.</summary>
    private static class SuggestionSet
    {
        public static readonly object Functions = new();
        public static readonly object FunctionsAndIntrinsics = new();
        public static readonly object Types = new();
        public static readonly object Regions = new();
    }

    // ───────────────────────────── Program ─────────────────────────────

    private BoundProgram BindProgram(IReadOnlyList<CompilationUnit> units)
    {
        foreach (var builtin in BuiltinConstants.All)
        {
            _globals[builtin.Name] = builtin;
        }

        // Pass 1: declare every top-level name, so that order of declaration never matters.
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations)
            {
                Declare(declaration);
            }
        }
        DeclareImplicitRegions();

        // Pass 2: types of variables (every enum is declared now), then constants on demand.
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations.OfType<VariableDeclaration>())
            {
                if (_declared.TryGetValue(declaration, out var symbol))
                {
                    TypeVariable(declaration, (GlobalVariableSymbol)symbol);
                }
            }
        }
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations.OfType<EnumDeclaration>())
            {
                if (_declared.TryGetValue(declaration, out var symbol))
                {
                    BindEnum(declaration, (EnumSymbol)symbol);
                }
            }
        }
        foreach (var constant in _constants.ToList())
        {
            EnsureConstantBound(constant);
        }
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations)
            {
                if (!_declared.TryGetValue(declaration, out var symbol))
                {
                    continue;
                }
                switch (declaration)
                {
                    case RegionDeclaration r:
                        BindRegion(r, (RegionSymbol)symbol);
                        break;
                }
            }
        }
        CheckAliasCycles();
        CheckAliasDepth();
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations)
            {
                if (!_declared.TryGetValue(declaration, out var symbol))
                {
                    continue;
                }
                switch (declaration)
                {
                    case VariableDeclaration v:
                        BindVariable(v, (GlobalVariableSymbol)symbol);
                        break;
                    case FunctionDeclaration f:
                        BindSignature(f, (FunctionSymbol)symbol);
                        break;
                }
            }
        }

        // Pass 3: bodies, handlers and scenarios.
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations)
            {
                switch (declaration)
                {
                    case FunctionDeclaration f when _declared.TryGetValue(f, out var symbol):
                        BindBody((FunctionSymbol)symbol, f.Body);
                        break;
                    case HandlerDeclaration h:
                        BindHandler(h);
                        break;
                }
            }
        }
        foreach (var unit in units)
        {
            _source = unit.Source;
            foreach (var declaration in unit.Declarations.OfType<ScenarioDeclaration>())
            {
                BindScenario(declaration);
            }
        }
        CheckBlockingInAtomic();

        return new BoundProgram
        {
            Constants = _constants,
            ConstantsByDependency = _constantOrder,
            Enums = _enums,
            Regions = _regions,
            Variables = _variables,
            Functions = _functions,
            Handlers = _handlers,
            Scenarios = _scenarios,
            Globals = _globals,
        };
    }

    private void Declare(DeclarationSyntax declaration)
    {
        switch (declaration)
        {
            case ConstDeclaration c:
                Add(c, c.Name, new ConstSymbol(c.Name.Text, _source, c));
                break;
            case EnumDeclaration e:
                {
                    var symbol = new EnumSymbol(e.Name.Text, _source, e.Name.Span);
                    if (Add(e, e.Name, symbol))
                    {
                        _enums.Add(symbol);
                    }
                    break;
                }
            case RegionDeclaration r:
                {
                    var symbol = new RegionSymbol(r.Name.Text, _source, r.Name.Span);
                    if (Add(r, r.Name, symbol))
                    {
                        _regions.Add(symbol);
                    }
                    break;
                }
            case VariableDeclaration v:
                {
                    // Typed once every enum is declared (TypeVariable replaces this placeholder).
                    var symbol = new GlobalVariableSymbol(v.Name.Text, _source, v.Name.Span, v.IsPercpu, KType.Error);
                    if (Add(v, v.Name, symbol))
                    {
                        symbol.Ordinal = _variables.Count;
                        _variables.Add(symbol);
                    }
                    break;
                }
            case FunctionDeclaration f:
                {
                    var symbol = new FunctionSymbol(f.Name.Text, _source, f.Name.Span) { Declaration = f };
                    if (Intrinsics.All.ContainsKey(f.Name.Text))
                    {
                        Report(DiagnosticCode.DuplicateDeclaration, f.Name.Span, $"'{f.Name.Text}' is a built-in intrinsic and cannot be redefined");
                        break;
                    }
                    if (Add(f, f.Name, symbol))
                    {
                        symbol.Ordinal = _functions.Count;
                        _functions.Add(symbol);
                    }
                    break;
                }
            case ScenarioDeclaration s:
                // Collect declared bug names early: function bodies may test them with cpu_has_bug().
                foreach (var platform in s.Items.OfType<PlatformItem>())
                {
                    foreach (var entry in platform.Entries.Where(e => e.Name.Text == "bugs"))
                    {
                        foreach (var value in entry.Values.OfType<NameExpression>())
                        {
                            _bugNames.Add(value.Identifier.Text);
                        }
                    }
                }
                break;
        }
    }

    private bool Add(SyntaxNode node, Token name, Symbol symbol)
    {
        if (name.Text.Length == 0)
        {
            return false;
        }
        if (_globals.TryGetValue(name.Text, out var existing) && existing is BuiltinConstantSymbol builtin
            && BuiltinConstants.ProjectNames.Contains(builtin.Name))
        {
            // The names the project added beyond LANGUAGE.md may be taken by a model for its own
            // constants: its declaration wins, with a warning. The contract's own names stay reserved.
            Report(DiagnosticCode.ShadowsBuiltin, name.Span, $"'{name.Text}' hides the built-in {builtin.Type} constant of that name");
            _globals.Remove(name.Text);
            existing = null;
        }
        if (symbol is not RegionSymbol && ImplicitRegions.Contains(name.Text))
        {
            // The built-in regions may be declared (to size them), but their names are regions only.
            var article = "aeiou".Contains(symbol.KindName[0], StringComparison.Ordinal) ? "an" : "a";
            Report(DiagnosticCode.DuplicateDeclaration, name.Span,
                $"'{name.Text}' is a built-in region; {article} {symbol.KindName} cannot take its name (declare 'region {name.Text}[N];' to size it)");
            return false;
        }
        if (existing is not null)
        {
            var where = existing.Source is null
                ? "a built-in name"
                : $"already declared as a {existing.KindName} at {new SourceSpan(existing.Source, existing.Span)}";
            Report(DiagnosticCode.DuplicateDeclaration, name.Span, $"'{name.Text}' is {where}");
            return false;
        }
        if (name.Text == "cpu_all_mask")
        {
            Report(DiagnosticCode.DuplicateDeclaration, name.Span, "'cpu_all_mask' is a built-in name");
            return false;
        }
        _globals[name.Text] = symbol;
        _declared[node] = symbol;
        if (symbol is ConstSymbol c)
        {
            _constants.Add(c);
        }
        return true;
    }

    /// <summary>The regions that exist with one line each unless the model declares them (LANGUAGE.md §2).</summary>
    private static readonly string[] ImplicitRegions = ["text", "data", "next_kernel"];

    /// <summary><c>text</c>, <c>data</c> and <c>next_kernel</c> exist with one line each unless declared;
    /// they come first in the layout, as the kernel's own memory does.</summary>
    private void DeclareImplicitRegions()
    {
        var position = 0;
        foreach (var name in ImplicitRegions)
        {
            if (!_globals.ContainsKey(name))
            {
                var region = new RegionSymbol(name, null, default)
                {
                    IsImplicit = true,
                    Lines = new BoundLiteral(default, KType.Int, 1),
                };
                _globals[name] = region;
                _regions.Insert(position++, region);
            }
        }
    }

    private KType BindType(TypeSyntax syntax)
    {
        switch (syntax.Name.Kind)
        {
            case TokenKind.IntKeyword: return KType.Int;
            case TokenKind.BoolKeyword: return KType.Bool;
            case TokenKind.CpumaskKeyword: return KType.Cpumask;
            case TokenKind.KeyKeyword: return KType.Key;
            case TokenKind.LineKeyword: return KType.Line;
        }
        var name = syntax.Name.Text;
        if (name.Length == 0)
        {
            return KType.Error;
        }
        if (_globals.TryGetValue(name, out var symbol) && symbol is EnumSymbol e)
        {
            return e.Type;
        }
        var suggestion = DidYouMean(name, SuggestionSet.Types, () => _enums.Select(x => x.Name).Concat(["int", "bool", "cpumask", "key", "line"]));
        Report(DiagnosticCode.UnknownName, syntax.Span, $"unknown type '{name}'{suggestion}");
        return KType.Error;
    }

    // ───────────────────────────── Constants ─────────────────────────────

    private readonly Dictionary<ConstSymbol, bool> _constantState = new(ReferenceEqualityComparer.Instance);

    /// <summary>The consts' values at their declarations, as each is bound (for the checks).</summary>
    private readonly Dictionary<ConstSymbol, long> _declaredValues = new(ReferenceEqualityComparer.Instance);

    /// <summary>The consts as their binding ends: each after those it uses.</summary>
    private readonly List<ConstSymbol> _constantOrder = [];

    /// <summary>Binds a constant the first time it is needed (constants may be used before they are
    /// declared); a constant that needs itself is reported once.</summary>
    private void EnsureConstantBound(ConstSymbol symbol)
    {
        if (_constantState.TryGetValue(symbol, out var done))
        {
            if (!done && symbol.Value is null)
            {
                Report(symbol.Source!, DiagnosticCode.ConstantCycle, symbol.Span, $"constant '{symbol.Name}' depends on itself");
                symbol.Type = KType.Int;
                symbol.Value = new BoundErrorExpression(symbol.Span);
            }
            return;
        }
        _constantState[symbol] = false;
        var (source, function, scope) = (_source, _function, _scope);
        _source = symbol.Source!;
        _function = null;
        _scope = new Scope(null);
        var value = BindExpression(symbol.Declaration.Value);
        if (!value.Type.IsError && value.Type.Kind is not (TypeKind.Int or TypeKind.Bool or TypeKind.Enum or TypeKind.Key))
        {
            Report(DiagnosticCode.TypeMismatch, symbol.Declaration.Value.Span, $"a constant must be an int, a bool or a key, not {value.Type}");
            value = new BoundErrorExpression(value.Span);
        }
        var constant = RequireConstant(value);
        if (symbol.Value is null)
        {
            symbol.Type = value.Type.Kind == TypeKind.Enum ? KType.Int : value.Type;
            symbol.Value = value;
            if (constant)
            {
                // At the declared values: 'const A = 1 / 0;' is wrong whatever a scenario defines. A
                // fault inside another const is reported with that const.
                // The consts it uses were bound, and their values kept, first: no chain is followed twice.
                if (ConstantEvaluator.TryEvaluate(value, _declaredValues, out var declared, out var error))
                {
                    _declaredValues[symbol] = declared;
                }
                else if (error is { Constant: null })
                {
                    Report(error.Code, error.Span, error.Message);
                }
            }
        }
        _constantState[symbol] = true;
        _constantOrder.Add(symbol);
        (_source, _function, _scope) = (source, function, scope);
    }

    /// <summary>Reports when an expression is not a compile-time constant.</summary>
    private bool RequireConstant(BoundExpression expression)
    {
        if (expression.Type.IsError || ConstantEvaluator.IsConstant(expression))
        {
            return true;
        }
        Report(DiagnosticCode.NotConstant, expression.Span, "expected a constant expression (literals, consts, enum members and operators)");
        return false;
    }

    /// <summary>The value of a constant expression with every const at its declared value (for checks only).</summary>
    private long? DefaultValue(BoundExpression expression)
    {
        if (expression.Type.IsError || !ConstantEvaluator.IsConstant(expression))
        {
            return null;
        }
        var result = ConstantEvaluator.TryEvaluate(expression, _declaredValues, out var value, out var error);
        if (error is not null)
        {
            Report(error.SourceOr(_source)!, error.Code, error.Span, error.Message);
        }
        return result ? value : null;
    }

    // ───────────────────────────── Enums, regions, variables ─────────────────────────────

    private void BindEnum(EnumDeclaration declaration, EnumSymbol symbol)
    {
        _function = null;
        _scope = new Scope(null);
        long next = 0;
        foreach (var member in declaration.Members)
        {
            if (member.Name.Text.Length == 0)
            {
                continue;
            }
            var value = next;
            if (member.Value is not null)
            {
                var bound = BindExpression(member.Value);
                if (!bound.Type.IsError && !bound.Type.IsIntegral)
                {
                    Report(DiagnosticCode.TypeMismatch, member.Value.Span, $"an enum value must be an int, not {bound.Type}");
                }
                else if (RequireConstant(bound))
                {
                    value = DefaultValue(bound) ?? next;
                }
            }
            var memberSymbol = new EnumMemberSymbol(member.Name.Text, _source, member.Name.Span, symbol, value);
            if (Add(member, member.Name, memberSymbol))
            {
                symbol.Members.Add(memberSymbol);
            }
            next = unchecked(value + 1);
        }
    }

    private void BindRegion(RegionDeclaration declaration, RegionSymbol symbol)
    {
        _function = null;
        _scope = new Scope(null);
        if (declaration.AliasOf is { } parts)
        {
            symbol.AliasOf = [];
            foreach (var part in parts)
            {
                if (part.Text.Length == 0)
                {
                    continue;
                }
                if (LookupRegion(part) is { } region)
                {
                    symbol.AliasOf.Add(region);
                }
            }
            return;
        }
        symbol.IsPercpu = declaration.IsPercpu;
        var lines = BindExpression(declaration.Lines!);
        if (!lines.Type.IsError && !lines.Type.IsIntegral)
        {
            Report(DiagnosticCode.TypeMismatch, lines.Span, $"a region's size must be an int, not {lines.Type}");
        }
        else
        {
            RequireConstant(lines); // its value is checked per scenario (defines may change it)
        }
        symbol.Lines = lines;
        if (declaration.Key is not null)
        {
            var key = BindExpression(declaration.Key);
            if (!KType.Key.Accepts(key.Type))
            {
                Report(DiagnosticCode.TypeMismatch, key.Span, $"a region's key must be a key, not {key.Type}");
            }
            else
            {
                RequireConstant(key);
            }
            symbol.InitialKey = key;
        }
    }

    private RegionSymbol? LookupRegion(Token name)
    {
        if (_globals.TryGetValue(name.Text, out var symbol))
        {
            if (symbol is RegionSymbol region)
            {
                return region;
            }
            Report(DiagnosticCode.NotARegion, name.Span, $"'{name.Text}' is a {symbol.KindName}, not a region");
            return null;
        }
        var suggestion = DidYouMean(name.Text, SuggestionSet.Regions, () => _regions.Select(r => r.Name));
        Report(DiagnosticCode.UnknownName, name.Span, $"unknown region '{name.Text}'{suggestion}");
        return null;
    }

    /// <summary>
    /// An alias that contains itself is an error, and its parts are dropped (which breaks the cycle). In
    /// declaration order, each alias still on a cycle once the earlier reported ones are emptied is
    /// reported: the first of each simple cycle. Linear (issue 12): the strongly connected components
    /// of the alias graph are found once (Tarjan), and only a component that is a cycle is looked at
    /// again, without its reported alias. A walk from every alias over all it contains was quadratic
    /// (a chain of 20,000 aliases: 29 s).
    /// </summary>
    private void CheckAliasCycles()
    {
        var order = new Dictionary<RegionSymbol, int>(ReferenceEqualityComparer.Instance);
        foreach (var region in _regions.Where(r => r.IsAlias))
        {
            order[region] = order.Count;
        }
        var pending = new Stack<List<RegionSymbol>>();
        foreach (var component in CyclicComponents(order.Keys.ToList(), order))
        {
            pending.Push(component);
        }
        while (pending.Count > 0)
        {
            var component = pending.Pop();
            var first = component.MinBy(r => order[r])!;
            Report(first.Source!, DiagnosticCode.RecursiveAlias, first.Span, $"region alias '{first.Name}' contains itself");
            first.AliasOf!.Clear();
            foreach (var rest in CyclicComponents(component, order))
            {
                pending.Push(rest);
            }
        }
    }

    /// <summary>
    /// The strongly connected components of the aliases in <paramref name="nodes"/> (edges to aliases
    /// outside it ignored) that hold a cycle: two or more aliases, or one that names itself.
    /// Tarjan's algorithm with an explicit stack (chains may be long).
    /// </summary>
    private static List<List<RegionSymbol>> CyclicComponents(List<RegionSymbol> nodes, Dictionary<RegionSymbol, int> order)
    {
        var inSet = new HashSet<RegionSymbol>(nodes, ReferenceEqualityComparer.Instance);
        var index = new Dictionary<RegionSymbol, int>(ReferenceEqualityComparer.Instance);
        var low = new Dictionary<RegionSymbol, int>(ReferenceEqualityComparer.Instance);
        var onStack = new HashSet<RegionSymbol>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<RegionSymbol>();
        var calls = new Stack<(RegionSymbol Region, int Next)>();
        var result = new List<List<RegionSymbol>>();
        var work = FrontEndWork.Current;
        foreach (var root in nodes.OrderBy(r => order[r]))
        {
            if (index.ContainsKey(root))
            {
                continue;
            }
            index[root] = low[root] = index.Count;
            stack.Push(root);
            onStack.Add(root);
            calls.Push((root, 0));
            while (calls.Count > 0)
            {
                var (region, next) = calls.Pop();
                var parts = region.AliasOf!;
                if (work is not null)
                {
                    work.AliasPartVisits++;
                }
                if (next < parts.Count)
                {
                    calls.Push((region, next + 1));
                    var part = parts[next];
                    if (!inSet.Contains(part))
                    {
                        continue;
                    }
                    if (!index.ContainsKey(part))
                    {
                        index[part] = low[part] = index.Count;
                        stack.Push(part);
                        onStack.Add(part);
                        calls.Push((part, 0));
                    }
                    else if (onStack.Contains(part))
                    {
                        low[region] = Math.Min(low[region], index[part]);
                    }
                    continue;
                }
                // All parts done: pass the low link up, and close a component at its root.
                if (calls.Count > 0)
                {
                    var caller = calls.Peek().Region;
                    low[caller] = Math.Min(low[caller], low[region]);
                }
                if (low[region] == index[region])
                {
                    var component = new List<RegionSymbol>();
                    RegionSymbol member;
                    do
                    {
                        member = stack.Pop();
                        onStack.Remove(member);
                        component.Add(member);
                    }
                    while (!ReferenceEquals(member, region));
                    if (component.Count > 1 || parts.Any(p => ReferenceEquals(p, region)))
                    {
                        result.Add(component);
                    }
                }
            }
        }
        return result;
    }

    /// <summary>How deep region aliases may nest (an alias of a plain region is one level).</summary>
    public const int MaxAliasDepth = 64;

    /// <summary>
    /// An alias nested deeper than <see cref="MaxAliasDepth"/> is an error at the first alias past the
    /// limit; it and every alias above it are emptied (nothing is compiled from an erroneous model, and
    /// the compiler's walk over aliases stays shallow). Runs after cycles are broken; no recursion.
    /// </summary>
    private void CheckAliasDepth()
    {
        var depth = new Dictionary<RegionSymbol, int>(ReferenceEqualityComparer.Instance);
        var tooDeep = new List<RegionSymbol>();
        foreach (var root in _regions)
        {
            // Post-order walk with an explicit stack: a part's depth is known before its alias's.
            var stack = new Stack<(RegionSymbol Region, bool Expanded)>();
            stack.Push((root, false));
            while (stack.Count > 0)
            {
                var (region, expanded) = stack.Pop();
                if (depth.ContainsKey(region))
                {
                    continue;
                }
                if (!region.IsAlias)
                {
                    depth[region] = 0;
                    continue;
                }
                if (!expanded)
                {
                    stack.Push((region, true));
                    foreach (var part in region.AliasOf!.Where(p => !depth.ContainsKey(p)))
                    {
                        stack.Push((part, false));
                    }
                    continue;
                }
                var deepest = region.AliasOf!.Select(p => depth.GetValueOrDefault(p)).DefaultIfEmpty(0).Max();
                depth[region] = Math.Min(deepest + 1, MaxAliasDepth + 2);
                if (depth[region] > MaxAliasDepth)
                {
                    tooDeep.Add(region);
                    if (deepest == MaxAliasDepth)
                    {
                        Report(region.Source!, DiagnosticCode.AliasTooDeep, region.Span,
                            $"region alias '{region.Name}' nests {MaxAliasDepth + 1} levels deep; aliases may nest at most {MaxAliasDepth} levels");
                    }
                }
            }
        }
        foreach (var region in tooDeep)
        {
            region.AliasOf!.Clear();
        }
    }

    /// <summary>The symbol was created before enums existed; replace it with the typed one, keeping its slot.</summary>
    private void TypeVariable(VariableDeclaration declaration, GlobalVariableSymbol placeholder)
    {
        var type = BindType(declaration.Type);
        var symbol = new GlobalVariableSymbol(placeholder.Name, _source, placeholder.Span, placeholder.IsPercpu, type)
        {
            Ordinal = placeholder.Ordinal,
        };
        _variables[placeholder.Ordinal] = symbol;
        _globals[symbol.Name] = symbol;
        _declared[declaration] = symbol;
    }

    private void BindVariable(VariableDeclaration declaration, GlobalVariableSymbol symbol)
    {
        _function = null;
        _scope = new Scope(null);
        var type = symbol.Type;
        if (declaration.Initializer is not null)
        {
            var initializer = BindExpression(declaration.Initializer);
            if (type.Kind == TypeKind.Cpumask)
            {
                if (initializer is not BoundAllCpusMask && !initializer.Type.IsError)
                {
                    Report(DiagnosticCode.TypeMismatch, initializer.Span, "a cpumask variable can only be initialised with cpu_all_mask (it starts empty otherwise)");
                }
            }
            else if (!Fits(type, initializer))
            {
                Report(DiagnosticCode.TypeMismatch, initializer.Span, $"cannot initialise {type} '{symbol.Name}' with a value of type {initializer.Type}");
            }
            else if (initializer is BoundRegionLine line)
            {
                // A line variable may start out naming a line: R[i] or R[c][i] with constant indexes.
                RequireConstant(line.Index);
                if (line.Cpu is not null)
                {
                    RequireConstant(line.Cpu);
                }
            }
            else
            {
                RequireConstant(initializer);
            }
            symbol.Initializer = initializer;
        }
        (symbol.HomeRegion, symbol.HomeIndex) = BindHome(declaration.Home);
    }

    private (RegionSymbol?, BoundExpression?) BindHome(HomeClause? home)
    {
        if (home is null)
        {
            return (null, null);
        }
        var region = home.Region.Text.Length == 0 ? null : LookupRegion(home.Region);
        var index = BindExpression(home.Index);
        if (!index.Type.IsError && !index.Type.IsIntegral)
        {
            Report(DiagnosticCode.TypeMismatch, index.Span, $"a line index must be an int, not {index.Type}");
        }
        else
        {
            RequireConstant(index);
        }
        return (region, index);
    }

    private void BindSignature(FunctionDeclaration declaration, FunctionSymbol symbol)
    {
        _function = symbol;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parameter in declaration.Parameters)
        {
            var type = BindType(parameter.Type);
            if (type.Kind == TypeKind.Void)
            {
                type = KType.Error;
            }
            if (parameter.Name.Text.Length > 0 && !names.Add(parameter.Name.Text))
            {
                Report(DiagnosticCode.DuplicateDeclaration, parameter.Name.Span, $"parameter '{parameter.Name.Text}' is declared twice");
            }
            var local = new LocalSymbol(parameter.Name.Text, type, parameter.Name.Span, symbol.Locals.Count) { IsParameter = true, IsRead = true };
            symbol.Parameters.Add(local);
            symbol.Locals.Add(local);
        }
        if (declaration.ReturnType is not null)
        {
            symbol.ReturnType = BindType(declaration.ReturnType);
            if (symbol.ReturnType.Kind == TypeKind.Cpumask)
            {
                Report(DiagnosticCode.TypeMismatch, declaration.ReturnType.Span, "a function cannot return a cpumask; pass one to fill in");
                symbol.ReturnType = KType.Error;
            }
        }
        (symbol.HomeRegion, symbol.HomeIndex) = BindHome(declaration.Home);
    }

    private void BindHandler(HandlerDeclaration declaration)
    {
        var name = declaration.Kind switch
        {
            HandlerKind.Nmi => "handler nmi",
            HandlerKind.Mce => "handler mce",
            _ => "handler vector",
        };
        var symbol = new FunctionSymbol(name, _source, declaration.Keyword.Span) { Handler = declaration.Kind };
        _function = symbol;
        _scope = new Scope(null);
        if (declaration.Vector is not null)
        {
            var vector = BindExpression(declaration.Vector);
            if (!vector.Type.IsError && !vector.Type.IsIntegral)
            {
                Report(DiagnosticCode.TypeMismatch, vector.Span, $"a vector must be an int or an enum member, not {vector.Type}");
            }
            else if (RequireConstant(vector))
            {
                symbol.Vector = vector;
            }
            var vectorText = declaration.Vector is NameExpression n ? n.Identifier.Text : _source.Excerpt(declaration.Vector.Span);
            symbol = new FunctionSymbol($"handler vector {vectorText}", _source, declaration.Keyword.Span)
            {
                Handler = declaration.Kind,
                Vector = symbol.Vector,
            };
            _function = symbol;
        }
        foreach (var existing in _handlers)
        {
            var same = existing.Handler == declaration.Kind && (declaration.Kind != HandlerKind.Vector
                || (existing.Vector is not null && symbol.Vector is not null
                    && DefaultValue(existing.Vector) is { } a && DefaultValue(symbol.Vector) is { } b && a == b));
            if (same)
            {
                Report(DiagnosticCode.DuplicateHandler, declaration.Keyword.Span,
                    $"{symbol.Name} is already declared at {new SourceSpan(existing.Source!, existing.Span)}");
            }
        }
        (symbol.HomeRegion, symbol.HomeIndex) = BindHome(declaration.Home);
        symbol.Ordinal = _functions.Count + _handlers.Count;
        _handlers.Add(symbol);
        BindBody(symbol, declaration.Body);
    }

    // ───────────────────────────── Bodies ─────────────────────────────

    private void BindBody(FunctionSymbol function, BlockStatement body)
    {
        _function = function;
        _scope = new Scope(null);
        _loopDepth = 0;
        _atomicDepth = 0;
        foreach (var parameter in function.Parameters)
        {
            if (parameter.Name.Length > 0)
            {
                _scope.Locals[parameter.Name] = parameter;
                _localsDeclared++;
            }
        }
        var bound = BindBlock(body);
        function.Body = bound;
        if (function.ReturnType.Kind is not (TypeKind.Void or TypeKind.Error) && ControlFlow.CanCompleteNormally(bound))
        {
            Report(DiagnosticCode.MissingReturn, new TextSpan(body.Span.End - 1, 1),
                $"control reaches the end of '{function.Name}', which returns {function.ReturnType} (it returns 0 there)");
        }
        foreach (var local in function.Locals)
        {
            if (!local.IsRead && !local.IsParameter && !local.IsHidden && local.Name.Length > 0 && !local.Name.StartsWith('_'))
            {
                Report(DiagnosticCode.UnusedVariable, local.Span, $"local variable '{local.Name}' is never read");
            }
        }
        _function = null;
    }

    private LocalSymbol DeclareLocal(Token name, KType type, bool hidden = false)
    {
        var function = _function!;
        var local = new LocalSymbol(name.Text, type, name.Span, function.Locals.Count) { IsHidden = hidden };
        function.Locals.Add(local);
        if (!hidden && name.Text.Length > 0)
        {
            if (_scope.Declares(name.Text))
            {
                Report(DiagnosticCode.DuplicateDeclaration, name.Span, $"'{name.Text}' is already declared in this block");
            }
            _scope.Locals[name.Text] = local;
            _localsDeclared++;
        }
        _scope.Declared.Add(local);
        return local;
    }

    private BoundBlock BindBlock(BlockStatement block)
    {
        _scope = new Scope(_scope);
        var statements = new List<BoundStatement>(block.Statements.Count);
        var reportedUnreachable = false;
        foreach (var statement in block.Statements)
        {
            if (!reportedUnreachable && statements.Count > 0 && !ControlFlow.CanCompleteNormally(statements[^1])
                && statement is not EmptyStatement)
            {
                reportedUnreachable = true;
                Report(DiagnosticCode.UnreachableCode, statement.Span, "unreachable code");
            }
            statements.Add(BindStatement(statement));
        }
        var locals = _scope.DeclaredSoFar();
        _scope = _scope.Parent!;
        return new BoundBlock(block.Span, statements, locals);
    }

    /// <summary>A statement that is not a block still gets its own scope (C99 for/if bodies).</summary>
    private BoundStatement BindScoped(StatementSyntax statement)
    {
        if (statement is BlockStatement block)
        {
            return BindBlock(block);
        }
        _scope = new Scope(_scope);
        var bound = BindStatement(statement);
        var locals = _scope.DeclaredSoFar();
        _scope = _scope.Parent!;
        return locals.Count == 0 ? bound : new BoundBlock(statement.Span, [bound], locals);
    }

    private BoundStatement BindStatement(StatementSyntax statement)
    {
        switch (statement)
        {
            case BlockStatement block:
                return BindBlock(block);
            case EmptyStatement:
                return new BoundNop(statement.Span);
            case LocalDeclarationStatement declaration:
                return BindLocalDeclaration(declaration);
            case AssignmentStatement assignment:
                return BindAssignment(assignment);
            case ExpressionStatement expressionStatement:
                {
                    var expression = BindExpression(expressionStatement.Expression, allowVoid: true);
                    if (expression is not (BoundCall or BoundIntrinsicCall or BoundErrorExpression))
                    {
                        Report(DiagnosticCode.UnusedValue, expression.Span, "expression value is not used");
                    }
                    return new BoundExpressionStatement(statement.Span, expression);
                }
            case IfStatement ifStatement:
                {
                    var condition = BindCondition(ifStatement.Condition);
                    var then = BindScoped(ifStatement.Then);
                    var @else = ifStatement.Else is null ? null : BindScoped(ifStatement.Else);
                    return new BoundIf(statement.Span, condition, then, @else);
                }
            case WhileStatement whileStatement:
                {
                    var condition = BindCondition(whileStatement.Condition);
                    var body = BindLoopBody(whileStatement.Body);
                    return new BoundLoop(statement.Span, null, condition, null, body, []);
                }
            case ForStatement forStatement:
                {
                    _scope = new Scope(_scope);
                    var initializer = forStatement.Initializer is null ? null : BindStatement(forStatement.Initializer);
                    var condition = forStatement.Condition is null ? null : BindCondition(forStatement.Condition);
                    var step = forStatement.Step is null ? null : BindStatement(forStatement.Step);
                    var body = BindLoopBody(forStatement.Body);
                    var locals = _scope.DeclaredSoFar();
                    _scope = _scope.Parent!;
                    return new BoundLoop(statement.Span, initializer, condition ?? new BoundLiteral(forStatement.Span, KType.Bool, 1), step, body, locals);
                }
            case LoopStatement loop:
                {
                    var body = BindLoopBody(loop.Body);
                    return new BoundLoop(statement.Span, null, null, null, body, []);
                }
            case ForEachCpuStatement forEachCpu:
                {
                    var mask = BindExpression(forEachCpu.Mask);
                    if (!mask.Type.IsError && !IsMaskOperand(mask))
                    {
                        Report(DiagnosticCode.TypeMismatch, mask.Span, $"for_each_cpu needs a cpumask, not {mask.Type}");
                    }
                    _scope = new Scope(_scope);
                    var variable = DeclareLocal(forEachCpu.Variable, KType.Int);
                    variable.IsRead = true;
                    var body = BindLoopBody(forEachCpu.Body);
                    _scope = _scope.Parent!;
                    return new BoundForEachCpu(statement.Span, variable, mask, body);
                }
            case ForEachLineStatement forEachLine:
                {
                    var region = forEachLine.Region.Text.Length == 0 ? null : LookupRegion(forEachLine.Region);
                    _scope = new Scope(_scope);
                    var variable = DeclareLocal(forEachLine.Variable, KType.Line);
                    variable.IsRead = true;
                    var counter = DeclareLocal(new Token(TokenKind.Identifier, forEachLine.Variable.Span, "$index"), KType.Int, hidden: true);
                    var body = BindLoopBody(forEachLine.Body);
                    _scope = _scope.Parent!;
                    if (region is null)
                    {
                        return new BoundNop(statement.Span);
                    }
                    return new BoundForEachLine(statement.Span, variable, counter, region, body);
                }
            case BreakStatement:
                if (_loopDepth == 0)
                {
                    Report(DiagnosticCode.BreakOutsideLoop, statement.Span, "'break' outside a loop");
                }
                return new BoundBreak(statement.Span);
            case ContinueStatement:
                if (_loopDepth == 0)
                {
                    Report(DiagnosticCode.BreakOutsideLoop, statement.Span, "'continue' outside a loop");
                }
                return new BoundContinue(statement.Span);
            case ReturnStatement returnStatement:
                return BindReturn(returnStatement);
            case EitherStatement either:
                return new BoundEither(statement.Span, either.Branches.Select(BindBlock).ToList());
            case AtomicStatement atomic:
                {
                    _atomicDepth++;
                    _anyAtomic = true;
                    var body = BindBlock(atomic.Body);
                    _atomicDepth--;
                    return new BoundAtomic(statement.Span, body);
                }
            default:
                throw new InvalidOperationException($"unexpected statement {statement.GetType().Name}");
        }
    }

    private BoundStatement BindLoopBody(StatementSyntax body)
    {
        _loopDepth++;
        var bound = BindScoped(body);
        _loopDepth--;
        return bound;
    }

    private BoundStatement BindLocalDeclaration(LocalDeclarationStatement declaration)
    {
        var type = BindType(declaration.Type);
        var statements = new List<BoundStatement>();
        foreach (var declarator in declaration.Declarators)
        {
            // The initializer is bound before the name is visible: `int x = x;` reads an outer x.
            BoundExpression? initializer = null;
            if (declarator.Initializer is not null)
            {
                initializer = BindExpression(declarator.Initializer);
                if (type.Kind == TypeKind.Cpumask)
                {
                    if (!initializer.Type.IsError && !IsMaskOperand(initializer))
                    {
                        Report(DiagnosticCode.TypeMismatch, initializer.Span, $"cannot initialise cpumask '{declarator.Name.Text}' with {initializer.Type}");
                    }
                }
                else if (!Fits(type, initializer))
                {
                    Report(DiagnosticCode.TypeMismatch, initializer.Span,
                        $"cannot initialise {type} '{declarator.Name.Text}' with a value of type {initializer.Type}");
                }
            }
            var local = DeclareLocal(declarator.Name, type);
            statements.Add(new BoundLocalDeclaration(declarator.Span, local, initializer));
        }
        return statements.Count == 1 ? statements[0] : new BoundBlock(declaration.Span, statements, []);
    }

    private BoundStatement BindAssignment(AssignmentStatement assignment)
    {
        var wasRead = assignment.Target is NameExpression n && _scope.Lookup(n.Identifier.Text) is { IsRead: true };
        var target = BindExpression(assignment.Target);
        var kind = assignment.Operator.Kind switch
        {
            TokenKind.Equals => AssignmentKind.Assign,
            TokenKind.PlusEquals => AssignmentKind.Add,
            TokenKind.MinusEquals => AssignmentKind.Subtract,
            TokenKind.PlusPlus => AssignmentKind.Increment,
            _ => AssignmentKind.Decrement,
        };
        if (target is BoundLocal local && kind == AssignmentKind.Assign)
        {
            // A plain store is not a read: `x = 1;` alone still leaves x unused.
            local.Local.IsRead = wasRead;
        }
        if (!target.Type.IsError && target is not (BoundLocal or BoundGlobal))
        {
            Report(DiagnosticCode.NotAssignable, assignment.Target.Span, "only a local, shared or percpu variable can be assigned");
            target = new BoundErrorExpression(target.Span);
        }
        BoundExpression? value = null;
        if (assignment.Value is not null)
        {
            value = BindExpression(assignment.Value);
        }
        if (!target.Type.IsError)
        {
            if (kind != AssignmentKind.Assign && !target.Type.IsIntegral)
            {
                Report(DiagnosticCode.TypeMismatch, assignment.Operator.Span, $"{assignment.Operator.Text} needs an int, not {target.Type}");
            }
            else if (value is not null)
            {
                if (target.Type.Kind == TypeKind.Cpumask)
                {
                    if (!value.Type.IsError && !IsMaskOperand(value))
                    {
                        Report(DiagnosticCode.TypeMismatch, value.Span, $"cannot assign {value.Type} to a cpumask");
                    }
                }
                else if (!Fits(kind == AssignmentKind.Assign ? target.Type : KType.Int, value))
                {
                    Report(DiagnosticCode.TypeMismatch, value.Span, $"cannot assign a value of type {value.Type} to {target.Type}");
                }
            }
        }
        return new BoundAssignment(assignment.Span, target, kind, value);
    }

    private BoundStatement BindReturn(ReturnStatement statement)
    {
        var function = _function!;
        BoundExpression? value = null;
        if (statement.Value is not null)
        {
            value = BindExpression(statement.Value);
            if (function.ReturnType.Kind == TypeKind.Void)
            {
                Report(DiagnosticCode.ReturnValueMismatch, statement.Value.Span, $"'{function.Name}' returns nothing, but a value is returned");
            }
            else if (!Fits(function.ReturnType, value))
            {
                Report(DiagnosticCode.ReturnValueMismatch, statement.Value.Span, $"'{function.Name}' returns {function.ReturnType}, not {value.Type}");
            }
        }
        else if (function.ReturnType.Kind is not (TypeKind.Void or TypeKind.Error))
        {
            Report(DiagnosticCode.ReturnValueMismatch, statement.Span, $"'{function.Name}' must return a {function.ReturnType}");
        }
        return new BoundReturn(statement.Span, value);
    }

    private BoundExpression BindCondition(ExpressionSyntax syntax)
    {
        var condition = BindExpression(syntax);
        if (!condition.Type.IsError && condition.Type.Kind is not (TypeKind.Bool or TypeKind.Int or TypeKind.Enum))
        {
            Report(DiagnosticCode.TypeMismatch, syntax.Span, $"a condition must be a bool or an int, not {condition.Type}");
        }
        return condition;
    }

    /// <summary>Type compatibility, plus the C habit of 0 and 1 for false and true.</summary>
    private static bool Fits(KType target, BoundExpression value) =>
        target.Accepts(value.Type) || (target.Kind == TypeKind.Bool && value is BoundLiteral { Type.Kind: TypeKind.Int, Value: 0 or 1 });

    private static bool IsMaskOperand(BoundExpression expression) =>
        expression.Type.Kind == TypeKind.Cpumask && expression is BoundAllCpusMask or BoundLocal or BoundGlobal;
}
