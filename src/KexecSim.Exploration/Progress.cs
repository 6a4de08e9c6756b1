namespace KexecSim.Exploration;

/// <summary>How a long search is going, reported about once a second.</summary>
public sealed record Progress(long States, long Transitions, int Depth, int Queue, double Seconds, long MemoryBytes)
{
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : 0;
}
