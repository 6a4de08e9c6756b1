namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 3: variables, caches keyed by (line, key), memory, WBINVD, CPUID.</summary>
public sealed class CacheRules
{
    [Fact]
    public void Variable_write_is_seen_by_everyone_at_once()
    {
        const string model = """
            shared int x;
            fn writer() { x = 7; done(); }
            fn reader() { wait_until(x == 7); assert(x == 7, "sequential consistency"); }
            scenario "s" { platform { cpus 2; } cpu 0 runs writer(); cpu 1 runs reader(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Variable_write_leaves_a_dirty_line_of_the_writers_key()
    {
        // With SME active, the write dirties data[0] C=1; the next kernel's C=0 image copy of data[0]
        // can be overwritten when that stale line is written back: CORRUPTION.
        const string model = """
            shared int flag;
            region next_kernel = data;
            fn new_kernel() { done(); }
            fn kexec() {
                flag = 1;
                store(next_kernel[0], KEY_NONE, 99);
                boot_next_kernel(new_kernel);
            }
            scenario "s" { platform { vendor amd; sme_active true; } cpu 0 runs kexec(); expect CORRUPTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("CORRUPTION", check.Outcome);
        // flag = 1; the copy; boot; the new C=0 line written back; the stale C=1 line after it; done().
        Assert.Equal(6, check.Steps);
        Assert.Equal("data[0] holds OLD_CONTENT written with KEY_SME at the end of the run, but the next kernel's 99 was written there with KEY_NONE: "
            + "a stale line of the old kernel was written back over it", check.Message);
    }

    [Fact]
    public void Variable_write_by_another_cpu_under_the_same_key_takes_the_line_away()
    {
        // CPU 1's write of the same (line, key) removes CPU 0's stale dirty copy: no corruption.
        const string model = """
            shared int flag;
            region next_kernel = data;
            fn new_kernel() { done(); }
            fn kexec() {
                flag = 1;
                wait_until(flag == 2);
                store(next_kernel[0], KEY_SME, 99);
                boot_next_kernel(new_kernel);
            }
            fn other() { wait_until(flag == 1); flag = 2; wbinvd(); loop { hlt(); } }
            scenario "s" {
                platform { vendor amd; cpus 2; sme_active true; next_sme_active true; evictions off; }
                cpu 0 runs kexec(); cpu 1 runs other(); timeouts off; expect pass;
            }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Moesi_a_read_served_by_another_cache_leaves_its_dirty_copy_dirty()
    {
        // CPU 1 reads CPU 0's dirty C=1 line; the copy stays dirty in CPU 0 and is still written back
        // over the next kernel's C=0 image later.
        const string model = """
            region buf[1];
            region next_kernel = buf;
            fn new_kernel() { done(); }
            fn writer() { store(buf[0], KEY_SME, 1); loop { hlt(); } }
            fn kexec() {
                wait_until(load(buf[0], KEY_SME) == 1);
                store(next_kernel[0], KEY_NONE, 2);
                wbinvd();
                boot_next_kernel(new_kernel);
            }
            scenario "s" { platform { cpus 2; } cpu 0 runs writer(); cpu 1 runs kexec(); timeouts off; expect CORRUPTION; }
            """;
        Assert.Equal("CORRUPTION", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Load_with_the_wrong_key_returns_garbage()
    {
        const string model = """
            region buf[1];
            fn f() { store(buf[0], tdx_key(1), 5); wbinvd(); assert(load(buf[0], KEY_NONE) == GARBAGE, "KeyID 0 reads ciphertext"); done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Load_of_a_poisoned_line_is_a_machine_check()
    {
        const string model = """
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
        var check = RuleHarness.Check(model);
        Assert.Equal("MACHINE_CHECK", check.Outcome);
        Assert.Equal((6, 13), check.Where);
        Assert.Equal("CPU 0 read poisoned pamt[0]: machine check", check.Message);
    }

    [Fact]
    public void Movnti_without_the_erratum_just_writes_memory()
    {
        const string model = """
            region pamt[1];
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                wbinvd();
                movnti(pamt[0], KEY_NONE, 3);
                assert(load(pamt[0], KEY_NONE) == 3, "a partial write of KeyID 0 memory");
                done();
            }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Movdir64b_is_a_full_line_write_that_clears_poison()
    {
        const string model = """
            region pamt[1];
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                wbinvd();
                movnti(pamt[0], KEY_NONE, 0);
                movdir64b(pamt[0], KEY_NONE, 0);
                assert(load(pamt[0], KEY_NONE) == 0, "reset to zero");
                done();
            }
            scenario "s" { platform { bugs TDX_PW_MCE; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Write_back_makes_the_line_td_owned_under_a_tdx_key()
    {
        // Only after the TDX-key line reaches memory does a KeyID-0 partial write poison it.
        const string model = """
            region pamt[1];
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                movnti(pamt[0], KEY_NONE, 0);
                int x = load(pamt[0], KEY_NONE);
                x = x;
                done();
            }
            scenario "s" { platform { bugs TDX_PW_MCE; evictions off; } cpu 0 runs f(); expect MACHINE_CHECK; }
            """;
        // movnti writes back the cached (pamt[0], KEY_NONE) only: the tdx_key(1) line is still cached and memory
        // is not TD-owned yet, so the only way to poison is an eviction - which is off.
        Assert.Equal("pass", RuleHarness.Check(model.Replace("expect MACHINE_CHECK", "expect pass")).Outcome);
        Assert.Equal("MACHINE_CHECK", RuleHarness.Check(model.Replace("evictions off;", "evictions on;")).Outcome);
    }

    [Fact]
    public void Clflush_writes_back_one_line_and_drops_it()
    {
        const string model = """
            region buf[2];
            fn f() {
                store(buf[0], KEY_SME, 1);
                store(buf[1], KEY_SME, 2);
                clflush(buf[0], KEY_SME);
                assert(load(buf[0], KEY_NONE) == GARBAGE, "buf[0] is in memory, C=1");
                assert(load(buf[1], KEY_NONE) == OLD_CONTENT, "buf[1] is still only cached");
                done();
            }
            scenario "s" { platform { evictions off; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Wbinvd_is_not_atomic_other_cpus_run_meanwhile()
    {
        // CPU 1 observes CPU 0 inside its WBINVD (the flag is set before, the done after).
        const string model = """
            shared int phase;
            region buf[2];
            fn flusher() { store(buf[0], KEY_NONE, 1); store(buf[1], KEY_NONE, 1); phase = 1; wbinvd(); phase = 2; loop { hlt(); } }
            fn watcher() { wait_until(phase == 1); assert(phase != 1, "CPU 0 is still flushing"); }
            scenario "s" { platform { cpus 2; evictions off; } cpu 0 runs flusher(); cpu 1 runs watcher(); timeouts off; expect ASSERTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.Equal("assertion failed: CPU 0 is still flushing", check.Message);
    }

    [Fact]
    public void Wbinvd_in_a_tdx_guest_is_a_virtualization_exception()
    {
        const string model = """
            fn f() { wbinvd(); done(); }
            scenario "s" { platform { features HYPERVISOR, TDX_GUEST; } cpu 0 runs f(); expect GUEST_EXCEPTION; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("GUEST_EXCEPTION", check.Outcome);
        Assert.Equal("CPU 0 executed WBINVD in a confidential guest: #VE", check.Message);
        Assert.Equal((1, 10), check.Where);
    }

    [Fact]
    public void Wbinvd_in_an_sev_es_guest_is_a_vmm_communication_exception()
    {
        const string model = """
            fn f() { wbinvd(); done(); }
            scenario "s" { platform { vendor amd; features HYPERVISOR, SEV_ES; } cpu 0 runs f(); expect GUEST_EXCEPTION; }
            """;
        Assert.Equal("CPU 0 executed WBINVD in a confidential guest: #VC", RuleHarness.Check(model).Message);
    }

    [Fact]
    public void Wbinvd_in_a_plain_guest_is_emulated()
    {
        const string model = """
            fn f() { wbinvd(); done(); }
            scenario "s" { platform { features HYPERVISOR; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
        // An SEV host (no HYPERVISOR) flushes normally too.
        Assert.Equal("pass", RuleHarness.Check(model.Replace("features HYPERVISOR;", "vendor amd; features SEV_ES, SEV_SNP;")).Outcome);
    }

    [Fact]
    public void Wbnoinvd_writes_back_but_keeps_clean_lines_and_earns_no_firmware_credit()
    {
        const string model = """
            fn f() {
                assert(sev_cmd(SNP_DECOMMISSION, 1) == SEV_OK, "decommission");
                wbnoinvd();
                assert(sev_cmd(SNP_DF_FLUSH) == WBINVD_REQUIRED, "WBNOINVD does not count");
                wbinvd();
                assert(sev_cmd(SNP_DF_FLUSH) == SEV_OK, "WBINVD does");
                done();
            }
            scenario "s" { platform { vendor amd; features SEV_SNP; snp_guests 1; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Cpuid_on_intel_answers_an_out_of_range_leaf_with_the_highest_basic_leaf()
    {
        const string model = """
            fn f() {
                assert(cpuid(0x8000001f) == 0x1b1, "Intel: garbage from leaf 0x1b");
                assert(cpuid(0x1b) == 0x1b1, "in range");
                assert(cpuid(0x80000000) == 0x80000008, "max extended leaf");
                assert(cpuid(0x80000008) == 0, "in range, absent: 0");
                done();
            }
            scenario "s" { platform { vendor intel; cpuid 0x0 = 0x1b, 0x1b = 0x1b1, 0x80000000 = 0x80000008; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Cpuid_on_amd_answers_an_out_of_range_leaf_with_zero()
    {
        const string model = """
            fn f() { assert(cpuid(0x8000001f) == 0, "AMD: zeros"); done(); }
            scenario "s" { platform { vendor amd; cpuid 0x0 = 0x1b, 0x1b = 0x1b1, 0x80000000 = 0x80000008; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }
}

/// <summary>SEMANTICS.md section 1: one cache per CPU, or one package cache for all.</summary>
public sealed class CacheTopologyRules
{
    private const string Model = """
        region buf[1] key KEY_SME;
        shared bool stored;
        shared bool flushed;
        fn writer() { store(buf[0], KEY_NONE, 1); stored = true; wait_until(flushed); loop { hlt(); } }
        fn flusher() {
            wait_until(stored);
            wbinvd();
            flushed = true;
            assert(load(buf[0], KEY_SME) == GARBAGE, "CPU 0's line reached memory");
            done();
        }
        scenario "s" { platform { cpus 2; CACHE; evictions off; } cpu 0 runs writer(); cpu 1 runs flusher(); timeouts off; expect EXPECT; }
        """;

    [Fact]
    public void Cache_package_wbinvd_by_one_cpu_flushes_the_shared_cache()
    {
        Assert.Equal("pass", RuleHarness.Check(Model.Replace("CACHE", "cache package").Replace("EXPECT", "pass")).Outcome);
    }

    [Fact]
    public void Cache_private_wbinvd_flushes_only_the_cpus_own_cache()
    {
        var check = RuleHarness.Check(Model.Replace("CACHE", "cache private").Replace("EXPECT", "ASSERTION"));
        Assert.Equal("ASSERTION", check.Outcome);
        Assert.Equal("assertion failed: CPU 0's line reached memory", check.Message);
    }
}

/// <summary>More of sections 3 and 4 at the level of single transitions.</summary>
public sealed class SingleStepRules
{
    [Fact]
    public void Write_back_of_a_full_line_clears_poison()
    {
        const string model = """
            region pamt[1];
            fn f() {
                store(pamt[0], tdx_key(1), 5);
                wbinvd();
                movnti(pamt[0], KEY_NONE, 0);
                store(pamt[0], KEY_NONE, 3);
                clflush(pamt[0], KEY_NONE);
                assert(load(pamt[0], KEY_NONE) == 3, "the full line replaced the poison");
                done();
            }
            scenario "s" { platform { bugs TDX_PW_MCE; evictions off; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Init_takes_effect_in_the_very_step_that_sends_it()
    {
        const string model = """
            fn boss() { send_init(1); done(); }
            fn other() { loop { udelay(1); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs boss(); cpu 1 runs other(); }
            """;
        var machine = new Machine(RuleHarness.Compile(model));
        var state = machine.NewState();
        machine.CreateInitial(state);
        Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
        Assert.Equal(CpuMode.WaitForSipi, state.Cpus[1].Mode);
        Assert.Equal(0, state.Cpus[1].Depth);
    }
}
