using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>The exact text of the diagnostics users meet most, in the format of LANGUAGE.md section 7.</summary>
public sealed class DiagnosticMessageTests
{
    private static string[] Lines(string text) =>
        FrontEnd.LoadText("models/mine.kflow", text).Diagnostics.Select(d => d.ToString()).ToArray();

    [Fact]
    public void Argument_types_read_like_the_contract_example()
    {
        var text = "shared cpumask m;\n\nfn f() {\n    int x = 0;\n    x = 1;\n    x = x;\n    x = x;\n    x = x;\n    x = x;\n    x = x;\n    /* pad */ cpumask_clear_cpu(m, 1);\n}\n";
        Assert.Equal(["models/mine.kflow:11:15: error KF0204: 'cpumask_clear_cpu' expects (int, cpumask), got (cpumask, int)"], Lines(text));
    }

    [Fact]
    public void Missing_semicolon_names_the_line_it_belongs_to()
    {
        Assert.Equal(["models/mine.kflow:2:18: error KF0101: expected ';' before 'x'"],
            Lines("fn f() {\n    int x = 1 + 2\n    x = x;\n}\n"));
    }

    [Fact]
    public void Unknown_names_suggest_the_closest()
    {
        Assert.Equal(["models/mine.kflow:2:31: error KF0201: unknown name 'cpus_stop_msk'; did you mean 'cpus_stop_mask'?"],
            Lines("shared cpumask cpus_stop_mask;\nfn f() { hlt(); cpumask_clear(cpus_stop_msk); }\n"));
    }

    [Fact]
    public void Unknown_violation_lists_the_codes()
    {
        var lines = Lines("fn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); expect RESET_HUNG; }\n");
        Assert.Equal(["models/mine.kflow:2:39: error KF0301: unknown violation 'RESET_HUNG'; did you mean 'RESET_HANG'? (expect pass or one of: "
            + "EXEC_CLOBBERED, DATA_CLOBBERED, CORRUPTION, MACHINE_CHECK, TRIPLE_FAULT, GUEST_EXCEPTION, FIRMWARE_RACE, PLATFORM_RESET, "
            + "RESET_HANG, PANIC, BUG, ASSERTION, DEADLOCK, LIVELOCK, MODEL_ERROR)"], lines);
    }

    [Fact]
    public void Undefined_define_suggests_the_constant()
    {
        Assert.Equal(["models/mine.kflow:2:23: error KF0302: 'define NR_CPU' overrides nothing: no such constant; did you mean 'NR_CPUS'?"],
            Lines("const NR_CPUS = 2;\nscenario \"s\" { define NR_CPU = 4; }\n"));
    }

    [Fact]
    public void Errors_are_sorted_by_position_and_all_reported()
    {
        var lines = Lines("fn f() {\n    b = 1;\n    a = 2;\n}\nfn g() { c = 3; }\n");
        Assert.Equal([
            "models/mine.kflow:2:5: error KF0201: unknown name 'b'",
            "models/mine.kflow:3:5: error KF0201: unknown name 'a'",
            "models/mine.kflow:5:10: error KF0201: unknown name 'c'",
        ], lines);
    }

    [Fact]
    public void A_diagnostic_is_one_line_with_control_characters_from_an_import_path_escaped()
    {
        // r05: a model must not forge a second "file:line:col: error" line nor drive the terminal.
        var lines = Lines("import \"evil\\nx.kflow:1:1: error KF0000: injected\u001b[31mRED\u001b[0m.kflow\";\nfn f() { }\n");
        Assert.Equal([@"models/mine.kflow:1:8: error KF0402: cannot find import ""evil\nx.kflow:1:1: error KF0000: injected\x1b[31mRED\x1b[0m.kflow"" (searched: models)"], lines);
    }

    [Fact]
    public void A_diagnostic_is_one_line_with_control_characters_in_its_file_name_escaped()
    {
        var lines = FrontEnd.LoadText("evil\u001b[2J\nx.kflow", "const N = ;\n").Diagnostics.Select(d => d.ToString()).ToArray();
        Assert.Equal([@"evil\x1b[2J\nx.kflow:1:10: error KF0103: expected an expression before ';'"], lines);
    }

    [Fact]
    public void An_echoed_token_is_cut_to_sixty_characters_with_an_ellipsis()
    {
        var name = new string('x', 5000);
        var lines = Lines($"fn f() {{ {name} = 1; }}\n");
        Assert.Equal([$"models/mine.kflow:1:10: error KF0201: unknown name '{new string('x', 59)}\u2026'"], lines);
    }

    [Fact]
    public void A_symmetry_warning_quotes_code_on_one_line()
    {
        // r04: the quoted for_each_cpu spanned three lines of source.
        const string text = """
            shared cpumask m;
            fn idle() {
                for_each_cpu (c in m) {
                    hlt();
                }
                loop { hlt(); }
            }
            scenario "s" {
                platform { cpus 3; }
                cpu 0..2 runs idle();
                symmetric 0..2;
            }
            """;
        Assert.Equal(["models/mine.kflow:11:5: warning KF0803: 'symmetric 0..2' is not used: 'for_each_cpu (c in m) { hlt(); }' at models/mine.kflow:3:5: for_each_cpu visits CPUs in id order"],
            Lines(text));
    }

    [Fact]
    public void Codes_are_stable_numbers()
    {
        Assert.Equal("KF0001", DiagnosticCode.InvalidUtf8.Format());
        Assert.Equal("KF0101", DiagnosticCode.ExpectedToken.Format());
        Assert.Equal("KF0204", DiagnosticCode.ArgumentTypes.Format());
        Assert.Equal("KF0301", DiagnosticCode.UnknownViolation.Format());
        Assert.Equal("KF0401", DiagnosticCode.ImportCycle.Format());
        Assert.Equal("KF0901", DiagnosticCode.NestingTooDeep.Format());
        Assert.Equal(DiagnosticSeverity.Warning, DiagnosticCode.UnusedVariable.DefaultSeverity());
        // No two codes share a number.
        var values = Enum.GetValues<DiagnosticCode>().Select(c => (int)c).ToList();
        Assert.Equal(values.Count, values.Distinct().Count());
    }
}
