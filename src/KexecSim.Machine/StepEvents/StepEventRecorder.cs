namespace KexecSim.Machine;

/// <summary>A sink that keeps every event, in order (replays, reports, tests).</summary>
public sealed class StepEventRecorder : IStepEventSink
{
    private readonly List<StepEvent> _events = [];

    /// <summary>The events received since the last <see cref="Clear"/>.</summary>
    public IReadOnlyList<StepEvent> Events => _events;

    public void Add(StepEvent stepEvent) => _events.Add(stepEvent);

    public void Clear() => _events.Clear();
}
