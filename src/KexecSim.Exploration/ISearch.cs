namespace KexecSim.Exploration;

/// <summary>
/// A search strategy over a compiled program's states: it decides the order states are visited in and
/// reports a <see cref="CheckResult"/>. The parts it is built from are separate types a strategy
/// combines: the <see cref="NodeTable"/> (how each state was reached), the visited set
/// (<see cref="FingerprintSet"/>), a frontier (<see cref="BreadthFirstFrontier"/> for
/// <see cref="BreadthFirstExplorer"/>), the <see cref="ExpectationPolicy"/>, the
/// <see cref="LivelockGraph"/>, the <see cref="SearchLimits"/>, and a <see cref="Machine.IChooser"/>
/// for the choices inside a step (<see cref="DepthFirstChooser"/> to enumerate them all). Random walks, a parallel search and
/// checkpointed searches are further strategies.
/// </summary>
public interface ISearch
{
    /// <summary>Searches until a verdict or a limit.</summary>
    CheckResult Run();
}
