using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>One recorded choice: which transition, and the values of the step's nondeterministic choices.</summary>
public sealed record TraceStep(Transition Transition, int[] Choices);

/// <summary>A path from the initial state; a counterexample ends with its violation.</summary>
public sealed class Trace
{
    public Trace(IReadOnlyList<TraceStep> steps, Violation? violation, bool violationIsTerminal)
    {
        Steps = steps;
        Violation = violation;
        ViolationIsTerminal = violationIsTerminal;
    }

    public IReadOnlyList<TraceStep> Steps { get; }

    public Violation? Violation { get; }

    /// <summary>True when the violation is a property of the last state (deadlock, final block, settled
    /// corruption) rather than of the last step.</summary>
    public bool ViolationIsTerminal { get; }

    /// <summary>With <c>--reduce all</c>: how many of the steps the reduced search did not take (write-backs of
    /// untracked lines, a merged <c>hlt()</c>, evictions at the end) and were put back to make the path a run
    /// of the full machine (docs/reduction.md); a breadth-first counterexample is shortest without them.</summary>
    public int PutBackSteps { get; init; }

    /// <summary>For a LIVELOCK: the step where the repeating cycle starts (the steps from there on repeat forever).</summary>
    public int? CycleStart { get; init; }

    /// <summary>Whether the last step is the one that commits the violation (or whose successor fails the
    /// settled check); false when the violation is the terminal check's of the state reached. Kept by a checkpoint.</summary>
    internal bool LastStepCommits { get; init; }

    /// <summary>Whether the violation was found again by running the path on the full machine. Kept by a checkpoint.</summary>
    internal bool Rederived { get; init; }
}
