namespace KexecSim.Machine.Tests;

/// <summary>SEMANTICS.md section 6: the SEV-SNP firmware.</summary>
public sealed class FirmwareRules
{
    [Fact]
    public void Snp_decommission_marks_every_cpu_and_needs_df_flush()
    {
        const string model = """
            fn f() {
                assert(sev_cmd(SNP_SHUTDOWN_EX) == DFFLUSH_REQUIRED, "a guest is active");
                assert(sev_cmd(SNP_DECOMMISSION, 1) == SEV_OK, "decommission");
                assert(sev_cmd(SNP_DECOMMISSION, 1) == INVALID_GUEST_STATE, "not active any more");
                assert(sev_cmd(SNP_SHUTDOWN_EX) == DFFLUSH_REQUIRED, "DF_FLUSH needed");
                assert(sev_cmd(SNP_DF_FLUSH) == WBINVD_REQUIRED, "WBINVD needed");
                wbinvd();
                assert(sev_cmd(SNP_DF_FLUSH) == WBINVD_REQUIRED, "CPU 1 has not flushed");
                done();
            }
            scenario "s" { platform { vendor amd; cpus 2; features SEV_SNP; snp_guests 1; } cpu 0 runs f(); expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Snp_df_flush_succeeds_once_every_cpu_flushed_and_shutdown_uninitialises()
    {
        const string model = """
            shared bool decommissioned;
            shared bool flushed;
            fn f() {
                assert(sev_cmd(SNP_DECOMMISSION, 1) == SEV_OK, "decommission");
                decommissioned = true;
                wbinvd();
                wait_until(flushed);
                assert(sev_cmd(SNP_DF_FLUSH) == SEV_OK, "every CPU flushed");
                assert(sev_cmd(SNP_SHUTDOWN_EX) == SEV_OK, "shut down");
                assert(snp_state() == SNP_STATE_UNINIT, "SNP is off");
                done();
            }
            fn g() { wait_until(decommissioned); wbinvd(); flushed = true; loop { hlt(); } }
            scenario "s" { platform { vendor amd; cpus 2; features SEV_SNP; snp_guests 1; } cpu 0 runs f(); cpu 1 runs g(); timeouts off; expect pass; }
            """;
        Assert.Equal("pass", RuleHarness.Check(model).Outcome);
    }

    [Fact]
    public void Snp_decommission_of_an_asid_in_use_is_a_firmware_race()
    {
        const string model = """
            shared bool entered;
            fn host() { entered = true; vmrun(1); loop { hlt(); } }
            fn panicker() { wait_until(entered); udelay(1); sev_cmd(SNP_DECOMMISSION, 1); done(); }
            scenario "s" { platform { vendor amd; cpus 2; features SEV_SNP; snp_guests 1; } cpu 0 runs panicker(); cpu 1 runs host(); timeouts off; expect FIRMWARE_RACE; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("FIRMWARE_RACE", check.Outcome);
        Assert.Equal("CPU 0 decommissioned ASID 1 while CPU 1 was running that guest", check.Message);
    }

    [Fact]
    public void Snp_state_tells_the_next_kernel_whether_snp_was_shut_down()
    {
        const string model = """
            fn next() { if (snp_state() == SNP_STATE_INIT) panic("IOMMU buffers locked: completion-wait timeout"); done(); }
            fn f() { boot_next_kernel(next); }
            scenario "s" { platform { vendor amd; features SEV_SNP; } cpu 0 runs f(); expect PANIC; }
            """;
        var check = RuleHarness.Check(model);
        Assert.Equal("PANIC", check.Outcome);
        Assert.Equal("CPU 0 panicked: IOMMU buffers locked: completion-wait timeout", check.Message);
        var shutDown = model.Replace("fn f() { boot_next_kernel(next); }", "fn f() { sev_cmd(SNP_SHUTDOWN_EX); boot_next_kernel(next); }").Replace("expect PANIC", "expect pass");
        Assert.Equal("pass", RuleHarness.Check(shutDown).Outcome);
    }
}
