using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// How a simulated run picks its next transition (<c>kexecsim simulate --strategy</c>): from the transitions
/// the machine lists for the state (<see cref="Machine.Machine.EnumerateTransitions"/>, the ones the
/// exhaustive search takes), the one to try; a candidate that turns out disabled is removed and the
/// scheduler asked again, so what is taken is always an enabled transition.
/// </summary>
internal abstract class SimulationScheduler
{
    /// <summary>Called once with the machine the runs use (timed mode listens to its steps).</summary>
    public virtual void Attach(Machine.Machine machine)
    {
    }

    /// <summary>Starts run <paramref name="random"/>'s schedule (the stream is reset for the run already).</summary>
    public abstract void StartRun(RunRandom random);

    /// <summary>The index in <paramref name="candidates"/> (at least one) of the transition to try at
    /// <paramref name="step"/> (1-based; asked again with the same number after a disabled candidate) in
    /// <paramref name="state"/>.</summary>
    public abstract int Pick(MachineState state, List<Transition> candidates, long step);

    /// <summary>Whether <see cref="PickIndex"/> picks as <see cref="Pick"/> would, from the number of candidates
    /// alone (then the run need not build the candidate list: PERF at many CPUs).</summary>
    public virtual bool PicksByCount => false;

    /// <summary>With <see cref="PicksByCount"/>: <see cref="Pick"/>'s answer for <paramref name="count"/> candidates.</summary>
    public virtual int PickIndex(int count) => throw new NotSupportedException();

    /// <summary>Whether the scheduler picks through <see cref="PickFromLister"/> instead of <see cref="Pick"/>, without
    /// the list being built (PERF: at many CPUs building and scanning it was most of a timed step).</summary>
    public virtual bool PicksFromLister => false;

    /// <summary>With <see cref="PicksFromLister"/>: the index in <paramref name="lister"/>'s list of the transition to try
    /// at <paramref name="step"/>, never one reported <see cref="Disabled"/> since the last <see cref="Applied"/> (the
    /// run asks only while some transition was not).</summary>
    public virtual int PickFromLister(MachineState state, TransitionLister lister, long step) => throw new NotSupportedException();

    /// <summary>The transition last picked was applied; <paramref name="state"/> is the state after it.</summary>
    public virtual void Applied(MachineState state, in Transition transition)
    {
    }

    /// <summary>The transition last picked turned out disabled (a false <c>wait_until</c>); it is dropped from the
    /// candidates and the scheduler asked again.</summary>
    public virtual void Disabled(in Transition transition)
    {
    }
}

/// <summary>
/// A uniform random walk: each step takes an enabled transition drawn uniformly among the state's enabled
/// transitions (disabled candidates are removed and the draw made again among the rest), and each choice
/// of the step (<c>either</c>/<c>choose</c>) uniformly among its options (<see cref="RandomChooser"/>).
/// </summary>
internal sealed class RandomWalkScheduler : SimulationScheduler
{
    private RunRandom _random = null!;

    public override void StartRun(RunRandom random) => _random = random;

    public override int Pick(MachineState state, List<Transition> candidates, long step) => _random.Next(candidates.Count);

    public override bool PicksByCount => true;

    public override int PickIndex(int count) => _random.Next(count);
}
