namespace KexecSim.Reporting;

/// <summary>
/// One value a step showed, as every writer renders it: a variable read (<c>read</c>) or written (<c>write</c>, with
/// <paramref name="Old"/>), a local or loop variable assigned (<c>local</c>), a call's arguments (<c>call</c>), a memory
/// line loaded, stored (with <paramref name="Old"/>) or flushed (<c>load</c>, <c>store</c>, <c>movnti</c>, <c>dma_write</c>, <c>movdir64b</c>,
/// <c>clflush</c>), a cache entry written back (<c>writeback</c>), a firmware command's status (<c>firmware</c>), a
/// query's result (<c>result</c>: <c>snp_state()</c>, <c>cpuid(leaf)</c>, <c>cpu_has(F)</c>, cpumask queries…), a function's
/// return value (<c>return</c>) or a nondeterministic choice (<c>choice</c>). Names and values are in the model's words.
/// </summary>
/// <param name="Cpu">The CPU whose step it was (for a write-back: the cache's index).</param>
public sealed record StepValue(string Kind, int Cpu, string Name, string? Old, string Value)
{
    /// <summary>The value in one phrase: <c>cache_state_incoherent → true</c>, <c>done: false → true</c>,
    /// <c>l = text[0]</c>, <c>stop_this_cpu(cpu = 1)</c>,
    /// <c>snp_state() → SNP_STATE_INIT</c>, <c>kexec_should_crash() returns true</c>, <c>store text[0] (KEY_NONE): OLD_CONTENT → 0x1234</c> (a memory
    /// write shows old → new as a variable write does: the old value is what a load of (line, key) saw just before, or
    /// <c>poison</c>).</summary>
    public string Text => Kind switch
    {
        "read" => $"{Name} → {Value}",
        "write" => $"{Name}: {Old} → {Value}",
        "local" => $"{Name} = {Value}",
        "call" => $"{Name}({Value})",
        "load" => $"load {Name} → {Value}",
        "clflush" => $"clflush {Name}",
        "writeback" => $"write-back {Name} ← {Value}",
        "firmware" or "result" => $"{Name} → {Value}",
        "return" => $"{Name}() returns {Value}",
        "choice" => $"{Name}: {Value}",
        _ when Old is not null => $"{Kind} {Name}: {Old} → {Value}",
        _ => $"{Kind} {Name} ← {Value}",
    };

    public override string ToString() => Text;
}
