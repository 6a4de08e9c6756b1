using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// The semantics-aware reduction of steps (<c>check --reduce all</c>; docs/reduction.md, "hlt() taken with
/// the step that reaches it"): when a CPU's transition leaves it RUNNING at a <c>hlt()</c> that nothing can
/// keep it from executing next, the machine executes that <c>hlt()</c> in the same transition. The step is a
/// left mover (Lipton, "Reduction: a method of proving properties of parallel programs", CACM 1975): it
/// changes only the CPU's own mode and position, it cannot commit a violation (no deferred fetch is left
/// to check), no other transition reads what it changes, and no other transition of the CPU can come
/// before it:
/// <list type="bullet">
/// <item>no maskable vector: IF = 0 (only the CPU itself can set it);</item>
/// <item>no NMI: NMIs are blocked (it runs an NMI handler) or held by GIF = 0, or no code can send one,
/// none is pending and no NMI can be injected into the CPU;</item>
/// <item>no SMI or machine check: none pending and none can be injected into it (SMIs are also held by GIF = 0);</item>
/// <item>no INIT: no code can send one;</item>
/// <item>it runs on the host (not in a guest) and has no deferred fetch to check (that check belongs to its next step).</item>
/// </list>
/// Whether a run halts the CPU one transition later, after any other CPU's, is then invisible: every
/// state of the full machine where the CPU waits at that <c>hlt()</c> has the same future, up to that one
/// step, as the state where it has halted. The explorers put the step back when they report a run
/// (<c>FullMachineRuns</c>).
/// </summary>
public sealed class HaltMerging
{
    private readonly CompiledProgram _program;
    private readonly bool _nmiCanBeSent;
    private readonly bool _initCanBeSent;
    private readonly (EventKind Kind, int Fault, bool[] Cpus)[] _faults;

    public HaltMerging(CompiledProgram program)
    {
        _program = program;
        var live = program.LiveIntrinsics;
        _nmiCanBeSent = live.Contains(IntrinsicId.SendNmi) || live.Contains(IntrinsicId.SendNmiMask) || live.Contains(IntrinsicId.SendNmiAllButSelf);
        _initCanBeSent = live.Contains(IntrinsicId.SendInit);
        _faults = program.Faults.Select(f => (
            Machine.EventOf(f.Fault),
            (int)f.Fault,
            Enumerable.Range(0, program.Platform.Cpus).Select(c => f.Cpus.Contains(c)).ToArray())).ToArray();
    }

    /// <summary>False when some code can send an INIT: then no <c>hlt()</c> is merged (an INIT takes effect in
    /// its sender's step, on a halted CPU as on a running one, and the analysis does not follow it).</summary>
    public bool Enabled => !_initCanBeSent;

    /// <summary>Whether CPU <paramref name="cpu"/>, RUNNING at a <c>hlt()</c> in <paramref name="state"/>,
    /// executes it at once (the conditions of the class comment).</summary>
    public bool Merges(MachineState state, CpuState cpu, int cpuId)
    {
        if (_initCanBeSent || cpu.FetchCount != 0 || cpu.GuestAsid != 0 || cpu.Has(CpuFlags.InterruptsEnabled)
            || cpu.Has(CpuFlags.PendingMce) || cpu.Has(CpuFlags.PendingInit) || Injectable(state, EventKind.Mce, cpuId))
        {
            return false;
        }
        var held = cpu.Has(CpuFlags.GifClear);
        if (!held && (cpu.Has(CpuFlags.PendingSmi) || Injectable(state, EventKind.Smi, cpuId)))
        {
            return false;
        }
        return held || cpu.Has(CpuFlags.NmiBlocked)
            || (!_nmiCanBeSent && !cpu.Has(CpuFlags.PendingNmi) && !Injectable(state, EventKind.Nmi, cpuId));
    }

    /// <summary>Whether CPU <paramref name="cpu"/> of <paramref name="state"/> is RUNNING at a <c>hlt()</c>
    /// that it would execute at once (what <see cref="Merges"/> decides when the machine reaches it).</summary>
    public bool WaitsAtMergedHalt(MachineState state, int cpu)
    {
        var c = state.Cpus[cpu];
        if (c.Mode != CpuMode.Running || c.Depth == 0)
        {
            return false;
        }
        var code = _program.Functions[c.Function].Code;
        return c.Pc < code.Length && code[c.Pc] is { Op: OpCode.Intrinsic } i && (IntrinsicId)i.A == IntrinsicId.Hlt && Merges(state, c, cpu);
    }

    private bool Injectable(MachineState state, EventKind kind, int cpu)
    {
        foreach (var (k, fault, cpus) in _faults)
        {
            if (k == kind && cpus[cpu] && state.Budget(fault) > 0)
            {
                return true;
            }
        }
        return false;
    }
}
