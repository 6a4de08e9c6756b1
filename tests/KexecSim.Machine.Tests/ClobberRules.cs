using KexecSim.Program;

namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 5: clobbering, the fetch rule, the next kernel, CORRUPTION.</summary>
public sealed class ClobberRules
{
    // CPU 1 spins in a function in text[0]; CPU 0 overwrites text[0] through next_kernel.
    private const string Spinner = """
        region boot[1];
        region next_kernel = text;
        shared bool go;
        fn copy() in boot[0] { store(next_kernel[0], KEY_NONE, 1); go = true; done(); }
        fn spin() { SPIN }
        scenario "s" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs spin(); timeouts off; expect EXEC_CLOBBERED; }
        """;

    [Fact]
    public void Fetch_at_a_loop_back_edge_of_a_clobbered_line_is_exec_clobbered()
    {
        var check = RuleHarness.Check(Spinner.Replace("SPIN", "loop { udelay(1); }"));
        Assert.Equal("EXEC_CLOBBERED", check.Outcome);
        Assert.Equal("CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 1", check.View!.Rule);
        Assert.Equal(3, check.Steps);
    }

    [Fact]
    public void Fetch_after_waking_from_hlt_is_exec_clobbered()
    {
        // hlt() without interrupts: only the stray NMI wakes it; there is no handler, so it resumes in text[0].
        var model = Spinner.Replace("SPIN", "hlt(); udelay(1);").Replace("timeouts off;", "timeouts off; inject nmi 1 on 1;");
        var check = RuleHarness.Check(model);
        Assert.Equal("EXEC_CLOBBERED", check.Outcome);
        Assert.Equal(5, check.Steps);
    }

    [Fact]
    public void Fetch_straight_line_steps_in_a_fetched_line_run_on()
    {
        // No call, return, wake or back-edge after the overwrite: the already-fetched code runs on.
        var model = Spinner.Replace("SPIN", "wait_until(go); udelay(1); udelay(2); done();").Replace("expect EXEC_CLOBBERED", "expect pass");
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Fetch_on_a_call_into_a_clobbered_line_is_exec_clobbered()
    {
        var model = Spinner.Replace("SPIN", "wait_until(go); helper();") + "\nfn helper() { done(); }\n";
        var check = RuleHarness.Check(model);
        Assert.Equal("EXEC_CLOBBERED", check.Outcome);
        Assert.Equal("CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 1", check.View!.Rule);
    }

    [Fact]
    public void Fetch_when_wbinvd_completes_is_exec_clobbered()
    {
        var model = Spinner.Replace("SPIN", "wait_until(go); wbinvd(); udelay(1);");
        var check = RuleHarness.Check(model);
        Assert.Equal("EXEC_CLOBBERED", check.Outcome);
        Assert.Equal("WBINVD completes", check.View!.Steps[^1].Action);
    }

    [Fact]
    public void Data_clobbered_a_variable_on_an_overwritten_line()
    {
        const string model = """
            region boot[1];
            region next_kernel = data;
            shared int counter;
            fn copy() in boot[0] { store(next_kernel[0], KEY_NONE, 1); done(); }
            fn user() { loop { counter++; } }
            scenario "s" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs user(); expect DATA_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DATA_CLOBBERED", check.Outcome);
        Assert.Equal(2, check.Steps);
        Assert.Equal("CPU 1 used 'counter' on data[0] after CPU 0 (through next_kernel) overwrote it at step 1", check.View!.Rule);
    }

    [Fact]
    public void A_write_through_the_home_region_does_not_clobber()
    {
        const string model = """
            region boot[1];
            fn writer() in boot[0] { store(text[0], KEY_NONE, 1); done(); }
            fn spin() { loop { udelay(1); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs writer(); cpu 1 runs spin(); expect pass; }
            """;
        // The run finishes but CPU 1 spins forever: no deadlock, no violation.
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Boot_next_kernel_switches_the_key_and_exempts_the_cpu_from_fetch_checks()
    {
        const string model = """
            region next_kernel = text;
            fn next() {
                assert(kernel_key() == KEY_SME, "next_sme_active");
                store(next_kernel[0], KEY_SME, 4);
                loop { if (load(next_kernel[0], KEY_SME) == 4) break; }
                done();
            }
            fn kexec() { boot_next_kernel(next); }
            scenario "s" { platform { vendor amd; next_sme_active true; } cpu 0 runs kexec(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Corruption_a_next_kernel_read_sees_a_stale_old_line()
    {
        // CPU 1 (old kernel, SME) left a dirty C=1 line of text[0]; the copy writes C=0; the stale line
        // reaches memory before the next kernel reads its image.
        const string model = """
            region boot[1];
            region next_kernel = text;
            shared bool dirtied;
            fn next() { assert(true, "x"); int v = load(next_kernel[0], KEY_NONE); v = v; done(); }
            fn copy() in boot[0] { wait_until(dirtied); store(next_kernel[0], KEY_NONE, 1); wbinvd(); boot_next_kernel(next); }
            fn dirty() in boot[0] { store(text[0], KEY_SME, 7); dirtied = true; loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; sme_active true; } cpu 0 runs copy(); cpu 1 runs dirty(); timeouts off; expect CORRUPTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("CORRUPTION", check.Outcome);
        Assert.Equal("CPU 0 (next kernel) read GARBAGE from text[0] with KEY_NONE, but 1 was written there with KEY_NONE: a stale line of the old kernel was written back over it", check.Message);
    }

    [Fact]
    public void Corruption_none_when_the_stale_line_is_flushed_before_the_copy()
    {
        const string model = """
            region boot[1];
            region next_kernel = text;
            shared bool flushed;
            fn next() { int v = load(next_kernel[0], KEY_NONE); assert(v == 1, "image"); done(); }
            fn copy() in boot[0] { wait_until(flushed); store(next_kernel[0], KEY_NONE, 1); wbinvd(); boot_next_kernel(next); }
            fn dirty() in boot[0] { store(text[0], KEY_SME, 7); wbinvd(); flushed = true; loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; sme_active true; } cpu 0 runs copy(); cpu 1 runs dirty(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Who_clobbered_a_line_is_message_data_kept_out_of_the_state()
    {
        // CPUs 1 and 2 write the same value through next_kernel into text[0] (one shared cache): the two
        // orders end in one state; only the clobberer the messages name differs, and it is kept aside.
        const string model = """
            region next_kernel = text;
            fn w() in boot[0] { store(next_kernel[0], KEY_NONE, 1); loop { hlt(); } }
            region boot[1];
            scenario "s" { platform { cpus 3; cache package; } cpu 1 runs w(); cpu 2 runs w(); timeouts off; expect pass; }
            """;
        var program = RuleHarness.Compile(model);
        var machine = new Machine(program);
        var text0 = program.Lines.Single(l => l.Name == "text[0]").Id;
        MachineState Run(params int[] cpus)
        {
            var state = machine.NewState();
            Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
            foreach (var cpu in cpus)
            {
                Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(cpu), null));
            }
            return state;
        }
        var oneThenTwo = Run(1, 2);
        var twoThenOne = Run(2, 1);
        Assert.True(oneThenTwo.Span.SequenceEqual(twoThenOne.Span));
        var nextKernel = program.Regions.Single(r => r.Name == "next_kernel").Id;
        Assert.Equal((2, nextKernel), oneThenTwo.Clobberer(text0));
        Assert.Equal((1, nextKernel), twoThenOne.Clobberer(text0));
        // A state decoded from the vector alone does not know it.
        var decoded = machine.NewState();
        decoded.Decode(oneThenTwo.Span);
        Assert.Equal((MachineState.UnknownClobberer, MachineState.UnknownClobberer), decoded.Clobberer(text0));
    }

    [Theory]
    [InlineData("DATA_CLOBBERED")]
    [InlineData("pass")]
    public void A_clobbered_variable_read_by_final_names_who_clobbered_it(string expect)
    {
        // The final block runs on a state the search decoded, which does not keep who clobbered a line:
        // the search finds it again along the path (a crash before the fix).
        var model = """
            region boot[1];
            region next_kernel = data;
            shared int counter;
            fn copy() in boot[0] { store(next_kernel[0], KEY_NONE, 1); done(); }
            scenario "s" { platform { cpus 1; } cpu 0 runs copy(); final { assert(counter == 0, "x"); } expect EXPECT; }
            """.Replace("EXPECT", expect);
        var check = RuleHarness.Check(model);
        Assert.Equal("DATA_CLOBBERED", check.Outcome);
        Assert.Equal("CPU 0 used 'counter' on data[0] after CPU 0 (through next_kernel) overwrote it at step 1", check.View!.Rule);
        Assert.Equal(3, check.Steps); // the store, done(), the eviction that settles the run; as before the rebuild
    }
}

/// <summary>SEMANTICS.md sections 5 and 8: write-backs go on after done(); the end-of-run CORRUPTION.</summary>
public sealed class EndOfRunCorruptionRules
{
    [Fact]
    public void Corruption_at_the_end_of_the_run_after_done_from_a_later_write_back()
    {
        // One CPU: its stale C=1 line of text[0] is still dirty when the next kernel calls done();
        // exploration goes on, the line is written back over the C=0 image: CORRUPTION.
        const string model = """
            region boot[1];
            region next_kernel = text;
            fn next() { done(); }
            fn kexec() in boot[0] {
                store(text[0], KEY_SME, 7);
                store(next_kernel[0], KEY_NONE, 1);
                boot_next_kernel(next);
            }
            scenario "s" { platform { vendor amd; sme_active true; } cpu 0 runs kexec(); expect CORRUPTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("CORRUPTION", check.Outcome);
        Assert.True(check.Result.Trace!.ViolationIsTerminal);
        Assert.Equal("text[0] holds 7 written with KEY_SME at the end of the run, but the next kernel's 1 was written there with KEY_NONE: "
            + "a stale line of the old kernel was written back over it", check.Message);
    }

    [Fact]
    public void Platform_reset_stops_everything()
    {
        // After platform_reset() no write-back happens: the dirty line is simply lost, no violation.
        const string model = """
            region buf[1];
            fn f() { store(buf[0], KEY_NONE, 1); platform_reset(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
        // initial; after the store; after its eviction; reset with the line dirty; reset after the eviction.
        Assert.Equal(5, check.Result.Statistics.States);
    }
}

/// <summary>More of sections 3-5: polls, percpu lines, local masks, machine-check handlers.</summary>
public sealed class MoreMachineRules
{
    [Fact]
    public void Data_clobbered_is_reported_by_a_blocked_poll_too()
    {
        // CPU 1 waits on a flag whose line the copy overwrites: its next poll reads a clobbered line.
        const string model = """
            region boot[1];
            region next_kernel = data;
            shared bool flag;
            fn copy() in boot[0] { store(next_kernel[0], KEY_NONE, 1); done(); }
            fn waiter() in boot[0] { wait_until(flag); }
            scenario "s" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs waiter(); timeouts off; expect DATA_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DATA_CLOBBERED", check.Outcome);
        Assert.Equal(2, check.Steps);
        Assert.Equal((5, 37), check.Where); // the read of 'flag' inside the condition
    }

    [Fact]
    public void Percpu_region_lines_are_per_cpu_and_reachable_by_number()
    {
        const string model = """
            region mine[1] percpu;
            fn f() {
                store(mine[0], KEY_NONE, 10 + this_cpu());
                wait_until(load(mine[1][0], KEY_NONE) == 11);
                assert(load(mine[0][0], KEY_NONE) == 10, "CPU 0's own line");
                done();
            }
            fn g() { store(mine[0], KEY_NONE, 10 + this_cpu()); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs f(); cpu 1 runs g(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Ipis_to_a_local_mask_reach_exactly_its_cpus()
    {
        const string model = """
            enum V { KICK = 0x30 }
            percpu bool kicked;
            handler vector KICK { kicked = true; }
            fn boss() {
                cpumask targets;
                cpumask_set_cpu(2, targets);
                send_ipi_mask(targets, KICK);
                wait_until(kicked[2]);
                assert(!kicked[1], "CPU 1 was not in the mask");
                done();
            }
            fn idle() { local_irq_enable(); loop { hlt(); } }
            scenario "s" { platform { cpus 3; } cpu 0 runs boss(); cpu 1..2 runs idle(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Machine_check_handler_runs_on_poison_and_the_load_yields_garbage()
    {
        const string model = """
            region pamt[1];
            shared bool handled;
            handler mce { handled = true; }
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                wbinvd();
                movnti(pamt[0], KEY_NONE, 0);
                assert(load(pamt[0], KEY_NONE) == GARBAGE, "poison reads as garbage");
                assert(handled, "the handler ran");
                done();
            }
            scenario "s" { platform { bugs TDX_PW_MCE; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>The fetch rule and interrupts: deferred fetches belong to the interrupted code.</summary>
public sealed class DeferredFetchRules
{
    [Fact]
    public void Fetch_deferred_by_interrupted_code_waits_for_its_resumption()
    {
        // CPU 1 went round its loop in text (a fetch deferred to its next step), then took an NMI whose
        // handler lives elsewhere and never returns. The copy overwrites text meanwhile: CPU 1 never
        // fetches text again, so its handler's step is no EXEC_CLOBBERED.
        const string model = """
            region safe[1];
            region next_kernel = text;
            handler nmi in safe[0] { loop { hlt(); } }
            fn boss() in safe[0] { send_nmi(1); store(next_kernel[0], KEY_NONE, 1); done(); }
            fn spin() { loop { udelay(1); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs spin(); }
            """;
        var program = RuleHarness.Compile(model);
        var machine = new Machine(program);
        var state = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
        Transition[] steps =
        [
            Transition.Step(1),                                                     // udelay; the back-edge defers a fetch of text[0]
            Transition.Step(0),                                                     // send_nmi(1)
            new(TransitionKind.Deliver, 1, (int)EventKind.Nmi, 0),                  // CPU 1 enters the handler in safe[0]
            Transition.Step(0),                                                     // the copy overwrites text[0]
            Transition.Step(1),                                                     // the handler's hlt()
        ];
        foreach (var step in steps)
        {
            Assert.Equal(Outcome.Ok, machine.Apply(state, step, null));
        }
        Assert.Equal(CpuMode.Halted, state.Cpus[1].Mode);
    }

    [Fact]
    public void Fetch_deferred_by_interrupted_code_is_checked_when_the_handler_returns()
    {
        const string model = """
            region safe[1];
            region next_kernel = text;
            handler nmi in safe[0] { udelay(1); }
            fn boss() in safe[0] { send_nmi(1); store(next_kernel[0], KEY_NONE, 1); done(); }
            fn spin() { loop { udelay(1); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs spin(); }
            """;
        var program = RuleHarness.Compile(model);
        var machine = new Machine(program);
        var state = machine.NewState();
        machine.CreateInitial(state);
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(1), null));
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
        Assert.Equal(Outcome.Ok, machine.Apply(state, new Transition(TransitionKind.Deliver, 1, (int)EventKind.Nmi, 0), null));
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
        // The handler's udelay runs and it returns; CPU 1 then resumes in text[0]: its next step fetches it.
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(1), null));
        Assert.Equal(Outcome.Violation, machine.Apply(state, Transition.Step(1), null));
        Assert.Equal(ViolationCode.ExecClobbered, machine.LastViolation!.Code);
    }
}
