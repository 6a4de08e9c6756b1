namespace KexecSim.Machine;

/// <summary>
/// Which rule a <see cref="Violation"/> broke, finer than its <see cref="Program.ViolationCode"/>: each reason
/// has one sentence in the reports' narration table and names the arguments of the violation it uses.
/// </summary>
public enum ViolationReason
{
    /// <summary>EXEC_CLOBBERED: <c>Line</c> fetched after <c>Other</c> (-1: a device) overwrote it through <c>Region</c> (-1: in the next kernel).</summary>
    FetchedClobbered,

    /// <summary>DATA_CLOBBERED: variable <c>Variable</c> (instance <c>Number</c>) on <c>Line</c> used after <c>Other</c> overwrote it through <c>Region</c>.</summary>
    UsedClobbered,

    /// <summary>CORRUPTION: the next kernel read (<c>Value</c>, <c>Key</c>) from <c>Line</c>, where it wrote (<c>ExpectedValue</c>, <c>ExpectedKey</c>).</summary>
    StaleRead,

    /// <summary>CORRUPTION at the end of the run: <c>Line</c> holds (<c>Value</c>, <c>Key</c>) or poison (<c>Flag</c>), not the next kernel's (<c>ExpectedValue</c>, <c>ExpectedKey</c>).</summary>
    StaleAtEnd,

    /// <summary>MACHINE_CHECK or TRIPLE_FAULT: the CPU read poisoned <c>Line</c>.</summary>
    PoisonRead,

    /// <summary>MACHINE_CHECK: a machine check reached a CPU in wait-for-SIPI.</summary>
    MachineCheckInWaitForSipi,

    /// <summary>TRIPLE_FAULT: a machine check reached a CPU inside its machine-check handler.</summary>
    MachineCheckInHandler,

    /// <summary>MACHINE_CHECK: a machine check reached a CPU with no handler mce.</summary>
    MachineCheckUnhandled,

    /// <summary>GUEST_EXCEPTION: WBINVD (<c>Flag</c>; else WBNOINVD) in a confidential guest.</summary>
    WbinvdInGuest,

    /// <summary>FIRMWARE_RACE: ASID <c>Number</c> decommissioned while CPU <c>Other</c> ran that guest.</summary>
    DecommissionedRunningGuest,

    /// <summary>PLATFORM_RESET: INIT reached CPU <c>Other</c>, the boot CPU.</summary>
    InitReachedBootCpu,

    /// <summary>RESET_HANG: the platform was reset while CPU <c>Other</c> was in WBINVD.</summary>
    ResetDuringWbinvd,

    /// <summary>PANIC: the message <c>Text</c> (printf-style) with <c>Values</c>.</summary>
    Panicked,

    /// <summary>BUG: BUG_ON fired.</summary>
    BugOn,

    /// <summary>ASSERTION: the assertion <c>Text</c> failed.</summary>
    AssertionFailed,

    /// <summary>DEADLOCK: no CPU can move; <c>Cpus</c> says where each is.</summary>
    NoCpuCanMove,

    /// <summary>LIVELOCK: a cycle of <c>Number</c> steps repeats; <c>Cpus</c> are the CPUs that move on it, each at its location.</summary>
    CycleRepeats,

    /// <summary>MODEL_ERROR: more than <see cref="Machine.MaxLocalInstructions"/> instructions without a visible action.</summary>
    NoVisibleAction,

    /// <summary>MODEL_ERROR: an atomic block ran too long.</summary>
    AtomicTooLong,

    /// <summary>MODEL_ERROR: a wait condition ran too long.</summary>
    WaitTooLong,

    /// <summary>MODEL_ERROR: call depth over <see cref="Machine.MaxFrames"/>.</summary>
    CallTooDeep,

    /// <summary>MODEL_ERROR: division by zero.</summary>
    DivisionByZero,

    /// <summary>MODEL_ERROR: index <c>Number</c> of region <c>Region</c> is out of range.</summary>
    LineIndexOutOfRange,

    /// <summary>MODEL_ERROR: CPU <c>Other</c> does not exist.</summary>
    NoSuchCpu,

    /// <summary>MODEL_ERROR: <c>vmrun(Number)</c> with no valid ASID.</summary>
    InvalidAsid,

    /// <summary>MODEL_ERROR: <c>choose(Number)</c> with an option count out of range.</summary>
    InvalidOptionCount,

    /// <summary>MODEL_ERROR: <c>sev_cmd(Number)</c> is not a firmware command.</summary>
    UnknownFirmwareCommand,

    /// <summary>MODEL_ERROR: a value used as a line is not a line of any region.</summary>
    NotALine,

    /// <summary>MODEL_ERROR: an init or final block made a nondeterministic choice.</summary>
    ChoiceInInitOrFinal,

    /// <summary>MODEL_ERROR: an init or final block waited for a false condition.</summary>
    WaitInInitOrFinal,

    /// <summary>MODEL_ERROR: an init or final block halted or waited.</summary>
    HaltInInitOrFinal,

    /// <summary>A violation read from a trace file: its sentence <c>Text</c> as recorded.</summary>
    Recorded,
}
