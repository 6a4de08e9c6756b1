using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>
/// <see cref="TransitionLister"/> lists again only the CPUs and caches a step changed (the simulation's per-step
/// cost at many CPUs): at every step of random runs over every catalog scenario (2 and 9 CPUs, so that private and
/// shared caches, WBINVD, MWAIT, INIT, guests, injections and evictions all occur), its list must be
/// <see cref="Machine.EnumerateTransitions"/>'s, in the same order, including after a step that turned out
/// disabled was tried on a copy, and after a new run starts.
/// </summary>
public sealed class TransitionListerTests
{
    public static TheoryData<string, string, int> Scenarios()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Models, "catalog"), "*.kflow").Order(StringComparer.Ordinal))
        {
            foreach (var scenario in FrontEnd.Load(file, new LoadOptions { ModelPath = [TestPaths.Models] }).Scenarios)
            {
                data.Add(Path.GetFileName(file), scenario.ScenarioName, 0);
            }
        }
        return data;
    }

    private sealed class SeededChooser(Random random) : IChooser
    {
        public int Choose(int options) => random.Next(options);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void The_kept_list_is_the_fresh_list_at_every_step(string file, string scenario, int unused)
    {
        _ = unused;
        foreach (var cpus in new int?[] { null, 9 })
        {
            var loaded = FrontEnd.Load(Path.Combine(TestPaths.Models, "catalog", file),
                new LoadOptions { ModelPath = [TestPaths.Models], Compile = new Language.Compilation.CompileOptions { Cpus = cpus } });
            if (loaded.Scenarios.SingleOrDefault(s => s.ScenarioName == scenario) is not { } program || program.Platform.Cpus < 2 && cpus is not null)
            {
                continue;
            }
            Walk(program, runs: 12, steps: 400);
        }
    }

    private static void Walk(CompiledProgram program, int runs, int steps)
    {
        var machine = new Machine(program);
        var lister = new TransitionLister(machine);
        var random = new Random(12345);
        var chooser = new SeededChooser(random);
        var initial = machine.NewState();
        if (machine.CreateInitial(initial) == Outcome.Violation)
        {
            return;
        }
        var current = machine.NewState();
        var work = machine.NewState();
        var kept = new List<Transition>();
        var fresh = new List<Transition>();
        var compared = 0;
        for (var run = 0; run < runs; run++)
        {
            current.CopyFrom(initial);
            lister.Reset();
            var actor = -1;
            for (var step = 0; step < steps; step++)
            {
                lister.List(current, actor, kept);
                machine.EnumerateTransitions(current, fresh);
                Assert.True(fresh.SequenceEqual(kept), $"{program.ScenarioName}, run {run}, step {step}: listed {string.Join(" ", kept)}; fresh {string.Join(" ", fresh)}");
                // The indexed view (per-CPU and per-cache counts) reads the same list without building it.
                Assert.Equal(fresh.Count, lister.Count);
                for (var k = 0; k < fresh.Count; k++)
                {
                    Assert.Equal(fresh[k], lister[k]);
                }
                compared++;
                if (fresh.Count == 0)
                {
                    break;
                }
                // As a simulation does: a transition that may turn out disabled on a copy, the others in place.
                var transition = fresh[random.Next(fresh.Count)];
                var copy = machine.MayBeDisabled(current, transition);
                var target = copy ? work : current;
                if (copy)
                {
                    work.CopyFrom(current);
                }
                var outcome = machine.Apply(target, transition, chooser);
                if (outcome == Outcome.Disabled)
                {
                    continue; // the kept state is unchanged; the copy is dropped
                }
                if (outcome is Outcome.Violation or Outcome.NeedChoice)
                {
                    break;
                }
                if (copy)
                {
                    (current, work) = (work, current);
                }
                actor = transition.Cpu;
            }
        }
        Assert.True(compared > runs, $"{program.ScenarioName}: only {compared} lists compared");
    }
}
