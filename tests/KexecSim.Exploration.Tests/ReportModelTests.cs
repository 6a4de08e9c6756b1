using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Exploration.Tests;

/// <summary>The report model of a known counterexample (the approved first example's stray SMI): its steps, lanes, spans and events.</summary>
public sealed class ReportModelTests
{
    private static ReportModel FirstStraySmi()
    {
        var loaded = FrontEnd.LoadText("first.kflow", File.ReadAllText(Path.Combine(TestPaths.SharedExamples, "first.kflow")));
        var program = loaded.Scenarios.Single(s => s.ScenarioName == "nmi-then-jump-stray-smi");
        var result = new BreadthFirstExplorer(program).Run();
        return ReportModel.Build(program, result.Trace!);
    }

    [Fact]
    public void Report_model_of_the_stray_smi_has_the_exact_steps_and_lanes()
    {
        var model = FirstStraySmi();
        Assert.Equal(
            [
                (1, TransitionKind.Step, 0, 0, "send_nmi(1)", "first.kflow:27"),
                (2, TransitionKind.Deliver, 1, 1, "takes an NMI", "first.kflow:32"),
                (3, TransitionKind.Step, 1, 1, "parked = true;", "first.kflow:12"),
                (4, TransitionKind.Step, 0, 0, "wait_until(parked)", "first.kflow:28"),
                (5, TransitionKind.Step, 0, 0, "store(l, KEY_NONE, IMAGE)", "first.kflow:17"),
                (6, TransitionKind.Inject, 1, -1, "a stray SMI arrives for CPU 1", "first.kflow:13"),
                (7, TransitionKind.Deliver, 1, 1, "takes an SMI", "first.kflow:13"),
            ],
            model.Steps.Select(s => (s.Number, s.Kind, s.Cpu, s.Lane, s.Action, s.Where)));
        Assert.Equal(2, model.Cpus);
        Assert.All(model.Steps, s => Assert.NotNull(s.Location));
        Assert.Empty(model.InitialMessages);
    }

    [Fact]
    public void Report_model_of_the_stray_smi_keeps_each_steps_typed_events_and_the_violation()
    {
        var model = FirstStraySmi();
        Assert.Equal(new CpuStepped(0, model.Steps[0].Location), model.Steps[0].Events[0]);
        Assert.Contains(new EventSent(0, 1, SentEvent.Nmi), model.Steps[0].Events);
        Assert.Equal(new EventDelivered(1, EventKind.Nmi), model.Steps[1].Events[0]);
        Assert.Equal([new FaultInjected(1, EventKind.Smi)], model.Steps[5].Events);
        Assert.Equal(new EventDelivered(1, EventKind.Smi), model.Steps[6].Events[0]);
        var text0 = model.Program.Lines.Single(l => l.Name == "text[0]").Id;
        Assert.Contains(new LineFetched(1, text0), model.Steps[6].Events);
        Assert.Equal((ViolationCode.ExecClobbered, ViolationReason.FetchedClobbered, 1, text0, 0), (model.Violation!.Code, model.Violation.Reason, model.Violation.Cpu, model.Violation.Line, model.Violation.Other));
        Assert.Equal("CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 5", model.Rule);
        Assert.True(model.Replay.Confirmed);
    }
}
