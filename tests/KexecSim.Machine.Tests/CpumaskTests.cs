namespace KexecSim.Machine.Tests;

/// <summary>
/// The cpumask intrinsics of LANGUAGE.md ("Kernel data structures") on a machine whose CPUs fill more than one
/// mask word and end inside the last: weight, first (nr_cpus() when empty), empty, and the masks made by copy,
/// andnot, clear, set and clear_cpu, checked by the model's own asserts (a failed one is an ASSERTION).
/// </summary>
public sealed class CpumaskTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(70)]
    [InlineData(130)]
    public void Cpumask_weight_first_and_empty_count_the_machines_cpus_only(int cpus)
    {
        var last = cpus - 1;
        var model = $$"""
            shared cpumask m;
            shared cpumask other;
            fn f() {
                assert(cpumask_weight(cpu_all_mask) == {{cpus}}, "all");
                assert(cpumask_first(m) == {{cpus}} && cpumask_empty(m), "empty: nr_cpus()");
                cpumask_copy(m, cpu_all_mask);
                assert(cpumask_weight(m) == {{cpus}} && cpumask_first(m) == 0 && !cpumask_empty(m), "copied");
                cpumask_clear_cpu(0, m);
                assert(cpumask_first(m) == 1 && cpumask_weight(m) == {{cpus - 1}}, "0 cleared");
                cpumask_copy(other, m);
                cpumask_clear_cpu({{last}}, other);
                cpumask_andnot(m, m, other);
                assert(cpumask_weight(m) == 1 && cpumask_first(m) == {{last}} && cpumask_test_cpu({{last}}, m), "the last left");
                cpumask_set_cpu(63, m);
                assert(cpumask_weight(m) == {{(last == 63 ? 1 : 2)}} && cpumask_first(m) == 63, "63 set");
                cpumask_clear(m);
                assert(cpumask_empty(m) && cpumask_weight(m) == 0 && cpumask_first(m) == {{cpus}}, "cleared");
                done();
            }
            scenario "s" { platform { cpus {{cpus}}; } cpu 0 runs f(); timeouts off; expect pass; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
    }
}
