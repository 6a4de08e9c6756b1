namespace KexecSim.Program;

/// <summary>What a handler handles: an interrupt vector, NMI or MCE.</summary>
public enum HandlerKind
{
    Vector,
    Nmi,
    Mce,
}
