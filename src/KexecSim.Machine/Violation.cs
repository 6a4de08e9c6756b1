using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>A violation of SEMANTICS.md section 7: the code, the CPU, the rule in the user's words, and where.</summary>
public sealed record Violation(ViolationCode Code, int Cpu, string Message, DebugSpan? Location)
{
    /// <summary>The memory line the violation is about (clobbering, corruption), when there is one.</summary>
    public int Line { get; init; } = -1;

    public override string ToString() => Location is { } at ? $"{Code.Name()} on CPU {Cpu} at {at}: {Message}" : $"{Code.Name()}: {Message}";
}
