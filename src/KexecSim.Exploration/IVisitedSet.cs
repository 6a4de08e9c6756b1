namespace KexecSim.Exploration;

/// <summary>The breadth-first search's visited set: exact fingerprints (<see cref="FingerprintSet"/>) or
/// bitstate hashing (<see cref="BitstateSet"/>, <c>--bitstate MB</c>).</summary>
public interface IVisitedSet
{
    /// <summary>States added (each new one once).</summary>
    int Count { get; }

    long MemoryBytes { get; }

    /// <summary>Adds a state's fingerprint with its node id; false when it was (or, for bitstate, seems)
    /// visited already, with the node it was stored as (-1 when the set does not keep node ids).</summary>
    bool TryAdd(ulong fingerprint, int value, out int existing);
}
