using KexecSim.Machine;

namespace KexecSim.Reporting;

/// <summary>One CPU at a step: its mode, whether it runs the next kernel, and the line its monitor watches.</summary>
/// <param name="Cpu">The CPU's id.</param>
/// <param name="Mode">Its mode (SEMANTICS.md section 1).</param>
/// <param name="NextKernel">It has booted the next kernel.</param>
/// <param name="MonitorLine">The line its MONITOR watches (armed or not), or -1.</param>
public sealed record CpuSnapshot(int Cpu, CpuMode Mode, bool NextKernel, int MonitorLine);
