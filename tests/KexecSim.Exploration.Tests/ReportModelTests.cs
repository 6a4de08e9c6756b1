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

    [Fact]
    public void Report_model_steps_carry_what_they_do_as_data()
    {
        var model = FirstStraySmi();
        Assert.Equal(new StepAction(Transition.Step(0)), model.Steps[0].What);
        Assert.Equal((TransitionKind.Deliver, 1, EventKind.Nmi), (model.Steps[1].What.Kind, model.Steps[1].What.Cpu, model.Steps[1].What.Event));
        Assert.Equal((TransitionKind.Inject, 1, EventKind.Smi), (model.Steps[5].What.Kind, model.Steps[5].What.Cpu, model.Steps[5].What.Event));
        Assert.Equal("CPU 1 takes an SMI", model.Steps[6].Description);
        Assert.Equal("a stray SMI arrives for CPU 1", model.Steps[5].Description);
    }

    [Fact]
    public void Snapshot_after_a_step_gives_every_cache_entry_and_memory_line()
    {
        var model = FirstStraySmi();
        var old = BuiltinValues.OldContent;
        var (text0, data0, boot0) = (Id(model, "text[0]"), Id(model, "data[0]"), Id(model, "boot_code[0]"));
        LineSnapshot Untouched(int line, string name) => new(line, name, old, BuiltinValues.KeyNone, "KEY_NONE", false, false, false, null, null);

        // Before step 1: empty caches, every line as the old kernel left it.
        var initial = model.SnapshotAfter(0);
        Assert.Equal(0, initial.Step);
        Assert.Equal([(0, new[] { 0 }, 0), (1, new[] { 1 }, 0)], initial.Caches.Select(c => (c.Index, c.Cpus.ToArray(), c.Entries.Count)));
        Assert.Equal([Untouched(text0, "text[0]"), Untouched(data0, "data[0]"), Untouched(boot0, "boot_code[0]")], initial.Lines);

        // After step 3 (CPU 1: parked = true): CPU 1's cache holds data[0] dirty; memory is unchanged.
        var parked = model.SnapshotAfter(3);
        Assert.Empty(parked.Caches[0].Entries);
        Assert.Equal([new CachedLine(data0, "data[0]", BuiltinValues.KeyNone, "KEY_NONE", old, Dirty: true)], parked.Caches[1].Entries);
        Assert.Equal(initial.Lines, parked.Lines);

        // After step 5 (CPU 0 copies the image over text[0]): the copy sits dirty in CPU 0's cache beside its
        // clean read of data[0]; in memory text[0] is clobbered and must hold the image (100, KEY_NONE).
        var copied = model.SnapshotAfter(5);
        Assert.Equal(5, copied.Step);
        Assert.Equal(
            [
                new CachedLine(text0, "text[0]", BuiltinValues.KeyNone, "KEY_NONE", 100, Dirty: true),
                new CachedLine(data0, "data[0]", BuiltinValues.KeyNone, "KEY_NONE", old, Dirty: false),
            ],
            copied.Caches[0].Entries);
        Assert.Equal([new CachedLine(data0, "data[0]", BuiltinValues.KeyNone, "KEY_NONE", old, Dirty: true)], copied.Caches[1].Entries);
        Assert.Equal(
            [
                Untouched(text0, "text[0]") with { Clobbered = true, NewValue = 100, NewKey = BuiltinValues.KeyNone },
                Untouched(data0, "data[0]"),
                Untouched(boot0, "boot_code[0]"),
            ],
            copied.Lines);
        Assert.Equal(copied.Lines, model.SnapshotAfter(7).Lines);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SnapshotAfter(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SnapshotAfter(-1));
    }

    [Fact]
    public void Snapshot_shows_a_tdx_write_back_making_a_line_td_owned_and_the_partial_write_poisoning_it()
    {
        const string text = """
            region pamt[1];
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                wbinvd();
                movnti(pamt[0], KEY_NONE, 0);
                int x = load(pamt[0], KEY_NONE);
                x = x;
                done();
            }
            scenario "s" { platform { bugs TDX_PW_MCE; } cpu 0 runs f(); expect MACHINE_CHECK; }
            """;
        var program = FrontEnd.LoadText("p.kflow", text).Scenarios.Single();
        var model = ReportModel.Build(program, new BreadthFirstExplorer(program).Run().Trace!);
        var pamt = Id(model, "pamt[0]");
        var tdx = BuiltinValues.TdxKey(1);
        Assert.Equal(
            [TransitionKind.Step, TransitionKind.Step, TransitionKind.WbinvdWriteBack, TransitionKind.WbinvdFinish, TransitionKind.Step, TransitionKind.Step],
            model.Steps.Select(s => s.Kind));

        // After the store: (pamt[0], tdx_key(1)) dirty in the cache, memory untouched.
        var stored = model.SnapshotAfter(1);
        Assert.Equal([new CachedLine(pamt, "pamt[0]", tdx, "tdx_key(1)", 5, Dirty: true)], Assert.Single(stored.Caches).Entries);
        Assert.Equal(new LineSnapshot(pamt, "pamt[0]", BuiltinValues.OldContent, BuiltinValues.KeyNone, "KEY_NONE", false, false, false, null, null), stored.Lines[pamt]);

        // After WBINVD writes it back: the entry is clean, memory holds 5 under tdx_key(1), TD-owned.
        var writtenBack = model.SnapshotAfter(3);
        Assert.Equal([new CachedLine(pamt, "pamt[0]", tdx, "tdx_key(1)", 5, Dirty: false)], Assert.Single(writtenBack.Caches).Entries);
        Assert.Equal(new LineSnapshot(pamt, "pamt[0]", 5, tdx, "tdx_key(1)", Poisoned: false, TdOwned: true, Clobbered: false, null, null), writtenBack.Lines[pamt]);

        // After the partial write with KEY_NONE (erratum TDX_PW_MCE): the cache is empty, the line poisoned.
        var poisoned = model.SnapshotAfter(5);
        Assert.Empty(Assert.Single(poisoned.Caches).Entries);
        Assert.Equal(new LineSnapshot(pamt, "pamt[0]", BuiltinValues.Garbage, tdx, "tdx_key(1)", Poisoned: true, TdOwned: true, Clobbered: false, null, null), poisoned.Lines[pamt]);
        Assert.Equal(
            ["text[0]", "data[0]", "next_kernel[0]"],
            poisoned.Lines.Where(l => l.Line != pamt && l == new LineSnapshot(l.Line, l.Name, BuiltinValues.OldContent, BuiltinValues.KeyNone, "KEY_NONE", false, false, false, null, null)).Select(l => l.Name));
    }

    private static int Id(ReportModel model, string line) => model.Program.Lines.Single(l => l.Name == line).Id;
}
