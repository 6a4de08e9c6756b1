using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// What a step of a trace does, as data (the transition resolved against the state it is taken in): who
/// acts, which event, interrupt vector, cache or entry is involved, and whether a step is a VMEXIT. The
/// narration table (in Reporting) puts it in words; the replayer says nothing itself.
/// </summary>
/// <param name="Transition">The transition as taken (or as recorded in a trace file).</param>
public sealed record StepAction(Transition Transition)
{
    /// <summary>The kind of transition.</summary>
    public TransitionKind Kind => Transition.Kind;

    /// <summary>The CPU that acts (a step, delivery, timeout or WBINVD) or is targeted (a stray fault); for an eviction, what the transition records.</summary>
    public int Cpu => Transition.Cpu;

    /// <summary>
    /// The transition names a CPU, event kind or line this model does not have (a trace file written for
    /// another model): only <see cref="Transition"/> is meaningful.
    /// </summary>
    public bool Recorded { get; init; }

    /// <summary>A <see cref="TransitionKind.Step"/> of a CPU running a guest: it exits the guest (VMEXIT).</summary>
    public bool VmExit { get; init; }

    /// <summary>The event delivered (<see cref="TransitionKind.Deliver"/>) or injected (<see cref="TransitionKind.Inject"/>).</summary>
    public EventKind Event { get; init; }

    /// <summary>The pending-vector index of a delivered interrupt (<see cref="EventKind.Vector"/>), else -1.</summary>
    public int Vector { get; init; } = -1;

    /// <summary>The cache that evicts (<see cref="TransitionKind.Evict"/>), else -1.</summary>
    public int Cache { get; init; } = -1;

    /// <summary>The line of the entry written back (a WBINVD write-back or an eviction), else -1.</summary>
    public int Line { get; init; } = -1;

    /// <summary>The key of the entry written back (see <see cref="BuiltinValues.FormatKey"/>).</summary>
    public long Key { get; init; }

    /// <summary>
    /// <paramref name="transition"/> taken in <paramref name="state"/> as data; <see cref="Recorded"/> when
    /// it names a CPU, event kind or line <paramref name="layout"/>'s model does not have.
    /// </summary>
    public static StepAction Of(Transition transition, MachineState state, MachineLayout layout)
    {
        var cpuFits = transition.Kind == TransitionKind.Evict || (transition.Cpu >= 0 && transition.Cpu < state.Cpus.Length);
        var line = CacheEntry.LineOf(transition.Tag);
        var writesBack = transition.Kind is TransitionKind.Evict or TransitionKind.WbinvdWriteBack;
        var tagFits = !writesBack || (transition.Tag >= 0 && line < layout.Program.Lines.Count);
        var hasEvent = transition.Kind is TransitionKind.Deliver or TransitionKind.Inject;
        var kindFits = Enum.IsDefined(transition.Kind) && (!hasEvent || Enum.IsDefined((EventKind)transition.Arg));
        if (!(cpuFits && tagFits && kindFits))
        {
            return new StepAction(transition) { Recorded = true };
        }
        var entry = new CacheEntry { Tag = transition.Tag };
        return new StepAction(transition)
        {
            VmExit = transition.Kind == TransitionKind.Step && state.Cpus[transition.Cpu].GuestAsid != 0,
            Event = hasEvent ? (EventKind)transition.Arg : default,
            Vector = transition.Kind == TransitionKind.Deliver && (EventKind)transition.Arg == EventKind.Vector ? (int)transition.Tag : -1,
            Cache = transition.Kind == TransitionKind.Evict ? transition.Arg : -1,
            Line = writesBack ? entry.Line : -1,
            Key = writesBack ? entry.Key : 0,
        };
    }
}
