using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The TDX module as the machine sees it (SEMANTICS.md sections 3 and 5): private KeyIDs, lines owned by a TD in memory, and the partial-write erratum that poisons them.</summary>
public sealed partial class Machine
{
    private static bool IsTdxKey(long key) => (key & ~BuiltinValues.KeyIndexMask) == BuiltinValues.TdxKeyBase;

    /// <summary>The mark a line gets in memory when written with <paramref name="key"/>: TD-owned under a TDX private key.</summary>
    private static LineFlags TdxOwnerMark(long key) => IsTdxKey(key) ? LineFlags.TdOwned : LineFlags.None;

    /// <summary>The TDX partial-write erratum (bug TDX_PW_MCE, SEMANTICS.md section 5): a partial write with
    /// another key to a line a TD owns poisons it instead of writing it.</summary>
    private bool TdxPartialWritePoisons(in LineState line, long key) =>
        Layout.TdxPartialWriteErratum && (line.Flags & LineFlags.TdOwned) != 0 && key != line.Key;
}
