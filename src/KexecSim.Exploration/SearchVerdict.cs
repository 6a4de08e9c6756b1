using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>How a search ended by the <see cref="ExpectationPolicy"/>: the verdict, the violation reported
/// with its trace, and the other violations kept.</summary>
public sealed record SearchVerdict(Verdict Verdict, Violation? Violation, Trace? Trace, IReadOnlyList<(Violation Violation, Trace Trace)> Others);
