namespace KexecSim.Reporting;

/// <summary>One memory line at a step: its value, the key it was written with, and its marks.</summary>
/// <param name="Line">The line's id in the compiled program.</param>
/// <param name="Name">The line's name ("text[0]").</param>
/// <param name="Value">The value token memory holds.</param>
/// <param name="Key">The key the value was written with.</param>
/// <param name="KeyName">The key in words ("KEY_NONE", "tdx_key(1)").</param>
/// <param name="Poisoned">The line is poisoned: a read takes a machine check.</param>
/// <param name="TdOwned">The line was last written with a TDX private key.</param>
/// <param name="Clobbered">The line was overwritten through another region's name, or by the next kernel (SEMANTICS.md section 5).</param>
/// <param name="NewValue">What the image copy or the next kernel wrote there, which the line must hold; null until one writes it.</param>
/// <param name="NewKey">The key <see cref="NewValue"/> was written with; null with it.</param>
public sealed record LineSnapshot(int Line, string Name, long Value, long Key, string KeyName, bool Poisoned, bool TdOwned, bool Clobbered, long? NewValue, long? NewKey);
