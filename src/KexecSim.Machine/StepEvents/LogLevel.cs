namespace KexecSim.Machine;

/// <summary>The kernel's printing function a message came from.</summary>
public enum LogLevel : byte
{
    /// <summary><c>pr_err</c>.</summary>
    Error,

    /// <summary><c>pr_warn</c>.</summary>
    Warning,
}
