namespace KexecSim.Machine;

/// <summary>What a CPU can send to another through its APIC.</summary>
public enum SentEvent : byte
{
    /// <summary>An interrupt vector (<c>send_ipi</c>).</summary>
    Vector,

    /// <summary>An NMI (<c>send_nmi</c>).</summary>
    Nmi,

    /// <summary>An INIT (<c>send_init</c>).</summary>
    Init,
}
