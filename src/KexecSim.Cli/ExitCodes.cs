namespace KexecSim.Cli;

/// <summary>The documented exit codes of every command (DESIGN.md, "Command line").</summary>
public static class ExitCodes
{
    /// <summary>Every expectation met (or no violation when none is stated); lint: no errors.</summary>
    public const int Success = 0;

    /// <summary>A violation, or an unmet expectation.</summary>
    public const int Violation = 1;

    /// <summary>Bad input: diagnostics printed (also bad command lines).</summary>
    public const int BadInput = 2;

    /// <summary>A limit was reached before a verdict.</summary>
    public const int LimitReached = 3;
}
