using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// What a scenario's <c>expect</c> means for a search (LANGUAGE.md section 6): which violation ends the
/// search as its verdict, which are kept aside (the first of each other code, with its trace), whether a
/// complete search still looks for a LIVELOCK, and the verdict of a search that ran to the end.
/// </summary>
public sealed class ExpectationPolicy
{
    private readonly ViolationCode? _expected;
    private readonly List<(Violation, Trace)> _others = [];
    private readonly HashSet<ViolationCode> _otherCodes = [];

    private readonly bool _livelock;

    /// <param name="livelock">Whether a LIVELOCK is looked for at all (<c>--livelock</c>).</param>
    public ExpectationPolicy(Expectation expectation, bool livelock = true)
    {
        _expected = expectation.Code;
        _livelock = livelock;
    }

    /// <summary>The first violation of each other code met so far, in the order met.</summary>
    public List<(Violation Violation, Trace Trace)> Others => _others;

    /// <summary>Whether a violation of <paramref name="code"/> ends the search as its verdict: any does
    /// without <c>expect CODE</c> (and with <c>expect pass</c>), else only the expected code.</summary>
    public bool EndsSearch(ViolationCode code) => _expected is null || code == _expected;

    /// <summary>Whether a violation of <paramref name="code"/> that does not end the search is still to be
    /// kept: the first of its code only (its trace need not be built otherwise).</summary>
    public bool Keeps(ViolationCode code) => !EndsSearch(code) && !_otherCodes.Contains(code);

    /// <summary>Keeps a violation that does not end the search, if it is the first of its code.</summary>
    public void Keep(Violation violation, Trace trace)
    {
        if (_otherCodes.Add(violation.Code))
        {
            _others.Add((violation, trace));
        }
    }

    /// <summary>Puts back a kept violation of a saved search (docs/checkpoint.md), in the order they were kept.</summary>
    internal void Restore(Violation violation, Trace trace) => Keep(violation, trace);

    /// <summary>Whether a complete search looks for a LIVELOCK: unless <c>--livelock off</c>, when one would be its
    /// verdict, or when none has been kept yet.</summary>
    public bool LooksForLivelock => _livelock && (EndsSearch(ViolationCode.Livelock) || !_otherCodes.Contains(ViolationCode.Livelock));

    /// <summary>
    /// The verdict of a search that explored everything without a violation that ends it: a violation of
    /// another code is the outcome (a MODEL_ERROR first: the model itself is wrong; else the one with the
    /// shortest trace, the first met on a tie), never a pass with nothing to show; else a pass.
    /// </summary>
    public SearchVerdict Conclude()
    {
        if (_others.Count == 0)
        {
            return new SearchVerdict(Verdict.Pass, null, null, _others);
        }
        var outcome = _others.FirstOrDefault(o => o.Item1.Code == ViolationCode.ModelError);
        if (outcome.Item1 is null)
        {
            outcome = _others.MinBy(o => o.Item2.Steps.Count);
        }
        var rest = _others.Where(o => !ReferenceEquals(o.Item1, outcome.Item1)).ToList();
        return new SearchVerdict(Verdict.Violation, outcome.Item1, outcome.Item2, rest);
    }
}
