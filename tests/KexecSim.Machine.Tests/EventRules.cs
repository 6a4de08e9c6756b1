namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 4: events, their deliverability and effects.</summary>
public sealed class EventRules
{
    private const string StopModel = """
        shared int hits;
        handler nmi { hits++; loop { hlt(); } }
        fn boss() { send_nmi(1); send_nmi(1); wait_until(hits == 2); done(); }
        fn other() { loop { hlt(); } }
        scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect DEADLOCK; }
        """;

    [Fact]
    public void Nmi_is_blocked_while_its_handler_runs()
    {
        // The handler never returns, so the second NMI stays latched: hits stays 1.
        Assert.Equal("DEADLOCK", RuleHarness.Check(StopModel).Outcome);
    }

    [Fact]
    public void Nmi_returning_from_its_handler_unblocks_the_next()
    {
        const string model = """
            shared int hits;
            handler nmi { hits++; }
            fn boss() { send_nmi(1); wait_until(hits == 1); send_nmi(1); wait_until(hits == 2); done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        // Two NMIs sent back to back meet one latch: the second is lost while the first is pending.
        Assert.Equal("DEADLOCK", RuleHarness.Check(StopModel.Replace("handler nmi { hits++; loop { hlt(); } }", "handler nmi { hits++; }")).Outcome);
    }

    [Fact]
    public void Nmi_is_not_delivered_during_wbinvd()
    {
        // Memory shows the flush half done (one line written back, not the other) only inside WBINVD:
        // an NMI handler never sees that.
        const string model = """
            region buf[2] key KEY_SME;
            handler nmi {
                bool first = load(buf[0], KEY_SME) == GARBAGE;
                bool second = load(buf[1], KEY_SME) == GARBAGE;
                assert(first == second, "NMI inside WBINVD");
            }
            fn flusher() { store(buf[0], KEY_NONE, 1); store(buf[1], KEY_NONE, 1); wbinvd(); done(); }
            scenario "s" { platform { evictions off; } cpu 0 runs flusher(); inject nmi 1; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Maskable_vector_needs_interrupts_enabled_and_wakes_a_halted_cpu()
    {
        const string model = """
            enum V { KICK = 0xf8 }
            shared bool ran;
            handler vector KICK { ran = true; }
            fn boss() { send_ipi(1, KICK); wait_until(ran); done(); }
            fn other() { local_irq_enable(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        Assert.Equal("DEADLOCK", RuleHarness.Check(model.Replace("local_irq_enable(); ", string.Empty).Replace("expect pass", "expect DEADLOCK")).Outcome);
    }

    [Fact]
    public void Handler_return_restores_the_interrupt_flag()
    {
        const string model = """
            enum V { KICK = 0xf8 }
            shared int count;
            handler vector KICK { count++; }
            fn boss() { send_ipi(1, KICK); wait_until(count == 1); send_ipi(1, KICK); wait_until(count == 2); done(); }
            fn other() { local_irq_enable(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Smi_resumes_after_hlt_and_fetches_the_code_line()
    {
        // The first.kflow pattern: an SMI wakes the parked CPU after the copy.
        const string model = """
            region boot[1];
            region next_kernel = text;
            shared bool parked;
            fn copy() in boot[0] { wait_until(parked); store(next_kernel[0], KEY_NONE, 1); done(); }
            fn park() { parked = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs copy(); cpu 1 runs park(); inject smi 1 on 1; timeouts off; expect EXEC_CLOBBERED; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("EXEC_CLOBBERED", check.Outcome);
        Assert.Equal("CPU 1 fetched text[0] after CPU 0 (through next_kernel) overwrote it at step 3", check.View!.Rule);
    }

    [Fact]
    public void Machine_check_without_a_handler_takes_the_machine_down()
    {
        const string model = """
            fn f() { loop { hlt(); } }
            scenario "s" { cpu 0 runs f(); inject mce 1; expect MACHINE_CHECK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("MACHINE_CHECK", check.Outcome);
        Assert.Equal(2, check.Steps);
        Assert.Equal("a machine check reached CPU 0, which has no handler mce: the machine goes down", check.Message);
    }

    [Fact]
    public void Machine_check_inside_the_handler_is_a_triple_fault()
    {
        const string model = """
            handler mce { loop { udelay(1); } }
            fn f() { loop { hlt(); } }
            scenario "s" { cpu 0 runs f(); inject mce 2; expect TRIPLE_FAULT; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("TRIPLE_FAULT", check.Outcome);
        Assert.Equal(4, check.Steps);
    }

    [Fact]
    public void Init_parks_a_cpu_in_wait_for_sipi_where_nmi_and_smi_do_nothing()
    {
        const string model = """
            shared bool inited;
            shared bool woke;
            handler nmi { if (inited) woke = true; }
            fn boss() { send_init(1); inited = true; done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); inject nmi 1 on 1; inject smi 1 on 1; final { assert(!woke, "INIT blocks NMIs"); } expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Machine_check_in_wait_for_sipi_takes_the_machine_down()
    {
        const string model = """
            handler mce { }
            fn boss() { send_init(1); done(); }
            fn other() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); inject mce 1 on 1; expect MACHINE_CHECK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("MACHINE_CHECK", check.Outcome);
        Assert.Equal("a machine check reached CPU 1 in wait-for-SIPI: it is not contained and takes the machine down", check.Message);
    }

    [Fact]
    public void Init_to_the_boot_cpu_resets_the_platform()
    {
        const string model = """
            fn crash() { send_init(0); done(); }
            fn bsp() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; bsp 0; } cpu 0 runs bsp(); cpu 1 runs crash(); expect PLATFORM_RESET; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("PLATFORM_RESET", check.Outcome);
        Assert.Equal(1, check.Steps);
        // At the send_init itself, not the statement after it (issue 7, item 6).
        Assert.Equal((1, 14), check.Where);
    }

    [Fact]
    public void Init_is_held_off_by_vmx_root_operation_until_vmxoff()
    {
        const string model = """
            shared bool ready;
            shared bool sent;
            shared bool off;
            fn boss() { wait_until(ready); send_init(1); sent = true; wait_until(off); done(); }
            fn other() { vmxon(); ready = true; wait_until(sent); off = true; loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """;
        // In VMX root operation the INIT stays pending and CPU 1 keeps running.
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        // vmxoff releases it: CPU 1 enters wait-for-SIPI in that very step and never sets 'off'.
        var released = RuleHarness.Check(model.Replace("wait_until(sent); off = true;", "wait_until(sent); vmxoff(); off = true;").Replace("expect pass", "expect DEADLOCK"));
        Assert.Equal("DEADLOCK", released.Outcome);
        Assert.Contains("CPU 1 is in wait-for-SIPI", released.Message);
    }

    [Fact]
    public void Init_is_held_off_while_gif_is_clear()
    {
        const string model = """
            shared bool ready;
            shared bool sent;
            shared bool off;
            fn boss() { wait_until(ready); send_init(1); sent = true; wait_until(off); done(); }
            fn other() { clgi(); ready = true; wait_until(sent); off = true; stgi(); loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        Assert.Equal("DEADLOCK", RuleHarness.Check(model.Replace("off = true; stgi();", "stgi(); off = true;").Replace("expect pass", "expect DEADLOCK")).Outcome);
    }

    [Fact]
    public void Vmrun_returns_when_an_event_is_pending()
    {
        const string model = """
            shared bool exited;
            handler nmi { }
            fn guest() { vmrun(1); exited = true; loop { hlt(); } }
            fn boss() { while (!exited) { send_nmi(1); } done(); }
            scenario "s" { platform { vendor amd; cpus 2; } cpu 0 runs boss(); cpu 1 runs guest(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        // Without an event the guest runs forever.
        Assert.Equal("DEADLOCK", RuleHarness.Check(model.Replace("while (!exited) { send_nmi(1); }", "wait_until(exited);").Replace("expect pass", "expect DEADLOCK")).Outcome);
    }

    [Fact]
    public void Monitor_a_write_to_the_line_wakes_mwait()
    {
        const string model = """
            region dead_line[1];
            shared int control in dead_line[0];
            shared bool armed;
            shared bool awake;
            fn sleeper() { monitor(control); armed = true; mwait(); awake = true; loop { hlt(); } }
            fn kicker() { wait_until(armed); control = 1; wait_until(awake); done(); }
            scenario "s" { platform { cpus 2; } cpu 0 runs sleeper(); cpu 1 runs kicker(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        // Without the write the sleeper stays in MWAIT.
        var check = RuleHarness.Check(model.Replace("control = 1; ", string.Empty).Replace("expect pass", "expect DEADLOCK"));
        Assert.Equal("DEADLOCK", check.Outcome);
        Assert.Contains("CPU 0 sleeps in MWAIT", check.Message);
    }

    [Fact]
    public void Mwait_returns_at_once_when_the_monitor_already_triggered()
    {
        // A monitor armed in an init block stays armed; the write comes before mwait(): no sleep.
        const string model = """
            shared int control;
            shared bool awake;
            fn sleeper() { wait_until(control == 1); mwait(); awake = true; loop { hlt(); } }
            fn kicker() { control = 1; wait_until(awake); done(); }
            scenario "s" { platform { cpus 2; } init cpu 0 { monitor(control); } cpu 0 runs sleeper(); cpu 1 runs kicker(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Events_for_a_cpu_in_the_next_kernel_are_discarded()
    {
        // The next kernel has reset its APIC: an NMI sent to it never runs the old handler.
        const string model = """
            handler nmi { assert(false, "the old handler ran in the next kernel"); }
            fn next() { send_nmi(0); udelay(1); done(); }
            fn kexec() { boot_next_kernel(next); }
            scenario "s" { cpu 0 runs kexec(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

}

/// <summary>SEMANTICS.md section 4: the VMEXIT and the event that caused it.</summary>
public sealed class VmexitRules
{
    [Fact]
    public void Vmrun_exit_takes_the_pending_nmi_before_the_host_runs_on()
    {
        // The NMI that forced the VMEXIT is taken before the host's next instruction.
        const string model = """
            shared bool after;
            handler nmi { assert(!after, "the host ran on before taking the NMI"); }
            fn guest() { vmrun(1); after = true; loop { hlt(); } }
            fn boss() { send_nmi(1); done(); }
            scenario "s" { platform { vendor amd; cpus 2; } cpu 0 runs boss(); cpu 1 runs guest(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>SEMANTICS.md section 4: an INIT to a CPU in WBINVD waits for the WBINVD to complete.</summary>
public sealed class InitDuringWbinvdRules
{
    // Issue 7, item 1: memory shows heap[0] written back and heap[1] not yet only inside CPU 1's
    // WBINVD; the INIT sent then must not cut the flush short.
    private const string Model = """
        region heap[2] key KEY_NONE;
        fn ap() { local_irq_disable(); for_each_line (l in heap) store(l, KEY_SME, 1); wbinvd(); loop { hlt(); } }
        fn bsp() {
            wait_until(load(heap[0], KEY_NONE) == GARBAGE);
            send_init(1);
            wait_until(load(heap[1], KEY_NONE) == GARBAGE);
            done();
        }
        scenario "init-during-wbinvd" {
            platform { vendor amd; cpus 2; evictions off; }
            timeouts off;
            cpu 0 runs bsp(); cpu 1 runs ap();
            expect pass;
        }
        """;

    [Fact]
    public void Init_during_wbinvd_stays_pending_and_the_flush_completes()
    {
        Assert.Equal("pass", RuleHarness.Check(Model).Outcome);
    }

    [Fact]
    public void Init_during_wbinvd_takes_effect_in_the_step_that_completes_it()
    {
        // After the WBINVD the CPU would set 'after'; the pending INIT parks it in that step instead.
        const string model = """
            region heap[1] key KEY_NONE;
            shared bool after;
            fn ap() { store(heap[0], KEY_SME, 1); wbinvd(); after = true; loop { hlt(); } }
            fn bsp() {
                wait_until(load(heap[0], KEY_NONE) == GARBAGE);
                send_init(1);
                wait_until(after);
                done();
            }
            scenario "s" { platform { vendor amd; cpus 2; evictions off; } timeouts off; cpu 0 runs bsp(); cpu 1 runs ap(); expect DEADLOCK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DEADLOCK", check.Outcome);
        Assert.Equal("no CPU can move and the run has not finished: CPU 0 waits at rule.kflow:7:5; CPU 1 is in wait-for-SIPI", check.Message);
        // store, wbinvd, write-back, CPU 0's wait returns, send_init (held), WBINVD completes: parked.
        Assert.Equal(6, check.Steps);
        Assert.Equal(TransitionKind.WbinvdFinish, check.Result.Trace!.Steps[^1].Transition.Kind);
    }

    [Fact]
    public void Init_during_wbinvd_to_the_boot_cpu_resets_when_the_flush_completes()
    {
        const string model = """
            region heap[1] key KEY_NONE;
            fn bsp() { store(heap[0], KEY_SME, 1); wbinvd(); loop { hlt(); } }
            fn crash() { wait_until(load(heap[0], KEY_NONE) == GARBAGE); send_init(0); done(); }
            scenario "s" { platform { vendor amd; cpus 2; evictions off; } timeouts off; cpu 0 runs bsp(); cpu 1 runs crash(); expect PLATFORM_RESET; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("PLATFORM_RESET", check.Outcome);
        // store, wbinvd, write-back, wait, then send_init and WBINVD completes in either order: the
        // reset comes in the sixth step, never while CPU 0 is still flushing (before: the fifth).
        Assert.Equal(6, check.Steps);
    }

    [Fact]
    public void Init_during_wbinvd_the_firmware_mark_is_cleared()
    {
        // SNP_DECOMMISSION marks every CPU "needs WBINVD"; CPU 1's WBINVD clears its mark even
        // though an INIT arrived in the middle of it, so SNP_DF_FLUSH succeeds.
        const string model = """
            region heap[1] key KEY_NONE;
            shared bool decommissioned;
            fn ap() { wait_until(decommissioned); store(heap[0], KEY_SME, 1); wbinvd(); loop { hlt(); } }
            fn bsp() {
                assert(sev_cmd(SNP_DECOMMISSION, 1) == SEV_OK, "decommission");
                decommissioned = true;
                wbinvd();
                wait_until(load(heap[0], KEY_NONE) == GARBAGE);
                send_init(1);
                while (sev_cmd(SNP_DF_FLUSH) != SEV_OK) { udelay(1); }
                done();
            }
            scenario "s" { platform { vendor amd; cpus 2; evictions off; features SEV_SNP; snp_guests 1; } timeouts off; cpu 0 runs bsp(); cpu 1 runs ap(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>SEMANTICS.md section 4: GIF = 0 holds NMI, SMI and maskable interrupts as well as INIT.</summary>
public sealed class GifRules
{
    [Theory]
    [InlineData("inject nmi 1 on 1;", "")]
    [InlineData("inject smi 1 on 1;", "")]
    [InlineData("", "send_ipi(1, KICK);")]
    public void Gif_clear_holds_nmi_smi_and_maskable_events(string inject, string send)
    {
        // Any of these events would wake CPU 1 from its hlt(); while GIF = 0 none is taken.
        var model = $$"""
            enum V { KICK = 0xf8 }
            shared bool woke;
            fn guest_entry() { local_irq_enable(); clgi(); hlt(); woke = true; loop { hlt(); } }
            fn boss() { {{send}} done(); }
            scenario "s" {
                platform { vendor amd; cpus 2; }
                cpu 0 runs boss(); cpu 1 runs guest_entry();
                {{inject}}
                final { assert(!woke, "an event was taken while GIF = 0"); }
                expect pass;
            }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Gif_set_again_by_stgi_delivers_the_held_nmi()
    {
        const string model = """
            shared bool held;
            shared bool ready;
            shared bool sent;
            shared bool got;
            handler nmi { assert(!held, "NMI taken while GIF = 0"); got = true; }
            fn other() { clgi(); held = true; ready = true; wait_until(sent); held = false; stgi(); loop { hlt(); } }
            fn boss() { wait_until(ready); send_nmi(1); sent = true; wait_until(got); done(); }
            scenario "s" { platform { vendor amd; cpus 2; } timeouts off; cpu 0 runs boss(); cpu 1 runs other(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}
