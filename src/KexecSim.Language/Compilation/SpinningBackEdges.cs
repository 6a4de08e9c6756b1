using KexecSim.Program;

namespace KexecSim.Language.Compilation;

/// <summary>
/// A loop back-edge whose loop can go round without a visible action (directly or through a call) is
/// itself a visible action, so that a CPU spinning on locals still takes steps (LANGUAGE.md section 4).
/// Linear in the code (issue 12): which functions act is found by a worklist over the reverse call
/// graph, and a back-edge spins when it is reachable from its loop's head through instructions that do
/// not act (one search per loop, each instruction of the loop visited at most once).
/// </summary>
internal sealed class SpinningBackEdges
{
    private readonly List<CompiledFunction> _functions;
    private readonly bool[] _acts;
    private readonly FrontEndWork? _work = FrontEndWork.Current;

    // The search of one loop: an instruction is seen when its stamp is the loop's; no clearing between loops.
    private int[] _seen = [];
    private int _stamp;
    private readonly Stack<int> _pending = new();

    private SpinningBackEdges(List<CompiledFunction> functions)
    {
        _functions = functions;
        _acts = FunctionsThatAct(functions, _work);
    }

    /// <summary>Sets <see cref="InstructionFlags.Visible"/> on every spinning back-edge of <paramref name="functions"/> (indexed by id).</summary>
    public static void Mark(List<CompiledFunction> functions)
    {
        var analysis = new SpinningBackEdges(functions);
        foreach (var function in functions)
        {
            analysis.MarkIn(function);
        }
    }

    /// <summary>
    /// Whether each function takes a visible action on some path, itself or through a function it calls:
    /// the functions with a visible instruction, then their callers, their callers' callers, and so on.
    /// </summary>
    private static bool[] FunctionsThatAct(List<CompiledFunction> functions, FrontEndWork? work)
    {
        var acts = new bool[functions.Count];
        var callers = new List<int>?[functions.Count];
        var pending = new Stack<int>();
        foreach (var function in functions)
        {
            foreach (var instruction in function.Code)
            {
                if (instruction.IsVisible && !acts[function.Id])
                {
                    acts[function.Id] = true;
                    pending.Push(function.Id);
                }
                if (instruction.Op == OpCode.Call)
                {
                    (callers[instruction.A] ??= []).Add(function.Id);
                }
            }
            if (work is not null)
            {
                work.CallGraphVisits += function.Code.Length;
            }
        }
        while (pending.Count > 0)
        {
            var callee = pending.Pop();
            if (callers[callee] is not { } list)
            {
                continue;
            }
            foreach (var caller in list)
            {
                if (!acts[caller])
                {
                    acts[caller] = true;
                    pending.Push(caller);
                }
            }
            if (work is not null)
            {
                work.CallGraphVisits += list.Count;
            }
        }
        return acts;
    }

    private void MarkIn(CompiledFunction function)
    {
        var code = function.Code;
        if (_seen.Length < code.Length)
        {
            _seen = new int[code.Length];
            _stamp = 0;
        }
        for (var j = 0; j < code.Length; j++)
        {
            if (code[j].IsBackEdge && CanGoRoundWithoutActing(function, code[j].A, j))
            {
                code[j] = code[j] with { Flags = code[j].Flags | InstructionFlags.Visible };
            }
        }
    }

    private bool Acts(Instruction instruction) =>
        instruction.IsVisible || (instruction.Op == OpCode.Call && _acts[instruction.A]);

    /// <summary>
    /// Whether some path from the loop's head to its back-edge, within the loop's instructions, takes no
    /// visible action before the back-edge (the back-edge itself does not count: it is what is decided).
    /// </summary>
    private bool CanGoRoundWithoutActing(CompiledFunction function, int head, int backEdge)
    {
        if (head == backEdge)
        {
            return true;
        }
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_seen);
            _stamp = 1;
        }
        var code = function.Code;
        _pending.Clear();
        _seen[head] = _stamp;
        _pending.Push(head);
        long visits = 0;
        var found = false;
        while (_pending.Count > 0 && !found)
        {
            var pc = _pending.Pop();
            visits++;
            var instruction = code[pc];
            if (Acts(instruction))
            {
                continue;
            }
            switch (instruction.Op)
            {
                case OpCode.Jump:
                    found = Reach(instruction.A, head, backEdge);
                    break;
                case OpCode.JumpIfFalse or OpCode.JumpIfTrue:
                    found = Reach(pc + 1, head, backEdge) || Reach(instruction.A, head, backEdge);
                    break;
                case OpCode.Either:
                    foreach (var target in function.BranchTables[instruction.A])
                    {
                        if (Reach(target, head, backEdge))
                        {
                            found = true;
                            break;
                        }
                    }
                    break;
                case OpCode.Return or OpCode.End:
                    break;
                default:
                    found = Reach(pc + 1, head, backEdge);
                    break;
            }
        }
        if (_work is not null)
        {
            _work.LoopAnalysisVisits += visits;
        }
        return found;
    }

    /// <summary>Follows an edge to <paramref name="next"/>: true when it is the back-edge; queues it when it is in the loop and new.</summary>
    private bool Reach(int next, int head, int backEdge)
    {
        if (next == backEdge)
        {
            return true;
        }
        if (next > head && next < backEdge && _seen[next] != _stamp)
        {
            _seen[next] = _stamp;
            _pending.Push(next);
        }
        return false;
    }
}
