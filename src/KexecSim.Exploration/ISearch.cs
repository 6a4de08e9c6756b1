using KexecSim.Program;

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

/// <summary>The search a <see cref="CheckOptions"/> asks for.</summary>
public static class Search
{
    /// <summary>A new search of <paramref name="program"/> by <see cref="CheckOptions.Strategy"/>.</summary>
    public static ISearch Create(CompiledProgram program, CheckOptions options) => options.Strategy switch
    {
        SearchStrategy.DepthFirst => new DepthFirstExplorer(program, options),
        _ => new BreadthFirstExplorer(program, options),
    };
}
