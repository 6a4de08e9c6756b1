using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// Where a CPU is and what it holds pending, as data: for DEADLOCK and LIVELOCK reports.
/// <paramref name="InitBlockedBy"/> is what holds a pending INIT, null when no INIT is held.
/// </summary>
public sealed record CpuSituation(int Cpu, CpuMode Mode, int GuestAsid, DebugSpan? Location, ulong PendingVectors, CpuFlags Flags, InitBlocker? InitBlockedBy);
