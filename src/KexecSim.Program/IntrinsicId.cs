namespace KexecSim.Program;

/// <summary>The intrinsics of LANGUAGE.md section 5 (the operand of <see cref="OpCode.Intrinsic"/>; their signatures are the front end's).</summary>
public enum IntrinsicId
{
    ThisCpu, NrCpus, CpuHas, CpuHasBug, Cpuid, KernelKey,
    LocalIrqDisable, LocalIrqEnable,
    SendIpi, SendIpiMask, SendIpiAllButSelf, SendNmi, SendNmiMask, SendNmiAllButSelf, SendInit,
    Hlt, Monitor, Mwait, Vmxon, Vmxoff, Clgi, Stgi,
    Load, Store, Movnti, Movdir64b, Clflush, Wbinvd, Wbnoinvd, TdxKey, SevKey,
    CpumaskSetCpu, CpumaskClearCpu, CpumaskTestCpu, CpumaskEmpty, CpumaskWeight, CpumaskCopy, CpumaskAndNot,
    CpumaskClear, CpumaskFirst,
    AtomicRead, AtomicSet, AtomicInc, AtomicDec, AtomicIncReturn, AtomicDecReturn, Cmpxchg, Xchg,
    Udelay, WaitUntil,
    SevCmd, SnpState, TdxState,
    BootNextKernel, DmaWrite, Vmrun, PlatformReset, Done,
    Panic, PrErr, PrWarn, WarnOn, BugOn, Choose, Assert,
}
