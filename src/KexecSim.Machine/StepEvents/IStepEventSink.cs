namespace KexecSim.Machine;

/// <summary>
/// Receives what a transition did. PERF: the machine takes a null sink during the search, and every
/// event site is written <c>_events?.Add(new …)</c>, so nothing is built or allocated when nobody listens.
/// </summary>
public interface IStepEventSink
{
    /// <summary>Called in the order the events happen within the step.</summary>
    void Add(StepEvent stepEvent);
}
