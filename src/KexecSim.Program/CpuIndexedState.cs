namespace KexecSim.Program;

/// <summary>
/// The parts of the machine state (SEMANTICS.md section 1) that are indexed by CPU whatever the
/// program: a symmetry reduction moves CPU c's part to CPU π(c). Lines, variables, slots and operands
/// are described by <see cref="SymmetrySpec"/>'s lists; these are the machine's own.
/// </summary>
[Flags]
public enum CpuIndexedState
{
    None = 0,

    /// <summary>Each CPU's mode, flags (IF, NMI-blocked, in-MCE, vmx_root, gif, kernel), pending events,
    /// monitored line, kernel key, guest ASID, frames, operand stack and deferred fetches.</summary>
    CpuStates = 1,

    /// <summary>One cache per CPU (<c>cache private</c>); with <c>cache package</c> the one cache is shared.</summary>
    PrivateCaches = 2,

    /// <summary>The SEV firmware's per-CPU "needs WBINVD" marks (SEMANTICS.md section 6).</summary>
    FirmwareWbinvdMarks = 4,
}
