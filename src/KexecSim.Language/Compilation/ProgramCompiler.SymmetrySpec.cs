using KexecSim.Language.Binding;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// The symmetry specification (docs/symmetry.md): which places of the state hold CPU ids, cpumasks,
/// percpu lines or place references, found by a flow-insensitive fixpoint over the bound code (kflow has
/// no CPU type: a CPU id is an <c>int</c> that came from <c>this_cpu()</c>, <c>cpumask_first</c>, a
/// <c>for_each_cpu</c> variable, or a place that holds one), then the operand stack typed over the
/// compiled code. Every use of a CPU id the reduction could not permute soundly makes the specification
/// unusable with a reason: conservative, never silently CPU-free.
/// </summary>
public sealed partial class ProgramCompiler
{
    /// <summary>Slots of every compiled function's locals (kept for the specification).</summary>
    private readonly Dictionary<FunctionSymbol, Dictionary<LocalSymbol, int>> _slotMaps = new(ReferenceEqualityComparer.Instance);

    private static readonly Dictionary<IntrinsicId, Intrinsic> IntrinsicsById = Intrinsics.All.Values.ToDictionary(i => i.Id);

    /// <summary>The CPU data each place may hold: variables, locals and parameters, and functions (their return value).</summary>
    private sealed class SymmetryFacts
    {
        public readonly Dictionary<object, SymmetricValueKind> Places = new(ReferenceEqualityComparer.Instance);
        public readonly HashSet<RegionSymbol> PerCpuLineRegions = new(ReferenceEqualityComparer.Instance);

        /// <summary>Per function, the kind of each intrinsic call's result, by span (the operand pass reads it).</summary>
        public readonly Dictionary<(FunctionSymbol, TextSpan), SymmetricValueKind> IntrinsicResults = new();

        public SymmetricValueKind Of(object place) => Places.GetValueOrDefault(place);

        /// <summary>Adds the flowing kinds (CPU ids and percpu lines: cpumasks and references follow the types) to a place.</summary>
        public bool Add(object place, SymmetricValueKind kind)
        {
            kind &= SymmetricValueKind.CpuId | SymmetricValueKind.PerCpuLine;
            var old = Of(place);
            if ((old | kind) == old)
            {
                return false;
            }
            Places[place] = old | kind;
            return true;
        }
    }

    private SymmetrySpec BuildSymmetrySpec(List<int> symmetric, string? ignoredReason, List<(FunctionSymbol Function, long[] Arguments)?> entries,
        PlatformSpec platform, List<FaultBudget> faults)
    {
        var lineCpu = Enumerable.Repeat(-1, _lines.Count).ToArray();
        var lineStride = new int[_lines.Count];
        var perCpuRegions = new List<int>();
        foreach (var region in _regionList.Where(r => r.IsPercpu && !r.IsAlias))
        {
            perCpuRegions.Add(region.Id);
            for (var i = 0; i < region.Lines.Length; i++)
            {
                lineCpu[region.Lines[i]] = i / region.LinesPerInstance;
                lineStride[region.Lines[i]] = region.LinesPerInstance;
            }
        }

        // Code no CPU can reach never has a frame: only reachable code is classified and checked.
        var roots = new List<FunctionSymbol>(_program.Handlers);
        roots.AddRange(entries.Where(e => e is not null).Select(e => e!.Value.Function));
        if (_scenario is not null)
        {
            roots.AddRange(_scenario.InitCpus.Select(b => b.Body));
            roots.AddRange(new[] { _scenario.Init, _scenario.Final }.OfType<FunctionSymbol>());
        }
        var reachable = Reachable(roots).ToHashSet(ReferenceEqualityComparer.Instance);
        var code = _functionOrder.Where(reachable.Contains).ToList();
        var facts = ClassifyPlaces(code, lineCpu);
        var set = symmetric.ToHashSet();
        var reason = ignoredReason;
        if (symmetric.Count >= 2)
        {
            reason ??= ScenarioBreaksSymmetry(symmetric, set, platform, faults);
            reason ??= AliasNamesTheirCopies(set, lineCpu);
            reason ??= FinalBreaksSymmetry(facts, set);
            reason ??= UnclassifiedUse(code, facts, set, entries, lineCpu.Length > 0 && lineCpu[0] == 0);
            if (reason is not null && _scenario is { } scenario)
            {
                // One truth: the declaration is ignored with this warning exactly when the specification is unusable.
                Report(scenario.Source, DiagnosticCode.SymmetryIgnored, scenario.SymmetricSpan, $"'symmetric {Describe(symmetric)}' is not used: {reason}");
            }
        }

        var variables = new List<SymmetricVariable>();
        foreach (var variable in _program.Variables)
        {
            var value = variable.Type.Kind == TypeKind.Cpumask ? SymmetricValueKind.Cpumask : facts.Of(variable);
            if (variable.IsPercpu || value != SymmetricValueKind.None)
            {
                variables.Add(new SymmetricVariable(variable.Ordinal, variable.Name, variable.IsPercpu, value));
            }
        }

        var slots = new List<SymmetricSlot>();
        var operands = new List<SymmetricOperand>();
        var depths = new int[]?[_compiledFunctions!.Count];
        var perCpuLineRegions = facts.PerCpuLineRegions.Select(r => _regions[r].Id).ToHashSet();
        foreach (var function in code)
        {
            var id = _functionIds[function];
            var slotKinds = SlotKinds(function, id, facts, slots);
            try
            {
                depths[id] = TypeOperands(function, _compiledFunctions![id], slotKinds, facts, operands, perCpuLineRegions);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException && ErrorCount > 0)
            {
                // The code of a model with errors is compiled only to report the rest, and never run:
                // its stack need not balance. In a model without errors this is a compiler bug, and throws.
            }
        }

        var machine = CpuIndexedState.CpuStates | CpuIndexedState.FirmwareWbinvdMarks;
        if (platform.Cache == CacheTopology.Private)
        {
            machine |= CpuIndexedState.PrivateCaches;
        }
        return new SymmetrySpec
        {
            Cpus = symmetric,
            UnusableReason = symmetric.Count >= 2 ? reason : null,
            MachineState = machine,
            Variables = variables,
            Slots = slots,
            Operands = operands,
            OperandDepths = depths,
            PerCpuRegions = perCpuRegions,
            LineCpu = lineCpu,
            LineStride = lineStride,
        };
    }

    /// <summary>
    /// An alias over a percpu region (<c>region all = pdata;</c>) names each CPU's copy as a fixed line
    /// (<c>all[1]</c> is CPU 1's copy, whatever CPU runs the code), so a permutation that moves the copies
    /// cannot follow it: symmetry is not used when an alias covers the copies of the symmetric CPUs.
    /// </summary>
    private string? AliasNamesTheirCopies(HashSet<int> set, int[] lineCpu)
    {
        foreach (var region in _program.Regions)
        {
            if (region.AliasOf is not null && _regions.TryGetValue(region, out var compiled)
                && compiled.Lines.FirstOrDefault(l => lineCpu[l] >= 0 && set.Contains(lineCpu[l]), -1) is var line and >= 0
                && region.Source is { } source)
            {
                return $"'region {region.Name}' at {new SourceSpan(source, region.Span)}: it names CPU {lineCpu[line]}'s own copy of a percpu region as a fixed line, which a permutation of them cannot follow";
            }
        }
        return null;
    }

    /// <summary>The compiled functions by id, set once they are compiled (the operand pass reads their code).</summary>
    private List<CompiledFunction>? _compiledFunctions;

    // ───────────────────────────── Places: a fixpoint over the bound code ─────────────────────────────

    private SymmetryFacts ClassifyPlaces(List<FunctionSymbol> code, int[] lineCpu)
    {
        var facts = new SymmetryFacts();
        foreach (var region in _program.Regions)
        {
            if (_regions.TryGetValue(region, out var compiled) && compiled.Lines.Any(l => lineCpu[l] >= 0))
            {
                facts.PerCpuLineRegions.Add(region);
            }
        }
        foreach (var variable in _program.Variables)
        {
            if (variable.Initializer is { } initializer)
            {
                facts.Add(variable, KindOf(initializer, facts));
            }
        }
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
                        case BoundLocalDeclaration { Initializer: { } value } declaration:
                            changed |= facts.Add(declaration.Local, KindOf(value, facts));
                            break;
                        case BoundAssignment { Kind: AssignmentKind.Assign, Value: { } value } assignment when PlaceOf(assignment.Target) is { } target:
                            changed |= facts.Add(target, KindOf(value, facts));
                            break;
                        case BoundForEachCpu loop:
                            changed |= facts.Add(loop.Variable, SymmetricValueKind.CpuId);
                            break;
                        case BoundForEachLine loop when facts.PerCpuLineRegions.Contains(loop.Region):
                            changed |= facts.Add(loop.Variable, SymmetricValueKind.PerCpuLine);
                            break;
                        case BoundReturn { Value: { } value }:
                            changed |= facts.Add(function, KindOf(value, facts));
                            break;
                    }
                }
                foreach (var expression in LiveExpressions(function.Body!))
                {
                    switch (expression)
                    {
                        case BoundCall call:
                            for (var i = 0; i < call.Arguments.Count && i < call.Function.Parameters.Count; i++)
                            {
                                changed |= facts.Add(call.Function.Parameters[i], KindOf(call.Arguments[i], facts));
                            }
                            break;
                        case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.Cmpxchg or IntrinsicId.Xchg or IntrinsicId.AtomicSet } atomic
                            when PlaceOf(atomic.Arguments[0]) is { } target:
                            foreach (var value in atomic.Arguments.Skip(1))
                            {
                                changed |= facts.Add(target, KindOf(value, facts));
                            }
                            break;
                    }
                }
            }
        }
        while (changed);

        foreach (var function in code)
        {
            foreach (var expression in LiveExpressions(function.Body!))
            {
                if (expression is BoundIntrinsicCall call)
                {
                    facts.IntrinsicResults[(function, call.Span)] = KindOf(call, facts);
                }
            }
        }
        return facts;
    }

    /// <summary>The local or variable an assignment or an in-place intrinsic writes (null: an erroneous target).</summary>
    private static object? PlaceOf(BoundExpression target) => target switch
    {
        BoundLocal local => local.Local,
        BoundGlobal global => global.Variable,
        _ => null,
    };

    private static SymmetricValueKind KindOf(BoundExpression expression, SymmetryFacts facts) => expression switch
    {
        BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.ThisCpu or IntrinsicId.CpumaskFirst } => SymmetricValueKind.CpuId,
        BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.AtomicRead or IntrinsicId.Cmpxchg or IntrinsicId.Xchg
            or IntrinsicId.AtomicIncReturn or IntrinsicId.AtomicDecReturn } call when PlaceOf(call.Arguments[0]) is { } place => facts.Of(place),
        BoundLocal local => local.Type.Kind == TypeKind.Cpumask ? SymmetricValueKind.Cpumask : facts.Of(local.Local),
        BoundGlobal global => global.Type.Kind == TypeKind.Cpumask ? SymmetricValueKind.Cpumask : facts.Of(global.Variable),
        BoundCall call => facts.Of(call.Function),
        BoundConditional conditional => KindOf(conditional.WhenTrue, facts) | KindOf(conditional.WhenFalse, facts),
        BoundRegionLine line => facts.PerCpuLineRegions.Contains(line.Region) ? SymmetricValueKind.PerCpuLine : SymmetricValueKind.None,
        { Type.Kind: TypeKind.Cpumask } => SymmetricValueKind.Cpumask,
        _ => SymmetricValueKind.None,
    };

    // ───────────────────────────── What the reduction could not permute ─────────────────────────────

    /// <summary>A scenario item that treats the symmetric CPUs differently (the static check does not look at these).</summary>
    private string? ScenarioBreaksSymmetry(List<int> symmetric, HashSet<int> set, PlatformSpec platform, List<FaultBudget> faults)
    {
        var scenario = _scenario!;
        var at = $"'symmetric {Describe(symmetric)}' at {new SourceSpan(scenario.Source, scenario.SymmetricSpan)}";
        if (set.Contains(platform.Bsp))
        {
            return $"{at}: CPU {platform.Bsp} is the boot CPU (an INIT to it resets the platform)";
        }
        var injects = scenario.Injects.OrderBy(i => i.Fault).ToList();
        for (var i = 0; i < injects.Count && i < faults.Count; i++)
        {
            if (faults[i].Budget == 0)
            {
                continue; // injects nothing
            }
            var targets = faults[i].Cpus;
            var hit = symmetric.Where(targets.Contains).ToList();
            if (hit.Count != 0 && hit.Count != symmetric.Count)
            {
                var missed = symmetric.First(c => !targets.Contains(c));
                return $"'{scenario.Source.Excerpt(injects[i].Span)}' at {new SourceSpan(scenario.Source, injects[i].Span)}: it may hit CPU {hit[0]} but not CPU {missed}";
            }
        }
        return null;
    }

    /// <summary>
    /// The first thing the <c>final</c> block (and what it calls) does that tells the symmetric CPUs apart:
    /// a property must give the same verdict on every permutation of a state. It names one of them by
    /// number (an index of a percpu variable or region, a CPU argument, a comparison of a CPU id with a
    /// constant that singles one out); or, with CPU 0 among them, it reads this CPU's data, since final
    /// runs on CPU 0 (<c>this_cpu()</c>, a percpu variable or region without a CPU index).
    /// </summary>
    private string? FinalBreaksSymmetry(SymmetryFacts facts, HashSet<int> set)
    {
        if (_scenario?.Final is not { } final)
        {
            return null;
        }
        bool IsId(BoundExpression e) => (KindOf(e, facts) & SymmetricValueKind.CpuId) != 0;
        int? Named(BoundExpression cpu) =>
            ConstantEvaluator.IsConstant(cpu) && ConstantEvaluator.TryEvaluate(cpu, _constants, out var value, out _)
            && set.Contains((int)Math.Clamp(value, -1, int.MaxValue)) ? (int)value : null;

        foreach (var function in Reachable([final]))
        {
            var source = function.Source!;
            string Here(TextSpan span, string why) => $"'{source.Excerpt(span)}' at {new SourceSpan(source, span)}: {why}";
            foreach (var expression in LiveExpressions(function.Body!))
            {
                switch (expression)
                {
                    case BoundGlobal { Cpu: { } cpu } global when Named(cpu) is { } c:
                        return Here(global.Span, $"final reads CPU {c}'s instance of '{global.Variable.Name}', and CPU {c} is one of them");
                    case BoundGlobal { Cpu: null, Variable.IsPercpu: true } global when set.Contains(0):
                        return Here(global.Span, $"final runs on CPU 0, one of them, and reads its instance of '{global.Variable.Name}'");
                    case BoundRegionLine { Cpu: { } cpu } line when Named(cpu) is { } c:
                        return Here(line.Span, $"final reads CPU {c}'s copy of '{line.Region.Name}', and CPU {c} is one of them");
                    case BoundRegionLine { Cpu: null } line when set.Contains(0) && facts.PerCpuLineRegions.Contains(line.Region):
                        return Here(line.Span, $"final runs on CPU 0, one of them, and reads its copy of '{line.Region.Name}'");
                    case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.ThisCpu } call when set.Contains(0):
                        return Here(call.Span, "final runs on CPU 0, one of them, so this_cpu() singles it out");
                    case BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.SendIpi or IntrinsicId.SendNmi or IntrinsicId.SendInit
                        or IntrinsicId.CpumaskSetCpu or IntrinsicId.CpumaskClearCpu or IntrinsicId.CpumaskTestCpu } call
                        when Named(call.Arguments[0]) is { } c:
                        return Here(call.Span, $"final names CPU {c}, one of them, by number");
                    case BoundBinary { Op: BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual } binary
                        when IsId(binary.Left) != IsId(binary.Right) && ConstantEvaluator.IsConstant(IsId(binary.Left) ? binary.Right : binary.Left)
                            && ConstantEvaluator.TryEvaluate(IsId(binary.Left) ? binary.Right : binary.Left, _constants, out var value, out _):
                        {
                            var outcomes = set.Select(cpu => IsId(binary.Left)
                                ? Arithmetic.TryApply(binary.Op, cpu, value, out var r) && r != 0
                                : Arithmetic.TryApply(binary.Op, value, cpu, out var l) && l != 0).Distinct().Count();
                            if (outcomes > 1)
                            {
                                return Here(binary.Span, "final compares a CPU id with a constant that tells them apart");
                            }
                            break;
                        }
                }
            }
        }
        return null;
    }

    /// <summary>The first use of CPU data, in code order, that a permutation of the symmetric CPUs could not follow.</summary>
    private string? UnclassifiedUse(List<FunctionSymbol> code, SymmetryFacts facts, HashSet<int> set, List<(FunctionSymbol Function, long[] Arguments)?> entries,
        bool lineZeroIsCpuZeros)
    {
        bool HoldsId(object place) => (facts.Of(place) & SymmetricValueKind.CpuId) != 0;
        bool IsId(BoundExpression e) => (KindOf(e, facts) & SymmetricValueKind.CpuId) != 0;

        if (set.Contains(0))
        {
            // A cleared local, an uninitialised variable or a missing return holds 0: in a place of CPU
            // ids it would read as CPU 0 (in a place of lines, as line 0, when that is CPU 0's).
            var zero = facts.Places.FirstOrDefault(p => (p.Value & SymmetricValueKind.CpuId) != 0
                || ((p.Value & SymmetricValueKind.PerCpuLine) != 0 && lineZeroIsCpuZeros)).Key;
            if (zero is not null)
            {
                var scenario = _scenario!;
                return $"'symmetric {Describe([.. set.Order()])}' at {new SourceSpan(scenario.Source, scenario.SymmetricSpan)}: CPU 0 is one of them, and '{zero}' holds CPU ids: its 0 when cleared or uninitialised would read as CPU 0";
            }
        }
        foreach (var variable in _program.Variables)
        {
            if (variable.Initializer is { } initializer && HoldsId(variable)
                && Stored(initializer, variable.Name, variable.Source) is { } why)
            {
                return why;
            }
        }
        foreach (var entry in entries)
        {
            if (entry is not { } e)
            {
                continue;
            }
            for (var i = 0; i < e.Arguments.Length && i < e.Function.Parameters.Count; i++)
            {
                if (HoldsId(e.Function.Parameters[i]) && set.Contains((int)Math.Clamp(e.Arguments[i], -1, int.MaxValue)))
                {
                    var runs = _scenario!.Runs.First(r => ReferenceEquals(r.Entry, e.Function));
                    return $"'{_scenario.Source.Excerpt(runs.Span)}' at {new SourceSpan(_scenario.Source, runs.Span)}: it passes CPU {e.Arguments[i]}, one of them, as '{e.Function.Parameters[i].Name}'";
                }
            }
        }

        foreach (var function in code)
        {
            var source = function.Source!;
            string Here(TextSpan span, string why) => $"'{source.Excerpt(span)}' at {new SourceSpan(source, span)}: {why}";
            string? Flow(object place, string name, BoundExpression value) => HoldsId(place) ? Stored(value, name, source) : null;

            foreach (var statement in LiveStatements(function.Body!))
            {
                var why = statement switch
                {
                    BoundIf { Condition: var c } when IsId(c) => Here(c.Span, "it tests a CPU id as a condition"),
                    BoundLoop { Condition: { } c } when IsId(c) => Here(c.Span, "it tests a CPU id as a condition"),
                    BoundForEachCpu loop => Here(loop.Span, "for_each_cpu visits CPUs in id order"),
                    BoundForEachLine loop when facts.PerCpuLineRegions.Contains(loop.Region)
                        => Here(loop.Span, $"for_each_line visits the CPUs' copies of '{loop.Region.Name}' in id order"),
                    BoundAssignment { Kind: not AssignmentKind.Assign } a when PlaceOf(a.Target) is { } t && HoldsId(t)
                        => Here(a.Span, "it computes with a CPU id"),
                    BoundAssignment { Kind: AssignmentKind.Assign, Value: { } v } a when PlaceOf(a.Target) is { } t => Flow(t, t.ToString()!, v),
                    BoundLocalDeclaration { Initializer: { } v } d => Flow(d.Local, d.Local.Name, v),
                    BoundReturn { Value: { } v } => Flow(function, $"the result of {function.Name}", v),
                    _ => null,
                };
                if (why is not null)
                {
                    return why;
                }
            }
            foreach (var expression in LiveExpressions(function.Body!))
            {
                if (CpuUse(expression, Here, IsId, facts, set, source) is { } why)
                {
                    return why;
                }
                if (expression is BoundCall call)
                {
                    for (var i = 0; i < call.Arguments.Count && i < call.Function.Parameters.Count; i++)
                    {
                        if (Flow(call.Function.Parameters[i], call.Function.Parameters[i].Name, call.Arguments[i]) is { } flow)
                        {
                            return flow;
                        }
                    }
                }
                if (expression is BoundIntrinsicCall { Intrinsic.Id: IntrinsicId.Cmpxchg or IntrinsicId.Xchg or IntrinsicId.AtomicSet } atomic
                    && PlaceOf(atomic.Arguments[0]) is { } target)
                {
                    foreach (var value in atomic.Arguments.Skip(1))
                    {
                        if (Flow(target, target.ToString()!, value) is { } flow)
                        {
                            return flow;
                        }
                    }
                }
            }
        }
        return null;

        // A value stored in a place that holds CPU ids: a CPU id, or a constant naming none of them.
        string? Stored(BoundExpression value, string name, SourceText? source)
        {
            if (value is BoundConditional conditional)
            {
                // Each branch is stored: 'c == X ? 0x100 : c' stores a constant or a CPU id.
                return Stored(conditional.WhenTrue, name, source) ?? Stored(conditional.WhenFalse, name, source);
            }
            if (IsId(value) || value is BoundErrorExpression)
            {
                return null;
            }
            var at = source is null ? $"'{name}'" : $"'{source.Excerpt(value.Span)}' at {new SourceSpan(source, value.Span)}";
            if (!ConstantEvaluator.IsConstant(value))
            {
                return $"{at}: it stores a value that is not a CPU id in '{name}', which holds CPU ids";
            }
            var constant = Evaluate(value, source);
            return set.Contains((int)Math.Clamp(constant, -1, int.MaxValue))
                ? $"{at}: it stores CPU {constant}, one of them, in '{name}', which holds CPU ids"
                : null;
        }
    }

    /// <summary>Whether one expression uses a CPU id (or names a CPU) in a way a permutation cannot follow.</summary>
    private string? CpuUse(BoundExpression expression, Func<TextSpan, string, string> here, Func<BoundExpression, bool> isId,
        SymmetryFacts facts, HashSet<int> set, SourceText source)
    {
        // Names a CPU: a constant that is one of them, anything else that is not a CPU id.
        string? Names(BoundExpression cpu, string what)
        {
            if (isId(cpu))
            {
                return null;
            }
            if (!ConstantEvaluator.IsConstant(cpu))
            {
                return here(cpu.Span, $"it {what} a value that is not a CPU id");
            }
            return set.Contains((int)Math.Clamp(Evaluate(cpu, source), -1, int.MaxValue)) ? here(cpu.Span, "it names one of them by number") : null;
        }

        switch (expression)
        {
            case BoundGlobal { Cpu: { } cpu }:
                return Names(cpu, "indexes a percpu variable with");
            case BoundRegionLine line:
                return (line.Cpu is { } c ? Names(c, "indexes a percpu region with") : null)
                    ?? (isId(line.Index) ? here(line.Index.Span, "it uses a CPU id as a line index") : null);
            case BoundUnary unary when isId(unary.Operand):
                return here(unary.Span, "it computes with a CPU id");
            case BoundConditional conditional when isId(conditional.Condition):
                return here(conditional.Condition.Span, "it tests a CPU id as a condition");
            case BoundBinary binary when isId(binary.Left) || isId(binary.Right):
                {
                    if (binary.Op is not (BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual))
                    {
                        return here(binary.Span, "it computes with a CPU id");
                    }
                    var both = isId(binary.Left) && isId(binary.Right);
                    if (both)
                    {
                        return binary.Op is BinaryOp.Equal or BinaryOp.NotEqual ? null : here(binary.Span, "it orders CPU ids");
                    }
                    var other = isId(binary.Left) ? binary.Right : binary.Left;
                    if (!ConstantEvaluator.IsConstant(other))
                    {
                        return here(binary.Span, "it compares a CPU id with a value that is not one");
                    }
                    // With a constant: the outcome must be the same for every one of them (the static
                    // check knows fewer CPU ids: not those a function returns).
                    var value = Evaluate(other, source);
                    var outcomes = set.Select(cpu => isId(binary.Left)
                        ? Arithmetic.TryApply(binary.Op, cpu, value, out var r) && r != 0
                        : Arithmetic.TryApply(binary.Op, value, cpu, out var l) && l != 0).Distinct().Count();
                    return outcomes > 1 ? here(binary.Span, "it compares a CPU id with a constant that singles one of them out") : null;
                }
            case BoundIntrinsicCall call:
                {
                    var id = call.Intrinsic.Id;
                    if (id == IntrinsicId.CpumaskFirst)
                    {
                        return here(call.Span, "cpumask_first picks the lowest CPU id");
                    }
                    var takesCpu = id is IntrinsicId.SendIpi or IntrinsicId.SendNmi or IntrinsicId.SendInit
                        or IntrinsicId.CpumaskSetCpu or IntrinsicId.CpumaskClearCpu or IntrinsicId.CpumaskTestCpu;
                    if (takesCpu && Names(call.Arguments[0], $"passes {call.Intrinsic.Name}") is { } named)
                    {
                        return named;
                    }
                    for (var i = 0; i < call.Arguments.Count; i++)
                    {
                        var argument = call.Arguments[i];
                        var kind = i < call.Intrinsic.Parameters.Length ? call.Intrinsic.Parameters[i] : ParamKind.Any;
                        var idPlace = kind is ParamKind.Variable or ParamKind.MemoryVariable && PlaceOf(argument) is { } p
                            && (facts.Of(p) & SymmetricValueKind.CpuId) != 0;
                        if (!isId(argument) && !idPlace)
                        {
                            continue;
                        }
                        var allowed = (takesCpu && i == 0)
                            || (id is IntrinsicId.AtomicSet or IntrinsicId.Cmpxchg or IntrinsicId.Xchg or IntrinsicId.AtomicRead)
                            || id == IntrinsicId.Monitor
                            // Message values: they go to the log, not the state.
                            || (id is IntrinsicId.PrErr or IntrinsicId.PrWarn or IntrinsicId.Panic && i >= 1);
                        if (!allowed)
                        {
                            return id is IntrinsicId.AtomicInc or IntrinsicId.AtomicDec or IntrinsicId.AtomicIncReturn or IntrinsicId.AtomicDecReturn
                                ? here(call.Span, "it computes with a CPU id")
                                : here(argument.Span, $"it passes a CPU id to {call.Intrinsic.Name}");
                        }
                    }
                    return null;
                }
            default:
                return null;
        }
    }

    // ───────────────────────────── Slots and the operand stack ─────────────────────────────

    /// <summary>The kind of every slot of a function's frame; adds the slots that hold CPU data to <paramref name="slots"/>.</summary>
    private SymmetricValueKind[] SlotKinds(FunctionSymbol function, int id, SymmetryFacts facts, List<SymmetricSlot> slots)
    {
        var map = _slotMaps.GetValueOrDefault(function);
        var count = map is null || map.Count == 0 ? 0 : map.Max(p => p.Value + (p.Key.Type.Kind == TypeKind.Cpumask && !p.Key.IsParameter ? _cpumaskWords : 1));
        var kinds = new SymmetricValueKind[Math.Max(count, 0)];
        if (map is null || map.Count == 0)
        {
            return kinds;
        }
        foreach (var (local, slot) in map.OrderBy(p => p.Value))
        {
            SymmetricValueKind kind;
            var words = 1;
            if (local.Type.Kind == TypeKind.Cpumask)
            {
                // A cpumask parameter holds a reference to the mask; a cpumask local holds the bits.
                kind = local.IsParameter ? SymmetricValueKind.PlaceReference : SymmetricValueKind.Cpumask;
                words = local.IsParameter ? 1 : _cpumaskWords;
            }
            else
            {
                kind = facts.Of(local);
            }
            if (kind == SymmetricValueKind.None)
            {
                continue;
            }
            for (var w = 0; w < words; w++)
            {
                kinds[slot + w] = kind;
            }
            slots.Add(new SymmetricSlot(id, slot, words, kind, local.Name));
        }
        return kinds;
    }

    /// <summary>
    /// Types the operand stack at every instruction (a forward dataflow over the code, merging by union;
    /// the compiler keeps the stack depth the same on every path into an instruction). Returns the
    /// depth before each instruction (-1: unreachable).
    /// </summary>
    private int[] TypeOperands(FunctionSymbol symbol, CompiledFunction function, SymmetricValueKind[] slotKinds, SymmetryFacts facts, List<SymmetricOperand> operands,
        HashSet<int> perCpuLineRegions)
    {
        var code = function.Code;
        var before = new SymmetricValueKind[]?[code.Length];
        var pending = new Stack<int>();
        before[0] = [];
        pending.Push(0);
        var stack = new List<SymmetricValueKind>();
        var successors = new int[2];
        while (pending.TryPop(out var pc))
        {
            stack.Clear();
            stack.AddRange(before[pc]!);
            var instruction = code[pc];
            foreach (var next in Effect(instruction, pc))
            {
                Merge(next);
            }
        }
        for (var pc = 0; pc < code.Length; pc++)
        {
            var entries = before[pc];
            for (var depth = 0; entries is not null && depth < entries.Length; depth++)
            {
                if (entries[depth] != SymmetricValueKind.None)
                {
                    operands.Add(new SymmetricOperand(function.Id, pc, depth, entries[depth]));
                }
            }
        }
        var depthBefore = new int[code.Length];
        for (var pc = 0; pc < code.Length; pc++)
        {
            depthBefore[pc] = before[pc]?.Length ?? -1;
        }
        return depthBefore;

        void Merge(int target)
        {
            if (target >= code.Length)
            {
                return;
            }
            var known = before[target];
            if (known is null)
            {
                before[target] = [.. stack];
                pending.Push(target);
                return;
            }
            if (known.Length != stack.Count)
            {
                throw new InvalidOperationException($"{function.Name}: operand depth {known.Length} and {stack.Count} meet at {target}");
            }
            var changed = false;
            for (var i = 0; i < known.Length; i++)
            {
                if ((known[i] | stack[i]) != known[i])
                {
                    known[i] |= stack[i];
                    changed = true;
                }
            }
            if (changed)
            {
                pending.Push(target);
            }
        }

        void Pop(int count) => stack.RemoveRange(stack.Count - count, count);

        SymmetricValueKind Var(int id) => _program.Variables[id] is var v && v.Type.Kind == TypeKind.Cpumask ? SymmetricValueKind.Cpumask : facts.Of(v);

        SymmetricValueKind RegionKind(int region) =>
            perCpuLineRegions.Contains(region) ? SymmetricValueKind.PerCpuLine : SymmetricValueKind.None;

        // The instruction's effect on the stack; returns its successors.
        // PERF: successors in a span over 'successors' or the branch table: no array per instruction.
        ReadOnlySpan<int> Effect(Instruction instruction, int pc)
        {
            switch (instruction.Op)
            {
                case OpCode.PushConst or OpCode.PushLocalRef or OpCode.PushAllMask or OpCode.RegionLength:
                    stack.Add(SymmetricValueKind.None);
                    break;
                case OpCode.LoadLocal:
                    stack.Add(instruction.A < slotKinds.Length ? slotKinds[instruction.A] : SymmetricValueKind.None);
                    break;
                case OpCode.StoreLocal or OpCode.StoreVar or OpCode.Pop or OpCode.JumpIfFalse or OpCode.JumpIfTrue:
                    Pop(1);
                    break;
                case OpCode.StoreVarOf:
                    Pop(2);
                    break;
                case OpCode.LoadVar:
                    stack.Add(Var(instruction.A));
                    break;
                case OpCode.LoadVarOf:
                    Pop(1);
                    stack.Add(Var(instruction.A));
                    break;
                case OpCode.PushVarRef:
                    stack.Add(SymmetricValueKind.PlaceReference);
                    break;
                case OpCode.PushVarRefOf:
                    Pop(1);
                    stack.Add(SymmetricValueKind.PlaceReference);
                    break;
                case OpCode.Unary or OpCode.CpumaskNext or OpCode.WaitEnd:
                    Pop(1);
                    stack.Add(SymmetricValueKind.None);
                    break;
                case OpCode.Binary:
                    Pop(2);
                    stack.Add(SymmetricValueKind.None);
                    break;
                case OpCode.Dup:
                    stack.Add(stack[^1]);
                    break;
                case OpCode.RegionLine or OpCode.RegionLineAt:
                    Pop(1);
                    stack.Add(RegionKind(instruction.A));
                    break;
                case OpCode.RegionLineOf:
                    Pop(2);
                    stack.Add(RegionKind(instruction.A));
                    break;
                case OpCode.Call:
                    Pop((int)instruction.B);
                    if (_compiledFunctions![instruction.A].ReturnsValue)
                    {
                        stack.Add(facts.Of(_functionOrder[instruction.A]));
                    }
                    break;
                case OpCode.Intrinsic:
                    {
                        Pop((int)instruction.B);
                        var intrinsic = IntrinsicsById[(IntrinsicId)instruction.A];
                        if (intrinsic.ReturnType.Kind != TypeKind.Void)
                        {
                            stack.Add(facts.IntrinsicResults.GetValueOrDefault((symbol, function.Spans[pc].Span)));
                        }
                        break;
                    }
                case OpCode.Jump:
                    successors[0] = instruction.A;
                    return successors.AsSpan(0, 1);
                case OpCode.Either:
                    return function.BranchTables[instruction.A];
                case OpCode.Return or OpCode.End:
                    return [];
            }
            successors[0] = pc + 1;
            successors[1] = instruction.A;
            return successors.AsSpan(0, instruction.Op is OpCode.JumpIfFalse or OpCode.JumpIfTrue ? 2 : 1);
        }
    }
}
