using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// One step of a counterexample as every writer renders it: the transition, the CPU it concerns (-1 for an
/// eviction), its lane (the CPU's column, or -1 for memory and the environment: evictions and stray faults),
/// where the CPU was, the step in words, the typed events it yielded and the lines they print.
/// </summary>
/// <param name="What">What the step does, as data (<see cref="Description"/> and <see cref="Action"/> say it in words).</param>
/// <param name="Description">What the step does, in words (the narration table's sentence).</param>
/// <param name="Action">What the lane shows: the source snippet of a CPU's step, else the description without the "CPU n" its lane already says.</param>
/// <param name="Source">The source snippet of a step that is not the CPU's own code (a delivery, a timeout), if the CPU has a position.</param>
/// <param name="Where">file:line of the CPU's position before the step.</param>
/// <param name="Values">What the step read, wrote, assigned, called, loaded, stored and got from the firmware, with the values (<see cref="Narration.Values"/>).</param>
public sealed record ReportStep(
    int Number,
    TraceStep Step,
    int Cpu,
    int Lane,
    DebugSpan? Location,
    string Function,
    StepAction What,
    string Description,
    string Action,
    string? Source,
    string? Where,
    bool AtBackEdge,
    IReadOnlyList<StepEvent> Events,
    IReadOnlyList<string> Messages,
    IReadOnlyList<StepValue> Values)
{
    /// <summary>The kind of transition the step takes.</summary>
    public TransitionKind Kind => Step.Transition.Kind;
}
