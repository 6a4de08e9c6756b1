namespace KexecSim.Language;

/// <summary>
/// Counts of the front end's steps that could grow faster than its input, for tests that check the
/// growth is linear by counting work, not by timing it (issue 12). A test opens a measurement with
/// <see cref="Measure"/>; it flows into the front end's own thread with the execution context, and
/// nothing is counted when no measurement is open (each count is one null check then).
/// </summary>
internal sealed class FrontEndWork
{
    private static readonly AsyncLocal<FrontEndWork?> CurrentMeasurement = new();

    /// <summary>Instructions visited by the spinning-back-edge analysis (over every loop of every function).</summary>
    public long LoopAnalysisVisits;

    /// <summary>Call edges followed to find the functions that take a visible action (directly or through calls).</summary>
    public long CallGraphVisits;

    /// <summary>Cells of the edit-distance tables computed for "did you mean" suggestions.</summary>
    public long SpellingCells;

    /// <summary>Alias parts visited while flattening region aliases (each alias once).</summary>
    public long AliasPartVisits;

    /// <summary>The measurement open on this execution context, or null.</summary>
    public static FrontEndWork? Current => CurrentMeasurement.Value;

    /// <summary>Starts counting on this execution context (and the threads it starts) until disposed.</summary>
    public static Scope Measure() => new(new FrontEndWork());

    internal sealed class Scope : IDisposable
    {
        private readonly FrontEndWork? _previous;

        public Scope(FrontEndWork work)
        {
            Work = work;
            _previous = CurrentMeasurement.Value;
            CurrentMeasurement.Value = work;
        }

        public FrontEndWork Work { get; }

        public void Dispose() => CurrentMeasurement.Value = _previous;
    }
}
