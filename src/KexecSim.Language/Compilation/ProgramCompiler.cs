using KexecSim.Language.Binding;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// Instantiates a scenario against the bound model: fixes every constant (declared values, then the
/// scenario's defines, then -D), the CPU count and ranges, lays out lines and variables, and compiles
/// every function to instructions. Problems that need values (a CPU out of range, a bad define) are
/// diagnostics with the span of the scenario item at fault.
/// </summary>
public sealed partial class ProgramCompiler
{
    private readonly BoundProgram _program;
    private readonly BoundScenario? _scenario;
    private readonly CompileOptions _options;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<ConstSymbol, long> _constants = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<RegionSymbol, CompiledRegion> _regions = new(ReferenceEqualityComparer.Instance);
    private readonly List<CompiledRegion> _regionList = [];
    private readonly List<MemoryLine> _lines = [];
    private readonly Dictionary<GlobalVariableSymbol, CompiledVariable> _variables = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<FunctionSymbol, int> _functionIds = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<int> _functionValues = [];
    private readonly List<FunctionSymbol> _functionOrder = [];
    private readonly List<string> _strings = [];
    private readonly Dictionary<string, int> _stringIds = new(StringComparer.Ordinal);
    private readonly List<string> _bugNames = [];
    private int _cpus;
    private int _cpumaskWords;
    private int _stackRegion = -1;
    private int _errorsAtStart;

    private ProgramCompiler(BoundProgram program, BoundScenario? scenario, CompileOptions options, DiagnosticBag diagnostics)
    {
        _program = program;
        _scenario = scenario;
        _options = options;
        _diagnostics = diagnostics;
    }

    /// <summary>Compiles one scenario (or, with none, the model alone on a one-CPU default platform).</summary>
    public static CompiledProgram? Compile(BoundProgram program, BoundScenario? scenario, CompileOptions options, DiagnosticBag diagnostics)
    {
        var compiler = new ProgramCompiler(program, scenario, options, diagnostics);
        return compiler.Run();
    }

    private int ErrorCount => _diagnostics.ErrorCount;

    private void Report(SourceText? source, DiagnosticCode code, TextSpan span, string message) =>
        _diagnostics.Report(code, source, span, message);

    private SourceText? ScenarioSource => _scenario?.Source;

    /// <summary>The model in words for a command-line diagnostic, which has no span of its own: over the
    /// catalog, it says which model a -D did not fit.</summary>
    private string ModelName => ScenarioSource?.Path is { Length: > 0 } path ? $"the model {DiagnosticText.Escape(Path.GetFileName(path))}" : "the model";

    private CompiledProgram? Run()
    {
        _errorsAtStart = ErrorCount;
        EvaluateConstants();
        var platform = BuildPlatform();
        if (platform is null)
        {
            return null;
        }
        _cpus = platform.Cpus;
        _cpumaskWords = (_cpus + 63) / 64;
        LayOutRegions();
        LayOutVariables();
        var entries = ResolveEntries(out var initCpus, out var symmetric);
        var faults = ResolveFaults();
        foreach (var bug in platform.Bugs.Concat(Intrinsics.KnownBugs).Distinct().Order(StringComparer.Ordinal))
        {
            _bugNames.Add(bug);
        }

        // Function ids: model functions, handlers, then this scenario's blocks.
        foreach (var function in _program.Functions.Concat(_program.Handlers))
        {
            AddFunction(function);
        }
        var init = _scenario?.Init is { } i ? AddFunction(i) : -1;
        var initCpuIds = _scenario?.InitCpus.Select(b => AddFunction(b.Body)).ToList() ?? [];
        var final = _scenario?.Final is { } f ? AddFunction(f) : -1;
        if (Region("stack") is { IsImplicit: false } stackSymbol && _regions.TryGetValue(stackSymbol, out var stack))
        {
            _stackRegion = stack.Id;
        }

        var compiled = new List<CompiledFunction>(_functionOrder.Count);
        foreach (var function in _functionOrder)
        {
            compiled.Add(CompileFunction(function));
        }
        SpinningBackEdges.Mark(compiled);
        _compiledFunctions = compiled;

        if (ErrorCount > _errorsAtStart)
        {
            return null;
        }
        var symmetryReason = symmetric.Count >= 2 ? CheckSymmetry(symmetric, entries, initCpus) : null;
        if (ErrorCount > _errorsAtStart)
        {
            return null;
        }

        // The specification's reason is the one truth: KF0803 is reported exactly when it is unusable.
        var symmetry = BuildSymmetrySpec(symmetric, symmetryReason, entries, platform, faults);

        // Every function of the model: what any code of it can run (a superset of this scenario's).
        var liveIntrinsics = LiveIntrinsics(_functionOrder);

        var vectors = new Dictionary<long, int>();
        var nmi = -1;
        var mce = -1;
        foreach (var handler in _program.Handlers)
        {
            var id = _functionIds[handler];
            switch (handler.Handler)
            {
                case HandlerKind.Nmi: nmi = id; break;
                case HandlerKind.Mce: mce = id; break;
                case HandlerKind.Vector when handler.Vector is not null:
                    vectors[Evaluate(handler.Vector, handler.Source)] = id;
                    break;
            }
        }

        return new CompiledProgram
        {
            ScenarioName = _scenario?.Name ?? string.Empty,
            Description = _scenario?.Description ?? string.Empty,
            ScenarioSpan = SourceSpans.Of(_scenario?.Source, _scenario?.Declaration.Name.Span ?? default),
            Platform = platform,
            Regions = _regionList,
            Lines = _lines,
            Variables = _program.Variables.Select(v => _variables[v]).ToList(),
            Functions = compiled,
            VectorHandlers = vectors,
            NmiHandler = nmi,
            MceHandler = mce,
            Strings = _strings,
            BugNames = _bugNames,
            CpumaskWords = _cpumaskWords,
            StackRegion = _stackRegion,
            NextKernelRegion = _regions.TryGetValue(Region("next_kernel")!, out var next) ? next.Id : -1,
            Entries = entries.Select(e => e is null ? null : new EntryPoint(_functionIds[e.Value.Function], e.Value.Arguments)).ToList(),
            InitFunction = init,
            InitCpus = initCpus.Select((cpus, index) => new InitBlock(cpus, initCpuIds[index])).ToList(),
            FinalFunction = final,
            FunctionValues = _functionValues,
            LiveIntrinsics = liveIntrinsics,
            MayHoldUnassignedLine = MayHoldUnassignedLine(),
            SymmetricCpus = symmetric,
            SymmetryIgnoredReason = symmetry.UnusableReason,
            Symmetry = symmetry,
            Timeouts = _scenario?.Timeouts ?? true,
            Faults = faults,
            Expect = _scenario?.Expect ?? Expectation.None,
            Constants = _program.Constants.ToDictionary(c => c.Name, c => _constants.GetValueOrDefault(c)),
            EnumMembers = EnumMembers(),
        };
    }

    /// <summary>Each enum's members by value (the first declared wins for a value given twice).</summary>
    private Dictionary<string, IReadOnlyDictionary<long, string>> EnumMembers()
    {
        var enums = new Dictionary<string, IReadOnlyDictionary<long, string>>(StringComparer.Ordinal);
        foreach (var symbol in _program.Enums)
        {
            var members = new Dictionary<long, string>();
            foreach (var member in symbol.Members)
            {
                members.TryAdd(member.Value, member.Name);
            }
            enums[symbol.Type.Name] = members;
        }
        return enums;
    }

    private RegionSymbol? Region(string name) => _program.Globals.TryGetValue(name, out var s) ? s as RegionSymbol : null;

    private int AddFunction(FunctionSymbol function)
    {
        if (_functionIds.TryGetValue(function, out var id))
        {
            return id;
        }
        id = _functionOrder.Count;
        _functionIds[function] = id;
        _functionOrder.Add(function);
        return id;
    }

    private int StringId(string text)
    {
        if (!_stringIds.TryGetValue(text, out var id))
        {
            id = _strings.Count;
            _strings.Add(text);
            _stringIds[text] = id;
        }
        return id;
    }

    // ───────────────────────────── Constants ─────────────────────────────

    private void EvaluateConstants()
    {
        var commandLine = new Dictionary<ConstSymbol, long>(ReferenceEqualityComparer.Instance);
        foreach (var (name, value) in _options.Defines.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            if (_program.Globals.TryGetValue(name, out var symbol) && symbol is ConstSymbol constant)
            {
                commandLine[constant] = value;
            }
            else if (!_options.SkipDefinesOfMissingConstants)
            {
                Report(null, DiagnosticCode.InvalidCommandLineDefine, default,
                    $"-D {name}={value}: {ModelName} has no constant '{name}'{Spelling.DidYouMean(name, _program.Constants.Select(c => c.Name))}");
            }
        }
        var byName = ResolveCommandLineDefines(commandLine);
        if (byName.Count > 0)
        {
            // A -D whose VALUE names a const takes that const's value in this instance (with the
            // scenario's defines and the literal -D values applied); then everything is evaluated
            // again, so that constants depending on the -D follow it.
            var first = ComputeConstants(commandLine, report: false);
            foreach (var (constant, source) in byName)
            {
                commandLine[constant] = first[source];
            }
        }
        foreach (var (constant, value) in ComputeConstants(commandLine, report: true))
        {
            _constants[constant] = value;
        }
    }

    /// <summary>
    /// The command line's <c>-D NAME=VALUE</c> against this model: literal values go into
    /// <paramref name="commandLine"/>; the consts whose VALUE names another const are returned.
    /// </summary>
    private List<(ConstSymbol Constant, ConstSymbol Source)> ResolveCommandLineDefines(Dictionary<ConstSymbol, long> commandLine)
    {
        var byName = new List<(ConstSymbol, ConstSymbol)>();
        foreach (var (name, text) in _options.CommandLineDefines.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var define = $"-D {name}={text}";
            if (!_program.Globals.TryGetValue(name, out var symbol) || symbol is not ConstSymbol constant)
            {
                if (!_options.SkipDefinesOfMissingConstants)
                {
                    Report(null, DiagnosticCode.InvalidCommandLineDefine, default,
                        $"{define}: {ModelName} has no constant '{name}'{Spelling.DidYouMean(name, _program.Constants.Select(c => c.Name))}");
                }
                continue;
            }
            if (CommandLineDefines.TryRead(name, text, _diagnostics) is not { } value)
            {
                continue;
            }
            KType type;
            long literal = value.Value;
            ConstSymbol? source = null;
            switch (value.Kind)
            {
                case DefineValueKind.Integer:
                    type = KType.Int;
                    break;
                case DefineValueKind.Bool:
                    type = KType.Bool;
                    break;
                default:
                    _program.Globals.TryGetValue(value.Name, out var named);
                    switch (named)
                    {
                        case ConstSymbol other:
                            type = other.Type;
                            source = other;
                            break;
                        case EnumMemberSymbol member:
                            type = member.Owner.Type;
                            literal = member.Value;
                            break;
                        case BuiltinConstantSymbol builtin:
                            type = builtin.Type;
                            literal = builtin.Value;
                            break;
                        default:
                            var what = named is null ? $"not a const or enum value of {ModelName}" : $"a {named.KindName}, not a const or enum value";
                            var candidates = _program.Constants.Select(c => c.Name).Concat(_program.Enums.SelectMany(e => e.Members).Select(m => m.Name));
                            Report(null, DiagnosticCode.InvalidCommandLineDefine, default,
                                $"{define}: '{value.Name}' is {what}{Spelling.DidYouMean(value.Name, candidates)}");
                            continue;
                    }
                    break;
            }
            // As a scenario's define: the const's type, or 0/1 for a bool.
            var fits = constant.Type.Accepts(type)
                || (constant.Type.Kind == TypeKind.Bool && value.Kind == DefineValueKind.Integer && literal is 0 or 1);
            if (!fits)
            {
                Report(null, DiagnosticCode.TypeMismatch, default, $"{define}: '{name}' is {constant.Type}, not {type}");
                continue;
            }
            if (source is null)
            {
                commandLine[constant] = literal;
            }
            else
            {
                byName.Add((constant, source));
            }
        }
        return byName;
    }

    /// <summary>Every const's value: the command line's, else the scenario's define, else the declaration.</summary>
    private Dictionary<ConstSymbol, long> ComputeConstants(Dictionary<ConstSymbol, long> commandLine, bool report)
    {
        var overrides = new Dictionary<ConstSymbol, long>(commandLine, ReferenceEqualityComparer.Instance);
        if (_scenario is not null)
        {
            foreach (var define in _scenario.Defines)
            {
                if (commandLine.ContainsKey(define.Constant))
                {
                    continue;
                }
                if (ConstantEvaluator.TryEvaluate(define.Value, overrides, out var value, out var error))
                {
                    overrides[define.Constant] = value;
                }
                else if (error is not null && report)
                {
                    Report(error.SourceOr(_scenario.Source), error.Code, error.Span, error.Message);
                }
            }
        }
        var constants = new Dictionary<ConstSymbol, long>(ReferenceEqualityComparer.Instance);
        // The overrides and the values found so far, so that a chain of consts is followed once.
        var known = new Dictionary<ConstSymbol, long>(overrides, ReferenceEqualityComparer.Instance);
        foreach (var constant in _program.ConstantsByDependency.Concat(_program.Constants))
        {
            if (constants.ContainsKey(constant))
            {
                continue;
            }
            ConstantError? error = null;
            if (overrides.TryGetValue(constant, out var value))
            {
                constants[constant] = value;
            }
            else if (constant.Value is not null && ConstantEvaluator.TryEvaluate(constant.Value, known, out value, out error))
            {
                constants[constant] = value;
                known[constant] = value;
            }
            else
            {
                constants[constant] = 0;
                if (report && error is not null)
                {
                    ReportConstantError(constant, error, overrides.Count > 0);
                }
            }
        }
        return constants;
    }

    /// <summary>
    /// A const with no value in this instance. A fault that its declared values have too was reported
    /// by the binder (the same line again would only repeat it); one that the scenario's defines or the
    /// -D values bring about names them.
    /// </summary>
    private void ReportConstantError(ConstSymbol constant, ConstantError error, bool overridden)
    {
        ConstantEvaluator.TryEvaluate(constant.Value!, null, out _, out var declared);
        var message = error.Message;
        if (overridden && !Equals(declared, error))
        {
            message += _scenario is null ? " (with the -D values)" : $" in scenario \"{_scenario.Name}\"";
        }
        Report(error.SourceOr(constant.Source), error.Code, error.Span, message);
    }

    /// <summary>A constant expression's value under this instance's constants.</summary>
    private long Evaluate(BoundExpression expression, SourceText? source)
    {
        if (ConstantEvaluator.TryEvaluate(expression, _constants, out var value, out var error))
        {
            return value;
        }
        if (error is not null)
        {
            Report(error.SourceOr(source), error.Code, error.Span, error.Message);
        }
        return 0;
    }

    // ───────────────────────────── Platform and CPUs ─────────────────────────────

    private PlatformSpec? BuildPlatform()
    {
        var platform = _scenario?.Platform ?? new BoundPlatform();
        var source = ScenarioSource;
        int cpus;
        if (platform.Cpus is not null)
        {
            var value = Evaluate(platform.Cpus, source);
            if (value < 1 || value > Limits.MaxCpus)
            {
                Report(source, DiagnosticCode.InvalidCpuCount, platform.Cpus.Span, $"cpus must be between 1 and {Limits.MaxCpus}, not {value}");
                return null;
            }
            cpus = (int)value;
        }
        else
        {
            // Without 'cpus', the machine has the CPUs the scenario names.
            var highest = 0L;
            foreach (var range in (_scenario?.Runs.SelectMany(r => r.Cpus) ?? []).Concat(_scenario?.InitCpus.SelectMany(b => b.Cpus) ?? []))
            {
                highest = Math.Max(highest, Evaluate(range.Last ?? range.First, source));
            }
            cpus = (int)Math.Clamp(highest + 1, 1, Limits.MaxCpus);
        }
        _originalLastCpu = cpus - 1;
        if (_options.Cpus is { } overrideCpus)
        {
            if (overrideCpus < 1 || overrideCpus > Limits.MaxCpus)
            {
                Report(null, DiagnosticCode.InvalidCpuCount, default, $"--cpus must be between 1 and {Limits.MaxCpus}, not {overrideCpus}");
                return null;
            }
            cpus = overrideCpus;
        }
        _cpus = cpus;
        var bsp = platform.Bsp is null ? 0 : Evaluate(platform.Bsp, source);
        if (bsp < 0 || bsp >= cpus)
        {
            Report(source, DiagnosticCode.CpuOutOfRange, platform.Bsp!.Span, $"bsp {bsp} is not a CPU of this platform (CPUs 0..{cpus - 1})");
            return null;
        }
        _bsp = bsp;
        var cpuid = new SortedDictionary<long, long>();
        foreach (var (leaf, value) in platform.Cpuid)
        {
            cpuid[Evaluate(leaf, source)] = Evaluate(value, source);
        }
        var snpGuests = platform.SnpGuests is null ? 0 : Evaluate(platform.SnpGuests, source);
        if (snpGuests is < 0 or > 0xFFFF)
        {
            Report(source, DiagnosticCode.ConstantOutOfRange, platform.SnpGuests!.Span, $"snp_guests must be between 0 and 65535, not {snpGuests}");
        }
        var wbinvd = platform.WbinvdMicroseconds is null ? 500 : Evaluate(platform.WbinvdMicroseconds, source);
        if (wbinvd < 0)
        {
            Report(source, DiagnosticCode.ConstantOutOfRange, platform.WbinvdMicroseconds!.Span, $"wbinvd_us cannot be negative ({wbinvd})");
        }
        return new PlatformSpec
        {
            Vendor = platform.Vendor,
            Cpus = cpus,
            Bsp = (int)bsp,
            Features = new SortedSet<string>(platform.Features, StringComparer.Ordinal),
            Bugs = new SortedSet<string>(platform.Bugs, StringComparer.Ordinal),
            Cpuid = cpuid,
            SmeActive = platform.SmeActive is not null && Evaluate(platform.SmeActive, source) != 0,
            NextSmeActive = platform.NextSmeActive is not null && Evaluate(platform.NextSmeActive, source) != 0,
            Cache = platform.Cache,
            Evictions = platform.Evictions,
            SnpGuests = (int)Math.Clamp(snpGuests, 0, 0xFFFF),
            WbinvdMicroseconds = Math.Max(0, wbinvd),
        };
    }

    private int _originalLastCpu;
    private long _bsp;

    /// <summary>
    /// CPUs of a list; with --cpus, a range ending at the old last CPU ends at the new one (LANGUAGE.md
    /// §6), except that a range holding the boot CPU is never stretched: <c>cpu 0 runs kexec();</c> on
    /// one CPU stays one controller on N, and the added CPUs, which run nothing, are halted.
    /// </summary>
    private List<int> ResolveCpus(IReadOnlyList<BoundCpuRange> ranges)
    {
        var source = ScenarioSource;
        var cpus = new SortedSet<int>();
        foreach (var range in ranges)
        {
            var first = Evaluate(range.First, source);
            var last = range.Last is null ? first : Evaluate(range.Last, source);
            var holdsBoot = first <= _bsp && _bsp <= last;
            if (_options.Cpus is not null && last == _originalLastCpu && !(holdsBoot && _cpus - 1 > last))
            {
                last = _cpus - 1;
                if (first > last)
                {
                    continue;
                }
            }
            if (first > last)
            {
                Report(source, DiagnosticCode.CpuOutOfRange, range.Span, $"empty CPU range {first}..{last}");
                continue;
            }
            if (first < 0 || last >= _cpus)
            {
                var bad = first < 0 ? first : last;
                Report(source, DiagnosticCode.CpuOutOfRange, range.Span, $"CPU {bad} does not exist: this platform has CPUs 0..{_cpus - 1}");
                continue;
            }
            for (var c = first; c <= last; c++)
            {
                cpus.Add((int)c);
            }
        }
        return cpus.ToList();
    }

    private List<(FunctionSymbol Function, long[] Arguments)?> ResolveEntries(out List<List<int>> initCpus, out List<int> symmetric)
    {
        var entries = new List<(FunctionSymbol, long[])?>(new (FunctionSymbol, long[])?[_cpus]);
        var assignedBy = new TextSpan?[_cpus];
        initCpus = [];
        symmetric = [];
        if (_scenario is null)
        {
            return entries;
        }
        foreach (var runs in _scenario.Runs)
        {
            var arguments = runs.Arguments.Select(a => Evaluate(a, _scenario.Source)).ToArray();
            foreach (var cpu in ResolveCpus(runs.Cpus))
            {
                if (assignedBy[cpu] is { } first)
                {
                    Report(_scenario.Source, DiagnosticCode.CpuAssignedTwice, runs.Span,
                        $"CPU {cpu} already runs code (from {new SourceSpan(_scenario.Source, first)})");
                    continue;
                }
                assignedBy[cpu] = runs.Span;
                entries[cpu] = (runs.Entry, arguments);
            }
        }
        foreach (var init in _scenario.InitCpus)
        {
            initCpus.Add(ResolveCpus(init.Cpus));
        }
        if (_scenario.Symmetric is { } ranges)
        {
            symmetric = ResolveCpus(ranges);
            if (symmetric.Count < 2)
            {
                Report(_scenario.Source, DiagnosticCode.SymmetryTrivial, _scenario.SymmetricSpan,
                    $"'symmetric' names {symmetric.Count} CPU{(symmetric.Count == 1 ? string.Empty : "s")}: nothing to interchange");
            }
        }
        return entries;
    }

    private List<FaultBudget> ResolveFaults()
    {
        var faults = new List<FaultBudget>();
        if (_scenario is null)
        {
            return faults;
        }
        foreach (var inject in _scenario.Injects.OrderBy(i => i.Fault))
        {
            var budget = Evaluate(inject.Budget, _scenario.Source);
            if (budget is < 0 or > 1000)
            {
                Report(_scenario.Source, DiagnosticCode.ConstantOutOfRange, inject.Budget.Span, $"an inject budget must be between 0 and 1000, not {budget}");
                continue;
            }
            var cpus = inject.Cpus is null ? Enumerable.Range(0, _cpus).ToList() : ResolveCpus(inject.Cpus);
            faults.Add(new FaultBudget(inject.Fault, (int)budget, cpus));
        }
        return faults;
    }

    // ───────────────────────────── Memory layout ─────────────────────────────

    private void LayOutRegions()
    {
        foreach (var region in _program.Regions.Where(r => !r.IsAlias))
        {
            // A size that is not a constant was diagnosed by the binder; lay out one line meanwhile.
            var count = region.Lines is null || !ConstantEvaluator.IsConstant(region.Lines) ? 1 : Evaluate(region.Lines, region.Source);
            var instances = region.IsPercpu ? _cpus : 1;
            // count * instances could overflow: compare by division.
            if (count < 1 || count > Limits.MaxLines / instances)
            {
                Report(region.Source, DiagnosticCode.InvalidRegionSize, region.Span,
                    $"region '{region.Name}' must have between 1 and {Limits.MaxLines / instances} lines, not {count}");
                count = 1;
            }
            var key = region.InitialKey is null ? (long?)null : Evaluate(region.InitialKey, region.Source);
            var lines = new int[count * instances];
            for (var cpu = 0; cpu < instances; cpu++)
            {
                for (var index = 0; index < count; index++)
                {
                    var id = _lines.Count;
                    var name = region.IsPercpu ? $"{region.Name}[{cpu}][{index}]" : $"{region.Name}[{index}]";
                    // A region without 'key' holds the old kernel's own content: written with its key.
                    _lines.Add(new MemoryLine(id, _regionList.Count, name, key ?? OldKernelKey));
                    lines[(cpu * count) + index] = id;
                }
            }
            var compiled = new CompiledRegion
            {
                Id = _regionList.Count,
                Name = region.Name,
                IsPercpu = region.IsPercpu,
                IsAlias = false,
                LinesPerInstance = (int)count,
                Lines = lines,
            };
            _regions[region] = compiled;
            _regionList.Add(compiled);
        }
        var flattened = new Dictionary<RegionSymbol, int[]>(ReferenceEqualityComparer.Instance);
        foreach (var region in _program.Regions.Where(r => r.IsAlias))
        {
            var lines = Flatten(region, flattened);
            var compiled = new CompiledRegion
            {
                Id = _regionList.Count,
                Name = region.Name,
                IsPercpu = false,
                IsAlias = true,
                LinesPerInstance = lines.Length,
                Lines = lines,
            };
            _regions[region] = compiled;
            _regionList.Add(compiled);
        }
    }

    private long OldKernelKey => (_scenario?.Platform.SmeActive is { } sme && Evaluate(sme, ScenarioSource) != 0)
        ? BuiltinValues.KeySme : BuiltinValues.KeyNone;

    /// <summary>Aliases over <see cref="Limits.MaxLines"/> lines, themselves or through a part (reported once, at the first).</summary>
    private readonly HashSet<RegionSymbol> _overBudget = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The lines of an alias, in order. Parts are flattened once each (an alias used twice is not walked
    /// twice), and an alias that would exceed <see cref="Limits.MaxLines"/> lines is a size error (once:
    /// an alias holding one too large is cut silently). The binder broke cycles and bounded the nesting, so the recursion is shallow.
    /// </summary>
    private int[] Flatten(RegionSymbol region, Dictionary<RegionSymbol, int[]> done)
    {
        if (!region.IsAlias)
        {
            return _regions[region].Lines;
        }
        if (done.TryGetValue(region, out var known))
        {
            return known;
        }
        if (FrontEndWork.Current is { } work)
        {
            work.AliasPartVisits += region.AliasOf!.Count;
        }
        var parts = region.AliasOf!.Select(p => Flatten(p, done)).ToList();
        var total = parts.Sum(p => (long)p.Length);
        int[] lines;
        if (region.AliasOf!.Any(_overBudget.Contains))
        {
            // A part was already reported too large (and cut to a line): one error, not one per alias above it.
            _overBudget.Add(region);
            lines = parts[0][..Math.Min(parts[0].Length, 1)];
        }
        else if (total > Limits.MaxLines)
        {
            _overBudget.Add(region);
            Report(region.Source, DiagnosticCode.InvalidRegionSize, region.Span,
                $"region alias '{region.Name}' would have {total} lines; a region may have at most {Limits.MaxLines}");
            lines = parts.Count > 0 ? parts[0][..Math.Min(parts[0].Length, 1)] : [];
        }
        else
        {
            lines = parts.SelectMany(p => p).ToArray();
        }
        done[region] = lines;
        return lines;
    }

    private void LayOutVariables()
    {
        var data = Region("data")!;
        foreach (var variable in _program.Variables)
        {
            var region = variable.HomeRegion ?? data;
            var index = variable.HomeIndex is null ? 0 : Evaluate(variable.HomeIndex, variable.Source);
            var compiledRegion = _regions[region];
            var perCpu = new int[variable.IsPercpu ? _cpus : 1];
            if (index < 0 || index >= compiledRegion.LinesPerInstance)
            {
                if (!IsDiagnosedEmptyAlias(region))
                {
                    Report(variable.Source, DiagnosticCode.InvalidLineIndex, variable.HomeIndex?.Span ?? variable.Span,
                        $"'{variable.Name}' is homed on {region.Name}[{index}], but '{region.Name}' has {compiledRegion.LinesPerInstance} line(s)");
                }
                index = 0;
            }
            for (var cpu = 0; cpu < perCpu.Length; cpu++)
            {
                perCpu[cpu] = compiledRegion.Lines.Length == 0 ? FallbackLine()
                    : compiledRegion.IsPercpu ? compiledRegion.LineOf(cpu, (int)index) : compiledRegion.Lines[index];
            }
            var initial = 0L;
            if (variable.Initializer is BoundAllCpusMask)
            {
                initial = 1;
            }
            else if (variable.Initializer is BoundRegionLine line)
            {
                initial = ConstantLine(line, variable.Source);
            }
            else if (variable.Initializer is not null)
            {
                initial = Evaluate(variable.Initializer, variable.Source);
            }
            _variables[variable] = new CompiledVariable
            {
                Id = variable.Ordinal,
                Name = variable.Name,
                TypeName = variable.Type.Name,
                IsMask = variable.Type.Kind == TypeKind.Cpumask,
                IsPercpu = variable.IsPercpu,
                InitialValue = initial,
                HomeLinePerCpu = perCpu,
                Declaration = SourceSpans.Of(variable.Source, variable.Span),
            };
        }
    }

    /// <summary>The value of a constant line expression: its region and line, as the machine encodes them.</summary>
    private long ConstantLine(BoundRegionLine line, SourceText? source)
    {
        var region = _regions[line.Region];
        var index = Evaluate(line.Index, source);
        var cpu = line.Cpu is null ? 0 : Evaluate(line.Cpu, source);
        if (index < 0 || index >= region.LinesPerInstance || cpu < 0 || cpu >= _cpus)
        {
            Report(source, DiagnosticCode.InvalidLineIndex, line.Span, $"{region.Name}[{index}] is not a line of '{region.Name}'");
            return 0;
        }
        return ((long)region.Id << 32) | (uint)region.LineOf((int)cpu, (int)index);
    }

    private int[] HomeLines(FunctionSymbol function)
    {
        var region = function.HomeRegion ?? Region("text")!;
        var compiled = _regions[region];
        var index = function.HomeIndex is null ? 0 : Evaluate(function.HomeIndex, function.Source);
        if (index < 0 || index >= compiled.LinesPerInstance)
        {
            if (!IsDiagnosedEmptyAlias(region))
            {
                Report(function.Source, DiagnosticCode.InvalidLineIndex, function.HomeIndex?.Span ?? function.Span,
                    $"'{function.Name}' lives in {region.Name}[{index}], but '{region.Name}' has {compiled.LinesPerInstance} line(s)");
            }
            index = 0;
        }
        var lines = new int[compiled.IsPercpu ? _cpus : 1];
        for (var cpu = 0; cpu < lines.Length; cpu++)
        {
            lines[cpu] = compiled.Lines.Length == 0 ? FallbackLine()
                : compiled.IsPercpu ? compiled.LineOf(cpu, (int)index) : compiled.Lines[index];
        }
        return lines;
    }

    /// <summary>
    /// An alias left with no parts: a part was not a region, or it was a cycle or nested too deep. Each
    /// of those is already an error; a home in it is not reported a second time.
    /// </summary>
    private static bool IsDiagnosedEmptyAlias(RegionSymbol region) => region.AliasOf is { Count: 0 };

    /// <summary>A line for a home that has none (after an error: nothing compiled here is returned).</summary>
    private int FallbackLine()
    {
        if (_lines.Count == 0)
        {
            _lines.Add(new MemoryLine(0, 0, "<none>", OldKernelKey));
        }
        return 0;
    }
}
