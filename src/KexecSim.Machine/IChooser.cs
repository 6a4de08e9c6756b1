namespace KexecSim.Machine;

/// <summary>
/// Who makes a step's nondeterministic choices (<c>either</c>, <c>choose(n)</c>): at each choice the
/// machine asks for an option index given the number of options, and goes on with it. A search
/// enumerates every branch of a step through a chooser that records the choices made; a replay feeds
/// the choices a trace records; a random walk would draw them.
/// </summary>
public interface IChooser
{
    /// <summary>The option to take, from 0 to <paramref name="options"/> - 1; or -1 to take none, which
    /// ends the step with <see cref="Outcome.NeedChoice"/> (a replayed trace whose recorded choices do not fit).</summary>
    /// <param name="options">How many options the choice has (at least 1).</param>
    int Choose(int options);
}
