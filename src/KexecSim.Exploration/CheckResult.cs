using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

public enum Verdict
{
    /// <summary>Everything was explored; no violation (or none of the expected code).</summary>
    Pass,
    /// <summary>A violation was found (the expected one, or any when none is expected).</summary>
    Violation,
    /// <summary>A limit stopped the search before a verdict.</summary>
    LimitReached,
}

public sealed record Statistics(long States, long Transitions, int Depth, double Seconds, long PeakMemoryBytes)
{
    public double StatesPerSecond => Seconds > 0 ? States / Seconds : States;

    /// <summary>Bits of a state fingerprint in the visited set.</summary>
    public const int FingerprintBits = 64;

    /// <summary>The probability that two of the stored states share a fingerprint (so that one of them was
    /// taken for the other and never explored): the birthday bound n(n-1)/2 / 2^64.</summary>
    public double CollisionProbability => States * (double)Math.Max(0, States - 1) / 2 / Math.Pow(2, FingerprintBits);

    /// <summary>Above this, the report warns that a state may have been missed.</summary>
    public const double CollisionWarningThreshold = 1e-6;
}

/// <summary>A bitstate search's bit array (<see cref="BitstateSet"/>): m bits, k bits per state, m / n, and the
/// estimated probability that a new state was taken for a visited one at the end (1 minus it: the coverage).</summary>
public sealed record BitstateUse(long Bits, int Hashes, double HashFactor, double OmissionProbability);

/// <summary>How a search used the semantics-aware reductions (<c>--reduce</c>; docs/reduction.md).</summary>
public enum ReductionUse
{
    /// <summary>None: <c>--reduce none</c>, or nothing in the program could be reduced.</summary>
    None,

    /// <summary>The cache state of <see cref="CheckResult.UntrackedLines"/> was not kept.</summary>
    Reduced,

    /// <summary>The reduced graph has a cycle of unfinished states, so the search was run again without any
    /// reduction to look for a LIVELOCK.</summary>
    LivelockUnreduced,
}

/// <summary>How a search used the scenario's <c>symmetric</c> declaration (docs/symmetry.md).</summary>
public enum SymmetryUse
{
    /// <summary>The scenario declares no symmetric CPUs.</summary>
    NotDeclared,

    /// <summary>Declared, and the search stored one state per orbit.</summary>
    Reduced,

    /// <summary>Declared, but turned off (<c>--symmetry off</c>).</summary>
    Off,

    /// <summary>Declared, but the compiler found it unusable (its warning says why).</summary>
    Unusable,

    /// <summary>The reduced graph has a cycle of unfinished states, so the search was run again without
    /// symmetry to look for a LIVELOCK (fairness is per CPU, which a quotient graph does not keep).</summary>
    LivelockUnreduced,
}

/// <summary>
/// What <c>--shorten</c> did after a depth-first search found a counterexample: a depth-bounded search
/// for a shorter one (<see cref="DepthFirstExplorer"/>), with its own figures.
/// </summary>
/// <param name="FirstSteps">The length of the counterexample the depth-first search found.</param>
/// <param name="FinalSteps">The length of the one reported (no longer than <paramref name="FirstSteps"/>).</param>
/// <param name="LimitReason">Why the bounded search stopped before it was exhausted (the reported trace may
/// then not be a shortest one); null when it was exhausted, so no shorter counterexample exists.</param>
public sealed record Shortening(int FirstSteps, int FinalSteps, long States, long Transitions, double Seconds, string? LimitReason)
{
    /// <summary>Whether the reported counterexample is a shortest one (the bounded search was exhausted).</summary>
    public bool Shortest => LimitReason is null;
}

public sealed class CheckResult
{
    public required CompiledProgram Program { get; init; }
    public required Verdict Verdict { get; init; }

    /// <summary>The violation reported (the expected one, or the first found).</summary>
    public Violation? Violation { get; init; }
    public Trace? Trace { get; init; }
    public required Statistics Statistics { get; init; }

    /// <summary>The first violation of each other code met while searching for the expected one.</summary>
    public IReadOnlyList<(Violation Violation, Trace Trace)> OtherViolations { get; init; } = [];
    public string? LimitReason { get; init; }

    /// <summary>How the scenario's <c>symmetric</c> declaration was used.</summary>
    public SymmetryUse Symmetry { get; init; }

    /// <summary>How the semantics-aware reductions were used (<c>--reduce</c>; docs/reduction.md).</summary>
    public ReductionUse Reduction { get; init; }

    /// <summary>The lines whose cache state the search did not keep (with <see cref="ReductionUse.LivelockUnreduced"/>:
    /// would not have kept); empty when every line's was kept.</summary>
    public IReadOnlyList<int> UntrackedLines { get; init; } = [];

    /// <summary>Whether the search executed some <c>hlt()</c> with the step that reached it (<c>--reduce all</c>;
    /// with <see cref="ReductionUse.LivelockUnreduced"/>: the reduced search did).</summary>
    public bool MergedHalts { get; init; }

    /// <summary>With <c>--bitstate</c>: the bit array's figures at the end of the search; null for an exact search.</summary>
    public BitstateUse? Bitstate { get; init; }

    /// <summary>The search that gave this result (a depth-first counterexample is not necessarily a shortest one).</summary>
    public SearchStrategy Strategy { get; init; }

    /// <summary>What <c>--shorten</c> did; null when it did not run (breadth-first, no option, or no
    /// counterexample a depth-first search stopped at).</summary>
    public Shortening? Shortening { get; init; }

    /// <summary>Whether the scenario's <c>final</c> block was evaluated in at least one settled or
    /// terminal state (SEMANTICS.md section 8); false too when the scenario has none.</summary>
    public bool FinalEvaluated { get; init; }

    /// <summary><c>--livelock off</c>: no LIVELOCK was looked for.</summary>
    public bool LivelockOff { get; init; }

    /// <summary>The breadth-first search reached the memory limit (<c>--memory-limit</c> or the default ceiling) with the
    /// LIVELOCK graph much of its memory, let the graph go and went on as <c>--livelock lean</c> does (docs/livelock.md).</summary>
    public bool LivelockGraphDropped { get; init; }

    /// <summary>LIVELOCK was looked for in <c>--livelock lean</c>'s second pass (chosen, or after the graph was let go).</summary>
    public bool LeanPassRan { get; init; }
    /// <summary>What the search reached: statements, handlers, wait outcomes (warnings only after a pass).</summary>
    public Coverage? Coverage { get; init; }

    /// <summary>The coverage warnings of a pass (empty otherwise).</summary>
    public IReadOnlyList<CoverageItem> CoverageWarnings => Coverage?.Warnings ?? [];

    public Expectation Expected => Program.Expect;

    /// <summary>What makes a verdict weaker than it looks, in words (each one line): a <c>final</c> block
    /// never evaluated (SEMANTICS.md section 8).</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            var warnings = new List<string>();
            if (Statistics.CollisionProbability > Statistics.CollisionWarningThreshold)
            {
                warnings.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{Statistics.States:N0} states in 64-bit fingerprints: the probability that two shared one, and one was never explored, is {Statistics.CollisionProbability:0.0e0}"));
            }
            if (Bitstate is { } bitstate)
            {
                warnings.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"bitstate search (--bitstate): a new state may have been taken for a visited one with probability up to {bitstate.OmissionProbability:0.0e0} (hash factor {bitstate.HashFactor:0.#}), so states may have been missed; LIVELOCK was not looked for"));
            }
            if (LivelockGraphDropped)
            {
                warnings.Add(LeanPassRan
                    ? "the search reached the memory limit with the LIVELOCK graph much of its memory: it let the graph go, went on, and looked for LIVELOCK in a second pass (as --livelock lean does)"
                    : "the search reached the memory limit with the LIVELOCK graph much of its memory: it let the graph go and went on without it");
            }
            if (LivelockOff && Verdict == Verdict.Pass)
            {
                warnings.Add("LIVELOCK was not looked for (--livelock off): every state is safe, but a run may still cycle forever without finishing");
            }
            if (Program.FinalFunction >= 0 && !FinalEvaluated && Verdict != Verdict.LimitReached)
            {
                warnings.Add("the final block was never evaluated: no run reached a settled end (a dirty line or a CPU that can still act was always left)");
            }
            return warnings;
        }
    }

    /// <summary>This result, saying how symmetry was used.</summary>
    public CheckResult WithSymmetry(SymmetryUse use) => With(use, Reduction, UntrackedLines, MergedHalts, Violation, Trace, this.Shortening);

    /// <summary>This result (of a search run again in full for LIVELOCK), saying which reductions were undone.</summary>
    public CheckResult WithReductionsUndone(SymmetryUse symmetry, ReductionUse reduction, IReadOnlyList<int> untracked, bool mergedHalts) =>
        With(symmetry == SymmetryUse.Reduced ? SymmetryUse.LivelockUnreduced : symmetry,
            reduction == ReductionUse.Reduced ? ReductionUse.LivelockUnreduced : reduction, untracked, mergedHalts, Violation, Trace, this.Shortening);

    /// <summary>This result with another counterexample of the same verdict, found by <c>--shorten</c>.</summary>
    public CheckResult WithShortening(Violation violation, Trace trace, Shortening shortening) =>
        With(Symmetry, Reduction, UntrackedLines, MergedHalts, violation, trace, shortening);

    private CheckResult With(SymmetryUse use, ReductionUse reduction, IReadOnlyList<int> untracked, bool mergedHalts, Violation? violation, Trace? trace,
        Shortening? shortening) => new()
    {
        Bitstate = Bitstate,
        Reduction = reduction,
        UntrackedLines = untracked,
        MergedHalts = mergedHalts,
        Program = Program,
        Verdict = Verdict,
        Violation = violation,
        Trace = trace,
        Statistics = Statistics,
        OtherViolations = OtherViolations,
        LimitReason = LimitReason,
        Symmetry = use,
        Strategy = Strategy,
        Shortening = shortening,
        FinalEvaluated = FinalEvaluated,
        LivelockOff = LivelockOff,
        LivelockGraphDropped = LivelockGraphDropped,
        LeanPassRan = LeanPassRan,
        Coverage = Coverage,
    };

    /// <summary>"pass", a violation code, or "limit".</summary>
    public string Outcome => Verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Violation => Violation!.Code.Name(),
        _ => "limit",
    };

    /// <summary>LANGUAGE.md section 6: expect CODE is met when a run commits CODE; expect pass when nothing is
    /// violated; without expect, when nothing is violated.</summary>
    public bool ExpectationMet => Verdict switch
    {
        Verdict.LimitReached => false,
        Verdict.Pass => !Expected.IsStated || Expected.IsPass,
        _ => Expected.Code is { } code && Violation!.Code == code,
    };
}
