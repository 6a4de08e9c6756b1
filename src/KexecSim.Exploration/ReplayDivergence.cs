namespace KexecSim.Exploration;

/// <summary>
/// A replay that diverged because a step of the trace could not be taken: which step, what it does (as
/// data, for the narration table to put in words), and whether it was impossible or blocked.
/// </summary>
/// <param name="Step">The step's number (1-based).</param>
/// <param name="Action">What the step does.</param>
/// <param name="Blocked">The transition is possible but blocked in that state (else it is not possible at all).</param>
public sealed record ReplayDivergence(int Step, StepAction Action, bool Blocked);
