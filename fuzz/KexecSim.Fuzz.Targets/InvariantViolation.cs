namespace KexecSim.Fuzz;

/// <summary>An input broke one of the fuzzing invariants (docs/fuzzing.md): the harness treats it as a crash.</summary>
public sealed class InvariantViolation(string message) : Exception(message);
