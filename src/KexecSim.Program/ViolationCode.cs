namespace KexecSim.Program;

/// <summary>The stable violation codes of SEMANTICS.md section 7 (the words of <c>expect</c>).</summary>
public enum ViolationCode
{
    ExecClobbered,
    DataClobbered,
    Corruption,
    MachineCheck,
    TripleFault,
    GuestException,
    FirmwareRace,
    PlatformReset,
    ResetHang,
    Panic,
    Bug,
    Assertion,
    Deadlock,
    Livelock,
    ModelError,
}

public static class ViolationCodes
{
    private static readonly (ViolationCode Code, string Name)[] Names =
    [
        (ViolationCode.ExecClobbered, "EXEC_CLOBBERED"),
        (ViolationCode.DataClobbered, "DATA_CLOBBERED"),
        (ViolationCode.Corruption, "CORRUPTION"),
        (ViolationCode.MachineCheck, "MACHINE_CHECK"),
        (ViolationCode.TripleFault, "TRIPLE_FAULT"),
        (ViolationCode.GuestException, "GUEST_EXCEPTION"),
        (ViolationCode.FirmwareRace, "FIRMWARE_RACE"),
        (ViolationCode.PlatformReset, "PLATFORM_RESET"),
        (ViolationCode.ResetHang, "RESET_HANG"),
        (ViolationCode.Panic, "PANIC"),
        (ViolationCode.Bug, "BUG"),
        (ViolationCode.Assertion, "ASSERTION"),
        (ViolationCode.Deadlock, "DEADLOCK"),
        (ViolationCode.Livelock, "LIVELOCK"),
        (ViolationCode.ModelError, "MODEL_ERROR"),
    ];

    public static IEnumerable<string> AllNames => Names.Select(n => n.Name);

    public static string Name(this ViolationCode code) => Names.First(n => n.Code == code).Name;

    public static bool TryParse(string name, out ViolationCode code)
    {
        foreach (var (c, n) in Names)
        {
            if (n == name)
            {
                code = c;
                return true;
            }
        }
        code = default;
        return false;
    }
}
