using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// Turns a path of a search on the reduced machine (<c>--reduce all</c>: <see cref="UntrackedLines"/>,
/// <see cref="HaltMerging"/>) into a run of the full machine of SEMANTICS.md (docs/reduction.md). The path is
/// run on the full machine as it is, except that
/// <list type="bullet">
/// <item>after a transition that leaves its CPU at a <c>hlt()</c> the reduced machine executed with it, that
/// <c>hlt()</c> is a step of its own (and at the start, for the CPUs the initial state leaves there);</item>
/// <item>before a CPU finishes a WBINVD, the untracked entries still dirty in its cache are written back
/// (the full machine finishes only when none is left); and</item>
/// <item>after the last step, when the violation is the check of the state reached (settled or terminal),
/// every untracked entry still dirty is evicted (unless <c>platform_reset()</c> turned the machine off: its
/// state is then terminal as it is): the full machine's state is then settled (or terminal) as the reduced
/// one was, with the same values everywhere a check looks.</item>
/// </list>
/// The run is as long as the path plus those steps.
/// </summary>
internal sealed class FullMachineRuns
{
    private readonly Machine.Machine _machine;
    private readonly HaltMerging? _halts;
    private readonly bool _untracked;
    private readonly TraceChooser _chooser = new();
    private readonly List<TraceStep> _result = [];

    public FullMachineRuns(CompiledProgram program, HaltMerging? halts, bool untracked)
    {
        _machine = new Machine.Machine(program);
        _halts = halts;
        _untracked = untracked;
    }

    /// <param name="steps">The reduced search's path (in real CPU ids).</param>
    /// <param name="lastCommits">The last step commits the violation (nothing may follow it); otherwise the
    /// violation is the settled or terminal check of the state the path reaches, and the run ends with the
    /// evictions that make the full machine's state that one.</param>
    public List<TraceStep> Complete(IReadOnlyList<TraceStep> steps, bool lastCommits)
    {
        var state = _machine.NewState();
        if (_machine.CreateInitial(state) == Outcome.Violation)
        {
            throw new InvalidOperationException("the initial state commits a violation");
        }
        _result.Clear();
        for (var c = 0; c < state.Cpus.Length; c++)
        {
            Halt(state, c);
        }
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var transition = step.Transition;
            if (_untracked && transition.Kind == TransitionKind.WbinvdFinish)
            {
                WriteBackAll(state, _machine.Layout.CacheOf(transition.Cpu), new Transition(TransitionKind.WbinvdWriteBack, transition.Cpu, 0, 0));
            }
            if (i == steps.Count - 1 && lastCommits)
            {
                _result.Add(step);
                return [.. _result];
            }
            Run(state, step);
            // The transitions that run their CPU's code on to its next step point, where a hlt() may be merged.
            if (transition.Kind is TransitionKind.Step or TransitionKind.Deliver or TransitionKind.Timeout or TransitionKind.WbinvdFinish)
            {
                Halt(state, transition.Cpu);
            }
        }
        // After platform_reset() the machine is off: no eviction, and the end is terminal in both machines.
        if (_untracked && !lastCommits && !state.PoweredOff)
        {
            for (var cache = 0; cache < state.Caches.Length; cache++)
            {
                WriteBackAll(state, cache, new Transition(TransitionKind.Evict, -1, cache, 0));
            }
        }
        return [.. _result];
    }

    /// <summary>The <c>hlt()</c> the reduced machine executed with the transition that brought CPU <paramref name="cpu"/> to it.</summary>
    private void Halt(MachineState state, int cpu)
    {
        if (_halts is not null && _halts.WaitsAtMergedHalt(state, cpu))
        {
            Run(state, new TraceStep(Transition.Step(cpu), []));
        }
    }

    /// <summary>Writes back, one step each, the dirty entries of <paramref name="cache"/> (in tag order) by
    /// transitions like <paramref name="kind"/> (a WBINVD's write-back or an eviction) with their tags.</summary>
    private void WriteBackAll(MachineState state, int cache, Transition kind)
    {
        for (var index = 0; index < state.Caches[cache].Count;)
        {
            var entry = state.Caches[cache][index];
            if (!entry.Dirty)
            {
                index++;
                continue;
            }
            Run(state, new TraceStep(kind with { Tag = entry.Tag }, []));
            // A write-back cleans the entry (a WBINVD's) or drops it (an eviction): look at the same index again.
            if (kind.Kind == TransitionKind.WbinvdWriteBack)
            {
                index++;
            }
        }
    }

    private void Run(MachineState state, TraceStep step)
    {
        _chooser.Start(step.Choices);
        if (_machine.Apply(state, step.Transition, _chooser) != Outcome.Ok)
        {
            throw new InvalidOperationException(
                $"--reduce: step {_result.Count + 1} ({step.Transition}) of a reduced path does not run on the full machine");
        }
        _result.Add(step);
    }
}
