namespace KexecSim.Exploration;

/// <summary>How a long search is going, reported about once a second.</summary>
public sealed record Progress(long States, long Transitions, int Depth, int Queue, double Seconds, long MemoryBytes)
{
    /// <summary>Null for the search itself; "LIVELOCK pass" for <c>--livelock lean</c>'s second pass, whose
    /// <see cref="States"/> are the states walked again so far (of <see cref="Of"/> stored), <see cref="Depth"/> the walk's
    /// path and <see cref="Queue"/> the open states (met, component not closed).</summary>
    public string? Phase { get; init; }

    /// <summary>With a <see cref="Phase"/>: the states the pass may walk at most (the search's).</summary>
    public long Of { get; init; }

    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
}
