using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Every way one transition can go from a state: the step is re-run from the state with a longer
/// choice prefix each time it meets an <c>either</c>/<c>choose</c>, depth first in option order.
/// For the off-the-hot-path users (trace building, replay's fairness check); the breadth-first
/// search keeps its own loop.
/// </summary>
internal static class Successors
{
    /// <summary>Calls <paramref name="onOutcome"/> with each enabled outcome (the successor in
    /// <paramref name="work"/>) and the choices that lead to it; stops when it returns false.</summary>
    public static bool ForEach(Machine.Machine machine, MachineState from, Transition transition, MachineState work,
        Stack<int[]> pending, Func<Outcome, int[], bool> onOutcome)
    {
        pending.Clear();
        pending.Push([]);
        while (pending.Count > 0)
        {
            var choices = pending.Pop();
            work.CopyFrom(from);
            var outcome = machine.Apply(work, transition, choices);
            if (outcome == Outcome.NeedChoice)
            {
                for (var k = machine.ChoiceCount - 1; k >= 0; k--)
                {
                    pending.Push([.. choices, k]);
                }
                continue;
            }
            if (outcome != Outcome.Disabled && !onOutcome(outcome, choices))
            {
                return false;
            }
        }
        return true;
    }
}
