using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Every way one transition can go from a state: the step is run from a fresh copy of the state once per
/// branch of its <c>either</c>/<c>choose</c>, through a <see cref="DepthFirstChooser"/>, in option order.
/// For the off-the-hot-path users that follow one given transition (a LIVELOCK's lasso, replay's fairness
/// check); the searches walk all of a state's outcomes with <see cref="SuccessorEnumerator"/>, in the same order.
/// </summary>
internal static class Successors
{
    /// <summary>Calls <paramref name="onOutcome"/> with each enabled outcome (the successor in
    /// <paramref name="work"/>, its choices in <paramref name="chooser"/>); stops when it returns false.</summary>
    public static bool ForEach(Machine.Machine machine, MachineState from, Transition transition, MachineState work,
        DepthFirstChooser chooser, Func<Outcome, bool> onOutcome)
    {
        chooser.Reset();
        do
        {
            work.CopyFrom(from);
            var outcome = machine.Apply(work, transition, chooser);
            if (outcome != Outcome.Disabled && !onOutcome(outcome))
            {
                return false;
            }
        }
        while (chooser.Advance());
        return true;
    }
}
