using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// The choices a trace records for one step, handed to the machine in order as it asks for them: how a
/// replay re-makes the step's <c>either</c>/<c>choose</c>. It takes no option (the step then ends with
/// <see cref="Outcome.NeedChoice"/>) when the recorded choices run out or one is not among the options the
/// model offers there, and says which.
/// </summary>
public sealed class TraceChooser : IChooser
{
    private int[] _choices = [];

    /// <summary>How many recorded choices the step has taken.</summary>
    public int Taken { get; private set; }

    /// <summary>Whether the step asked for a choice after the recorded ones ran out.</summary>
    public bool RanOut { get; private set; }

    /// <summary>A recorded choice that is not among the options offered, in words; null when none was.</summary>
    public string? WrongChoice { get; private set; }

    /// <summary>Starts a step with its recorded choices.</summary>
    public void Start(int[] choices)
    {
        _choices = choices;
        Taken = 0;
        RanOut = false;
        WrongChoice = null;
    }

    public int Choose(int options)
    {
        if (Taken >= _choices.Length)
        {
            RanOut = true;
            return -1;
        }
        var choice = _choices[Taken];
        if (choice < 0 || choice >= options)
        {
            WrongChoice = $"recorded choice {Taken + 1} is {choice}, but the step's choice there has {options} option{(options == 1 ? string.Empty : "s")} (0 to {options - 1})";
            return -1;
        }
        Taken++;
        return choice;
    }
}
