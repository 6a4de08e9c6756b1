namespace KexecSim.Machine;

/// <summary>
/// One thing a transition did, as data (no prose): the machine yields these to an <see cref="IStepEventSink"/>
/// while a trace is replayed for a report; the narration table of the reports turns them into words.
/// </summary>
public abstract record StepEvent;
