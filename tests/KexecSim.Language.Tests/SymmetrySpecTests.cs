using KexecSim.Language.Compilation;
using KexecSim.Program;

namespace KexecSim.Language.Tests;

/// <summary>
/// The symmetry specification (docs/symmetry.md): for small programs, exactly which variables, slots,
/// operands and lines hold CPU data, and exactly why a specification is unusable when a CPU id is used
/// in a way a permutation cannot follow.
/// </summary>
public sealed class SymmetrySpecTests
{
    private const CpuIndexedState PrivateMachine =
        CpuIndexedState.CpuStates | CpuIndexedState.PrivateCaches | CpuIndexedState.FirmwareWbinvdMarks;

    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("t.kflow", text, new LoadOptions { ModelPath = [TestPaths.Models] });
        Assert.Empty(result.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()));
        return Assert.Single(result.Scenarios);
    }

    private static int Id(CompiledProgram program, string function) => program.Function(function).Id;

    /// <summary>The first instruction of a function with the given opcode (and operand A, when given).</summary>
    private static int Pc(CompiledProgram program, string function, OpCode op, int? a = null) =>
        Array.FindIndex(program.Function(function).Code, i => i.Op == op && (a is null || i.A == a));

    [Fact]
    public void Percpu_cpu_id_and_cpumask_variables_and_a_slot_holding_a_cpu_id()
    {
        var program = Compile("""
            percpu int count;
            shared int owner = -1;
            shared cpumask waiting;
            shared int plain;
            fn kick(int target) { send_ipi(target, 0x20); }
            fn worker() {
                int me = this_cpu();
                cmpxchg(owner, -1, me);
                cpumask_set_cpu(me, waiting);
                count = 1;
                plain = 2;
                loop { hlt(); }
            }
            fn boss() {
                wait_until(!cpumask_empty(waiting));
                kick(owner);
                done();
            }
            scenario "s" { platform { cpus 3; } cpu 0 runs boss(); cpu 1..2 runs worker(); symmetric 1..2; }
            """);
        var spec = program.Symmetry;
        Assert.Equal([1, 2], spec.Cpus);
        Assert.True(spec.IsUsable);
        Assert.Null(spec.UnusableReason);
        Assert.Equal(PrivateMachine, spec.MachineState);
        Assert.Equal(
            [
                new SymmetricVariable(0, "count", true, SymmetricValueKind.None),
                new SymmetricVariable(1, "owner", false, SymmetricValueKind.CpuId),
                new SymmetricVariable(2, "waiting", false, SymmetricValueKind.Cpumask),
            ],
            spec.Variables);
        Assert.Equal(
            [
                new SymmetricSlot(Id(program, "kick"), 0, 1, SymmetricValueKind.CpuId, "target"),
                new SymmetricSlot(Id(program, "worker"), 0, 1, SymmetricValueKind.CpuId, "me"),
            ],
            spec.Slots);
        Assert.Empty(spec.PerCpuRegions);
        Assert.All(spec.LineCpu, cpu => Assert.Equal(-1, cpu));

        // kick(owner): the visible read of owner ends a step with the CPU id on the operand stack.
        var boss = Id(program, "boss");
        var call = Pc(program, "boss", OpCode.Call, Id(program, "kick"));
        Assert.Contains(new SymmetricOperand(boss, call, 0, SymmetricValueKind.CpuId), spec.Operands);
        // cpumask_set_cpu(me, waiting): the CPU id, then the reference to the mask (its CPU field is a CPU).
        var worker = Id(program, "worker");
        var set = Pc(program, "worker", OpCode.Intrinsic, (int)IntrinsicId.CpumaskSetCpu);
        Assert.Contains(new SymmetricOperand(worker, set, 0, SymmetricValueKind.CpuId), spec.Operands);
        Assert.Contains(new SymmetricOperand(worker, set, 1, SymmetricValueKind.PlaceReference), spec.Operands);
        // plain = 2: a constant, nothing to permute.
        var store = Pc(program, "worker", OpCode.StoreVar, 3);
        Assert.DoesNotContain(spec.Operands, o => o.Function == worker && o.Pc == store);

        // The whole specification (operands by instruction: see the disassembly for the pcs).
        const string expected = """
            cpus: 1,2
            usable: yes
            machine: CpuStates, PrivateCaches, FirmwareWbinvdMarks
            var count:percpu,None
            var owner:CpuId
            var waiting:Cpumask
            slot kick.target@0:CpuId
            slot worker.me@0:CpuId
            operand kick@1[0]:CpuId
            operand kick@2[0]:CpuId
            operand worker@1[0]:CpuId
            operand worker@3[0]:PlaceReference
            operand worker@4[0]:PlaceReference
            operand worker@5[0]:PlaceReference
            operand worker@6[0]:PlaceReference
            operand worker@6[2]:CpuId
            operand worker@7[0]:CpuId
            operand worker@9[0]:CpuId
            operand worker@10[0]:CpuId
            operand worker@10[1]:PlaceReference
            operand boss@2[0]:PlaceReference
            operand boss@7[0]:CpuId

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), spec.Describe(program).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_percpu_region_maps_each_cpus_lines_and_a_line_variable_holding_one_is_per_cpu()
    {
        var program = Compile("""
            region buf[2] percpu;
            region shared_buf[1];
            shared line last;
            shared line other = shared_buf[0];
            fn worker() {
                store(buf[1], KEY_NONE, 5);
                last = buf[0];
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 3; cache package; } cpu 0 runs worker(); cpu 1..2 runs worker(); symmetric 1..2; }
            """);
        var spec = program.Symmetry;
        Assert.True(spec.IsUsable);
        Assert.Equal(CpuIndexedState.CpuStates | CpuIndexedState.FirmwareWbinvdMarks, spec.MachineState);
        var buf = program.Regions.Single(r => r.Name == "buf");
        Assert.Equal([buf.Id], spec.PerCpuRegions);
        Assert.Equal([new SymmetricVariable(0, "last", false, SymmetricValueKind.PerCpuLine)], spec.Variables);
        Assert.Empty(spec.Slots);
        for (var cpu = 0; cpu < 3; cpu++)
        {
            Assert.Equal(cpu, spec.LineCpu[buf.LineOf(cpu, 0)]);
            Assert.Equal(2, spec.LineStride[buf.LineOf(cpu, 1)]);
        }
        var sharedLine = program.Regions.Single(r => r.Name == "shared_buf").Lines[0];
        Assert.Equal(-1, spec.LineCpu[sharedLine]);

        int[] swap = [0, 2, 1];
        Assert.Equal(buf.LineOf(2, 1), spec.MapLine(buf.LineOf(1, 1), swap));
        Assert.Equal(buf.LineOf(1, 0), spec.MapLine(buf.LineOf(2, 0), swap));
        Assert.Equal(buf.LineOf(0, 1), spec.MapLine(buf.LineOf(0, 1), swap));
        Assert.Equal(sharedLine, spec.MapLine(sharedLine, swap));
        Assert.Equal(2, SymmetrySpec.MapCpu(1, swap));
        Assert.Equal(-1, SymmetrySpec.MapCpu(-1, swap));

        var worker = Id(program, "worker");
        var storeLast = Pc(program, "worker", OpCode.StoreVar, 0);
        Assert.Contains(new SymmetricOperand(worker, storeLast, 0, SymmetricValueKind.PerCpuLine), spec.Operands);
    }

    [Fact]
    public void A_cpu_loop_variable_is_a_cpu_id_slot_and_the_loop_makes_the_spec_unusable_as_the_static_check_says()
    {
        var program = Compile("""
            shared cpumask online = cpu_all_mask;
            fn boss() {
                for_each_cpu (cpu in online) {
                    send_nmi(cpu);
                }
                done();
            }
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 3; } cpu 0 runs boss(); cpu 1..2 runs idle(); symmetric 1..2; }
            """);
        var spec = program.Symmetry;
        Assert.Equal([new SymmetricSlot(Id(program, "boss"), 0, 1, SymmetricValueKind.CpuId, "cpu")], spec.Slots);
        Assert.Equal([new SymmetricVariable(0, "online", false, SymmetricValueKind.Cpumask)], spec.Variables);
        Assert.False(spec.IsUsable);
        Assert.Equal("'for_each_cpu (cpu in online) { send_nmi(cpu); }' at t.kflow:3:5: for_each_cpu visits CPUs in id order", spec.UnusableReason);
        Assert.Equal(program.SymmetryIgnoredReason, spec.UnusableReason);
    }

    [Fact]
    public void Cpumask_locals_and_parameters_are_bits_and_references()
    {
        var program = Compile("""
            shared cpumask online = cpu_all_mask;
            fn count_of(cpumask m) -> int { return cpumask_weight(m); }
            fn worker() {
                cpumask mine;
                cpumask_copy(mine, online);
                count_of(mine);
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 70; } cpu 1..69 runs worker(); symmetric 1..69; }
            """);
        var spec = program.Symmetry;
        Assert.True(spec.IsUsable);
        Assert.Equal(
            [
                new SymmetricSlot(Id(program, "count_of"), 0, 1, SymmetricValueKind.PlaceReference, "m"),
                new SymmetricSlot(Id(program, "worker"), 0, 2, SymmetricValueKind.Cpumask, "mine"),
            ],
            spec.Slots);
    }

    [Theory]
    [InlineData("store(data[0], KEY_NONE, this_cpu());", "'this_cpu()' at t.kflow:6:30: it passes a CPU id to store")]
    [InlineData("int me = this_cpu(); me = me + 1;", "'me + 1' at t.kflow:6:31: it computes with a CPU id")]
    [InlineData("int me = this_cpu(); me += 1;", "'me += 1;' at t.kflow:6:26: it computes with a CPU id")]
    [InlineData("owner = this_cpu(); owner = load(data[0], KEY_NONE);",
        "'load(data[0], KEY_NONE)' at t.kflow:6:33: it stores a value that is not a CPU id in 'owner', which holds CPU ids")]
    [InlineData("owner = this_cpu(); owner = 2;", "'2' at t.kflow:6:33: it stores CPU 2, one of them, in 'owner', which holds CPU ids")]
    [InlineData("if (me() == 2) { done(); }", "'me() == 2' at t.kflow:6:9: it compares a CPU id with a constant that singles one of them out")]
    [InlineData("int n = atomic_read(plain); send_ipi(n, 0x20);", "'n' at t.kflow:6:42: it passes send_ipi a value that is not a CPU id")]
    [InlineData("percpu_count[plain] = 1;", "'plain' at t.kflow:6:18: it indexes a percpu variable with a value that is not a CPU id")]
    [InlineData("int first = cpumask_first(cpu_all_mask);", "'cpumask_first(cpu_all_mask)' at t.kflow:6:17: cpumask_first picks the lowest CPU id")]
    [InlineData("if (this_cpu()) { done(); }", "'this_cpu()' at t.kflow:6:9: it tests a CPU id as a condition")]
    public void A_use_the_permutation_cannot_follow_makes_the_spec_unusable_with_the_reason(string body, string reason)
    {
        var program = Compile($$"""
            shared int owner = -1;
            shared int plain;
            percpu int percpu_count;
            fn me() -> int { return this_cpu(); }
            fn worker() {
                {{body}}
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 3; } cpu 0 runs worker(); cpu 1..2 runs worker(); symmetric 1..2; }
            """);
        Assert.False(program.Symmetry.IsUsable);
        Assert.Equal(reason, program.Symmetry.UnusableReason);
        // The static check of LANGUAGE.md section 6 does not see these: the specification is the stricter.
        Assert.True(program.SymmetryIgnoredReason is null || program.SymmetryIgnoredReason == reason);
    }

    [Theory]
    [InlineData("platform { cpus 3; bsp 1; }", "", "'symmetric 1..2' at t.kflow:5:5: CPU 1 is the boot CPU (an INIT to it resets the platform)")]
    [InlineData("platform { cpus 3; }", "inject nmi 1 on 0..1;", "'inject nmi 1 on 0..1;' at t.kflow:6:5: it may hit CPU 1 but not CPU 2")]
    public void A_scenario_that_treats_the_cpus_differently_makes_the_spec_unusable(string platform, string inject, string reason)
    {
        var program = Compile($$"""
            fn idle() { loop { hlt(); } }
            scenario "s" {
                {{platform}}
                cpu 0..2 runs idle();
                symmetric 1..2;
                {{inject}}
            }
            """);
        Assert.Equal(reason, program.Symmetry.UnusableReason);
    }

    [Fact]
    public void Cpu_0_among_them_is_unusable_when_a_place_holds_cpu_ids_since_a_cleared_place_reads_as_cpu_0()
    {
        var program = Compile("""
            shared int owner = -1;
            fn worker() { int me = this_cpu(); owner = me; loop { hlt(); } }
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 3; bsp 2; } cpu 0..1 runs worker(); cpu 2 runs idle(); symmetric 0..1; }
            """);
        Assert.Equal("'symmetric 0..1' at t.kflow:4:87: CPU 0 is one of them, and 'me' holds CPU ids: its 0 when cleared or uninitialised would read as CPU 0", program.Symmetry.UnusableReason);

        var idle = Compile("""
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 3; bsp 2; } cpu 0..2 runs idle(); symmetric 0..1; }
            """);
        Assert.True(idle.Symmetry.IsUsable);
    }

    [Fact]
    public void Without_a_symmetric_declaration_the_places_are_still_classified_and_nothing_is_usable()
    {
        var program = Compile("""
            shared int owner = -1;
            fn worker() { owner = this_cpu(); owner = owner + 1; }
            scenario "s" { platform { cpus 2; } cpu 0..1 runs worker(); }
            """);
        Assert.Empty(program.Symmetry.Cpus);
        Assert.False(program.Symmetry.IsUsable);
        Assert.Null(program.Symmetry.UnusableReason);
        Assert.Equal([new SymmetricVariable(0, "owner", false, SymmetricValueKind.CpuId)], program.Symmetry.Variables);
    }

    public static TheoryData<string> CatalogFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Models, "catalog"), "*.kflow").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    /// <summary>No catalog scenario declares <c>symmetric</c> today: each still compiles to a specification
    /// whose places are classified (a reduction would find them), with nothing declared interchangeable.</summary>
    [Theory]
    [MemberData(nameof(CatalogFiles))]
    public void Every_catalog_scenario_compiles_to_a_spec(string file)
    {
        var result = FrontEnd.Load(Path.Combine(TestPaths.Models, "catalog", file), new LoadOptions { ModelPath = [TestPaths.Models] });
        Assert.NotEmpty(result.Scenarios);
        foreach (var program in result.Scenarios)
        {
            var spec = program.Symmetry;
            Assert.Equal(program.SymmetricCpus, spec.Cpus);
            Assert.Equal(program.Lines.Count, spec.LineCpu.Length);
            Assert.Equal(program.Platform.Cache == CacheTopology.Private, spec.MachineState.HasFlag(CpuIndexedState.PrivateCaches));
            Assert.All(spec.Variables, v => Assert.True(v.PerCpuInstances || v.Value != SymmetricValueKind.None));
            Assert.All(spec.Variables, v => Assert.Equal(program.Variables[v.Variable].IsPercpu, v.PerCpuInstances));
        }
    }

    [Fact]
    public void The_stop_protocol_classifies_its_places_and_its_nmi_loop_makes_symmetry_unusable()
    {
        var result = FrontEnd.Load(Path.Combine(TestPaths.Models, "catalog", "seed000-stop-wbinvd.kflow"), new LoadOptions { ModelPath = [TestPaths.Models] });
        var reboot = result.Scenarios.Single(s => s.ScenarioName == "stop-mask-reboot");
        Assert.Equal(
            ["stopping_cpu:CpuId", "cpus_stop_mask:Cpumask", "cpu_online_mask:Cpumask", "cache_state_incoherent:percpu,None", "scratch:percpu,None"],
            reboot.Symmetry.Variables.Select(v => v.ToString()));
        // timeouts off: the NMI round of native_stop_other_cpus (if (!wait_until(…, 1_000_000)) { for_each_cpu … })
        // cannot run, so its loop variable never holds a CPU id (docs/symmetry.md, "Code that cannot run").
        Assert.Empty(reboot.Symmetry.Slots);

        // The same flow with the stopped CPUs declared interchangeable, and timeouts on: for_each_cpu
        // sends the NMIs in id order.
        var symmetric = Compile("""
            import "linux/stop.kflow";
            scenario "stop-symmetric" {
                platform { vendor intel; cpus 4; }
                cpu 0 runs native_stop_other_cpus();
                cpu 1..3 runs idle_cpu();
                symmetric 1..3;
                timeouts on;
            }
            """);
        Assert.Equal(
            ["native_stop_other_cpus.cpu@0:CpuId"],
            symmetric.Symmetry.Slots.Select(s => $"{symmetric.Functions[s.Function].Name}.{s}"));
        Assert.False(symmetric.Symmetry.IsUsable);
        Assert.EndsWith("stop.kflow:119:13: for_each_cpu visits CPUs in id order", symmetric.Symmetry.UnusableReason);
        Assert.StartsWith("'for_each_cpu (cpu in cpus_stop_mask) { send_nmi(cpu); }' at ", symmetric.Symmetry.UnusableReason);
    }

    [Fact]
    public void The_sev_snp_crash_flow_with_interchangeable_host_cpus_has_a_usable_spec()
    {
        var program = Compile("""
            import "linux/crash.kflow";
            scenario "snp-kdump-symmetric" {
                platform { vendor amd; cpus 3; features SEV, SEV_SNP; snp_guests 0; }
                define SNP_RULE = SNP_NOTIFIER_2024;
                cpu 0 runs panic_and_kdump();
                cpu 1..2 runs idle_host_cpu();
                symmetric 1..2;
                timeouts off;
            }
            """);
        var spec = program.Symmetry;
        Assert.True(spec.IsUsable, spec.UnusableReason);
        Assert.Equal([1, 2], spec.Cpus);
        Assert.Equal(["crashing_cpu:CpuId"], spec.Variables.Select(v => v.ToString()));
        Assert.Empty(spec.Slots);
        // this_cpu() == crashing_cpu in the NMI handler: both CPU ids wait on the operand stack for the compare.
        var handler = program.NmiHandler;
        var compare = Array.FindIndex(program.Functions[handler].Code, i => i.Op == OpCode.Binary && i.A == (int)BinaryOp.Equal);
        Assert.Contains(new SymmetricOperand(handler, compare, 0, SymmetricValueKind.CpuId), spec.Operands);
        Assert.Contains(new SymmetricOperand(handler, compare, 1, SymmetricValueKind.CpuId), spec.Operands);
    }
}
