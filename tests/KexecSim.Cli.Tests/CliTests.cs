using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>The kexecsim command line: exit codes, messages and "did you mean".</summary>
public sealed class CliTests : CliFixture
{
    [Fact]
    public void Lint_of_a_clean_file_exits_0_silently()
    {
        var file = Write("ok.kflow", "fn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); expect pass; }\n");
        var (exit, stdout, stderr) = Run("lint", file);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public void Lint_of_a_huge_procfs_file_stops_at_the_byte_budget_and_exits_2()
    {
        if (!File.Exists("/proc/self/pagemap"))
        {
            return; // Linux only
        }
        // It used to print .NET's text: "cannot read: Invalid argument : '/proc/self/pagemap'".
        var (exit, stdout, stderr) = Run("lint", "/proc/self/pagemap");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0403: /proc/self/pagemap: file is more than 67108864 bytes; the limit is 67108864 bytes\n1 error, 0 warnings\n", stdout);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public void Lint_prints_every_error_and_exits_2()
    {
        var file = Write("bad.kflow", "fn f() {\n    x = 1;\n    y = 2;\n}\n");
        var (exit, stdout, _) = Run("lint", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(
            $"{file}:2:5: error KF0201: unknown name 'x'\n{file}:3:5: error KF0201: unknown name 'y'\n2 errors, 0 warnings\n",
            stdout);
    }

    [Fact]
    public void Lint_reports_warnings_but_exits_0()
    {
        var file = Write("warn.kflow", "fn f() {\n    int unused = 1;\n    done();\n}\n");
        var (exit, stdout, _) = Run("lint", file);
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal($"{file}:2:9: warning KF0801: local variable 'unused' is never read\n0 errors, 1 warning\n", stdout);
    }

    [Fact]
    public void Each_file_is_its_own_model()
    {
        var a = Write("a.kflow", "fn f() { done(); }\n");
        var b = Write("b.kflow", "fn f() { done(); }\n");
        Assert.Equal(ExitCodes.Success, Run("lint", a, b).Exit);
    }

    [Fact]
    public void A_shared_import_s_diagnostics_print_once()
    {
        Write("lib.kflow", "fn helper() {\n    zz = 1;\n}\n");
        var a = Write("a.kflow", "import \"lib.kflow\";\nfn f() { done(); }\n");
        var b = Write("b.kflow", "import \"lib.kflow\";\nfn g() { done(); }\n");
        var (exit, stdout, _) = Run("lint", a, b);
        Assert.Equal(ExitCodes.BadInput, exit);
        var lib = KexecSim.Language.Loading.ModelLoader.Display(Path.Combine(Scratch, "lib.kflow"));
        Assert.Equal($"{lib}:2:5: error KF0201: unknown name 'zz'\n1 error, 0 warnings\n", stdout);
    }

    [Fact]
    public void An_import_outside_the_model_is_refused_unless_allow_import_outside_is_given()
    {
        Write("outside.kflow", "fn helper() { }\n");
        Directory.CreateDirectory(Path.Combine(Scratch, "model"));
        var main = Write(Path.Combine("model", "main.kflow"), "import \"../outside.kflow\";\nfn f() { helper(); done(); }\n");
        var (exit, stdout, _) = Run("lint", main);
        Assert.Equal(ExitCodes.BadInput, exit);
        var roots = string.Join(", ", new[] { Path.Combine(Scratch, "model"), Catalog.ModelsDirectory }
            .Select(d => KexecSim.Language.Loading.ModelLoader.Display(KexecSim.Language.Loading.RealPath.Of(d, out _)!)));
        Assert.StartsWith(
            $"{main}:1:8: error KF0406: import \"../outside.kflow\" is outside the model's directory and the model path ({roots}); pass --allow-import-outside to read it\n",
            stdout, StringComparison.Ordinal);

        var allowed = Run("lint", "--allow-import-outside", main);
        Assert.Equal(ExitCodes.Success, allowed.Exit);
        Assert.Equal(string.Empty, allowed.Out);
    }

    [Fact]
    public void Unknown_command_suggests_the_right_one()
    {
        var (exit, _, stderr) = Run("lnit", "x.kflow");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("Unrecognized command or argument 'lnit'. Did you mean 'lint'?", stderr);
    }

    [Fact]
    public void Unknown_option_suggests_the_right_one()
    {
        var file = Write("ok.kflow", "fn f() { done(); }\n");
        var (exit, _, stderr) = Run("lint", "--modle-path", "x", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("Unrecognized option '--modle-path'. Did you mean '--model-path'?", stderr);
    }

    [Fact]
    public void Lint_of_a_directory_says_it_is_a_directory()
    {
        var directory = Directory.CreateDirectory(Path.Combine(Scratch, "models.kflow")).FullName;
        var (exit, stdout, _) = Run("lint", directory);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: error KF0405: {directory}: is a directory, not a file\n1 error, 0 warnings\n", stdout);
    }

    [Fact]
    public void A_define_without_a_value_is_bad_input_not_ignored()
    {
        var file = Write("ok.kflow", "const N = 1;\nfn f() { done(); }\n");
        var (exit, _, stderr) = Run("lint", file, "-D");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("kexecsim: Required argument missing for option: '-D'.", stderr);
    }

    [Fact]
    public void A_model_path_that_is_no_directory_is_bad_input()
    {
        var file = Write("ok.kflow", "fn f() { done(); }\n");
        var missing = Path.Combine(Scratch, "no-such-dir");
        var (exit, _, stderr) = Run("lint", file, "--model-path", missing);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"kexecsim: --model-path {missing}: no such directory\n", stderr);
        Assert.Equal(ExitCodes.Success, Run("lint", file, "--model-path", Scratch).Exit);
    }

    [Fact]
    public void Malformed_define_is_bad_input()
    {
        var file = Write("ok.kflow", "const N = 1;\nfn f() { done(); }\n");
        // The value is read as the same literal would be in a model: '1_' is KF0008 there too.
        var (exit, _, stderr) = Run("lint", "-D", "N=1_", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0008: -D N=1_: invalid integer literal '1_'\n", stderr);
        (exit, _, stderr) = Run("lint", "-D", "N", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0312: -D N: expected NAME=VALUE, VALUE being an integer, true, false, or the name of a const or enum value\n", stderr);
    }

    [Theory]
    [InlineData("N=1_", "kexecsim: error KF0008: -D N=1_: invalid integer literal '1_'")]
    [InlineData("N=_1", "kexecsim: error KF0312: -D N=_1: '_1' is not a const or enum value of the model ok.kflow")]
    [InlineData("N=-_1", "kexecsim: error KF0312: -D N=-_1: VALUE must be an integer, true, false, or the name of a const or enum value")]
    public void Define_with_a_stray_digit_separator_is_bad_input_as_in_a_model(string define, string expected)
    {
        // As in a model: `1_` is a bad literal (KF0008), `_1` a name the model lacks.
        var file = Write("ok.kflow", "const N = 1;\nfn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); expect pass; }\n");
        var (exit, stdout, stderr) = Run("check", "-D", define, file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(expected + "\n", stderr + stdout);
        Assert.Equal(ExitCodes.Success, Run("check", "-D", "N=1_000", file).Exit);
    }

    [Fact]
    public void Define_of_an_unknown_constant_is_bad_input()
    {
        var file = Write("ok.kflow", "const N = 1;\nfn f() { done(); }\n");
        var (exit, stdout, _) = Run("lint", "-D", "M=2", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("error KF0312: -D M=2: the model has no constant 'M'", stdout);
    }

    [Fact]
    public void Model_path_finds_imports()
    {
        Directory.CreateDirectory(Path.Combine(Scratch, "lib"));
        File.WriteAllText(Path.Combine(Scratch, "lib", "common.kflow"), "const ANSWER = 42;\n");
        var sub = Directory.CreateDirectory(Path.Combine(Scratch, "sub")).FullName;
        var file = Path.Combine(sub, "main.kflow");
        File.WriteAllText(file, "import \"common.kflow\";\nfn f() -> int { return ANSWER; }\n");
        Assert.Equal(ExitCodes.BadInput, Run("lint", file).Exit);
        Assert.Equal(ExitCodes.Success, Run("lint", "--model-path", Path.Combine(Scratch, "lib"), file).Exit);
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        var (exit, stdout, _) = Run("--help");
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("lint", stdout);
        Assert.Contains("check", stdout);
        Assert.Contains("list", stdout);
    }

    [Fact]
    public void Check_with_an_unknown_scenario_suggests_one()
    {
        var file = Write("s.kflow", "fn f() { done(); }\nscenario \"stop-order\" { cpu 0 runs f(); }\n");
        var (exit, _, stderr) = Run("check", file, "--scenario", "stop-ordr");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: error KF0311: no scenario named \"stop-ordr\"; did you mean 'stop-order'?\n", stderr);
    }

    [Fact]
    public void Check_of_a_file_without_scenarios_is_an_input_error_not_a_crash()
    {
        var file = Write("lib.kflow", "fn f() { done(); }\n");
        var (exit, stdout, stderr) = Run("check", file);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"{file}: error KF0314: no scenario to check (the file declares none; `kexecsim lint` checks a library)\n", stderr);
        Assert.Equal(ExitCodes.Success, Run("lint", file).Exit);
    }
}
