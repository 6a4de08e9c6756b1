namespace KexecSim.Reporting;

/// <summary>One cache entry at a step: the line it holds and under which key, its value, and whether it is dirty.</summary>
/// <param name="Line">The line's id in the compiled program.</param>
/// <param name="Name">The line's name ("text[0]").</param>
/// <param name="Key">The key the entry is addressed with.</param>
/// <param name="KeyName">The key in words ("KEY_NONE", "tdx_key(1)").</param>
/// <param name="Value">The value token the entry holds.</param>
/// <param name="Dirty">The entry differs from memory and will be written back (else it is clean).</param>
public sealed record CachedLine(int Line, string Name, long Key, string KeyName, long Value, bool Dirty);
