using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Turns a path of the symmetry-reduced search into a run of the real machine, in real CPU ids. The
/// search applied each step to the representative of a state's orbit, so its transitions name CPUs of
/// the representatives. Starting from the real initial state, each step is matched by the real
/// transition (and choices) whose successor has the same representative as the search's next state:
/// one exists because the machine commutes with the permutation (docs/symmetry.md). The result is a
/// run that replays step by step, as long as the search's.
/// </summary>
public sealed class SymmetricTraces
{
    private readonly Machine.Machine _machine;
    private readonly StateSymmetry _symmetry;
    private readonly SuccessorEnumerator _successors;
    private readonly TraceChooser _replay = new();

    public SymmetricTraces(Machine.Machine machine, StateSymmetry symmetry)
    {
        _machine = machine;
        _symmetry = symmetry;
        _successors = new SuccessorEnumerator(machine);
    }

    /// <summary>The real run for <paramref name="steps"/> (a path of representatives).</summary>
    /// <param name="steps">The search's path from the initial state.</param>
    /// <param name="violation">When the last step commits a violation (or its successor fails the
    /// settled check, <paramref name="settled"/>), the violation's code: the real last step must commit
    /// one of that code too; null when every step reaches a state.</param>
    /// <param name="settled">The violation is the settled check's on the state after the last step.</param>
    public List<TraceStep> Concretize(IReadOnlyList<TraceStep> steps, Violation? violation, bool settled)
    {
        var representative = _machine.NewState();
        var real = _machine.NewState();
        var next = _machine.NewState();
        var trial = _machine.NewState();
        var expected = _machine.NewState();
        if (_machine.CreateInitial(real) == Outcome.Violation)
        {
            throw new InvalidOperationException("the initial state commits a violation");
        }
        // σ maps the representative's CPUs to the real ones: real = σ(representative). The representative
        // is a normal form, not always the same member of an orbit, so the real successor is matched
        // exactly, as σ of the representative's successor, never by comparing representatives.
        var cpus = _machine.Layout.Cpus;
        var sigma = new int[cpus];
        var composed = new int[cpus];
        representative.Decode(_symmetry.Canonicalize(real));
        Invert(_symmetry.LastPermutation, sigma);
        var result = new List<TraceStep>(steps.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            next.CopyFrom(representative);
            _replay.Start(step.Choices);
            var outcome = _machine.Apply(next, step.Transition, _replay);
            if (i == steps.Count - 1 && violation is not null)
            {
                result.Add(Find(real, trial, violation, settled, null) ?? throw Lost(i));
                return result;
            }
            if (outcome != Outcome.Ok)
            {
                throw Lost(i);
            }
            _symmetry.Permute(next, sigma, expected);
            var target = expected.Span.ToArray();
            result.Add(Find(real, trial, null, false, target) ?? throw Lost(i));
            real.CopyFrom(trial);
            // The search stored P(next); real = σ(next) = σ(P⁻¹(P(next))).
            var canonical = _symmetry.Canonicalize(next).ToArray();
            var p = _symmetry.LastPermutation;
            for (var c = 0; c < cpus; c++)
            {
                composed[p[c]] = sigma[c];
            }
            composed.CopyTo(sigma, 0);
            representative.Decode(canonical);
        }
        return result;
    }

    private static void Invert(ReadOnlySpan<int> permutation, int[] inverse)
    {
        for (var c = 0; c < permutation.Length; c++)
        {
            inverse[permutation[c]] = c;
        }
    }

    /// <summary>The first real step from <paramref name="from"/> that reaches exactly <paramref name="target"/>,
    /// or that commits <paramref name="violation"/>'s code and reason; the state it reaches is left in
    /// <paramref name="trial"/>.</summary>
    private TraceStep? Find(MachineState from, MachineState trial, Violation? violation, bool settled, long[]? target)
    {
        _successors.Start(from, trial);
        while (_successors.MoveNext())
        {
            var outcome = _successors.Outcome;
            bool matches;
            if (violation is not null)
            {
                var committed = settled
                    ? (outcome == Outcome.Ok ? _machine.CheckSettled(trial) : null)
                    : (outcome == Outcome.Violation ? _machine.LastViolation : null);
                matches = committed?.Code == violation.Code && committed.Reason == violation.Reason;
            }
            else
            {
                matches = outcome == Outcome.Ok && trial.Span.SequenceEqual(target);
            }
            if (matches)
            {
                return new TraceStep(_successors.Transition, _successors.Choices.ToArray());
            }
        }
        return null;
    }

    private static InvalidOperationException Lost(int step) =>
        new($"symmetry: step {step + 1} of a reduced path has no real counterpart (the machine does not commute with the permutation)");
}
