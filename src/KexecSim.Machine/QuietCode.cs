using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// For each instruction of each function: whether every path from it, to the function's end, is
/// <em>quiet</em> — changes nothing a <c>final</c> block can observe (variables, memory, caches,
/// firmware) and sends no event that could make another CPU do so. A CPU whose whole call stack
/// continues quietly can spin forever without keeping a finished run from settling (SEMANTICS.md
/// section 8). Computed once per program as a greatest fixpoint over the control-flow graph
/// (quiet loops stay quiet); calls are quiet when the callee is quiet from its start.
/// </summary>
public sealed class QuietCode
{
    private readonly bool[][] _quietFrom;

    public QuietCode(CompiledProgram program)
    {
        var functions = program.Functions;
        var stack = program.StackRegion >= 0;
        _quietFrom = new bool[functions.Count][];
        for (var f = 0; f < functions.Count; f++)
        {
            _quietFrom[f] = new bool[functions[f].Code.Length + 1];
            Array.Fill(_quietFrom[f], true);
        }
        for (var changed = true; changed;)
        {
            changed = false;
            for (var f = 0; f < functions.Count; f++)
            {
                var function = functions[f];
                var quiet = _quietFrom[f];
                for (var pc = function.Code.Length - 1; pc >= 0; pc--)
                {
                    if (!quiet[pc])
                    {
                        continue;
                    }
                    if (!Quiet(function, pc, stack))
                    {
                        quiet[pc] = false;
                        changed = true;
                    }
                }
            }
        }
    }

    /// <summary>Whether everything from <paramref name="pc"/> of <paramref name="function"/> to its end is quiet.</summary>
    public bool QuietFrom(int function, int pc) => pc < 0 || _quietFrom[function][Math.Min(pc, _quietFrom[function].Length - 1)];

    private bool Quiet(CompiledFunction function, int pc, bool stack)
    {
        var instruction = function.Code[pc];
        var quiet = _quietFrom[function.Id];
        switch (instruction.Op)
        {
            case OpCode.StoreVar:
            case OpCode.StoreVarOf:
                return false;
            case OpCode.Call:
                return !(stack && instruction.IsVisible) && _quietFrom[instruction.A][0] && quiet[pc + 1];
            case OpCode.Return:
            case OpCode.End:
                return !(stack && instruction.IsVisible);
            case OpCode.Intrinsic:
                return QuietIntrinsic((IntrinsicId)instruction.A) && quiet[pc + 1];
            case OpCode.Jump:
                return quiet[instruction.A];
            case OpCode.JumpIfFalse:
            case OpCode.JumpIfTrue:
                return quiet[instruction.A] && quiet[pc + 1];
            case OpCode.Either:
                foreach (var target in function.BranchTables[instruction.A])
                {
                    if (!quiet[target])
                    {
                        return false;
                    }
                }
                return true;
            default:
                return quiet[pc + 1];
        }
    }

    /// <summary>Intrinsics that read, wait, report or touch only this CPU's own flags.</summary>
    private static bool QuietIntrinsic(IntrinsicId id) => id switch
    {
        IntrinsicId.ThisCpu or IntrinsicId.NrCpus or IntrinsicId.CpuHas or IntrinsicId.CpuHasBug or IntrinsicId.Cpuid
            or IntrinsicId.KernelKey or IntrinsicId.LocalIrqDisable or IntrinsicId.LocalIrqEnable
            or IntrinsicId.Hlt or IntrinsicId.Monitor or IntrinsicId.Mwait
            or IntrinsicId.Load or IntrinsicId.TdxKey or IntrinsicId.SevKey
            or IntrinsicId.CpumaskTestCpu or IntrinsicId.CpumaskEmpty or IntrinsicId.CpumaskWeight or IntrinsicId.CpumaskFirst
            or IntrinsicId.AtomicRead or IntrinsicId.Udelay or IntrinsicId.WaitUntil
            or IntrinsicId.SnpState or IntrinsicId.TdxState or IntrinsicId.Done
            or IntrinsicId.Panic or IntrinsicId.PrErr or IntrinsicId.PrWarn or IntrinsicId.WarnOn or IntrinsicId.BugOn
            or IntrinsicId.Choose or IntrinsicId.Assert => true,
        _ => false,
    };
}
