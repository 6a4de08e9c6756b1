namespace KexecSim.Program;

/// <summary>Built-in value names and their encodings (shared by the compiler and the machine).</summary>
public static class BuiltinValues
{
    /// <summary>The initial value token of every line.</summary>
    public const long OldContent = unchecked((long)0x8000_0000_0000_0001UL);

    /// <summary>What a read with the wrong key returns.</summary>
    public const long Garbage = unchecked((long)0x8000_0000_0000_0002UL);

    // Keys: 0 = no encryption, 1 = the SME C-bit, TDX KeyIDs and SEV ASIDs in their own ranges.
    public const long KeyNone = 0;
    public const long KeySme = 1;
    public const long TdxKeyBase = 0x1_0000;
    public const long SevKeyBase = 0x2_0000;
    public const long KeyIndexMask = 0xFFFF;

    // SEV firmware commands and status words (status values follow the PSP's SEV_RET_* codes).
    public const long SnpInit = 1;
    public const long SnpDecommission = 2;
    public const long SnpDfFlush = 3;
    public const long SnpShutdownEx = 4;
    public const long SevOk = 0;
    public const long InvalidPlatformState = 0x1;
    public const long InvalidGuestState = 0x2;
    public const long WbinvdRequired = 0xE;
    public const long DfflushRequired = 0xF;

    public static long TdxKey(long keyId) => TdxKeyBase | (keyId & KeyIndexMask);

    public static long SevKey(long asid) => SevKeyBase | (asid & KeyIndexMask);

    /// <summary>A value token as a reader wants to see it.</summary>
    public static string FormatValue(long value) => value switch
    {
        OldContent => "OLD_CONTENT",
        Garbage => "GARBAGE",
        // Kernel habit: magic values (0xDEADBEEF, an image token) read better in hex.
        >= 0x10000 or <= -0x10000 => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string FormatKey(long key) => key switch
    {
        KeyNone => "KEY_NONE",
        KeySme => "KEY_SME",
        _ when (key & ~KeyIndexMask) == TdxKeyBase => $"tdx_key({key & KeyIndexMask})",
        _ when (key & ~KeyIndexMask) == SevKeyBase => $"sev_key({key & KeyIndexMask})",
        _ => $"key({key})",
    };
}

/// <summary>The CPU features a platform may declare; <c>cpu_has</c> takes a feature's index in <see cref="Names"/>.</summary>
public static class CpuFeatures
{
    public static readonly IReadOnlyList<string> Names =
        ["HYPERVISOR", "SME", "SEV", "SEV_ES", "SEV_SNP", "TDX_HOST_PLATFORM", "TDX_GUEST"];

    /// <summary>The bug the machine itself models (SEMANTICS.md section 3, partial writes).</summary>
    public const string TdxPartialWriteBug = "TDX_PW_MCE";

    /// <summary>The flag of a feature name of <see cref="Names"/> (bit i for name i).</summary>
    public static PlatformFeatures FlagOf(string name)
    {
        var index = IndexOf(name);
        return index < 0 ? PlatformFeatures.None : (PlatformFeatures)(1 << index);
    }

    private static int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (Names[i] == name)
            {
                return i;
            }
        }
        return -1;
    }
}

/// <summary>The platform's features as a bit set, in the order of <see cref="CpuFeatures.Names"/>:
/// what the machine tests in its hot path, never a string.</summary>
[Flags]
public enum PlatformFeatures : byte
{
    None = 0,
    Hypervisor = 1 << 0,
    Sme = 1 << 1,
    Sev = 1 << 2,
    SevEs = 1 << 3,
    SevSnp = 1 << 4,
    TdxHostPlatform = 1 << 5,
    TdxGuest = 1 << 6,
}
