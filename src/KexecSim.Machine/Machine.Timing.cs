using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// What timed mode (SEMANTICS.md section 9, <c>kexecsim simulate --timed</c>) needs from a step, told as it
/// happens: an event sent to another CPU (it arrives after a latency), a CPU woken from MWAIT by a write
/// to the line it monitors (it resumes after a wake latency), and time passed in <c>udelay</c>.
/// PERF: plain calls, nothing allocated; the machine holds no observer outside timed mode.
/// </summary>
public interface ITimingObserver
{
    /// <summary><paramref name="from"/> sent <paramref name="kind"/> to <paramref name="target"/> (a vector: its pending index).</summary>
    void Sent(int from, int target, SentEvent kind, int vectorIndex);

    /// <summary>A write to the line <paramref name="cpu"/> monitors woke it from MWAIT.</summary>
    void MwaitWoken(int cpu);

    /// <summary><paramref name="cpu"/> ran <c>udelay(microseconds)</c>.</summary>
    void Delayed(int cpu, long microseconds);
}

/// <summary>Timed mode's view of the machine: its observer, the clock's timeouts, and a wait's timeout.</summary>
public sealed partial class Machine
{
    /// <summary>Told what each step does that costs time (timed mode); null otherwise.</summary>
    public ITimingObserver? Timing { get; set; }

    /// <summary>
    /// Timed mode: every timed <c>wait_until</c> may time out, whatever the scenario's <c>timeouts</c> says
    /// (SEMANTICS.md section 9: the wait's clock decides, not the scenario's assumption); the simulator offers
    /// the timeout only once the clock has passed it.
    /// </summary>
    public bool WaitsExpireByClock { get; set; }

    private bool TimeoutsOffered => _program.Timeouts || WaitsExpireByClock;

    /// <summary>
    /// The timeout in microseconds of the timed wait <paramref name="cpu"/> is at, or -1 when it is not at
    /// one (a wait without a timeout, or no wait).
    /// </summary>
    public long TimedWaitMicroseconds(MachineState state, int cpu)
    {
        var view = state.Cpus[cpu];
        if (view.Mode != CpuMode.Running || !IsTimedWait(view))
        {
            return -1;
        }
        var code = _functions[view.Function].Code;
        var slot = code[code[view.Pc].A].A;
        return view.Frame(view.TopBase + FrameHeaderWords + slot);
    }

    /// <summary>Where <paramref name="cpu"/>'s <c>wait_until</c> (timed or not) is: its function, instruction and
    /// frame depth, to tell one wait from another; (-1, -1, -1) when it is at none.</summary>
    public (int Function, int Pc, int Depth) WaitSite(MachineState state, int cpu)
    {
        var view = state.Cpus[cpu];
        if (view.Mode != CpuMode.Running || view.Depth == 0 || view.GuestAsid != 0)
        {
            return (-1, -1, -1);
        }
        var code = _functions[view.Function].Code;
        var pc = view.Pc;
        return pc < code.Length && code[pc].Op == OpCode.WaitBegin ? (view.Function, pc, view.Depth) : (-1, -1, -1);
    }

    /// <summary>The name of function <paramref name="function"/> (for reports of wait sites).</summary>
    public string FunctionName(int function) => _functions[function].Name;

    /// <summary>The source of a wait site (<see cref="WaitSite"/>).</summary>
    public DebugSpan WaitSpan(int function, int pc) => _functions[function].Spans[pc];
}
