using KexecSim.Language.Binding;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Compilation;

public sealed partial class ProgramCompiler
{
    /// <summary>Per-function emission state.</summary>
    private sealed class Emitter
    {
        public readonly List<Instruction> Code = [];
        public readonly List<DebugSpan> Spans = [];
        public readonly List<int[]> BranchTables = [];
        public readonly List<StatementEntry> Statements = [];
        public Dictionary<LocalSymbol, int> Slots = new(ReferenceEqualityComparer.Instance);
        public readonly List<LoopContext> Loops = [];
        public readonly List<List<LocalSymbol>> Scopes = [];
        public int SlotCount;
        public int AtomicDepth;
        public SourceText Source = null!;
        public FunctionSymbol Function = null!;

        /// <summary>Ready for the next function. PERF: the lists are kept (a model of 300,000 small functions made
        /// 300,000 of each); the slot map is new, as the compiled program keeps it.</summary>
        public Emitter Reset(SourceText source, FunctionSymbol function)
        {
            Code.Clear();
            Spans.Clear();
            BranchTables.Clear();
            Statements.Clear();
            Loops.Clear();
            Scopes.Clear();
            Slots = new(ReferenceEqualityComparer.Instance);
            SlotCount = 0;
            AtomicDepth = 0;
            Source = source;
            Function = function;
            return this;
        }
    }

    private readonly Emitter _emitter = new();

    private sealed class LoopContext
    {
        public readonly List<int> Breaks = [];
        public readonly List<int> Continues = [];
        public int AtomicDepth;
        public int ScopeDepth;
    }

    private Emitter _e = null!;

    private CompiledFunction CompileFunction(FunctionSymbol function)
    {
        _e = _emitter.Reset(function.Source ?? SourceSpans.Empty, function);
        var parameterIsMask = new bool[function.Parameters.Count];
        foreach (var parameter in function.Parameters)
        {
            // A cpumask parameter holds a reference (the kernel passes struct cpumask *).
            _e.Slots[parameter] = _e.SlotCount++;
            parameterIsMask[parameter.Ordinal] = parameter.Type.Kind == TypeKind.Cpumask;
        }
        foreach (var local in function.Locals)
        {
            if (local.IsParameter)
            {
                continue;
            }
            _e.Slots[local] = _e.SlotCount;
            _e.SlotCount += local.Type.Kind == TypeKind.Cpumask ? _cpumaskWords : 1;
        }
        if (function.Body is not null)
        {
            // PERF: room for about an instruction per expression and statement, so that a huge body's lists do not grow.
            var estimate = (LiveExpressions(function.Body).Length + LiveStatements(function.Body).Length) * 5 / 4 + 8;
            _e.Code.EnsureCapacity(estimate);
            _e.Spans.EnsureCapacity(estimate);
            EmitStatement(function.Body);
        }
        var end = function.Body is null ? function.Span : new TextSpan(Math.Max(0, function.Body.Span.End - 1), 1);
        // Falling off the end returns: with a modelled stack that writes the stack line, as a return does.
        Emit(OpCode.End, end, VisibleIfStack(), 0, 0);
        var code = _e.Code.ToArray();
        _slotMaps[function] = _e.Slots;
        return new CompiledFunction
        {
            Id = _functionIds[function],
            Name = function.Name,
            ParameterCount = function.Parameters.Count,
            SlotCount = _e.SlotCount,
            ReturnsValue = function.ReturnType.Kind is not (TypeKind.Void or TypeKind.Error),
            ReturnTypeName = function.ReturnType.Name,
            Code = code,
            Spans = _e.Spans.ToArray(),
            BranchTables = _e.BranchTables.ToArray(),
            Statements = _e.Statements.ToArray(),
            HomeLinePerCpu = HomeLines(function),
            Declaration = SourceSpans.Of(function.Source, function.Span),
            Handler = function.Handler,
            Vector = function.Vector is null ? null : Evaluate(function.Vector, function.Source),
            IsSynthetic = function.IsSynthetic,
            ParameterIsMask = parameterIsMask,
            // PERF: most functions have no local; no query is made for them.
            Locals = _e.Slots.Count == 0
                ? []
                : _e.Slots
                    .Where(p => !p.Key.IsHidden && p.Key.Name.Length > 0)
                    .OrderBy(p => p.Value)
                    .Select(p => new LocalInfo(p.Value, p.Key.Name, p.Key.Type.Name, p.Key.IsParameter))
                    .ToArray(),
        };
    }

    private int Emit(OpCode op, TextSpan span, InstructionFlags flags = InstructionFlags.None, int a = 0, long b = 0)
    {
        _e.Code.Add(new Instruction(op, flags, a, b));
        _e.Spans.Add(new DebugSpan(_e.Source, span));
        return _e.Code.Count - 1;
    }

    private int Here => _e.Code.Count;

    private void Patch(int at, int target)
    {
        var i = _e.Code[at];
        _e.Code[at] = i with { A = target };
    }

    private int NewTemp()
    {
        return _e.SlotCount++;
    }

    // ───────────────────────────── Statements ─────────────────────────────

    private void EmitStatement(BoundStatement statement)
    {
        // The line table's statement entries (DWARF's is_stmt): a statement starts at its first
        // instruction; blocks are only containers, and a statement that emits nothing has no entry.
        var entry = -1;
        var first = Here;
        if (statement is not (BoundBlock or BoundNop))
        {
            entry = _e.Statements.Count;
            _e.Statements.Add(new StatementEntry(first, new DebugSpan(_e.Source, statement.Span)));
        }
        EmitStatementCode(statement);
        if (entry >= 0 && Here == first)
        {
            _e.Statements.RemoveAt(entry);
        }
    }

    private void EmitStatementCode(BoundStatement statement)
    {
        switch (statement)
        {
            case BoundBlock block:
                _e.Scopes.Add([.. block.Locals]);
                foreach (var s in block.Statements)
                {
                    EmitStatement(s);
                }
                _e.Scopes.RemoveAt(_e.Scopes.Count - 1);
                EmitClear(block.Locals, block.Span);
                break;
            case BoundNop:
                break;
            case BoundLocalDeclaration declaration:
                EmitLocalDeclaration(declaration);
                break;
            case BoundAssignment assignment:
                EmitAssignment(assignment);
                break;
            case BoundExpressionStatement expressionStatement:
                EmitExpression(expressionStatement.Expression);
                if (expressionStatement.Expression.Type.Kind is not (TypeKind.Void or TypeKind.Error))
                {
                    Emit(OpCode.Pop, statement.Span);
                }
                break;
            case BoundIf ifStatement:
                {
                    EmitExpression(ifStatement.Condition);
                    var jumpToElse = Emit(OpCode.JumpIfFalse, ifStatement.Condition.Span);
                    EmitStatement(ifStatement.Then);
                    if (ifStatement.Else is null)
                    {
                        Patch(jumpToElse, Here);
                    }
                    else
                    {
                        var jumpToEnd = Emit(OpCode.Jump, ifStatement.Then.Span);
                        Patch(jumpToElse, Here);
                        EmitStatement(ifStatement.Else);
                        Patch(jumpToEnd, Here);
                    }
                    break;
                }
            case BoundLoop loop:
                EmitLoop(loop);
                break;
            case BoundForEachCpu forEachCpu:
                EmitForEachCpu(forEachCpu);
                break;
            case BoundForEachLine forEachLine:
                EmitForEachLine(forEachLine);
                break;
            case BoundBreak:
            case BoundContinue:
                {
                    if (_e.Loops.Count == 0)
                    {
                        break; // 'break' outside a loop: diagnosed by the binder.
                    }
                    var loop = _e.Loops[^1];
                    for (var i = 0; i < _e.AtomicDepth - loop.AtomicDepth; i++)
                    {
                        Emit(OpCode.AtomicEnd, statement.Span);
                    }
                    // Locals of the blocks being left die here too.
                    for (var depth = _e.Scopes.Count - 1; depth >= loop.ScopeDepth; depth--)
                    {
                        EmitClear(_e.Scopes[depth], statement.Span);
                    }
                    var jump = Emit(OpCode.Jump, statement.Span);
                    (statement is BoundBreak ? loop.Breaks : loop.Continues).Add(jump);
                    break;
                }
            case BoundReturn returnStatement:
                {
                    if (returnStatement.Value is not null)
                    {
                        EmitExpression(returnStatement.Value);
                    }
                    for (var i = 0; i < _e.AtomicDepth; i++)
                    {
                        Emit(OpCode.AtomicEnd, statement.Span);
                    }
                    Emit(OpCode.Return, statement.Span, VisibleIfStack(), returnStatement.Value is null ? 0 : 1);
                    break;
                }
            case BoundEither either:
                {
                    var table = new int[either.Branches.Count];
                    var tableIndex = _e.BranchTables.Count;
                    _e.BranchTables.Add(table);
                    Emit(OpCode.Either, new TextSpan(either.Span.Start, 6), InstructionFlags.Visible, tableIndex, table.Length);
                    var ends = new List<int>();
                    for (var i = 0; i < either.Branches.Count; i++)
                    {
                        table[i] = Here;
                        EmitStatement(either.Branches[i]);
                        if (i < either.Branches.Count - 1)
                        {
                            ends.Add(Emit(OpCode.Jump, either.Branches[i].Span));
                        }
                    }
                    foreach (var end in ends)
                    {
                        Patch(end, Here);
                    }
                    break;
                }
            case BoundAtomic atomic:
                Emit(OpCode.AtomicBegin, new TextSpan(atomic.Span.Start, 6));
                _e.AtomicDepth++;
                EmitStatement(atomic.Body);
                _e.AtomicDepth--;
                Emit(OpCode.AtomicEnd, new TextSpan(Math.Max(atomic.Span.Start, atomic.Span.End - 1), 1));
                break;
            default:
                throw new InvalidOperationException($"unexpected bound statement {statement.GetType().Name}");
        }
    }

    private InstructionFlags VisibleIfStack() => _stackRegion >= 0 ? InstructionFlags.Visible : InstructionFlags.None;

    private void EmitClear(IReadOnlyList<LocalSymbol> locals, TextSpan span)
    {
        foreach (var local in locals)
        {
            var size = local.Type.Kind == TypeKind.Cpumask ? _cpumaskWords : 1;
            Emit(OpCode.ClearLocals, new TextSpan(Math.Max(span.Start, span.End - 1), Math.Min(1, span.Length)), InstructionFlags.None, _e.Slots[local], size);
        }
    }

    private void EmitLocalDeclaration(BoundLocalDeclaration declaration)
    {
        var slot = _e.Slots[declaration.Local];
        if (declaration.Local.Type.Kind == TypeKind.Cpumask)
        {
            Emit(OpCode.ClearLocals, declaration.Span, InstructionFlags.None, slot, _cpumaskWords);
            if (declaration.Initializer is not null)
            {
                Emit(OpCode.PushLocalRef, declaration.Span, InstructionFlags.None, slot);
                EmitExpression(declaration.Initializer);
                Emit(OpCode.Intrinsic, declaration.Span, InstructionFlags.Visible, (int)IntrinsicId.CpumaskCopy, 2);
            }
            return;
        }
        if (declaration.Initializer is null)
        {
            // Zero-initialised (it may be re-entered by a loop).
            Emit(OpCode.PushConst, declaration.Span, InstructionFlags.None, 0, 0);
        }
        else
        {
            EmitExpression(declaration.Initializer);
        }
        Emit(OpCode.StoreLocal, declaration.Span, InstructionFlags.None, slot);
    }

    private void EmitAssignment(BoundAssignment assignment)
    {
        var target = assignment.Target;
        if (target.Type.Kind == TypeKind.Cpumask && assignment.Value is not null)
        {
            EmitExpression(target);
            EmitExpression(assignment.Value!);
            Emit(OpCode.Intrinsic, assignment.Span, InstructionFlags.Visible, (int)IntrinsicId.CpumaskCopy, 2);
            return;
        }
        var span = assignment.Span;
        switch (target)
        {
            case BoundLocal local:
                {
                    var slot = _e.Slots[local.Local];
                    if (local.Local.IsParameter && local.Local.Type.Kind == TypeKind.Cpumask)
                    {
                        throw new InvalidOperationException("cpumask assignment handled above");
                    }
                    if (assignment.Kind != AssignmentKind.Assign)
                    {
                        Emit(OpCode.LoadLocal, span, InstructionFlags.None, slot);
                    }
                    EmitCompoundValue(assignment);
                    Emit(OpCode.StoreLocal, span, InstructionFlags.None, slot);
                    break;
                }
            case BoundGlobal { Cpu: null } global:
                if (assignment.Kind != AssignmentKind.Assign)
                {
                    Emit(OpCode.LoadVar, target.Span, InstructionFlags.Visible, global.Variable.Ordinal);
                }
                EmitCompoundValue(assignment);
                Emit(OpCode.StoreVar, span, InstructionFlags.Visible, global.Variable.Ordinal);
                break;
            case BoundGlobal global:
                EmitExpression(global.Cpu!);
                if (assignment.Kind != AssignmentKind.Assign)
                {
                    Emit(OpCode.Dup, span);
                    Emit(OpCode.LoadVarOf, target.Span, InstructionFlags.Visible, global.Variable.Ordinal);
                }
                EmitCompoundValue(assignment);
                Emit(OpCode.StoreVarOf, span, InstructionFlags.Visible, global.Variable.Ordinal);
                break;
            default:
                // An erroneous target (already diagnosed): compile the value for its own errors only.
                if (assignment.Value is not null)
                {
                    EmitExpression(assignment.Value);
                    Emit(OpCode.Pop, span);
                }
                break;
        }
    }

    /// <summary>With the old value on the stack for compound forms, leaves the new value.</summary>
    private void EmitCompoundValue(BoundAssignment assignment)
    {
        switch (assignment.Kind)
        {
            case AssignmentKind.Assign:
                EmitExpression(assignment.Value!);
                break;
            case AssignmentKind.Add:
            case AssignmentKind.Subtract:
                EmitExpression(assignment.Value!);
                Emit(OpCode.Binary, assignment.Span, InstructionFlags.None, (int)(assignment.Kind == AssignmentKind.Add ? BinaryOp.Add : BinaryOp.Subtract));
                break;
            default:
                Emit(OpCode.PushConst, assignment.Span, InstructionFlags.None, 0, 1);
                Emit(OpCode.Binary, assignment.Span, InstructionFlags.None, (int)(assignment.Kind == AssignmentKind.Increment ? BinaryOp.Add : BinaryOp.Subtract));
                break;
        }
    }

    private LoopContext PushLoop()
    {
        var context = new LoopContext { AtomicDepth = _e.AtomicDepth, ScopeDepth = _e.Scopes.Count };
        _e.Loops.Add(context);
        return context;
    }

    private void PopLoop(LoopContext context, int continueTarget, int breakTarget)
    {
        foreach (var jump in context.Continues)
        {
            Patch(jump, continueTarget);
        }
        foreach (var jump in context.Breaks)
        {
            Patch(jump, breakTarget);
        }
        _e.Loops.RemoveAt(_e.Loops.Count - 1);
    }

    private void EmitLoop(BoundLoop loop)
    {
        _e.Scopes.Add([.. loop.Locals]);
        if (loop.Initializer is not null)
        {
            EmitStatement(loop.Initializer);
        }
        var context = PushLoop();
        var top = Here;
        var exit = -1;
        if (loop.Condition is not null && loop.Condition is not BoundLiteral { Value: not 0 })
        {
            EmitExpression(loop.Condition);
            exit = Emit(OpCode.JumpIfFalse, loop.Condition.Span);
        }
        EmitStatement(loop.Body);
        var continueTarget = Here;
        if (loop.Step is not null)
        {
            EmitStatement(loop.Step);
        }
        Emit(OpCode.Jump, BackEdgeSpan(loop.Span), InstructionFlags.BackEdge, top);
        var end = Here;
        if (exit >= 0)
        {
            Patch(exit, end);
        }
        PopLoop(context, continueTarget, end);
        _e.Scopes.RemoveAt(_e.Scopes.Count - 1);
        EmitClear(loop.Locals, loop.Span);
    }

    /// <summary>The loop keyword: where a reader looks for the loop's back-edge.</summary>
    private static TextSpan BackEdgeSpan(TextSpan loop) => new(loop.Start, Math.Min(loop.Length, 1));

    private void EmitForEachCpu(BoundForEachCpu loop)
    {
        var slot = _e.Slots[loop.Variable];
        Emit(OpCode.PushConst, loop.Span, InstructionFlags.None, 0, -1);
        // B = 1: the loop's start (-1, before CPU 0), not a value of the loop variable a report shows.
        Emit(OpCode.StoreLocal, loop.Span, InstructionFlags.None, slot, 1);
        var context = PushLoop();
        var top = Here;
        EmitExpression(loop.Mask);
        // Reading a mask in memory is a visible action; a local mask or cpu_all_mask is not.
        var readsMemory = loop.Mask is BoundGlobal || loop.Mask is BoundLocal { Local.IsParameter: true };
        Emit(OpCode.CpumaskNext, loop.Mask.Span, readsMemory ? InstructionFlags.Visible : InstructionFlags.None, slot);
        var exit = Emit(OpCode.JumpIfFalse, loop.Mask.Span);
        EmitStatement(loop.Body);
        Emit(OpCode.Jump, BackEdgeSpan(loop.Span), InstructionFlags.BackEdge, top);
        var end = Here;
        Patch(exit, end);
        PopLoop(context, top, end);
        Emit(OpCode.ClearLocals, loop.Span, InstructionFlags.None, slot, 1);
    }

    private void EmitForEachLine(BoundForEachLine loop)
    {
        var region = _regions[loop.Region];
        var counter = _e.Slots[loop.Counter];
        var variable = _e.Slots[loop.Variable];
        Emit(OpCode.PushConst, loop.Span, InstructionFlags.None, 0, 0);
        Emit(OpCode.StoreLocal, loop.Span, InstructionFlags.None, counter);
        var context = PushLoop();
        var top = Here;
        Emit(OpCode.LoadLocal, loop.Span, InstructionFlags.None, counter);
        Emit(OpCode.RegionLength, loop.Span, InstructionFlags.None, region.Id);
        Emit(OpCode.Binary, loop.Span, InstructionFlags.None, (int)BinaryOp.Less);
        var exit = Emit(OpCode.JumpIfFalse, loop.Span);
        Emit(OpCode.LoadLocal, loop.Span, InstructionFlags.None, counter);
        Emit(OpCode.RegionLineAt, loop.Span, InstructionFlags.None, region.Id);
        Emit(OpCode.StoreLocal, loop.Span, InstructionFlags.None, variable);
        EmitStatement(loop.Body);
        var continueTarget = Here;
        Emit(OpCode.LoadLocal, loop.Span, InstructionFlags.None, counter);
        Emit(OpCode.PushConst, loop.Span, InstructionFlags.None, 0, 1);
        Emit(OpCode.Binary, loop.Span, InstructionFlags.None, (int)BinaryOp.Add);
        Emit(OpCode.StoreLocal, loop.Span, InstructionFlags.None, counter);
        Emit(OpCode.Jump, BackEdgeSpan(loop.Span), InstructionFlags.BackEdge, top);
        var end = Here;
        Patch(exit, end);
        PopLoop(context, continueTarget, end);
        Emit(OpCode.ClearLocals, loop.Span, InstructionFlags.None, counter, 1);
        Emit(OpCode.ClearLocals, loop.Span, InstructionFlags.None, variable, 1);
    }

    // ───────────────────────────── Expressions ─────────────────────────────

    private void EmitExpression(BoundExpression expression)
    {
        var span = expression.Span;
        switch (expression)
        {
            case BoundLiteral literal:
                Emit(OpCode.PushConst, span, InstructionFlags.None, 0, literal.Value);
                break;
            case BoundConstReference reference:
                Emit(OpCode.PushConst, span, InstructionFlags.None, 0, _constants.GetValueOrDefault(reference.Constant));
                break;
            case BoundLocal local:
                {
                    var slot = _e.Slots[local.Local];
                    var isMaskStorage = local.Type.Kind == TypeKind.Cpumask && !local.Local.IsParameter;
                    Emit(isMaskStorage ? OpCode.PushLocalRef : OpCode.LoadLocal, span, InstructionFlags.None, slot);
                    break;
                }
            case BoundGlobal global:
                {
                    var isMask = global.Type.Kind == TypeKind.Cpumask;
                    if (global.Cpu is null)
                    {
                        Emit(isMask ? OpCode.PushVarRef : OpCode.LoadVar, span, isMask ? InstructionFlags.None : InstructionFlags.Visible, global.Variable.Ordinal);
                    }
                    else
                    {
                        EmitExpression(global.Cpu);
                        Emit(isMask ? OpCode.PushVarRefOf : OpCode.LoadVarOf, span, isMask ? InstructionFlags.None : InstructionFlags.Visible, global.Variable.Ordinal);
                    }
                    break;
                }
            case BoundAllCpusMask:
                Emit(OpCode.PushAllMask, span);
                break;
            case BoundRegionLine line:
                {
                    var region = _regions[line.Region];
                    if (line.Cpu is not null)
                    {
                        EmitExpression(line.Cpu);
                        EmitExpression(line.Index);
                        Emit(OpCode.RegionLineOf, span, InstructionFlags.None, region.Id);
                    }
                    else
                    {
                        EmitExpression(line.Index);
                        Emit(OpCode.RegionLine, span, InstructionFlags.None, region.Id);
                    }
                    break;
                }
            case BoundUnary unary:
                EmitExpression(unary.Operand);
                Emit(OpCode.Unary, span, InstructionFlags.None, (int)unary.Op);
                break;
            case BoundBinary { Op: BinaryOp.LogicalAnd or BinaryOp.LogicalOr } logical:
                {
                    // Short-circuit; the result is normalised to 0/1.
                    var isAnd = logical.Op == BinaryOp.LogicalAnd;
                    var shortCircuitOp = isAnd ? OpCode.JumpIfFalse : OpCode.JumpIfTrue;
                    EmitExpression(logical.Left);
                    var first = Emit(shortCircuitOp, span);
                    EmitExpression(logical.Right);
                    var second = Emit(shortCircuitOp, span);
                    Emit(OpCode.PushConst, span, InstructionFlags.None, 0, isAnd ? 1 : 0);
                    var toEnd = Emit(OpCode.Jump, span);
                    Patch(first, Here);
                    Patch(second, Here);
                    Emit(OpCode.PushConst, span, InstructionFlags.None, 0, isAnd ? 0 : 1);
                    Patch(toEnd, Here);
                    break;
                }
            case BoundBinary binary:
                EmitExpression(binary.Left);
                EmitExpression(binary.Right);
                Emit(OpCode.Binary, span, InstructionFlags.None, (int)binary.Op);
                break;
            case BoundConditional conditional:
                {
                    EmitExpression(conditional.Condition);
                    var toElse = Emit(OpCode.JumpIfFalse, span);
                    EmitExpression(conditional.WhenTrue);
                    var toEnd = Emit(OpCode.Jump, span);
                    Patch(toElse, Here);
                    EmitExpression(conditional.WhenFalse);
                    Patch(toEnd, Here);
                    break;
                }
            case BoundCall call:
                foreach (var argument in call.Arguments)
                {
                    EmitExpression(argument);
                }
                Emit(OpCode.Call, span, VisibleIfStack(), _functionIds[call.Function], call.Arguments.Count);
                break;
            case BoundIntrinsicCall intrinsic:
                EmitIntrinsic(intrinsic);
                break;
            case BoundString text:
                Emit(OpCode.PushConst, span, InstructionFlags.None, 0, StringId(text.Text));
                break;
            case BoundFunctionReference function:
                Emit(OpCode.PushConst, span, InstructionFlags.None, 0, AddFunctionReference(function.Function));
                break;
            case BoundErrorExpression:
                // Only reached while compiling a model with errors (to report the rest); never run.
                Emit(OpCode.PushConst, span, InstructionFlags.None, 0, 0);
                break;
            default:
                throw new InvalidOperationException($"unexpected bound expression {expression.GetType().Name}");
        }
    }

    private int AddFunctionReference(FunctionSymbol function)
    {
        var id = _functionIds[function];
        _functionValues.Add(id);
        return id;
    }

    private void EmitIntrinsic(BoundIntrinsicCall call)
    {
        var intrinsic = call.Intrinsic;
        var span = call.Span;
        if (intrinsic.Id == IntrinsicId.WaitUntil)
        {
            EmitWaitUntil(call);
            return;
        }
        if (intrinsic.Id is IntrinsicId.TdxKey or IntrinsicId.SevKey && ConstantEvaluator.IsConstant(call))
        {
            Emit(OpCode.PushConst, span, InstructionFlags.None, 0, Evaluate(call, _e.Source));
            return;
        }
        for (var i = 0; i < call.Arguments.Count; i++)
        {
            var argument = call.Arguments[i];
            var kind = i < intrinsic.Parameters.Length ? intrinsic.Parameters[i] : ParamKind.Any;
            switch (kind)
            {
                case ParamKind.Variable or ParamKind.MemoryVariable:
                    EmitPlace(argument);
                    break;
                case ParamKind.Bug:
                    Emit(OpCode.PushConst, argument.Span, InstructionFlags.None, 0, argument is BoundString bug ? BugId(bug.Text) : 0);
                    break;
                default:
                    EmitExpression(argument);
                    break;
            }
        }
        var count = call.Arguments.Count;
        if (intrinsic.Id == IntrinsicId.Assert && count == 1)
        {
            // assert(cond) without a message: the condition's text is the message.
            Emit(OpCode.PushConst, span, InstructionFlags.None, 0, StringId(_e.Source.ToString(call.Arguments[0].Span)));
            count = 2;
        }
        if (intrinsic.Id == IntrinsicId.SevCmd && count == 1)
        {
            Emit(OpCode.PushConst, span, InstructionFlags.None, 0, 0);
            count = 2;
        }
        var flags = intrinsic.IsLocal ? InstructionFlags.None : InstructionFlags.Visible;
        if (intrinsic.IsBlocking)
        {
            flags |= InstructionFlags.Blocking;
        }
        Emit(OpCode.Intrinsic, span, flags, (int)intrinsic.Id, count);
    }

    private int BugId(string name)
    {
        var index = _bugNames.IndexOf(name);
        if (index < 0)
        {
            // A bug no platform of this scenario declares: never present, but still a name.
            _bugNames.Add(name);
            index = _bugNames.Count - 1;
        }
        return index;
    }

    /// <summary>Pushes a reference to a variable instance or a local (atomics and monitor act in place).</summary>
    private void EmitPlace(BoundExpression expression)
    {
        switch (expression)
        {
            case BoundLocal local:
                Emit(OpCode.PushLocalRef, expression.Span, InstructionFlags.None, _e.Slots[local.Local]);
                break;
            case BoundGlobal { Cpu: null } global:
                Emit(OpCode.PushVarRef, expression.Span, InstructionFlags.None, global.Variable.Ordinal);
                break;
            case BoundGlobal global:
                EmitExpression(global.Cpu!);
                Emit(OpCode.PushVarRefOf, expression.Span, InstructionFlags.None, global.Variable.Ordinal);
                break;
            default:
                // Erroneous argument (already diagnosed).
                Emit(OpCode.PushConst, expression.Span, InstructionFlags.None, 0, 0);
                break;
        }
    }

    private void EmitWaitUntil(BoundIntrinsicCall call)
    {
        var span = call.Span;
        var timeoutSlot = -1;
        if (call.Arguments.Count > 1)
        {
            timeoutSlot = NewTemp();
            EmitExpression(call.Arguments[1]);
            Emit(OpCode.StoreLocal, call.Arguments[1].Span, InstructionFlags.None, timeoutSlot);
        }
        var begin = Emit(OpCode.WaitBegin, span);
        EmitExpression(call.Arguments[0]);
        var end = Emit(OpCode.WaitEnd, span, InstructionFlags.Visible | InstructionFlags.Blocking, timeoutSlot);
        Patch(begin, end);
        if (timeoutSlot >= 0)
        {
            Emit(OpCode.ClearLocals, span, InstructionFlags.None, timeoutSlot, 1);
        }
    }
}
