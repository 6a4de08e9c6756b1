using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Turns a path of a search that kept no cache state for the lines of <see cref="UntrackedLines"/>
/// (<c>--reduce all</c>) into a run of the full machine (docs/reduction.md). The two machines differ only
/// in those lines' entries, which the full machine writes back in a WBINVD and may evict; so the path is run
/// on the full machine as it is, except that
/// <list type="bullet">
/// <item>before a CPU finishes a WBINVD, the untracked entries still dirty in its cache are written back
/// (the full machine finishes only when none is left), and</item>
/// <item>after the last step, when the violation is the check of the state reached (settled or terminal),
/// every untracked entry still dirty is evicted: the full machine's state is then settled (or terminal) as
/// the reduced one was, with the same values everywhere a check looks.</item>
/// </list>
/// The run is as long as the path plus those write-backs and evictions.
/// </summary>
internal sealed class UntrackedTraces
{
    private readonly Machine.Machine _machine;
    private readonly TraceChooser _chooser = new();
    private readonly List<TraceStep> _result = [];

    public UntrackedTraces(KexecSim.Program.CompiledProgram program)
    {
        _machine = new Machine.Machine(program);
    }

    /// <param name="steps">The reduced search's path (in real CPU ids).</param>
    /// <param name="lastCommits">The last step commits the violation (no eviction may follow it); otherwise the
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
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Transition.Kind == TransitionKind.WbinvdFinish)
            {
                var cpu = step.Transition.Cpu;
                WriteBackAll(state, _machine.Layout.CacheOf(cpu), new Transition(TransitionKind.WbinvdWriteBack, cpu, 0, 0));
            }
            if (i == steps.Count - 1 && lastCommits)
            {
                _result.Add(step);
                return [.. _result];
            }
            Run(state, step);
        }
        if (!lastCommits)
        {
            for (var cache = 0; cache < state.Caches.Length; cache++)
            {
                WriteBackAll(state, cache, new Transition(TransitionKind.Evict, -1, cache, 0));
            }
        }
        return [.. _result];
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
            Run(state, kind with { Tag = entry.Tag });
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

    private void Run(MachineState state, Transition transition) => Run(state, new TraceStep(transition, []));
}
