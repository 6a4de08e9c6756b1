using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// The simulation's chooser: each <c>either</c>/<c>choose</c> option drawn uniformly from the run's
/// <see cref="RunRandom"/>; when a run is rebuilt for its trace, the choices of the step are recorded.
/// PERF: no allocation per choice (the record list is reused).
/// </summary>
internal sealed class RandomChooser : IChooser
{
    private readonly List<int> _choices = new(8);
    private RunRandom _random = null!;
    private int[]? _forced;

    /// <summary>Whether the choices made are kept (only when a run is rebuilt for its trace).</summary>
    public bool Recording { get; set; }

    /// <summary>The choices of the current step (when recording).</summary>
    public List<int> Choices => _choices;

    /// <summary>How many choices the current step has made.</summary>
    public int Calls { get; private set; }

    public void Start(RunRandom random)
    {
        _random = random;
        _choices.Clear();
        _forced = null;
        Calls = 0;
    }

    /// <summary>Starts a step that makes exactly <paramref name="choices"/> (drawn beforehand among the enabled ones).</summary>
    public void StartForced(RunRandom random, int[] choices)
    {
        Start(random);
        _forced = choices;
    }

    public int Choose(int options)
    {
        var choice = _forced is { } forced ? forced[Calls] : _random.Next(options);
        Calls++;
        if (Recording)
        {
            _choices.Add(choice);
        }
        return choice;
    }
}
