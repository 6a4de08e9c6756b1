using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// A violation of SEMANTICS.md section 7: the code, the rule broken (<see cref="Reason"/>), the CPU, where, and
/// the typed arguments the rule's sentence needs (each <see cref="ViolationReason"/> says which). The words are
/// the reports' (<c>KexecSim.Reporting.Narration</c>); the machine builds none.
/// </summary>
public sealed record Violation(ViolationCode Code, ViolationReason Reason, int Cpu, DebugSpan? Location)
{
    /// <summary>The memory line the violation is about (clobbering, corruption, poison), when there is one.</summary>
    public int Line { get; init; } = -1;

    /// <summary>Another CPU the rule names (the target, the clobberer, the CPU in WBINVD or in the guest); -1 for none or a device.</summary>
    public int Other { get; init; } = -1;

    /// <summary>A region the rule names (the one a clobbering wrote through, the one indexed); -1 for none.</summary>
    public int Region { get; init; } = -1;

    /// <summary>A variable the rule names; -1 for none.</summary>
    public int Variable { get; init; } = -1;

    /// <summary>A number the rule names (an ASID, an index, a count, a command, a CPU instance).</summary>
    public long Number { get; init; }

    /// <summary>The value and key found.</summary>
    public long Value { get; init; }

    /// <inheritdoc cref="Value"/>
    public long Key { get; init; }

    /// <summary>The value and key the next kernel wrote.</summary>
    public long ExpectedValue { get; init; }

    /// <inheritdoc cref="ExpectedValue"/>
    public long ExpectedKey { get; init; }

    /// <summary>A yes/no the rule names (WBINVD rather than WBNOINVD; poison rather than a value).</summary>
    public bool Flag { get; init; }

    /// <summary>A text of the model (an assertion, a panic's template) or a recorded sentence.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>The state did not know message-only data this violation names (who clobbered a line, in
    /// a state the search decoded): a search commits it again along its path to fill it in.</summary>
    public bool NeedsMessageData { get; init; }

    /// <summary>The values printed with <see cref="Text"/>.</summary>
    public IReadOnlyList<long> Values { get; init; } = [];

    /// <summary>The CPUs a DEADLOCK or LIVELOCK describes.</summary>
    public IReadOnlyList<CpuSituation> Cpus { get; init; } = [];

    public override string ToString() => Location is { } at ? $"{Code.Name()} on CPU {Cpu} at {at} ({Reason})" : $"{Code.Name()} ({Reason})";
}
