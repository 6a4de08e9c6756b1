namespace KexecSim.Reporting;

/// <summary>One cache at a step: which CPUs it serves and its entries, keyed by (line, key), in the cache's canonical order.</summary>
/// <param name="Index">The cache's index in the state (0: the shared one, or CPU n's own).</param>
/// <param name="Cpus">The CPUs the cache serves (all of them for a package-wide cache).</param>
/// <param name="Entries">The entries the cache holds.</param>
public sealed record CacheSnapshot(int Index, IReadOnlyList<int> Cpus, IReadOnlyList<CachedLine> Entries);
