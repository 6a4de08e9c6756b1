using System.Diagnostics;
using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Every enabled outcome of a state, in the one order every search takes them: the machine's transitions
/// in <see cref="Machine.Machine.EnumerateTransitions"/> order, and for each, every branch of its
/// <c>either</c>/<c>choose</c> choices in option order (a run of the step from a fresh copy of the state per
/// branch, through a <see cref="DepthFirstChooser"/>). The breadth-first search, its workers, the
/// depth-first search, the coverage replay of a batch and the symmetric trace builder all walk a state's
/// successors with it, so they agree on that order by construction.
/// PERF: no allocation per state or outcome; the caller owns the states.
/// </summary>
internal sealed class SuccessorEnumerator
{
    private readonly Machine.Machine _machine;
    private readonly List<Transition> _transitions = new(64);
    private readonly DepthFirstChooser _chooser = new();
    private MachineState _parent = null!;
    private MachineState _work = null!;
    private int _index;
    private bool _inTransition;

    public SuccessorEnumerator(Machine.Machine machine)
    {
        _machine = machine;
    }

    /// <summary>The transition of the current outcome.</summary>
    public Transition Transition { get; private set; }

    /// <summary>How the current outcome ended (never <see cref="Outcome.Disabled"/>): its successor is in the
    /// work state, or, for <see cref="Outcome.Violation"/>, the machine's <c>LastViolation</c> says what.</summary>
    public Outcome Outcome { get; private set; }

    /// <summary>The choices the current outcome's step made, in order.</summary>
    public ReadOnlySpan<int> Choices => _chooser.Choices;

    /// <summary>Starts on <paramref name="parent"/>'s outcomes; each is made in <paramref name="work"/>.</summary>
    public void Start(MachineState parent, MachineState work)
    {
        _parent = parent;
        _work = work;
        _machine.EnumerateTransitions(parent, _transitions);
        _index = 0;
        _inTransition = false;
    }

    /// <summary>The state the outcomes are made in (the current one is there).</summary>
    public MachineState Work => _work;

    /// <summary>Makes the next outcomes in <paramref name="work"/> (PERF: the search keeps the last outcome while it
    /// makes the next one); the order of the outcomes does not change.</summary>
    public void Redirect(MachineState work) => _work = work;

    /// <summary>Makes the next enabled outcome in the work state; false when there is none left.</summary>
    public bool MoveNext()
    {
        while (true)
        {
            if (_inTransition)
            {
                if (!_chooser.Advance())
                {
                    _inTransition = false;
                    _index++;
                    continue;
                }
            }
            else
            {
                if (_index >= _transitions.Count)
                {
                    return false;
                }
                Transition = _transitions[_index];
                _chooser.Reset();
                _inTransition = true;
            }
            _work.CopyFrom(_parent);
            Outcome = _machine.Apply(_work, Transition, _chooser);
            Debug.Assert(Outcome != Outcome.NeedChoice, "the depth-first chooser takes an option at every choice");
            if (Outcome != Outcome.Disabled)
            {
                return true;
            }
        }
    }
}
