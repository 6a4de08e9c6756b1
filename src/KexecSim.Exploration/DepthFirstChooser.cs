using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Enumerates every branch of one step's nondeterministic choices, depth first in option order (the
/// lexicographic order of the choice sequences): run the step from a fresh copy of the state with this
/// chooser, read <see cref="Choices"/>, and call <see cref="Advance"/> for the next branch until it
/// returns false. Each run replays the recorded prefix and takes option 0 at every choice past it.
/// PERF: two reused arrays; nothing is allocated per branch or per transition.
/// </summary>
public sealed class DepthFirstChooser : IChooser
{
    private int[] _choices = new int[8];
    private int[] _options = new int[8];

    // Choices recorded for the branch being run (its prefix, then those it made past it), and how many
    // of them the run has taken so far.
    private int _recorded;
    private int _taken;

    /// <summary>The choices the branch just run made, in order (valid until the next run or <see cref="Advance"/>).</summary>
    public ReadOnlySpan<int> Choices => _choices.AsSpan(0, _taken);

    /// <summary>Starts a step's first branch (option 0 at every choice).</summary>
    public void Reset()
    {
        _recorded = 0;
        _taken = 0;
    }

    public int Choose(int options)
    {
        if (_taken < _recorded)
        {
            // The machine is deterministic given the choices: a replayed prefix meets the same choices.
            if (_options[_taken] != options)
            {
                throw new InvalidOperationException($"choice {_taken + 1} offered {options} options, {_options[_taken]} before");
            }
            return _choices[_taken++];
        }
        if (_recorded == _choices.Length)
        {
            Array.Resize(ref _choices, _recorded * 2);
            Array.Resize(ref _options, _recorded * 2);
        }
        _choices[_recorded] = 0;
        _options[_recorded] = options;
        _recorded++;
        _taken++;
        return 0;
    }

    /// <summary>Moves to the next branch: the last choice the branch just run made that has an option
    /// left takes its next option, and the choices after it are dropped. False when every branch was run.</summary>
    public bool Advance()
    {
        var depth = _taken;
        while (depth > 0 && _choices[depth - 1] == _options[depth - 1] - 1)
        {
            depth--;
        }
        _taken = 0;
        _recorded = depth;
        if (depth == 0)
        {
            return false;
        }
        _choices[depth - 1]++;
        return true;
    }
}
