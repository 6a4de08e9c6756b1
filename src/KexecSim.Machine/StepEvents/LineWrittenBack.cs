namespace KexecSim.Machine;

/// <summary>A dirty entry of cache <paramref name="Cache"/> reaches memory: (line, key) takes the value.</summary>
public sealed record LineWrittenBack(int Cache, int Line, long Key, long Value) : StepEvent;
