namespace KexecSim.Machine;

/// <summary>What holds an INIT pending (SEMANTICS.md section 4).</summary>
public enum InitBlocker : byte
{
    /// <summary>The target is in VMX root operation.</summary>
    VmxRoot,

    /// <summary>The target has GIF = 0.</summary>
    GifClear,

    /// <summary>The target is in WBINVD.</summary>
    Wbinvd,
}
