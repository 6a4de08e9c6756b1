using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// What a search reduces its state space by, decided once from the program and the options, and how a
/// path of the reduced search becomes a run of the full machine of SEMANTICS.md: the one place the
/// breadth-first and depth-first searches share for both (docs/reduction.md, docs/symmetry.md).
/// <list type="bullet">
/// <item>Symmetry (<c>--symmetry</c>): one state per orbit of the scenario's <c>symmetric</c> CPUs; a path names
/// the representatives' CPUs and is made real by <see cref="SymmetricTraces"/>.</item>
/// <item>Semantics-aware reductions (<c>--reduce all</c>): the search's machine keeps no cache state for the
/// lines of <see cref="UntrackedLines"/> and executes a <c>hlt()</c> nothing can interrupt with the step that
/// reaches it (<see cref="HaltMerging"/>); a path is made a run of the full machine by <see cref="FullMachineRuns"/>.</item>
/// </list>
/// Every trace the search reports is a run of the full machine: the violation it ends with is found again
/// by running it there (<see cref="Replayer"/>), which also gives the message-only data the states do not keep.
/// </summary>
internal sealed class Reductions
{
    private readonly CompiledProgram _program;
    private Machine.Machine? _full;

    public Reductions(CompiledProgram program, CheckOptions options)
    {
        _program = program;
        SymmetryUse = program.Symmetry.Cpus.Count < 2 ? SymmetryUse.NotDeclared
            : !program.Symmetry.IsUsable ? SymmetryUse.Unusable
            : !options.Symmetry ? SymmetryUse.Off
            : SymmetryUse.Reduced;
        // The machine keeps only what applies (no untracked line, or merging disabled, is null there).
        Machine = options.Reduce == Reduction.All
            ? new Machine.Machine(program, new UntrackedLines(program), new HaltMerging(program))
            : new Machine.Machine(program);
        Untracked = Machine.Untracked;
        Halts = Machine.Halts;
        Symmetry = SymmetryUse == SymmetryUse.Reduced ? new StateSymmetry(Machine.Layout) : null;
    }

    /// <summary>The machine the search runs: the full one, or one without the untracked lines' cache state.</summary>
    public Machine.Machine Machine { get; }

    public SymmetryUse SymmetryUse { get; }

    /// <summary>The search's symmetry, or null when it stores every state as it is.</summary>
    public StateSymmetry? Symmetry { get; }

    /// <summary>The lines whose cache state the search's machine does not keep, or null when it keeps every line's.</summary>
    public UntrackedLines? Untracked { get; }

    /// <summary>The merging of <c>hlt()</c> into the step that reaches it, or null when every <c>hlt()</c> is a step.</summary>
    public HaltMerging? Halts { get; }

    /// <summary>Whether the search's graph is a quotient of the full one (LIVELOCK is then looked for in the
    /// full graph when the reduced one has a cycle of unfinished states): symmetry or untracked lines, or a
    /// <c>hlt()</c> the search's machines (<paramref name="mergedAHalt"/>) executed with the step reaching it.</summary>
    public bool ReducedGraph(bool mergedAHalt) => Symmetry is not null || Untracked is not null || mergedAHalt;

    /// <summary>How the search used the semantics-aware reductions.</summary>
    public ReductionUse Use(bool mergedAHalt) => Untracked is not null || mergedAHalt ? ReductionUse.Reduced : ReductionUse.None;

    /// <summary>The options of the search run again in full, for LIVELOCK.</summary>
    public static CheckOptions Unreduced(CheckOptions options) => options with { Symmetry = false, Reduce = Reduction.None, Checkpoint = null };

    /// <summary>A machine for the search's own worker threads (each needs its own).</summary>
    public Machine.Machine NewMachine() => new(_program, Untracked, Halts);

    /// <summary>
    /// The reported trace for a path the search found: <paramref name="steps"/> from the initial state, then
    /// <paramref name="last"/> when it is the step that commits <paramref name="violation"/> (or whose
    /// successor fails the settled check: <paramref name="terminal"/>); with no last step, the violation is
    /// the terminal (or settled) check's of the state the path reaches.
    /// </summary>
    public Trace Build(List<TraceStep> steps, TraceStep? last, Violation violation, bool terminal)
    {
        var commits = last is not null;
        if (last is { } l)
        {
            steps.Add(l);
        }
        var reduced = false;
        var searched = steps.Count;
        if (Symmetry is not null)
        {
            // The path names the representatives' CPUs: the real run, and its own violation, are found again.
            steps = new SymmetricTraces(Machine, Symmetry).Concretize(steps, commits ? violation : null, settled: commits && terminal);
            reduced = true;
        }
        if (Untracked is not null || Halts is not null)
        {
            steps = new FullMachineRuns(_program, Halts, Untracked is not null).Complete(steps, commits && !terminal);
            reduced = true;
        }
        if (!reduced && !violation.NeedsMessageData)
        {
            return new Trace(steps, violation, terminal) { LastStepCommits = commits };
        }
        return new Trace(steps, Rederive(steps, violation.Code, terminal, afterLast: commits), terminal)
        {
            PutBackSteps = steps.Count - searched,
            LastStepCommits = commits,
            Rederived = true,
        };
    }

    /// <summary>
    /// A kept violation's trace as <see cref="Build"/> made it, from what a checkpoint saves of it (its steps,
    /// code and how it was found: docs/checkpoint.md): the violation is found again by running the steps,
    /// on the full machine as <see cref="Build"/> did when it <paramref name="rederived"/> it, else on a
    /// machine like the search's, with the call the search made.
    /// </summary>
    public Trace Restore(List<TraceStep> steps, ViolationCode code, bool terminal, bool commits, bool rederived, int putBack)
    {
        if (rederived)
        {
            return new Trace(steps, Rederive(steps, code, terminal, afterLast: commits), terminal)
            {
                PutBackSteps = putBack,
                LastStepCommits = commits,
                Rederived = true,
            };
        }
        const string Lost = "a saved path to a violation did not commit it when run again";
        var machine = new Machine.Machine(_program);
        var replayer = new Replayer(_program);
        Violation? found;
        if (commits)
        {
            var before = replayer.StateAfter(steps.GetRange(0, steps.Count - 1)) ?? throw new InvalidDataException(Lost);
            var work = machine.NewState();
            var chooser = new TraceChooser();
            chooser.Start(steps[^1].Choices);
            work.CopyFrom(before);
            var outcome = machine.Apply(work, steps[^1].Transition, chooser);
            found = !terminal ? (outcome == Outcome.Violation ? machine.LastViolation : null) : machine.CheckSettled(work);
        }
        else
        {
            found = machine.CheckTerminal(replayer.StateAfter(steps) ?? throw new InvalidDataException(Lost));
        }
        return found is not null && found.Code == code
            ? new Trace(steps, found, terminal) { LastStepCommits = commits }
            : throw new InvalidDataException(Lost);
    }

    /// <summary>
    /// The violation found again by running its path from the initial state on the full machine
    /// (<see cref="Replayer.StateAfter"/>), where message-only data (who clobbered a line:
    /// <see cref="MachineState.UnknownClobberer"/>) is known. The last step commits it, or, for a violation
    /// of the state reached (<paramref name="terminal"/>: the settled check after the last step, or the
    /// terminal check), that check finds it.
    /// </summary>
    private Violation Rederive(List<TraceStep> steps, ViolationCode code, bool terminal, bool afterLast)
    {
        const string Lost = "the path to a violation did not commit it when run again";
        var full = _full ??= new Machine.Machine(_program);
        var replayer = new Replayer(_program);
        Violation? found;
        if (terminal)
        {
            var end = replayer.StateAfter(steps) ?? throw new InvalidOperationException(Lost);
            // A path completed by UntrackedTraces may end with evictions after the step that reached the
            // settled state: the state they reach is settled, with the same final values.
            // After platform_reset() a dirty untracked line keeps the full machine's state from being settled,
            // but nothing moves any more: it is terminal, and final is checked there.
            found = afterLast && !end.PoweredOff ? full.CheckSettled(end) : full.CheckTerminal(end);
        }
        else
        {
            var before = replayer.StateAfter(steps.GetRange(0, steps.Count - 1)) ?? throw new InvalidOperationException(Lost);
            var chooser = new TraceChooser();
            chooser.Start(steps[^1].Choices);
            found = full.Apply(before, steps[^1].Transition, chooser) == Outcome.Violation ? full.LastViolation : null;
        }
        return found is not null && found.Code == code ? found : throw new InvalidOperationException(Lost);
    }
}
