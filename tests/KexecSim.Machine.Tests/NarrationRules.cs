using KexecSim.Exploration;
using KexecSim.Program;
using KexecSim.Reporting;

namespace KexecSim.Machine.Tests;

/// <summary>The narration table: each violation reason and each printing event in today's exact words.</summary>
public sealed class NarrationRules
{
    private static readonly CompiledProgram Program = RuleHarness.Compile("""
        enum V { KICK = 0xf8 }
        region text[2];
        region next_kernel[1];
        percpu int count;
        shared int flag;
        handler vector KICK { flag = 1; }
        fn next() { done(); }
        fn f() { flag = 2; done(); }
        scenario "s" { platform { cpus 2; } cpu 0 runs f(); cpu 1 runs f(); expect pass; }
        """);

    private static readonly Narration Words = new(Program);

    private static int Line(string name) => Program.Lines.Single(l => l.Name == name).Id;

    private static int Region(string name) => Program.Regions.Single(r => r.Name == name).Id;

    private static Violation V(ViolationCode code, ViolationReason reason, int cpu = 0) => new(code, reason, cpu, null);

    public static TheoryData<string, Violation> Sentences()
    {
        var text0 = Line("text[0]");
        return new TheoryData<string, Violation>
        {
            { "CPU 0 fetched text[0] after CPU 1 (through next_kernel) overwrote it", V(ViolationCode.ExecClobbered, ViolationReason.FetchedClobbered) with { Line = text0, Other = 1, Region = Region("next_kernel") } },
            { "CPU 0 fetched text[0] after a device (in the next kernel) overwrote it", V(ViolationCode.ExecClobbered, ViolationReason.FetchedClobbered) with { Line = text0 } },
            { "CPU 1 used 'count[1]' on text[0] after CPU 0 (through next_kernel) overwrote it",
                V(ViolationCode.DataClobbered, ViolationReason.UsedClobbered, 1) with { Line = text0, Variable = Program.Variables.Single(v => v.Name == "count").Id, Number = 1, Other = 0, Region = Region("next_kernel") } },
            { "CPU 0 (next kernel) read GARBAGE from text[0] with KEY_NONE, but 1 was written there with KEY_NONE: a stale line of the old kernel was written back over it",
                V(ViolationCode.Corruption, ViolationReason.StaleRead) with { Line = text0, Value = BuiltinValues.Garbage, ExpectedValue = 1 } },
            { "text[0] holds poison at the end of the run, but the next kernel's 1 was written there with KEY_NONE: a stale line of the old kernel was written back over it",
                V(ViolationCode.Corruption, ViolationReason.StaleAtEnd, -1) with { Line = text0, Flag = true, ExpectedValue = 1 } },
            { "text[0] holds 2 written with KEY_NONE at the end of the run, but the next kernel's 1 was written there with KEY_NONE: a stale line of the old kernel was written back over it",
                V(ViolationCode.Corruption, ViolationReason.StaleAtEnd, -1) with { Line = text0, Value = 2, ExpectedValue = 1 } },
            { "CPU 0 read poisoned text[0]: machine check", V(ViolationCode.MachineCheck, ViolationReason.PoisonRead) with { Line = text0 } },
            { "CPU 0 read poisoned text[0]: machine check inside the machine-check handler", V(ViolationCode.TripleFault, ViolationReason.PoisonRead) with { Line = text0 } },
            { "a machine check reached CPU 1 in wait-for-SIPI: it is not contained and takes the machine down", V(ViolationCode.MachineCheck, ViolationReason.MachineCheckInWaitForSipi, 1) },
            { "a machine check reached CPU 0 inside its machine-check handler: triple fault", V(ViolationCode.TripleFault, ViolationReason.MachineCheckInHandler) },
            { "a machine check reached CPU 0, which has no handler mce: the machine goes down", V(ViolationCode.MachineCheck, ViolationReason.MachineCheckUnhandled) },
            { "CPU 0 executed WBNOINVD in a confidential guest: #VC", V(ViolationCode.GuestException, ViolationReason.WbinvdInGuest) },
            { "CPU 0 decommissioned ASID 1 while CPU 1 was running that guest", V(ViolationCode.FirmwareRace, ViolationReason.DecommissionedRunningGuest) with { Number = 1, Other = 1 } },
            { "INIT reached CPU 0, the boot CPU: the whole platform resets", V(ViolationCode.PlatformReset, ViolationReason.InitReachedBootCpu, 1) with { Other = 0 } },
            { "CPU 0 reset the platform while CPU 1 was still in WBINVD: the platform hangs", V(ViolationCode.ResetHang, ViolationReason.ResetDuringWbinvd) with { Other = 1 } },
            { "CPU 0 panicked: oops 42 at 1f [7]", V(ViolationCode.Panic, ViolationReason.Panicked) with { Text = "oops %d at %x", Values = [42, 31, 7] } },
            { "CPU 0 hit BUG_ON", V(ViolationCode.Bug, ViolationReason.BugOn) },
            { "assertion failed: image intact", V(ViolationCode.Assertion, ViolationReason.AssertionFailed) with { Text = "image intact" } },
            { "no CPU can move and the run has not finished: CPU 0 is halted with KICK pending and IF = 0; CPU 1 is in wait-for-SIPI with INIT pending, blocked by GIF = 0",
                V(ViolationCode.Deadlock, ViolationReason.NoCpuCanMove, -1) with
                {
                    Cpus =
                    [
                        new CpuSituation(0, CpuMode.Halted, 0, null, 1, CpuFlags.None, null),
                        new CpuSituation(1, CpuMode.WaitForSipi, 0, null, 0, CpuFlags.GifClear | CpuFlags.PendingInit, InitBlocker.GifClear),
                    ],
                } },
            { "the run never finishes: a cycle of 2 step(s) repeats forever (no CPU moves)", V(ViolationCode.Livelock, ViolationReason.CycleRepeats, -1) with { Number = 2 } },
            { "more than 1000000 instructions without a visible action: a loop that never touches memory", V(ViolationCode.ModelError, ViolationReason.NoVisibleAction) },
            { "an atomic block ran too long", V(ViolationCode.ModelError, ViolationReason.AtomicTooLong) },
            { "a wait condition ran too long", V(ViolationCode.ModelError, ViolationReason.WaitTooLong) },
            { "call depth over 256: runaway recursion", V(ViolationCode.ModelError, ViolationReason.CallTooDeep) },
            { "division by zero", V(ViolationCode.ModelError, ViolationReason.DivisionByZero) },
            { "text[5] is out of range: 'text' has 2 line(s)", V(ViolationCode.ModelError, ViolationReason.LineIndexOutOfRange) with { Region = Region("text"), Number = 5 } },
            { "CPU 7 does not exist (CPUs 0..1)", V(ViolationCode.ModelError, ViolationReason.NoSuchCpu) with { Other = 7 } },
            { "vmrun(0): an ASID is between 1 and 65535", V(ViolationCode.ModelError, ViolationReason.InvalidAsid) },
            { "choose(0): the number of options must be between 1 and 1000000", V(ViolationCode.ModelError, ViolationReason.InvalidOptionCount) },
            { "sev_cmd(9): not a firmware command (SNP_INIT, SNP_DECOMMISSION, SNP_DF_FLUSH, SNP_SHUTDOWN_EX)", V(ViolationCode.ModelError, ViolationReason.UnknownFirmwareCommand) with { Number = 9 } },
            { "not a line of any region", V(ViolationCode.ModelError, ViolationReason.NotALine) },
            { "init and final blocks cannot make nondeterministic choices", V(ViolationCode.ModelError, ViolationReason.ChoiceInInitOrFinal) },
            { "an init or final block waited for a condition that is false", V(ViolationCode.ModelError, ViolationReason.WaitInInitOrFinal) },
            { "an init or final block cannot halt or wait", V(ViolationCode.ModelError, ViolationReason.HaltInInitOrFinal) },
            { "as the trace file says", V(ViolationCode.Bug, ViolationReason.Recorded) with { Text = "as the trace file says" } },
        };
    }

    [Theory]
    [MemberData(nameof(Sentences))]
    public void Narration_renders_each_violation_reason(string expected, Violation violation)
    {
        Assert.Equal(expected, Words.Text(violation));
    }

    [Fact]
    public void Narration_has_a_sentence_for_every_violation_reason()
    {
        var covered = Sentences().Select(row => ((Violation)row[1]).Reason).ToHashSet();
        Assert.Equal(Enum.GetValues<ViolationReason>(), Enum.GetValues<ViolationReason>().Where(covered.Contains));
    }

    [Fact]
    public void Narration_renders_a_violation_on_one_line_with_its_code()
    {
        Assert.Equal("BUG: CPU 0 hit BUG_ON", Words.Line(V(ViolationCode.Bug, ViolationReason.BugOn)));
    }

    [Fact]
    public void Narration_prints_the_events_that_print_and_only_those()
    {
        var next = Program.Functions.Single(f => f.Name == "next").Id;
        StepEvent[] events =
        [
            new CpuStepped(0, null),
            new InitHeldPending(0, 1, InitBlocker.VmxRoot),
            new InitApplied(0, 1),
            new MessageLogged(1, LogLevel.Warning, "no placeholder", [7, 9]),
            new MessageLogged(0, LogLevel.Error, "x is %d", [4]),
            new RunFinished(0, PlatformReset: true),
            new RunFinished(1, PlatformReset: false),
            new NextKernelBooted(1, next),
            new LineFetched(0, 0),
            new LineWrittenBack(0, 0, 0, 1),
            new EventSent(0, 1, SentEvent.Nmi),
            new EventDelivered(1, EventKind.Nmi),
            new ChoiceTaken(0, 1, 2),
            new FaultInjected(0, EventKind.Smi),
            new FirmwareCommandRun(0, 1, 0, 0),
        ];
        Assert.Equal(
            [
                "CPU 0: INIT to CPU 1 is held pending (VMX root operation)",
                "CPU 0: INIT puts CPU 1 into wait-for-SIPI",
                "CPU 1: pr_warn: no placeholder [7, 9]",
                "CPU 0: pr_err: x is 4",
                "CPU 0: platform_reset()",
                "CPU 1: done()",
                "CPU 1: boots the next kernel at next()",
            ],
            Words.Messages(events));
    }

    [Fact]
    public void Narration_shows_each_query_result_memory_write_and_return_value_in_the_models_words()
    {
        var program = RuleHarness.Compile("""
            region buf[1];
            shared cpumask m = cpu_all_mask;
            fn ok() -> bool { return true; }
            fn f() { done(); }
            scenario "s" { platform { vendor intel; cpus 2; features TDX_HOST_PLATFORM; bugs TDX_PW_MCE; } cpu 0 runs f(); expect pass; }
            """);
        var words = new Narration(program);
        var mask = PlaceRef.Global(program.Variables.Single(v => v.Name == "m").Id, 0);
        var bug = program.BugNames.ToList().IndexOf("TDX_PW_MCE");
        var ok = program.Functions.Single(f => f.Name == "ok").Id;
        var buf = program.Lines.Single(l => l.Name == "buf[0]").Id;
        string Text(StepEvent e) => words.Value(e)!.Text;
        Assert.Equal("cpu_has(TDX_HOST_PLATFORM) → true",
            Text(new IntrinsicReturned(0, IntrinsicId.CpuHas, [CpuFeatures.Names.ToList().IndexOf("TDX_HOST_PLATFORM")], 1)));
        Assert.Equal("cpu_has_bug(TDX_PW_MCE) → true", Text(new IntrinsicReturned(0, IntrinsicId.CpuHasBug, [bug], 1)));
        Assert.Equal("cpuid(0x8000001f) → 0x1b", Text(new IntrinsicReturned(0, IntrinsicId.Cpuid, [0x8000001f], 0x1b)));
        Assert.Equal("kernel_key() → KEY_SME", Text(new IntrinsicReturned(0, IntrinsicId.KernelKey, [], BuiltinValues.KeySme)));
        Assert.Equal("snp_state() → SNP_STATE_UNINIT", Text(new IntrinsicReturned(0, IntrinsicId.SnpState, [], 0)));
        Assert.Equal("tdx_state() → TDX_STATE_INIT", Text(new IntrinsicReturned(0, IntrinsicId.TdxState, [], 1)));
        Assert.Equal("cpumask_test_cpu(1, m) → false", Text(new IntrinsicReturned(0, IntrinsicId.CpumaskTestCpu, [1, mask], 0)));
        Assert.Equal("cpumask_empty(cpu_all_mask) → false", Text(new IntrinsicReturned(0, IntrinsicId.CpumaskEmpty, [PlaceRef.AllMask], 0)));
        Assert.Equal("cpumask_weight(m) → 2", Text(new IntrinsicReturned(0, IntrinsicId.CpumaskWeight, [mask], 2)));
        Assert.Equal("cpumask_first(m) → 0", Text(new IntrinsicReturned(0, IntrinsicId.CpumaskFirst, [mask], 0)));
        Assert.Equal("warn_on(true) → true", Text(new IntrinsicReturned(0, IntrinsicId.WarnOn, [1], 1)));
        Assert.Equal("ok() returns true", Text(new FunctionReturned(0, ok, 1)));
        Assert.Equal("store buf[0] (KEY_NONE): OLD_CONTENT → 7", Text(new LineAccessed(0, LineAccess.Store, buf, BuiltinValues.KeyNone, 7, BuiltinValues.OldContent)));
        Assert.Equal("movnti buf[0] (KEY_NONE): poison → 7",
            Text(new LineAccessed(0, LineAccess.Movnti, buf, BuiltinValues.KeyNone, 7, BuiltinValues.Garbage, OldPoisoned: true)));
        Assert.Equal("load buf[0] (KEY_NONE) → GARBAGE", Text(new LineAccessed(0, LineAccess.Load, buf, BuiltinValues.KeyNone, BuiltinValues.Garbage)));
    }

    [Fact]
    public void Narration_names_a_vector_by_its_handler()
    {
        Assert.Equal("KICK", Words.VectorName(0));
    }

    public static TheoryData<string, string, StepAction> StepActions()
    {
        var text1 = Line("text[1]");
        var sme = BuiltinValues.KeySme;
        return new TheoryData<string, string, StepAction>
        {
            { "CPU 1 steps", "steps", new StepAction(Transition.Step(1)) },
            { "CPU 1 exits its guest (VMEXIT)", "exits its guest (VMEXIT)", new StepAction(Transition.Step(1)) { VmExit = true } },
            { "CPU 0's wait times out", "wait times out", new StepAction(new Transition(TransitionKind.Timeout, 0, 0, 0)) },
            { "CPU 1 takes the KICK interrupt", "takes the KICK interrupt",
                new StepAction(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Vector, 0)) { Event = EventKind.Vector, Vector = 0 } },
            { "CPU 1 takes the unhandled interrupt", "takes the unhandled interrupt",
                new StepAction(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Vector, 5)) { Event = EventKind.Vector, Vector = 5 } },
            { "CPU 1 takes an NMI", "takes an NMI", new StepAction(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Nmi, 0)) { Event = EventKind.Nmi } },
            { "CPU 1 takes an SMI", "takes an SMI", new StepAction(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Smi, 0)) { Event = EventKind.Smi } },
            { "CPU 0 takes a machine check", "takes a machine check", new StepAction(new Transition(TransitionKind.Deliver, 0, (int)EventKind.Mce, 0)) { Event = EventKind.Mce } },
            { "CPU 0's WBINVD writes back text[1] (KEY_SME)", "WBINVD writes back text[1] (KEY_SME)",
                new StepAction(new Transition(TransitionKind.WbinvdWriteBack, 0, 0, CacheEntry.MakeTag(text1, sme))) { Line = text1, Key = sme } },
            { "CPU 1's WBINVD completes", "WBINVD completes", new StepAction(new Transition(TransitionKind.WbinvdFinish, 1, 0, 0)) },
            { "cache 1 evicts text[1] (KEY_NONE)", "cache 1 evicts text[1] (KEY_NONE)",
                new StepAction(new Transition(TransitionKind.Evict, -1, 1, CacheEntry.MakeTag(text1, BuiltinValues.KeyNone))) { Cache = 1, Line = text1, Key = BuiltinValues.KeyNone } },
            { "a stray SMI arrives for CPU 1", "a stray SMI arrives for CPU 1", new StepAction(new Transition(TransitionKind.Inject, 1, (int)EventKind.Smi, 0)) { Event = EventKind.Smi } },
            { "a stray MCE arrives for CPU 0", "a stray MCE arrives for CPU 0", new StepAction(new Transition(TransitionKind.Inject, 0, (int)EventKind.Mce, 0)) { Event = EventKind.Mce } },
            { "a stray NMI arrives for CPU 0", "a stray NMI arrives for CPU 0", new StepAction(new Transition(TransitionKind.Inject, 0, (int)EventKind.Nmi, 0)) { Event = EventKind.Nmi } },
            { "the recorded Deliver (cpu 7, arg 2, tag 0)", "the recorded Deliver (cpu 7, arg 2, tag 0)",
                new StepAction(new Transition(TransitionKind.Deliver, 7, 2, 0)) { Recorded = true } },
        };
    }

    [Theory]
    [MemberData(nameof(StepActions))]
    public void Narration_says_what_each_step_action_does_in_full_and_in_its_lane(string sentence, string inLane, StepAction action)
    {
        Assert.Equal(sentence, Words.Describe(action));
        Assert.Equal(inLane, Words.DescribeInLane(action));
    }

    [Fact]
    public void Narration_has_a_sentence_for_every_transition_kind()
    {
        var covered = StepActions().Select(row => ((StepAction)row[2]).Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<TransitionKind>(), Enum.GetValues<TransitionKind>().Where(covered.Contains));
    }

    [Fact]
    public void Step_actions_are_read_from_the_state_they_are_taken_in()
    {
        var machine = new Machine(Program);
        var state = machine.NewState();
        Assert.NotEqual(Outcome.Violation, machine.CreateInitial(state));
        var text1 = Line("text[1]");
        var writeBack = StepAction.Of(new Transition(TransitionKind.WbinvdWriteBack, 1, 0, CacheEntry.MakeTag(text1, BuiltinValues.KeySme)), state, machine.Layout);
        Assert.Equal((false, text1, BuiltinValues.KeySme, -1), (writeBack.Recorded, writeBack.Line, writeBack.Key, writeBack.Cache));
        var evict = StepAction.Of(new Transition(TransitionKind.Evict, 0, 1, CacheEntry.MakeTag(text1, BuiltinValues.KeyNone)), state, machine.Layout);
        Assert.Equal((1, text1), (evict.Cache, evict.Line));
        var kick = StepAction.Of(new Transition(TransitionKind.Deliver, 0, (int)EventKind.Vector, 0), state, machine.Layout);
        Assert.Equal((EventKind.Vector, 0), (kick.Event, kick.Vector));
        Assert.False(StepAction.Of(Transition.Step(0), state, machine.Layout).VmExit);
        Assert.True(StepAction.Of(Transition.Step(2), state, machine.Layout).Recorded);
        Assert.True(StepAction.Of(new Transition(TransitionKind.Inject, 0, 9, 0), state, machine.Layout).Recorded);
        Assert.True(StepAction.Of(new Transition(TransitionKind.Evict, 0, 0, CacheEntry.MakeTag(999, 0)), state, machine.Layout).Recorded);
    }

    [Fact]
    public void Narration_says_where_a_replay_diverged_and_passes_other_verdicts_through()
    {
        var smi = new StepAction(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Smi, 0)) { Event = EventKind.Smi };
        var impossible = new ReplayResult(false, 5, null, string.Empty) { Divergence = new ReplayDivergence(6, smi, Blocked: false) };
        Assert.Equal("step 6 diverges: CPU 1 takes an SMI is not possible in this state", Words.ReplayMessage(impossible));
        var blocked = new ReplayResult(false, 2, null, string.Empty) { Divergence = new ReplayDivergence(3, new StepAction(Transition.Step(0)), Blocked: true) };
        Assert.Equal("step 3 diverges: CPU 0 steps is blocked in this state", Words.ReplayMessage(blocked));
        Assert.Equal("confirmed: BUG at step 1", Words.ReplayMessage(new ReplayResult(true, 1, null, "confirmed: BUG at step 1")));
    }
}
