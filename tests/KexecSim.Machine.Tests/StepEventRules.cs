using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>Typed step events: each kind of thing a step does yields its exact record to a listening sink.</summary>
public sealed class StepEventRules
{
    /// <summary>A machine in its initial state, stepping by hand with a recorder listening.</summary>
    private sealed class Stepper
    {
        public Stepper(string model)
        {
            Program = RuleHarness.Compile(model);
            Machine = new Machine(Program);
            State = Machine.NewState();
            Assert.Equal(Outcome.Ok, Machine.CreateInitial(State, Initial));
        }

        public CompiledProgram Program { get; }

        public Machine Machine { get; }

        public MachineState State { get; }

        public StepEventRecorder Initial { get; } = new();

        /// <summary>Applies one transition; the events it yields.</summary>
        public IReadOnlyList<StepEvent> Apply(Transition transition, params int[] choices)
        {
            var recorder = new StepEventRecorder();
            Machine.Apply(State, transition, new FixedChooser(choices), recorder);
            return recorder.Events;
        }

        public IReadOnlyList<StepEvent> Step(int cpu, params int[] choices) => Apply(Transition.Step(cpu), choices);

        public int Line(string name) => Program.Lines.Single(l => l.Name == name).Id;
    }

    [Fact]
    public void Step_event_a_read_and_a_write_carry_the_value_and_the_old_value()
    {
        var run = new Stepper("""
            shared int x = 5;
            percpu bool flag;
            fn f() { flag = x == 5; x = 7; done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var x = run.Program.Variables.Single(v => v.Name == "x").Id;
        var flag = run.Program.Variables.Single(v => v.Name == "flag").Id;
        // Each access is a visible action, so a step of its own.
        Assert.Equal(new VariableRead(0, x, 0, 5), Assert.Single(run.Step(0).OfType<VariableRead>()));
        Assert.Equal(new VariableWritten(0, flag, 0, 0, 1), Assert.Single(run.Step(0).OfType<VariableWritten>()));
        Assert.Equal(new VariableWritten(0, x, 0, 5, 7), Assert.Single(run.Step(0).OfType<VariableWritten>()));
    }

    [Fact]
    public void Step_event_a_call_carries_its_arguments_and_a_loop_variable_each_value_but_not_its_start()
    {
        var run = new Stepper("""
            region text[2];
            shared cpumask seen;
            fn touch(line l, int n) { store(l, KEY_NONE, n); }
            fn f() { for_each_line (l in text) { touch(l, 3); } for_each_cpu (c in seen) { } done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var events = new List<StepEvent>(run.Initial.Events);
        for (var i = 0; i < 6 && run.State.Cpus[0].Mode != CpuMode.Finished; i++)
        {
            events.AddRange(run.Step(0));
        }
        var touch = run.Program.Functions.Single(f => f.Name == "touch");
        var calls = events.OfType<FunctionCalled>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(touch.Id, c.Function));
        var text = run.Program.Regions.Single(r => r.Name == "text");
        Assert.Equal([((long)text.Id << 32) | (uint)text.Lines[0], 3], calls[0].Arguments);
        Assert.Equal([((long)text.Id << 32) | (uint)text.Lines[1], 3], calls[1].Arguments);
        Assert.Equal(
            [new LineAccessed(0, LineAccess.Store, text.Lines[0], BuiltinValues.KeyNone, 3, BuiltinValues.OldContent),
                new LineAccessed(0, LineAccess.Store, text.Lines[1], BuiltinValues.KeyNone, 3, BuiltinValues.OldContent)],
            events.OfType<LineAccessed>());
        var f = run.Program.Functions.Single(fn => fn.Name == "f");
        var slotOfL = f.Locals.Single(l => l.Name == "l").Slot;
        Assert.Equal([text.Lines[0], text.Lines[1]],
            events.OfType<LocalAssigned>().Where(e => e.Function == f.Id && e.Slot == slotOfL).Select(e => (int)(uint)e.Value));
        // for_each_cpu over an empty mask: its start (-1) is not a value of c, and it takes none.
        var slotOfC = f.Locals.Single(l => l.Name == "c").Slot;
        Assert.DoesNotContain(events.OfType<LocalAssigned>(), e => e.Function == f.Id && e.Slot == slotOfC);
        Assert.Equal("line", f.Locals.Single(l => l.Name == "l").TypeName);
        Assert.Equal(["l", "n"], touch.Locals.Where(l => l.IsParameter).Select(l => l.Name));
    }

    [Fact]
    public void Step_event_a_memory_write_carries_the_old_value_a_load_would_have_seen()
    {
        var run = new Stepper("""
            region buf[1];
            fn writer() { store(buf[0], KEY_NONE, 7); movnti(buf[0], KEY_SME, 8); movdir64b(buf[0], KEY_NONE, 9); dma_write(buf[0], 10); done(); }
            fn other() { store(buf[0], KEY_NONE, 6); loop { hlt(); } }
            scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs writer(); cpu 1 runs other(); expect pass; }
            """);
        var buf = run.Line("buf[0]");
        // Memory's OLD_CONTENT; then CPU 1's dirty copy; then memory under another key (GARBAGE); then CPU 0's own copy,
        // which movnti under KEY_SME left alone; then what movdir64b put in memory.
        Assert.Equal(new LineAccessed(1, LineAccess.Store, buf, BuiltinValues.KeyNone, 6, BuiltinValues.OldContent), Assert.Single(run.Step(1).OfType<LineAccessed>()));
        Assert.Equal(new LineAccessed(0, LineAccess.Store, buf, BuiltinValues.KeyNone, 7, 6), Assert.Single(run.Step(0).OfType<LineAccessed>()));
        Assert.Equal(new LineAccessed(0, LineAccess.Movnti, buf, BuiltinValues.KeySme, 8, BuiltinValues.Garbage), Assert.Single(run.Step(0).OfType<LineAccessed>()));
        Assert.Equal(new LineAccessed(0, LineAccess.Movdir64b, buf, BuiltinValues.KeyNone, 9, 7), Assert.Single(run.Step(0).OfType<LineAccessed>()));
        Assert.Equal(new LineAccessed(0, LineAccess.Dma, buf, BuiltinValues.KeyNone, 10, 9), Assert.Single(run.Step(0).OfType<LineAccessed>()));
    }

    [Fact]
    public void Step_event_a_write_over_a_poisoned_line_says_its_old_value_was_poison()
    {
        var run = new Stepper("""
            region buf[1];
            fn f() { movdir64b(buf[0], tdx_key(1), 1); movnti(buf[0], KEY_NONE, 2); store(buf[0], KEY_NONE, 3); done(); }
            scenario "s" { platform { vendor intel; cpus 1; features TDX_HOST_PLATFORM; bugs TDX_PW_MCE; evictions off; } cpu 0 runs f(); expect pass; }
            """);
        var buf = run.Line("buf[0]");
        run.Step(0);
        run.Step(0);
        Assert.Equal(new LineAccessed(0, LineAccess.Store, buf, BuiltinValues.KeyNone, 3, BuiltinValues.Garbage, OldPoisoned: true),
            Assert.Single(run.Step(0).OfType<LineAccessed>()));
    }

    [Fact]
    public void Step_event_platform_and_firmware_queries_carry_their_result_and_a_function_its_return_value()
    {
        var run = new Stepper("""
            shared int x;
            shared cpumask m = cpu_all_mask;
            fn needs_flush() -> bool { return cpuid(0x8000001f) != 0 && cpu_has(SME); }
            fn f() { x = snp_state(); x = tdx_state(); x = cpumask_weight(m); if (needs_flush()) { x = 1; } done(); }
            scenario "s" { platform { vendor amd; cpus 2; features SME; cpuid 0x80000000 = 0x8000001f, 0x8000001f = 1; } cpu 0 runs f(); expect pass; }
            """);
        var events = new List<StepEvent>();
        for (var i = 0; i < 8 && run.State.Cpus[0].Mode != CpuMode.Finished; i++)
        {
            events.AddRange(run.Step(0));
        }
        Assert.Equal(
            [(IntrinsicId.SnpState, 0L), (IntrinsicId.TdxState, 0L), (IntrinsicId.CpumaskWeight, 2L), (IntrinsicId.Cpuid, 1L), (IntrinsicId.CpuHas, 1L)],
            events.OfType<IntrinsicReturned>().Select(e => (e.Intrinsic, e.Value)));
        Assert.Equal([0x8000001fL], events.OfType<IntrinsicReturned>().Single(e => e.Intrinsic == IntrinsicId.Cpuid).Arguments);
        var needsFlush = run.Program.Functions.Single(fn => fn.Name == "needs_flush");
        Assert.Equal([new FunctionReturned(0, needsFlush.Id, 1)], events.OfType<FunctionReturned>());
        Assert.Equal("bool", needsFlush.ReturnTypeName);
    }

    [Fact]
    public void Step_event_a_step_starts_with_the_cpu_and_its_source_span()
    {
        var run = new Stepper("""
            shared int x;
            fn f() { x = 1; x = 2; done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var before = run.Machine.LocationOf(run.State, 0);
        Assert.NotNull(before);
        Assert.Equal(new CpuStepped(0, before), run.Step(0)[0]);
    }

    [Fact]
    public void Step_event_send_ipi_and_its_delivery_name_the_vector_and_target()
    {
        var run = new Stepper("""
            enum V { KICK = 0xf8 }
            shared bool ran;
            handler vector KICK { ran = true; }
            fn boss() { send_ipi(1, KICK); done(); }
            fn other() { local_irq_enable(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """);
        var index = run.Machine.Layout.VectorIndex(0xf8);
        Assert.Contains(new EventSent(0, 1, SentEvent.Vector, index), run.Step(0));
        run.Step(1);
        Assert.Equal([new EventDelivered(1, EventKind.Vector, index)], run.Apply(new Transition(TransitionKind.Deliver, 1, (int)EventKind.Vector, index)).Take(1));
    }

    [Fact]
    public void Step_event_send_nmi_and_send_init_name_the_target()
    {
        var run = new Stepper("""
            fn boss() { send_nmi(1); send_init(1); done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """);
        Assert.Contains(new EventSent(0, 1, SentEvent.Nmi), run.Step(0));
        var init = run.Step(0);
        Assert.Equal([new EventSent(0, 1, SentEvent.Init), new InitApplied(0, 1)], init.Where(e => e is EventSent or InitApplied));
    }

    [Fact]
    public void Step_event_an_init_held_pending_names_its_blocker()
    {
        var run = new Stepper("""
            fn boss() { send_init(1); done(); }
            fn other() { vmxon(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """);
        run.Step(1);
        Assert.Contains(new InitHeldPending(0, 1, InitBlocker.VmxRoot), run.Step(0));
    }

    [Fact]
    public void Step_event_a_write_back_names_the_cache_line_key_and_value()
    {
        var run = new Stepper("""
            region buf[1];
            fn f() { store(buf[0], KEY_NONE, 7); wbinvd(); done(); }
            scenario "s" { platform { evictions off; } cpu 0 runs f(); expect pass; }
            """);
        run.Step(0);
        run.Step(0);
        var line = run.Line("buf[0]");
        var tag = CacheEntry.MakeTag(line, BuiltinValues.KeyNone);
        Assert.Equal([new LineWrittenBack(0, line, BuiltinValues.KeyNone, 7)], run.Apply(new Transition(TransitionKind.WbinvdWriteBack, 0, 0, tag)));
    }

    [Fact]
    public void Step_event_a_fetch_names_the_cpu_and_code_line()
    {
        var run = new Stepper("""
            region boot[1];
            shared int x;
            fn g() in boot[0] { x = 1; }
            fn f() { g(); x = 2; done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var events = run.Step(0).Concat(run.Step(0)).ToList();
        Assert.Contains(new LineFetched(0, run.Line("boot[0]")), events);
    }

    [Fact]
    public void Step_event_a_firmware_command_names_the_command_and_status()
    {
        var run = new Stepper("""
            shared int status;
            fn f() { status = sev_cmd(SNP_DF_FLUSH); done(); }
            scenario "s" { platform { vendor amd; cpus 1; features SEV_SNP; } cpu 0 runs f(); expect pass; }
            """);
        var command = Assert.Single(run.Step(0).OfType<FirmwareCommandRun>());
        Assert.Equal((0, BuiltinValues.SnpDfFlush, BuiltinValues.SevOk), (command.Cpu, command.Command, command.Status));
    }

    [Fact]
    public void Step_event_a_choice_names_the_option_taken_and_the_options()
    {
        var run = new Stepper("""
            shared int x;
            fn f() { x = choose(3); done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        Assert.Contains(new ChoiceTaken(0, 2, 3), run.Step(0, 2));
    }

    [Fact]
    public void Step_event_an_injected_fault_names_the_cpu_and_kind()
    {
        var run = new Stepper("""
            shared int x;
            handler nmi { x = 1; }
            fn f() { x = 2; done(); }
            scenario "s" { cpu 0 runs f(); inject nmi 1; expect pass; }
            """);
        Assert.Equal([new FaultInjected(0, EventKind.Nmi)], run.Apply(new Transition(TransitionKind.Inject, 0, (int)EventKind.Nmi, 0)));
    }

    [Fact]
    public void Step_event_a_log_line_keeps_its_template_and_values()
    {
        var run = new Stepper("""
            shared int x;
            fn f() { x = 4; pr_err("x is %d", x, 9); warn_on(x == 4); x = 5; done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var events = run.Initial.Events.Concat(Enumerable.Range(0, 5).SelectMany(_ => run.Step(0))).ToList();
        var logged = Assert.Single(events.OfType<MessageLogged>());
        Assert.Equal((0, LogLevel.Error, "x is %d"), (logged.Cpu, logged.Level, logged.Template));
        Assert.Equal([4L, 9L], logged.Values);
        var warning = Assert.Single(events.OfType<WarningHit>());
        Assert.Equal(0, warning.Cpu);
        Assert.NotNull(warning.Location);
    }

    [Fact]
    public void Step_event_the_end_of_a_run_and_the_next_kernel_boot_are_events()
    {
        var run = new Stepper("""
            shared int x;
            fn next() { x = 3; done(); }
            fn f() { x = 1; boot_next_kernel(next); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """);
        var function = run.Program.Functions.Single(f => f.Name == "next").Id;
        var events = Enumerable.Range(0, 4).SelectMany(_ => run.Step(0)).ToList();
        Assert.Equal([new NextKernelBooted(0, function), new RunFinished(0, PlatformReset: false)], events.Where(e => e is NextKernelBooted or RunFinished));
    }

    [Fact]
    public void Step_event_a_step_without_a_sink_records_nothing_and_behaves_the_same()
    {
        const string model = """
            shared int x;
            fn f() { x = 4; pr_err("x is %d", x); x = 5; done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        var heard = new Stepper(model);
        var silent = new Stepper(model);
        for (var i = 0; i < 3; i++)
        {
            heard.Step(0);
            silent.Machine.Apply(silent.State, Transition.Step(0), null);
        }
        Assert.True(heard.State.Span.SequenceEqual(silent.State.Span));
    }

    /// <summary>Takes the given options in order, then none.</summary>
    private sealed class FixedChooser(int[] choices) : IChooser
    {
        private int _taken;

        public int Choose(int options) => _taken < choices.Length ? choices[_taken++] : -1;
    }
}
