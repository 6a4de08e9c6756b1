namespace KexecSim.Machine.Tests;

/// <summary>The search's hot loop allocates nothing per transition: listing a state's transitions
/// (stray faults included) and applying each to a copy, with no event sink and no chooser.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Transitions_with_injections_allocate_nothing()
    {
        const string model = """
            percpu int seen;
            shared cpumask waiting;
            handler nmi { seen = 1; }
            fn worker() { cpumask_clear_cpu(this_cpu(), waiting); loop { hlt(); } }
            fn boss() { send_nmi(1); wait_until(cpumask_empty(waiting) && seen[1] == 1); wbinvd(); done(); }
            scenario "s" { platform { cpus 3; } cpu 0 runs boss(); cpu 1, 2 runs worker(); inject nmi 2 on 1, 2; inject smi 1; timeouts off; expect pass; }
            """;
        var machine = new Machine(RuleHarness.Compile(model));
        var parent = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(parent));
        var work = machine.NewState();
        var transitions = new List<Transition>(64);

        void ExpandAll(int rounds)
        {
            for (var r = 0; r < rounds; r++)
            {
                machine.EnumerateTransitions(parent, transitions);
                foreach (var transition in transitions)
                {
                    work.CopyFrom(parent);
                    machine.Apply(work, transition, null);
                    machine.CheckSettled(work);
                }
            }
        }

        ExpandAll(10); // warm up: JIT, lists grown to size
        machine.EnumerateTransitions(parent, transitions);
        Assert.Contains(transitions, t => t.Kind == TransitionKind.Inject);
        var before = GC.GetAllocatedBytesForCurrentThread();
        ExpandAll(1000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Evaluating_final_on_a_settled_state_allocates_nothing()
    {
        const string model = """
            shared int x;
            fn f() { x = 1; wbinvd(); done(); loop { hlt(); } }
            scenario "s" { cpu 0 runs f(); final { assert(x == 1, "x is set"); } timeouts off; expect pass; }
            """;
        var machine = new Machine(RuleHarness.Compile(model));
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        var transitions = new List<Transition>(16);
        for (var i = 0; i < 20 && !state.Finished; i++)
        {
            machine.EnumerateTransitions(state, transitions);
            Assert.Equal(Outcome.Ok, machine.Apply(state, transitions[0], null));
        }
        Assert.True(state.Finished);
        var work = machine.NewState();
        work.CopyFrom(state);
        Assert.Null(machine.CheckSettled(work)); // settled: final runs, and holds
        Assert.Equal(1, machine.FinalEvaluations);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            work.CopyFrom(state);
            machine.CheckSettled(work);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1001, machine.FinalEvaluations);
    }
}
