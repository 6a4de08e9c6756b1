using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>
/// Symmetry reduction (docs/symmetry.md): a permutation of the symmetric CPUs must commute with every
/// transition, state by state (successors of π(s) = π of the successors of s), or the reduced search is
/// unsound; the reduced search must give the full search's verdict and real, replayable traces.
/// </summary>
public sealed class StateSymmetryTests
{
    /// <summary>The stop protocol with a broadcast NMI round: CPU ids in shared variables, cpumasks,
    /// percpu variables, handlers, WBINVD, private caches.</summary>
    public const string Stop = """
        enum V { REBOOT_VECTOR = 0xf8 }
        shared int stopping_cpu = -1;
        shared bool registered;
        shared cpumask cpus_stop_mask;
        shared cpumask cpu_online_mask = cpu_all_mask;
        percpu int scratch;
        fn data_dirty() { scratch = 1; }
        fn stop_this_cpu() {
            local_irq_disable();
            cpumask_clear_cpu(this_cpu(), cpu_online_mask);
            wbinvd();
            cpumask_clear_cpu(this_cpu(), cpus_stop_mask);
            loop { hlt(); }
        }
        handler vector REBOOT_VECTOR { stop_this_cpu(); }
        handler nmi {
            if (registered && this_cpu() != stopping_cpu) { stop_this_cpu(); }
        }
        fn controller() {
            if (cmpxchg(stopping_cpu, -1, this_cpu()) != -1) { return; }
            cpumask_copy(cpus_stop_mask, cpu_online_mask);
            cpumask_clear_cpu(this_cpu(), cpus_stop_mask);
            send_ipi_allbutself(REBOOT_VECTOR);
            if (!wait_until(cpumask_empty(cpus_stop_mask), 1000)) {
                registered = true;
                send_nmi_mask(cpus_stop_mask);
                wait_until(cpumask_empty(cpus_stop_mask));
            }
            cpumask_clear(cpus_stop_mask);
            platform_reset();
        }
        fn idle_cpu() { local_irq_enable(); loop { hlt(); } }
        scenario "off" {
            platform { vendor intel; cpus 4; }
            init cpu 1..3 { data_dirty(); }
            cpu 0 runs controller();
            cpu 1..3 runs idle_cpu();
            symmetric 1..3;
            timeouts off;
            expect pass;
        }
        scenario "on" {
            platform { vendor intel; cpus 3; }
            init cpu 1..2 { data_dirty(); }
            cpu 0 runs controller();
            cpu 1..2 runs idle_cpu();
            symmetric 1..2;
            timeouts on;
            expect RESET_HANG;
        }
        """;

    /// <summary>Places of every kind: a percpu region whose lines are held in locals and deferred fetches,
    /// a cpumask local and parameter (a place reference), a CPU id in a shared variable, a local and a
    /// returned value, a monitor on a percpu line, a handler that interrupts a call with operands on the
    /// stack, loads and stores under a key, private caches.</summary>
    public const string Places = """
        enum V { KICK = 0xf0 }
        region pcode[1] percpu;
        region pdata[2] percpu;
        shared int owner = -1;
        shared cpumask seen;
        percpu int flag in pdata[0];
        percpu int parked in pdata[1];
        fn me() -> int { return this_cpu(); }
        fn mark(cpumask m) { cpumask_set_cpu(me(), m); }
        fn work() in pcode[0] {
            cpumask mine;
            mark(mine);
            int id = me();
            line l = pdata[id][1];
            store(l, KEY_NONE, 5);
            if (cmpxchg(owner, -1, id) == -1) {
                mark(seen);
                send_ipi_allbutself(KICK);
            }
            flag = 1;
            monitor(parked);
            mwait();
            if (cpumask_test_cpu(id, mine)) {
                parked = load(pdata[id][0], KEY_NONE);
            }
            loop { hlt(); }
        }
        handler vector KICK in pcode[0] {
            mark(seen);
            parked = 1;
        }
        fn idle() { loop { hlt(); } }
        scenario "places" {
            platform { vendor intel; cpus 4; cache private; }
            cpu 0 runs idle();
            cpu 1..3 runs work();
            symmetric 1..3;
            timeouts off;
        }
        """;

    /// <summary>Review finding: an alias over a percpu region names one CPU's copy as a fixed line, which no
    /// permutation can follow (the reduced search missed this ASSERTION before the fix).</summary>
    private const string AliasModel = """
        region pdata[1] percpu;
        region all = pdata;
        shared bool go;
        shared int arrived;
        fn writer() { wait_until(arrived == 2); store(all[1], KEY_NONE, 7); go = true; loop { hlt(); } }
        fn reader() {
            if (atomic_inc_return(arrived) == 1) { loop { hlt(); } }
            wait_until(go);
            int v = load(pdata[0], KEY_NONE);
            assert(v != 7, "saw the write");
            loop { hlt(); }
        }
        scenario "alias" {
            platform { vendor intel; cpus 3; cache package; }
            cpu 0 runs writer();
            cpu 1..2 runs reader();
            symmetric 1..2;
            timeouts off;
            expect ASSERTION;
        }
        """;

    [Fact]
    public void Symmetry_is_not_used_when_an_alias_names_one_cpus_copy_of_a_percpu_region()
    {
        var program = RuleHarness.Compile(AliasModel);
        Assert.False(program.Symmetry.IsUsable);
        Assert.StartsWith("'region all' at rule.kflow:2:", program.Symmetry.UnusableReason);
        Assert.EndsWith(": it names CPU 1's own copy of a percpu region as a fixed line, which a permutation of them cannot follow", program.Symmetry.UnusableReason);
        var checkedModel = RuleHarness.Check(AliasModel);
        Assert.Equal(SymmetryUse.Unusable, checkedModel.Result.Symmetry);
        Assert.Equal("ASSERTION", checkedModel.Outcome);
    }

    [Fact]
    public void Symmetry_permutations_commute_on_every_kind_of_place()
    {
        var program = RuleHarness.Compile(Places);
        Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        CommutationChecker.Check(program, 4000);
    }

    [Theory]
    [InlineData("A_cex")]
    [InlineData("B_cex")]
    public void Symmetry_permutations_commute_on_the_spin_granularity_stop_protocol(string scenario)
    {
        var loaded = KexecSim.Language.FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, "bench", "models", "stop-spin.kflow"),
            new KexecSim.Language.LoadOptions { Compile = new KexecSim.Language.Compilation.CompileOptions { Cpus = 4 } });
        var program = loaded.Scenarios.Single(s => s.ScenarioName == scenario);
        Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        CommutationChecker.Check(program, 3000);
    }

    [Theory]
    [InlineData("off", 3000)]
    [InlineData("on", 3000)]
    public void Symmetry_permutations_commute_with_every_transition(string scenario, int states)
    {
        var program = RuleHarness.Compile(Stop, scenario);
        Assert.True(program.Symmetry.IsUsable, program.Symmetry.UnusableReason);
        CommutationChecker.Check(program, states);
    }

    /// <summary>The search tells the reduction each successor's parent (<see cref="StateSymmetry.SetParent"/>)
    /// so that CPUs the step left alone reuse their signature: the representative must be the one found
    /// without a parent, whether the parent given is the real one or an unrelated state.</summary>
    [Theory]
    [InlineData("places")]
    [InlineData("A_cex")]
    public void Symmetry_representative_does_not_depend_on_the_parent_given(string scenario)
    {
        var program = scenario == "places"
            ? RuleHarness.Compile(Places)
            : KexecSim.Language.FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, "bench", "models", "stop-spin.kflow"),
                new KexecSim.Language.LoadOptions { Compile = new KexecSim.Language.Compilation.CompileOptions { Cpus = 5 } })
                .Scenarios.Single(s => s.ScenarioName == scenario);
        var machine = new Machine(program);
        var withParent = new StateSymmetry(machine.Layout);
        var withUnrelated = new StateSymmetry(machine.Layout);
        var fresh = new StateSymmetry(machine.Layout);
        var start = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(start));
        var queue = new Queue<long[]>([start.Span.ToArray()]);
        var seen = new HashSet<ulong>([MachineState.Fingerprint(start.Span)]);
        var state = machine.NewState();
        var unrelated = machine.NewState();
        unrelated.CopyFrom(start);
        var successor = machine.NewState();
        var (states, successors, moved) = (0, 0, 0);
        while (queue.Count > 0 && states < 2000)
        {
            state.Decode(queue.Dequeue());
            states++;
            // As the search does: the parent once, then each successor in turn.
            withParent.SetParent(state);
            withUnrelated.SetParent(unrelated);
            foreach (var vector in CommutationChecker.SuccessorVectors(machine, state))
            {
                successor.Decode(vector);
                var expected = fresh.Canonicalize(successor).ToArray(); // never given a parent
                Assert.Equal(expected, withParent.Canonicalize(successor).ToArray());
                Assert.Equal(expected, withUnrelated.Canonicalize(successor).ToArray());
                successors++;
                moved += fresh.LastWasIdentity ? 0 : 1;
                if (seen.Add(MachineState.Fingerprint(vector)))
                {
                    queue.Enqueue(vector);
                }
            }
            unrelated.CopyFrom(state);
        }
        Assert.Equal(2000, states);
        Assert.True(moved > 100, $"only {moved} of {successors} successors were permuted");
    }

    [Theory]
    [InlineData("off")]
    [InlineData("on")]
    public void Symmetry_reduced_search_gives_the_full_search_verdict_with_a_real_trace(string scenario)
    {
        var full = RuleHarness.Check(Stop, scenario, new CheckOptions { Symmetry = false, Reduce = Reduction.None });
        var reduced = RuleHarness.Check(Stop, scenario, new CheckOptions { Reduce = Reduction.None });
        Assert.Equal(SymmetryUse.Off, full.Result.Symmetry);
        Assert.Equal(SymmetryUse.Reduced, reduced.Result.Symmetry);
        Assert.Equal(full.Outcome, reduced.Outcome);
        // Breadth-first on the quotient: the shortest counterexample is as long as the full search's.
        Assert.Equal(full.Steps, reduced.Steps);
        Assert.True(reduced.Result.Statistics.States < full.Result.Statistics.States);
    }
}

/// <summary>Checks, state by state over a breadth-first prefix of the full graph, that every permutation of
/// the symmetric CPUs commutes with the machine's transitions.</summary>
public static class CommutationChecker
{
    public static void Check(CompiledProgram program, int maxStates)
    {
        var machine = new Machine(program);
        var symmetry = new StateSymmetry(machine.Layout);
        var permutations = Permutations(program.Symmetry.Cpus, machine.Layout.Cpus).Where(p => !IsIdentity(p)).ToList();
        var start = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(start));
        var queue = new Queue<long[]>([start.Span.ToArray()]);
        var seen = new HashSet<string>([Key(start.Span)]);
        var state = machine.NewState();
        var permuted = machine.NewState();
        var checkedStates = 0;
        while (queue.Count > 0 && checkedStates < maxStates)
        {
            var vector = queue.Dequeue();
            state.Decode(vector);
            checkedStates++;
            var successors = Successors(machine, state);
            foreach (var permutation in permutations)
            {
                symmetry.Permute(state, permutation, permuted);
                var expected = successors.Select(s => s.Vector is null ? s.Code : Key(PermuteVector(machine, symmetry, s.Vector, permutation))).Order().ToList();
                var actual = Successors(machine, permuted).Select(s => s.Vector is null ? s.Code : Key(s.Vector)).Order().ToList();
                if (!expected.SequenceEqual(actual))
                {
                    Assert.Fail($"state {checkedStates} under [{string.Join(",", permutation)}]: the successors differ\n" +
                        $"state:    {Key(vector)}\npermuted: {Key(permuted.Span)}\n" +
                        $"π(successors) only: {string.Join("\n  ", expected.Except(actual))}\nsuccessors(π) only: {string.Join("\n  ", actual.Except(expected))}");
                }
            }
            foreach (var (successor, _) in successors)
            {
                if (successor is not null && seen.Add(Key(successor)))
                {
                    queue.Enqueue(successor);
                }
            }
        }
        Assert.True(checkedStates > 10, $"only {checkedStates} states were checked");
    }

    private static long[] PermuteVector(Machine machine, StateSymmetry symmetry, long[] vector, int[] permutation)
    {
        var state = machine.NewState();
        state.Decode(vector);
        var target = machine.NewState();
        symmetry.Permute(state, permutation, target);
        return target.Span.ToArray();
    }

    /// <summary>The vectors of a state's successors that are not violations.</summary>
    public static IEnumerable<long[]> SuccessorVectors(Machine machine, MachineState state) =>
        Successors(machine, state).Where(s => s.Vector is not null).Select(s => s.Vector!);

    private static List<(long[]? Vector, string Code)> Successors(Machine machine, MachineState state)
    {
        var result = new List<(long[]?, string)>();
        var transitions = new List<Transition>();
        machine.EnumerateTransitions(state, transitions);
        var chooser = new DepthFirstChooser();
        var work = machine.NewState();
        foreach (var transition in transitions)
        {
            chooser.Reset();
            do
            {
                work.CopyFrom(state);
                var outcome = machine.Apply(work, transition, chooser);
                if (outcome == Outcome.Disabled)
                {
                    continue;
                }
                var violation = outcome == Outcome.Violation ? machine.LastViolation : machine.CheckSettled(work);
                result.Add(violation is null ? (work.Span.ToArray(), string.Empty) : (null, violation.Code.ToString()));
            }
            while (chooser.Advance());
        }
        return result;
    }

    private static string Key(ReadOnlySpan<long> vector) => string.Join(",", vector.ToArray());

    private static bool IsIdentity(int[] permutation) => permutation.Select((p, i) => p == i).All(x => x);

    private static IEnumerable<int[]> Permutations(IReadOnlyList<int> cpus, int count)
    {
        foreach (var order in Orders(cpus.ToList()))
        {
            var permutation = Enumerable.Range(0, count).ToArray();
            for (var i = 0; i < cpus.Count; i++)
            {
                permutation[cpus[i]] = order[i];
            }
            yield return permutation;
        }
    }

    private static IEnumerable<List<int>> Orders(List<int> items)
    {
        if (items.Count <= 1)
        {
            yield return items;
            yield break;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var rest = items.Where((_, j) => j != i).ToList();
            foreach (var tail in Orders(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}
