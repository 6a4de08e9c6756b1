using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// The codes of coverage findings: the front end's KF0950–KF0954 (the same numbers as its
/// <c>DiagnosticCode</c>, which the explorer does not reference; a test keeps the two in step).
/// </summary>
public enum CoverageCode
{
    NeverReached = 950,
    HandlerNeverRan = 951,
    StatementsNeverReached = 952,
    WaitNeverCompleted = 953,
    WaitNeverHeld = 954,
}

/// <summary>How a coverage finding is printed: a warning makes a pass suspicious, a note only informs.</summary>
public enum CoverageSeverity
{
    Warning,
    Note,
}

public static class CoverageCodes
{
    /// <summary>The code as printed: <c>KFnnnn</c>.</summary>
    public static string Format(this CoverageCode code) => $"KF{(int)code:D4}";

    public static CoverageSeverity Severity(this CoverageCode code) =>
        code is CoverageCode.NeverReached or CoverageCode.WaitNeverHeld ? CoverageSeverity.Note : CoverageSeverity.Warning;

    /// <summary>The word printed before the code: <c>warning</c> or <c>note</c>.</summary>
    public static string Keyword(this CoverageSeverity severity) => severity == CoverageSeverity.Note ? "note" : "warning";
}

/// <summary>One line of a coverage report: <c>file:line:col: note KFnnnn: message</c> (or warning).</summary>
public sealed record CoverageItem(CoverageCode Code, DebugSpan Location, string Function, string Message)
{
    public CoverageSeverity Severity => Code.Severity();

    public override string ToString() => $"{Location}: {Severity.Keyword()} {Code.Format()}: {Message}";
}

/// <summary>
/// What a search reached of the model, as SPIN's "unreached in proctype" and TLC's coverage report it:
/// statements (from the compiled functions' statement entries and the machine's execution marks),
/// handlers, and wait_until outcomes. <see cref="Warnings"/> are the facts that make a pass suspicious
/// (a handler whose event was raised never ran, statements of the scenario's code never reached, a
/// wait that never ended); they are computed only after an exhaustive search. Everything is sorted
/// by source position.
/// </summary>
public sealed class Coverage
{
    /// <summary>Whether the search explored every state (warnings are only given then).</summary>
    public required bool Exhaustive { get; init; }

    /// <summary>Live statements (reachable as far as the code alone tells) of the scenario's code: every function
    /// a <c>runs</c> entry, a scenario block, or a handler that ran or whose event was raised can call.</summary>
    public required int Statements { get; init; }

    /// <summary>Of <see cref="Statements"/>, those some explored run reached.</summary>
    public required int Reached { get; init; }

    /// <summary>KF0951-KF0953: reasons to distrust a pass. Empty unless <see cref="Exhaustive"/>.</summary>
    public required IReadOnlyList<CoverageItem> Warnings { get; init; }

    /// <summary>KF0950 for every statement of the model never reached (in any function), and KF0954 for
    /// every wait_until that only ever timed out.</summary>
    public required IReadOnlyList<CoverageItem> Notes { get; init; }

    private static readonly IComparer<CoverageItem> ByPosition = Comparer<CoverageItem>.Create((a, b) =>
    {
        var order = string.CompareOrdinal(a.Location.Source.Path, b.Location.Source.Path);
        if (order == 0)
        {
            order = a.Location.Span.Start.CompareTo(b.Location.Span.Start);
        }
        return order != 0 ? order : ((int)a.Code).CompareTo((int)b.Code);
    });

    public static Coverage Analyze(CompiledProgram program, ExecutionMarks marks, bool exhaustive)
    {
        var scenario = program.ScenarioName;
        var functions = program.Functions;
        var live = StaticAnalysis.LiveInstructions(program);

        // The scenario's code: its entries and blocks, and each handler that ran or whose event was raised.
        var handlerRelevant = new bool[functions.Count];
        var roots = new List<int>();
        roots.AddRange(program.Entries.Where(e => e is not null).Select(e => e!.Function));
        if (program.InitFunction >= 0)
        {
            roots.Add(program.InitFunction);
        }
        roots.AddRange(program.InitCpus.Select(b => b.Function));
        if (program.FinalFunction >= 0)
        {
            roots.Add(program.FinalFunction);
        }
        var warnings = new List<CoverageItem>();
        foreach (var function in functions.Where(f => f.Handler is not null))
        {
            var ran = marks.Ran(function.Id, function.Code.Length);
            var raised = Raised(program, marks, function);
            if (ran || raised)
            {
                roots.Add(function.Id);
            }
            if (!ran && raised)
            {
                handlerRelevant[function.Id] = true;
                warnings.Add(new CoverageItem(CoverageCode.HandlerNeverRan, function.Declaration, function.Name,
                    $"{function.Name} never ran in scenario \"{scenario}\": {WhyNotDelivered(program, function)}"));
            }
        }
        var inScenario = StaticAnalysis.Callees(program, live, roots);
        // The pass warning is about the scenario's own flow: the functions CPUs run and the handlers that ran.
        // A callee's branch that this scenario never takes (a library helper's other configuration) is listed by
        // --coverage, not warned about on every pass.
        var warned = new bool[functions.Count];
        foreach (var root in roots.Where(r => functions[r].Handler is not null || program.Entries.Any(e => e?.Function == r)))
        {
            warned[root] = true;
        }

        var notes = new List<CoverageItem>();
        var statements = 0;
        var reached = 0;
        foreach (var function in functions)
        {
            var unreached = new List<StatementEntry>();
            var counted = 0;
            foreach (var statement in function.Statements)
            {
                var hit = marks.Get(function.Id, statement.FirstInstruction) != 0;
                if (!hit)
                {
                    notes.Add(new CoverageItem(CoverageCode.NeverReached, statement.Span, function.Name, $"never reached in scenario \"{scenario}\""));
                }
                if (!inScenario[function.Id] || !live[function.Id][statement.FirstInstruction])
                {
                    continue;
                }
                counted++;
                if (hit)
                {
                    reached++;
                }
                else
                {
                    unreached.Add(statement);
                }
            }
            statements += counted;
            if (unreached.Count > 0 && warned[function.Id] && !handlerRelevant[function.Id])
            {
                var first = unreached.MinBy(s => s.Span.Span.Start);
                warnings.Add(new CoverageItem(CoverageCode.StatementsNeverReached, first.Span, function.Name,
                    $"{Describe(function)}: {unreached.Count} of {counted} statement{(counted == 1 ? "" : "s")} never reached in scenario \"{scenario}\""));
            }
            for (var pc = 0; pc < function.Code.Length; pc++)
            {
                if (function.Code[pc].Op != OpCode.WaitBegin || !marks.Has(function.Id, pc, ExecutionMarks.Executed))
                {
                    continue;
                }
                var held = marks.Has(function.Id, pc, ExecutionMarks.WaitHeld);
                var timedOut = marks.Has(function.Id, pc, ExecutionMarks.WaitTimedOut);
                if (!held && !timedOut && inScenario[function.Id])
                {
                    warnings.Add(new CoverageItem(CoverageCode.WaitNeverCompleted, function.Spans[pc], function.Name,
                        $"wait_until never returned true and never timed out in scenario \"{scenario}\""));
                }
                else if (!held && timedOut)
                {
                    notes.Add(new CoverageItem(CoverageCode.WaitNeverHeld, function.Spans[pc], function.Name,
                        $"wait_until never returned true in scenario \"{scenario}\": it only timed out"));
                }
            }
        }
        warnings.Sort(ByPosition);
        notes.Sort(ByPosition);
        return new Coverage
        {
            Exhaustive = exhaustive,
            Statements = statements,
            Reached = reached,
            Warnings = exhaustive ? warnings : [],
            Notes = notes,
        };
    }

    private static string Describe(CompiledFunction function) => function.Handler is null && !function.IsSynthetic ? $"{function.Name}()" : function.Name;

    /// <summary>Whether some run made the handler's event pending.</summary>
    private static bool Raised(CompiledProgram program, ExecutionMarks marks, CompiledFunction handler)
    {
        switch (handler.Handler)
        {
            case HandlerKind.Nmi:
                return marks.Raised(EventKind.Nmi);
            case HandlerKind.Mce:
                return marks.Raised(EventKind.Mce);
            default:
                var index = VectorIndex(program, handler);
                return index >= 0 && (marks.VectorsSent & (1UL << index)) != 0;
        }
    }

    /// <summary>The pending-vector index of a vector handler (the machine's layout: handled vectors in ascending order).</summary>
    private static int VectorIndex(CompiledProgram program, CompiledFunction handler)
    {
        var vectors = program.VectorHandlers.Where(v => v.Value == handler.Id).Select(v => v.Key).ToList();
        if (vectors.Count == 0)
        {
            return -1;
        }
        return program.VectorHandlers.Keys.Order().ToList().IndexOf(vectors[0]);
    }

    /// <summary>The vector as the handler's declaration names it (<c>handler vector REBOOT_VECTOR</c>).</summary>
    private static string VectorName(CompiledFunction handler)
    {
        const string prefix = "handler vector ";
        return handler.Name.StartsWith(prefix, StringComparison.Ordinal) ? handler.Name[prefix.Length..] : $"vector {handler.Vector}";
    }

    private static string WhyNotDelivered(CompiledProgram program, CompiledFunction handler) => handler.Handler switch
    {
        HandlerKind.Nmi => "an NMI was sent but never taken (a CPU takes no NMI while its NMI handler runs, while GIF = 0, nor in wait-for-SIPI or WBINVD)",
        HandlerKind.Mce => "a machine check was raised but never taken",
        _ => $"{VectorName(handler)} was sent but never delivered: a CPU takes a maskable interrupt only with IF = 1 and GIF = 1, "
            + "and every CPU starts with IF = 0 (call local_irq_enable()); clgi() clears GIF until stgi()",
    };
}

/// <summary>What the code alone allows: live instructions (constant branches folded, calls that never
/// return, intrinsics that never return) and the functions a set of roots can call.</summary>
internal static class StaticAnalysis
{
    public static bool[][] LiveInstructions(CompiledProgram program)
    {
        var functions = program.Functions;
        var returns = new bool[functions.Count];
        bool[][] live = [];
        // Optimistically no function returns; a function returns when a Return/End is live. Monotone: a fixpoint.
        for (var changed = true; changed;)
        {
            changed = false;
            live = functions.Select(f => LiveFixpoint(f, returns, program)).ToArray();
            for (var f = 0; f < functions.Count; f++)
            {
                var code = functions[f].Code;
                var returnsNow = Enumerable.Range(0, code.Length).Any(pc => live[f][pc] && code[pc].Op is OpCode.Return or OpCode.End);
                if (returnsNow && !returns[f])
                {
                    returns[f] = true;
                    changed = true;
                }
            }
        }
        return live;
    }

    /// <summary>The functions called (or passed to boot_next_kernel) from live code of the roots, transitively.</summary>
    public static bool[] Callees(CompiledProgram program, bool[][] live, IEnumerable<int> roots)
    {
        var seen = new bool[program.Functions.Count];
        var work = new Stack<int>(roots);
        while (work.Count > 0)
        {
            var f = work.Pop();
            if (f < 0 || f >= seen.Length || seen[f])
            {
                continue;
            }
            seen[f] = true;
            var code = program.Functions[f].Code;
            for (var pc = 0; pc < code.Length; pc++)
            {
                if (!live[f][pc])
                {
                    continue;
                }
                if (code[pc].Op == OpCode.Call)
                {
                    work.Push(code[pc].A);
                }
                else if (code[pc].Op == OpCode.Intrinsic && (IntrinsicId)code[pc].A == IntrinsicId.BootNextKernel && pc > 0 && code[pc - 1].Op == OpCode.PushConst)
                {
                    work.Push((int)code[pc - 1].B);
                }
            }
        }
        return seen;
    }

    /// <summary>
    /// Live instructions: a branch on a constant takes one way only. Jumps from dead code do not count, so
    /// constant short-circuit conditions fold too (iterated: each round's live set still holds every
    /// instruction some run can reach, so each round is sound, and the sets only shrink).
    /// </summary>
    private static bool[] LiveFixpoint(CompiledFunction function, bool[] returns, CompiledProgram program)
    {
        var live = Live(function, returns, new ConstantFlow(function, program, null));
        while (true)
        {
            var next = Live(function, returns, new ConstantFlow(function, program, live));
            if (next.AsSpan().SequenceEqual(live))
            {
                return live;
            }
            live = next;
        }
    }

    private static bool[] Live(CompiledFunction function, bool[] returns, ConstantFlow constants)
    {
        var code = function.Code;
        var live = new bool[code.Length];
        var work = new Stack<int>();
        work.Push(0);
        while (work.Count > 0)
        {
            var pc = work.Pop();
            if (pc < 0 || pc >= code.Length || live[pc])
            {
                continue;
            }
            live[pc] = true;
            var instruction = code[pc];
            switch (instruction.Op)
            {
                case OpCode.Jump:
                    work.Push(instruction.A);
                    break;
                case OpCode.JumpIfFalse:
                case OpCode.JumpIfTrue:
                    if (constants.Before(pc, 0) is { } value)
                    {
                        var taken = (value == 0) == (instruction.Op == OpCode.JumpIfFalse);
                        work.Push(taken ? instruction.A : pc + 1);
                    }
                    else
                    {
                        work.Push(instruction.A);
                        work.Push(pc + 1);
                    }
                    break;
                case OpCode.Return:
                case OpCode.End:
                    break;
                case OpCode.Either:
                    foreach (var target in function.BranchTables[instruction.A])
                    {
                        work.Push(target);
                    }
                    break;
                case OpCode.WaitBegin:
                    // The condition runs from here to its WaitEnd, then the code after it.
                    work.Push(pc + 1);
                    work.Push(instruction.A + 1);
                    break;
                case OpCode.Intrinsic when NeverReturns((IntrinsicId)instruction.A):
                    break;
                case OpCode.Call when instruction.A >= 0 && instruction.A < returns.Length && !returns[instruction.A]:
                    break;
                default:
                    work.Push(pc + 1);
                    break;
            }
        }
        return live;
    }

    /// <summary>
    /// The value on top of the operand stack where it is the same on every path: constants, the platform's
    /// features and bugs, nr_cpus(), and a wait_until that cannot time out (no timeout, or <c>timeouts off</c>)
    /// returning true. Paths are the live ones of the previous round (all at first).
    /// </summary>
    private sealed class ConstantFlow
    {
        private const int MaxDepth = 64;
        private const byte Visiting = 1;
        private const byte Known = 2;
        private readonly Instruction[] _code;
        private readonly CompiledProgram _program;
        private readonly bool[]? _live;
        private readonly List<int>[] _jumps;
        private readonly bool[] _otherEntry;
        private readonly byte[] _state;
        private readonly long?[] _before;

        public ConstantFlow(CompiledFunction function, CompiledProgram program, bool[]? live)
        {
            _code = function.Code;
            _program = program;
            _live = live;
            _jumps = new List<int>[_code.Length + 1];
            _otherEntry = new bool[_code.Length + 1];
            _state = new byte[_code.Length + 1];
            _before = new long?[_code.Length + 1];
            for (var pc = 0; pc < _code.Length; pc++)
            {
                if (live is not null && !live[pc])
                {
                    continue;
                }
                var instruction = _code[pc];
                switch (instruction.Op)
                {
                    case OpCode.Jump when instruction.A >= 0 && instruction.A <= _code.Length:
                        (_jumps[instruction.A] ??= []).Add(pc);
                        break;
                    case OpCode.JumpIfFalse or OpCode.JumpIfTrue when instruction.A >= 0 && instruction.A <= _code.Length:
                        _otherEntry[instruction.A] = true;
                        break;
                    case OpCode.Either:
                        foreach (var target in function.BranchTables[instruction.A])
                        {
                            _otherEntry[target] = true;
                        }
                        break;
                }
            }
            _otherEntry[0] = true; // the function's entry
        }

        private bool Live(int pc) => _live is null || _live[pc];

        /// <summary>Whether control can arrive at <paramref name="pc"/> other than by falling into it.</summary>
        private bool IsJoin(int pc) => _otherEntry[pc] || _jumps[pc] is { Count: > 0 };

        private static bool FallsThrough(OpCode op) => op is not (OpCode.Jump or OpCode.Return or OpCode.End or OpCode.Either);

        /// <summary>The top of the stack on arrival at <paramref name="pc"/>, from every live predecessor
        /// (memoised: each pc is worked out once; a pc met again while being worked out is unknown).</summary>
        public long? Before(int pc, int depth)
        {
            if (depth > MaxDepth || pc <= 0 || _otherEntry[pc])
            {
                return null;
            }
            switch (_state[pc])
            {
                case Visiting:
                    return null;
                case Known:
                    return _before[pc];
            }
            _state[pc] = Visiting;
            var value = Compute(pc, depth);
            _before[pc] = value;
            _state[pc] = Known;
            return value;
        }

        private long? Compute(int pc, int depth)
        {
            long? value = null;
            if (Live(pc - 1) && FallsThrough(_code[pc - 1].Op))
            {
                // After a wait the machine resumes past its WaitEnd with the wait's value pushed: as if it fell through.
                value = After(pc - 1, depth + 1);
                if (value is null)
                {
                    return null;
                }
            }
            foreach (var jump in _jumps[pc] ?? [])
            {
                var other = Before(jump, depth + 1);
                if (other is null || (value is { } known && known != other))
                {
                    return null;
                }
                value = other;
            }
            return value;
        }

        /// <summary>The top of the stack after <paramref name="pc"/> runs and falls through.</summary>
        private long? After(int pc, int depth)
        {
            if (depth > MaxDepth)
            {
                return null;
            }
            var instruction = _code[pc];
            switch (instruction.Op)
            {
                case OpCode.PushConst:
                    return instruction.B;
                case OpCode.WaitEnd when !_program.Timeouts || instruction.A < 0:
                    return 1;
                case OpCode.ClearLocals or OpCode.Nop or OpCode.AtomicBegin or OpCode.AtomicEnd:
                    return Before(pc, depth + 1);
                case OpCode.Unary when Before(pc, depth + 1) is { } operand:
                    return Arithmetic.Apply((UnaryOp)instruction.A, operand);
                case OpCode.Binary when !IsJoin(pc) && Before(pc, depth + 1) is { } right && RightOperandStart(pc - 1) is var start and > 0
                    && !IsJoin(start)
                    && Live(start - 1) && FallsThrough(_code[start - 1].Op) && After(start - 1, depth + 1) is { } left:
                    return Arithmetic.TryApply((BinaryOp)instruction.A, left, right, out var result) ? result : null;
                case OpCode.Intrinsic when (IntrinsicId)instruction.A == IntrinsicId.NrCpus:
                    return _program.Platform.Cpus;
                case OpCode.Intrinsic when (IntrinsicId)instruction.A is IntrinsicId.CpuHas or IntrinsicId.CpuHasBug
                    && instruction.B == 1 && Before(pc, depth + 1) is { } which:
                    {
                        // Features and bugs are the platform's: fixed for the scenario.
                        var names = (IntrinsicId)instruction.A == IntrinsicId.CpuHas ? CpuFeatures.Names : _program.BugNames;
                        var set = (IntrinsicId)instruction.A == IntrinsicId.CpuHas ? _program.Platform.Features : _program.Platform.Bugs;
                        return which >= 0 && which < names.Count ? (set.Contains(names[(int)which]) ? 1 : 0) : null;
                    }
                default:
                    return null;
            }
        }

        /// <summary>Where the straight-line constant expression ending at <paramref name="end"/> starts (-1: not one).</summary>
        private int RightOperandStart(int end)
        {
            var need = 1;
            for (var pc = end; pc >= 0; pc--)
            {
                if (pc != end && IsJoin(pc + 1))
                {
                    return -1; // a join inside: not straight-line
                }
                switch (_code[pc].Op)
                {
                    case OpCode.PushConst:
                        need--;
                        break;
                    case OpCode.Unary or OpCode.ClearLocals:
                        break;
                    case OpCode.Binary:
                        need++;
                        break;
                    case OpCode.Intrinsic when (IntrinsicId)_code[pc].A == IntrinsicId.NrCpus:
                        need--;
                        break;
                    case OpCode.Intrinsic when (IntrinsicId)_code[pc].A is IntrinsicId.CpuHas or IntrinsicId.CpuHasBug && _code[pc].B == 1:
                        break;
                    default:
                        return -1;
                }
                if (need == 0)
                {
                    return pc;
                }
            }
            return -1;
        }
    }

    private static bool NeverReturns(IntrinsicId id) =>
        id is IntrinsicId.Done or IntrinsicId.PlatformReset or IntrinsicId.Panic or IntrinsicId.BootNextKernel;
}
