namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 1: the initial state.</summary>
public sealed class StateRules
{
    [Fact]
    public void Initial_state_cpus_start_with_interrupts_off()
    {
        // CPU 1 never enables interrupts: the IPI stays pending and the wait never ends.
        const string model = """
            enum V { WAKE = 0x20 }
            shared bool woken;
            handler vector WAKE { woken = true; }
            fn sender() { send_ipi(1, WAKE); wait_until(woken); done(); }
            fn sleeper() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs sender(); cpu 1 runs sleeper(); timeouts off; expect DEADLOCK; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("DEADLOCK", check.Outcome);
        Assert.Equal(2, check.Steps);
        Assert.Contains("CPU 0 waits at rule.kflow:4:34; CPU 1 is halted at rule.kflow:5:16", check.Message);
    }

    [Fact]
    public void Initial_state_interrupts_enabled_deliver_the_ipi()
    {
        const string model = """
            enum V { WAKE = 0x20 }
            shared bool woken;
            handler vector WAKE { woken = true; }
            fn sender() { send_ipi(1, WAKE); wait_until(woken); done(); }
            fn sleeper() { local_irq_enable(); loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs sender(); cpu 1 runs sleeper(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Initial_state_a_cpu_without_code_is_halted()
    {
        // CPU 1 runs nothing: an NMI wakes it into the handler, which does the work.
        const string model = """
            shared bool seen;
            handler nmi { seen = true; }
            fn boss() { send_nmi(1); wait_until(seen); done(); }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Initial_state_lines_hold_old_content_under_their_region_key()
    {
        const string model = """
            region secret[1] key KEY_SME;
            fn f() {
                assert(load(secret[0], KEY_SME) == OLD_CONTENT, "C=1 reads the old content");
                assert(load(text[0], KEY_NONE) == OLD_CONTENT, "text is the old kernel's");
                assert(load(secret[0], KEY_NONE) == GARBAGE, "C=0 reads ciphertext");
                done();
            }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Initial_state_old_kernel_key_is_the_c_bit_when_sme_is_active()
    {
        const string model = """
            fn f() {
                assert(kernel_key() == KEY_SME, "SME active");
                assert(load(data[0], KEY_SME) == OLD_CONTENT, "data was written C=1");
                done();
            }
            scenario "s" { platform { vendor amd; sme_active true; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Init_blocks_run_atomically_and_leave_dirty_lines()
    {
        // The init block's store is dirty in CPU 0's cache: a WBINVD must write it back first.
        const string model = """
            region buffer[1];
            fn dirty() { store(buffer[0], KEY_SME, 5); }
            fn flusher() { wbinvd(); assert(load(buffer[0], KEY_SME) == 5, "written back"); done(); }
            scenario "s" { platform { evictions off; } init { dirty(); } cpu 0 runs flusher(); expect pass; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("pass", check.Outcome);
        // initial, in WBINVD, written back, done flushing, load, assert, done().
        Assert.Equal(7, check.Result.Statistics.States);
    }
}

/// <summary>The platform as the machine tests it: features as bits, one per name of the language.</summary>
public sealed class PlatformFeatureRules
{
    [Fact]
    public void Platform_features_are_bits_in_the_order_of_their_names()
    {
        var names = KexecSim.Program.CpuFeatures.Names;
        Assert.Equal(names.Count, Enum.GetValues<KexecSim.Program.PlatformFeatures>().Length - 1);
        for (var i = 0; i < names.Count; i++)
        {
            var flag = KexecSim.Program.CpuFeatures.FlagOf(names[i]);
            Assert.Equal(1 << i, (int)flag);
            Assert.Equal(names[i].Replace("_", string.Empty, StringComparison.Ordinal), flag.ToString().ToUpperInvariant());
        }
        Assert.Equal(KexecSim.Program.PlatformFeatures.None, KexecSim.Program.CpuFeatures.FlagOf("NOT_A_FEATURE"));
        var program = RuleHarness.Compile("""
            fn f() { done(); }
            scenario "s" { platform { vendor amd; features SEV_SNP, HYPERVISOR; } cpu 0 runs f(); expect pass; }
            """);
        Assert.Equal(KexecSim.Program.PlatformFeatures.SevSnp | KexecSim.Program.PlatformFeatures.Hypervisor, program.Platform.FeatureFlags);
    }
}
