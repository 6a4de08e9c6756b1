using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// <paramref name="Cpu"/> asks the platform, the firmware or a cpumask something and gets <paramref name="Value"/>:
/// <c>cpu_has</c>, <c>cpu_has_bug</c>, <c>cpuid</c>, <c>kernel_key</c>, <c>snp_state</c>, <c>tdx_state</c>,
/// <c>cpumask_test_cpu</c>, <c>cpumask_empty</c>, <c>cpumask_weight</c>, <c>cpumask_first</c> and <c>warn_on</c>, with
/// their <paramref name="Arguments"/> (a cpumask argument holds a reference). Intrinsics whose value another event
/// already shows (a load, an atomic's read and write, <c>sev_cmd</c>, <c>choose</c>) and those whose value the report
/// shows anyway (<c>this_cpu</c>: the lane; <c>nr_cpus</c>: the platform; <c>tdx_key</c>, <c>sev_key</c>: their own
/// text) yield none.
/// </summary>
public sealed record IntrinsicReturned(int Cpu, IntrinsicId Intrinsic, IReadOnlyList<long> Arguments, long Value) : StepEvent;
