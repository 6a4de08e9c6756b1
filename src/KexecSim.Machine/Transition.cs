namespace KexecSim.Machine;

/// <summary>The kinds of transition of SEMANTICS.md section 2.</summary>
public enum TransitionKind : byte
{
    /// <summary>A RUNNING CPU takes its next step (or completes a VMEXIT).</summary>
    Step,
    /// <summary>A CPU takes a deliverable pending event (<see cref="Transition.Arg"/>: <see cref="EventKind"/>).</summary>
    Deliver,
    /// <summary>A CPU in WBINVD writes back one dirty entry (<see cref="Transition.Tag"/>).</summary>
    WbinvdWriteBack,
    /// <summary>A CPU in WBINVD has nothing dirty left: its cache is dropped and it continues.</summary>
    WbinvdFinish,
    /// <summary>A dirty entry of cache <see cref="Transition.Arg"/> is written back (evictions on).</summary>
    Evict,
    /// <summary>The environment injects a stray fault (<see cref="Transition.Arg"/>: <see cref="EventKind"/>).</summary>
    Inject,
    /// <summary>A CPU's timed wait expires.</summary>
    Timeout,
}

public enum EventKind
{
    Vector,
    Nmi,
    Smi,
    Mce,
}

/// <summary>One choice of the environment or scheduler: which CPU, which event, which line.</summary>
public readonly record struct Transition(TransitionKind Kind, int Cpu, int Arg, long Tag)
{
    public static Transition Step(int cpu) => new(TransitionKind.Step, cpu, 0, 0);
}
