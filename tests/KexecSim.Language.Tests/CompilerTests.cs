using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;
using KexecSim.Program;

namespace KexecSim.Language.Tests;

/// <summary>The compiled program: instructions with visible actions marked, layout, and scenario instances.</summary>
public sealed class CompilerTests
{
    private static CompiledProgram CompileSingle(string text, CompileOptions? options = null)
    {
        var result = FrontEnd.LoadText("t.kflow", text, new LoadOptions { Compile = options ?? CompileOptions.Default });
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return Assert.Single(result.Scenarios);
    }

    [Fact]
    public void Visible_actions_back_edges_and_waits_are_marked()
    {
        const string text = """
            shared int flag;
            shared cpumask mask;
            fn f() {
                int spins = 0;
                loop { spins++; if (spins > 3) break; }
                wait_until(flag == 1, 100);
                for_each_cpu (c in mask) send_nmi(c);
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 2; } cpu 0 runs f(); }
            """;
        const string expected = """
            fn f (params 0, slots 3, line text[0]):
                 0: PushConst 0                              ; 4:17
                 1: StoreLocal 0                             ; 4:9
                 2: LoadLocal 0                              ; 5:12
                 3: PushConst 1                              ; 5:12
                 4: Binary Add                               ; 5:12
                 5: StoreLocal 0                             ; 5:12
                 6: LoadLocal 0                              ; 5:25
                 7: PushConst 3                              ; 5:33
                 8: Binary Greater                           ; 5:25
                 9: JumpIfFalse 11                           ; 5:25
                10: Jump 12                                  ; 5:36
                11: Jump 2 [Visible, BackEdge]               ; 5:5
                12: PushConst 100                            ; 6:27
                13: StoreLocal 2                             ; 6:27
                14: WaitBegin 18                             ; 6:5
                15: LoadVar 0 [Visible]                      ; 6:16
                16: PushConst 1                              ; 6:24
                17: Binary Equal                             ; 6:16
                18: WaitEnd 2 [Visible, Blocking]            ; 6:5
                19: ClearLocals 2 1                          ; 6:5
                20: Pop                                      ; 6:5
                21: PushConst -1                             ; 7:5
                22: StoreLocal 1                             ; 7:5
                23: PushVarRef 1                             ; 7:24
                24: CpumaskNext 1 [Visible]                  ; 7:24
                25: JumpIfFalse 29                           ; 7:24
                26: LoadLocal 1                              ; 7:39
                27: Intrinsic SendNmi/1 [Visible]            ; 7:30
                28: Jump 23 [BackEdge]                       ; 7:5
                29: ClearLocals 1 1                          ; 7:5
                30: Intrinsic Hlt/0 [Visible, Blocking]      ; 8:12
                31: Jump 30 [BackEdge]                       ; 8:5
                32: ClearLocals 0 1                          ; 9:1
                33: End                                      ; 9:1

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), CompileSingle(text).Disassemble().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_back_edge_is_a_step_when_some_path_round_the_loop_takes_no_visible_action()
    {
        const string text = """
            shared int x;
            fn sometimes(int local) { loop { if (local == 1) { x = 1; } } }
            fn always(int local) { loop { x = 1; if (local == 1) { udelay(1); } } }
            scenario "s" { cpu 0 runs sometimes(0); }
            """;
        var program = CompileSingle(text);
        Assert.True(program.Function("sometimes").Code.Single(i => i.IsBackEdge).IsVisible);
        Assert.False(program.Function("always").Code.Single(i => i.IsBackEdge).IsVisible);
    }

    [Fact]
    public void A_modelled_stack_makes_calls_and_returns_visible()
    {
        const string text = """
            region stack[1] percpu;
            fn g() -> int { return 1; }
            fn f() { int x = g(); x = x; done(); }
            scenario "s" { cpu 0 runs f(); }
            """;
        var program = CompileSingle(text);
        var f = program.Function("f");
        Assert.True(f.Code[0] is { Op: OpCode.Call, IsVisible: true });
        Assert.True(program.Function("g").Code[1] is { Op: OpCode.Return, IsVisible: true });
        Assert.Equal(program.Regions.Single(r => r.Name == "stack").Id, program.StackRegion);

        var withoutStack = CompileSingle(text.Replace("region stack[1] percpu;", string.Empty));
        Assert.False(withoutStack.Function("f").Code[0].IsVisible);
        Assert.Equal(-1, withoutStack.StackRegion);
    }

    [Fact]
    public void Defines_resize_regions_and_percpu_regions_have_a_line_per_cpu()
    {
        const string text = """
            const PAMT = 1;
            region pamt[PAMT];
            region stack[1] percpu;
            region next_kernel = text, pamt, stack;
            percpu int mine in stack[0];
            shared int everyone;
            fn f() { done(); }
            scenario "s" { platform { cpus 3; } define PAMT = 2; cpu 0 runs f(); }
            """;
        var program = CompileSingle(text);
        Assert.Equal(
            ["text[0]", "data[0]", "pamt[0]", "pamt[1]", "stack[0][0]", "stack[1][0]", "stack[2][0]"],
            program.Lines.Select(l => l.Name));
        var next = program.Regions.Single(r => r.Name == "next_kernel");
        Assert.Equal(["text[0]", "pamt[0]", "pamt[1]", "stack[0][0]", "stack[1][0]", "stack[2][0]"], next.Lines.Select(l => program.Lines[l].Name));
        var mine = program.Variables.Single(v => v.Name == "mine");
        Assert.Equal(["stack[0][0]", "stack[1][0]", "stack[2][0]"], mine.HomeLinePerCpu.Select(l => program.Lines[l].Name));
        Assert.Equal("data[0]", program.Lines[program.Variables.Single(v => v.Name == "everyone").HomeLine(2)].Name);
        Assert.Equal(2, program.Constants["PAMT"]);
    }

    [Fact]
    public void An_alias_nested_64_levels_deep_keeps_its_lines_and_one_more_level_is_an_error()
    {
        static string Chain(int depth)
        {
            var builder = new System.Text.StringBuilder("region r0[2];\n");
            for (var i = 1; i <= depth; i++)
            {
                builder.Append($"region r{i} = r{i - 1};\n");
            }
            builder.Append($"fn f() in r{depth}[1] {{ done(); }}\nscenario \"s\" {{ cpu 0 runs f(); expect pass; }}\n");
            return builder.ToString();
        }
        var program = CompileSingle(Chain(64));
        Assert.Equal(["r0[0]", "r0[1]"], program.Regions.Single(r => r.Name == "r64").Lines.Select(l => program.Lines[l].Name));
        Assert.Equal("r0[1]", program.Lines[program.Function("f").HomeLinePerCpu[0]].Name);

        // r03: the 65th level used to be silently empty (and a home in it crashed the compiler).
        var result = FrontEnd.LoadText("t.kflow", Chain(65));
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("t.kflow:66:8: error KF0228: region alias 'r65' nests 65 levels deep; aliases may nest at most 64 levels", error.ToString());
    }

    [Fact]
    public void Division_or_modulo_by_zero_in_a_constant_is_KF0222_at_the_division()
    {
        // Used to be accepted silently, the const then being 0.
        const string text = """
            const A = 1 / 0;
            const B = A / 0;
            const C = 1 / (1 - 1);
            const D = 7 % (2 - 2);
            const E = A + 1;
            const OK = 0 && 1 / 0;
            enum phase { P = 4 % 0 };
            fn f() { done(); }
            scenario "s" { cpu 0 runs f(); expect pass; }
            """;
        var result = FrontEnd.LoadText("t.kflow", text);
        Assert.Equal(
            [
                "t.kflow:1:11: error KF0222: division by zero in a constant",
                "t.kflow:2:11: error KF0222: division by zero in a constant",
                "t.kflow:3:11: error KF0222: division by zero in a constant",
                "t.kflow:4:11: error KF0222: modulo by zero in a constant",
                "t.kflow:7:18: error KF0222: modulo by zero in a constant",
            ],
            result.Diagnostics.Select(d => d.ToString()));
        Assert.Empty(result.Scenarios);
    }

    [Fact]
    public void A_define_that_makes_a_constant_divide_by_zero_is_KF0222_naming_the_scenario()
    {
        const string text = """
            const N = 2;
            const PER = 64 / N;
            fn f() { done(); }
            scenario "zero" { define N = 0; cpu 0 runs f(); expect pass; }
            scenario "bad" { define N = 1 / (N - 2); cpu 0 runs f(); expect pass; }
            scenario "fine" { define N = 4; cpu 0 runs f(); expect pass; }
            """;
        var result = FrontEnd.LoadText("t.kflow", text);
        Assert.Equal(
            [
                "t.kflow:2:13: error KF0222: division by zero in a constant in scenario \"zero\"",
                "t.kflow:5:29: error KF0222: division by zero in a constant",
            ],
            result.Diagnostics.Select(d => d.ToString()));

        var dashD = FrontEnd.LoadText("t.kflow", text, new LoadOptions
        {
            Scenario = "fine",
            Compile = new CompileOptions { CommandLineDefines = new Dictionary<string, string> { ["N"] = "0" } },
        });
        Assert.Equal(["t.kflow:2:13: error KF0222: division by zero in a constant in scenario \"fine\""], dashD.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_long_chain_of_constants_is_followed_in_either_order()
    {
        // The evaluator used to give up 200 levels down (about 100 consts) and the const was then 0.
        static string Chain(int count, bool reversed)
        {
            var lines = Enumerable.Range(1, count - 1).Select(i => $"const C{i} = C{i - 1} + 1;").Prepend("const C0 = 0;");
            return string.Join("\n", reversed ? lines.Reverse() : lines)
                + $"\nconst LAST = C{count - 1} % (C{count - 1} - {count - 2});\nfn f() {{ done(); }}\nscenario \"s\" {{ define C0 = 1; cpu 0 runs f(); expect pass; }}\n";
        }
        foreach (var reversed in new[] { false, true })
        {
            var program = CompileSingle(Chain(3000, reversed));
            Assert.Equal(3000, program.Constants["C2999"]);
            Assert.Equal(0, program.Constants["LAST"]);
        }
    }

    [Fact]
    public void An_alias_used_twice_is_flattened_once_and_a_too_large_alias_is_a_size_error()
    {
        const string text = """
            region r0[2];
            region r1 = r0, r0;
            region r2 = r1, r1;
            fn f() { done(); }
            scenario "s" { cpu 0 runs f(); }
            """;
        var program = CompileSingle(text);
        Assert.Equal(8, program.Regions.Single(r => r.Name == "r2").Lines.Length);

        // r02: each level doubles; 2^20 * 2 lines is past the limit, and is reported, not built.
        var builder = new System.Text.StringBuilder("region r0[2];\n");
        for (var i = 1; i <= 40; i++)
        {
            builder.Append($"region r{i} = r{i - 1}, r{i - 1};\n");
        }
        var result = FrontEnd.LoadText("t.kflow", builder + "fn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); }\n");
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("t.kflow:21:8: error KF0220: region alias 'r20' would have 2097152 lines; a region may have at most 1048576", error.ToString());
    }

    [Fact]
    public void A_home_in_an_alias_left_without_lines_is_reported_once_not_a_crash()
    {
        // r13, r13b: the alias's only part was not a region; homes in it indexed an empty line array.
        const string text = """
            const C = 1;
            region r = C;
            shared int v in r[0];
            fn f() in r[0] { done(); }
            scenario "s" { cpu 0 runs f(); }
            """;
        var result = FrontEnd.LoadText("t.kflow", text);
        Assert.Equal(["t.kflow:2:12: error KF0212: 'C' is a constant, not a region"], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_percpu_region_size_that_overflows_when_multiplied_by_the_cpus_is_a_size_error()
    {
        // r01: 0x4000000000000000 * 4 wrapped to 0 and passed the check.
        var result = FrontEnd.LoadText("t.kflow", "region big[0x4000000000000000] percpu;\nfn f() { hlt(); }\nscenario \"s\" { platform { cpus 4; } cpu 0..3 runs f(); }\n");
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("t.kflow:1:8: error KF0220: region 'big' must have between 1 and 262144 lines, not 4611686018427387904", error.ToString());
    }

    [Theory]
    [InlineData("fn text() { }", "t.kflow:1:4: error KF0202: 'text' is a built-in region; a function cannot take its name (declare 'region text[N];' to size it)")]
    [InlineData("const data = 1;\nshared int v;", "t.kflow:1:7: error KF0202: 'data' is a built-in region; a constant cannot take its name (declare 'region data[N];' to size it)")]
    [InlineData("fn next_kernel() { }", "t.kflow:1:4: error KF0202: 'next_kernel' is a built-in region; a function cannot take its name (declare 'region next_kernel[N];' to size it)")]
    [InlineData("percpu int text;", "t.kflow:1:12: error KF0202: 'text' is a built-in region; a percpu variable cannot take its name (declare 'region text[N];' to size it)")]
    [InlineData("enum E { data }", "t.kflow:1:10: error KF0202: 'data' is a built-in region; an enum member cannot take its name (declare 'region data[N];' to size it)")]
    public void A_built_in_region_name_is_reserved_for_the_region(string text, string expected)
    {
        // r08: these crashed the compiler, which looks the built-in regions up by name.
        var result = FrontEnd.LoadText("t.kflow", text + "\n");
        Assert.Equal([expected], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Command_line_defines_win_over_scenario_defines_and_dependent_constants_follow()
    {
        const string text = """
            const N = 1;
            const M = N + 1;
            region r[M];
            fn f() { done(); }
            scenario "s" { define N = 5; cpu 0 runs f(); }
            """;
        Assert.Equal(6, CompileSingle(text).Constants["M"]);
        var program = CompileSingle(text, new CompileOptions { Defines = new Dictionary<string, long> { ["N"] = 9 } });
        Assert.Equal(9, program.Constants["N"]);
        Assert.Equal(10, program.Constants["M"]);
        Assert.Equal(10, program.Regions.Single(r => r.Name == "r").Lines.Length);
    }

    private const string TypedConstants = """
        const N = 1;
        const OTHER = 7;
        const M = N + 1;
        const K = tdx_key(1);
        enum Mode { OFF, ON }
        const MODE = ON;
        const B = false;
        fn f() { done(); }
        scenario "s" { platform { cpus 1; } define OTHER = 9; cpu 0 runs f(); }
        """;

    [Fact]
    public void Define_accepts_a_const_of_any_type()
    {
        // LANGUAGE.md §6: int, bool, key, an enum. 'define K = tdx_key(2);' was KF0203.
        var program = CompileSingle(TypedConstants.Replace("define OTHER = 9;", "define K = tdx_key(2); define MODE = OFF; define B = true; define N = 3;", StringComparison.Ordinal));
        Assert.Equal(KexecSim.Program.BuiltinValues.TdxKey(2), program.Constants["K"]);
        Assert.Equal(0, program.Constants["MODE"]);
        Assert.Equal(1, program.Constants["B"]);
        Assert.Equal(4, program.Constants["M"]);

        var result = FrontEnd.LoadText("t.kflow", TypedConstants.Replace("define OTHER = 9;", "define K = 5; define B = cpu_all_mask;", StringComparison.Ordinal));
        Assert.Equal(
            ["t.kflow:9:48: error KF0203: 'K' is key, not int", "t.kflow:9:62: error KF0203: a constant must be an int, a bool, a key or an enum value, not cpumask"],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Command_line_define_takes_an_integer_a_bool_or_the_name_of_a_const_or_enum_value()
    {
        var defines = new Dictionary<string, string> { ["N"] = "OTHER", ["K"] = "KEY_SME", ["MODE"] = "OFF", ["B"] = "true" };
        var program = CompileSingle(TypedConstants, new CompileOptions { CommandLineDefines = defines });
        // OTHER as this scenario has it (its define applied), and M follows N.
        Assert.Equal(9, program.Constants["N"]);
        Assert.Equal(10, program.Constants["M"]);
        Assert.Equal(KexecSim.Program.BuiltinValues.KeySme, program.Constants["K"]);
        Assert.Equal(0, program.Constants["MODE"]);
        Assert.Equal(1, program.Constants["B"]);

        var literal = CompileSingle(TypedConstants, new CompileOptions { CommandLineDefines = new Dictionary<string, string> { ["N"] = "-0x10", ["B"] = "1" } });
        Assert.Equal(-16, literal.Constants["N"]);
        Assert.Equal(1, literal.Constants["B"]);
    }

    [Theory]
    [InlineData("N", "1_", "kexecsim: error KF0008: -D N=1_: invalid integer literal '1_'")]
    [InlineData("N", "0x", "kexecsim: error KF0008: -D N=0x: invalid integer literal '0x'")]
    [InlineData("N", "99999999999999999999", "kexecsim: error KF0005: -D N=99999999999999999999: integer literal '99999999999999999999' does not fit in a signed 64-bit value")]
    [InlineData("N", "1+2", "kexecsim: error KF0312: -D N=1+2: VALUE must be an integer, true, false, or the name of a const or enum value")]
    [InlineData("N", "", "kexecsim: error KF0312: -D N=: VALUE must be an integer, true, false, or the name of a const or enum value")]
    [InlineData("N", "OTHR", "kexecsim: error KF0312: -D N=OTHR: 'OTHR' is not a const or enum value of the model t.kflow; did you mean 'OTHER'?")]
    [InlineData("N", "f", "kexecsim: error KF0312: -D N=f: 'f' is a function, not a const or enum value")]
    [InlineData("N", "true", "kexecsim: error KF0203: -D N=true: 'N' is int, not bool")]
    [InlineData("K", "5", "kexecsim: error KF0203: -D K=5: 'K' is key, not int")]
    [InlineData("B", "2", "kexecsim: error KF0203: -D B=2: 'B' is bool, not int")]
    [InlineData("NN", "1", "kexecsim: error KF0312: -D NN=1: the model t.kflow has no constant 'NN'")]
    public void Command_line_define_value_is_refused_as_the_same_value_would_be_in_a_model(string name, string value, string expected)
    {
        var result = FrontEnd.LoadText("t.kflow", TypedConstants,
            new LoadOptions { Compile = new CompileOptions { CommandLineDefines = new Dictionary<string, string> { [name] = value } } });
        Assert.Equal([expected], result.Diagnostics.Select(d => d.ToString()));
        Assert.Empty(result.Scenarios);
    }

    [Fact]
    public void A_define_of_a_missing_constant_can_be_skipped_for_the_catalog()
    {
        var result = FrontEnd.LoadText("t.kflow", TypedConstants, new LoadOptions
        {
            Compile = new CompileOptions { CommandLineDefines = new Dictionary<string, string> { ["ABSENT"] = "1", ["N"] = "5" }, SkipDefinesOfMissingConstants = true },
        });
        Assert.Empty(result.Diagnostics);
        Assert.Equal(5, Assert.Single(result.Scenarios).Constants["N"]);
    }

    [Fact]
    public void Cpus_override_stretches_ranges_that_end_at_the_last_cpu()
    {
        const string text = """
            fn boss() { done(); }
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 4; }
                init cpu 1..3 { }
                cpu 0 runs boss();
                cpu 1..3 runs idle();
                symmetric 1..3;
                inject nmi 1 on 2..3;
            }
            """;
        var program = CompileSingle(text, new CompileOptions { Cpus = 8 });
        Assert.Equal(8, program.Platform.Cpus);
        Assert.Equal(8, program.Entries.Count);
        Assert.All(Enumerable.Range(1, 7), c => Assert.Equal(program.Function("idle").Id, program.Entries[c]!.Function));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], program.SymmetricCpus);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], program.InitCpus[0].Cpus);
        Assert.Equal([2, 3, 4, 5, 6, 7], program.Faults[0].Cpus);

        var shrunk = CompileSingle(text, new CompileOptions { Cpus = 2 });
        Assert.Equal([1], shrunk.SymmetricCpus);
        Assert.Null(shrunk.SymmetryIgnoredReason);
    }

    [Fact]
    public void Cpus_override_never_stretches_a_range_that_holds_the_boot_cpu()
    {
        // The boot CPU alone: --cpus 4 used to make four controllers of it.
        const string alone = """
            fn kexec() { done(); }
            scenario "s" { platform { cpus 1; } cpu 0 runs kexec(); symmetric 0; inject nmi 1 on 0; }
            """;
        var program = CompileSingle(alone, new CompileOptions { Cpus = 4 });
        Assert.Equal(4, program.Platform.Cpus);
        Assert.Equal(program.Function("kexec").Id, program.Entries[0]!.Function);
        Assert.Equal([null, null, null], program.Entries.Skip(1));
        Assert.Equal([0], program.SymmetricCpus);
        Assert.Equal([0], program.Faults[0].Cpus);

        // A range that holds the boot CPU is not stretched, but it is shrunk; other ranges are both.
        const string shared = """
            fn work() { done(); }
            fn idle() { loop { hlt(); } }
            scenario "s" {
                platform { cpus 4; bsp 3; }
                cpu 0..3 runs work();
                init cpu 2..3 { }
                inject smi 1 on 1..3;
            }
            """;
        var wider = CompileSingle(shared, new CompileOptions { Cpus = 6 });
        Assert.Equal([true, true, true, true, false, false], wider.Entries.Select(e => e is not null));
        Assert.Equal([2, 3], wider.InitCpus[0].Cpus);
        Assert.Equal([1, 2, 3], wider.Faults[0].Cpus);
        var narrower = FrontEnd.LoadText("t.kflow", shared.Replace("bsp 3", "bsp 0", StringComparison.Ordinal),
            new LoadOptions { Compile = new CompileOptions { Cpus = 2 } });
        var program2 = Assert.Single(narrower.Scenarios);
        Assert.Equal([true, true], program2.Entries.Select(e => e is not null));
        Assert.Empty(program2.InitCpus[0].Cpus);
        Assert.Equal([1], program2.Faults[0].Cpus);

        // With the boot CPU elsewhere, the range that ends at the last CPU stretches as before.
        const string bootFirst = """
            fn kexec() { done(); }
            fn idle() { loop { hlt(); } }
            scenario "s" { platform { cpus 2; } cpu 0 runs kexec(); cpu 1 runs idle(); }
            """;
        var stretched = CompileSingle(bootFirst, new CompileOptions { Cpus = 4 });
        Assert.Equal([stretched.Function("kexec").Id, stretched.Function("idle").Id, stretched.Function("idle").Id, stretched.Function("idle").Id],
            stretched.Entries.Select(e => e!.Function));
    }

    [Fact]
    public void A_cpus_override_that_drops_a_named_cpu_is_an_error()
    {
        const string text = """
            fn f() { done(); }
            scenario "s" { platform { cpus 4; } cpu 0 runs f(); cpu 2 runs f(); }
            """;
        var result = FrontEnd.LoadText("t.kflow", text, new LoadOptions { Compile = new CompileOptions { Cpus = 2 } });
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticCode.CpuOutOfRange, error.Code);
        Assert.Equal((2, 57), error.Position);
    }

    [Fact]
    public void Unknown_command_line_define_is_an_error()
    {
        var result = FrontEnd.LoadText("t.kflow", "const NR = 1;\nfn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); }\n",
            new LoadOptions { Compile = new CompileOptions { Defines = new Dictionary<string, long> { ["NRR"] = 3 } } });
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("kexecsim: error KF0312: -D NRR=3: the model t.kflow has no constant 'NRR'; did you mean 'NR'?", error.ToString());
    }

    [Fact]
    public void Platform_values_are_fixed_per_instance()
    {
        const string text = """
            const CPUS = 3;
            fn f() { done(); }
            scenario "s" {
                platform {
                    vendor amd; cpus CPUS; bsp 1; features SME, SEV_SNP; bugs TDX_PW_MCE;
                    cpuid 0x80000000 = 0x8000001f, 0x8000001f = 1; sme_active true; next_sme_active false;
                    cache package; evictions off; snp_guests 2; wbinvd_us 700;
                }
                cpu 0 runs f();
                timeouts off;
                expect PANIC;
            }
            """;
        var program = CompileSingle(text);
        var platform = program.Platform;
        Assert.Equal(Vendor.Amd, platform.Vendor);
        Assert.Equal(3, platform.Cpus);
        Assert.Equal(1, platform.Bsp);
        Assert.Equal(["SEV_SNP", "SME"], platform.Features);
        Assert.Equal(["TDX_PW_MCE"], platform.Bugs);
        Assert.Equal(0x8000001fL, platform.Cpuid[0x80000000L]);
        Assert.True(platform.SmeActive);
        Assert.False(platform.NextSmeActive);
        Assert.Equal(CacheTopology.Package, platform.Cache);
        Assert.False(platform.Evictions);
        Assert.Equal(2, platform.SnpGuests);
        Assert.Equal(700, platform.WbinvdMicroseconds);
        Assert.False(program.Timeouts);
        Assert.Equal(ViolationCode.Panic, program.Expect.Code);
        // Lines of the old kernel hold its content under its key: C=1 with SME active.
        Assert.All(program.Lines, l => Assert.Equal(BuiltinValues.KeySme, l.InitialKey));
    }

    [Fact]
    public void Symmetry_that_singles_out_nobody_is_kept()
    {
        const string text = """
            shared int stopping_cpu = -1;
            fn idle() {
                if (this_cpu() == 0) return;
                if (cmpxchg(stopping_cpu, -1, this_cpu()) != -1) hlt();
                loop { hlt(); }
            }
            scenario "s" { platform { cpus 3; } cpu 0..2 runs idle(); symmetric 1..2; }
            """;
        var program = CompileSingle(text);
        Assert.Equal([1, 2], program.SymmetricCpus);
        Assert.Null(program.SymmetryIgnoredReason);
    }
}
