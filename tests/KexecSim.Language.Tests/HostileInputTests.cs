using System.Text;
using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>Bad input never crashes: every case ends in a diagnostic with a position.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kexecsim-hostile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private FrontEndResult LoadBytes(byte[] bytes)
    {
        var path = Path.Combine(_directory, "input.kflow");
        File.WriteAllBytes(path, bytes);
        return FrontEnd.Load(path);
    }

    private FrontEndResult LoadText(string text) => LoadBytes(Encoding.UTF8.GetBytes(text));

    private static Diagnostic Single(FrontEndResult result, DiagnosticCode code)
    {
        var errors = result.Diagnostics.Where(d => d.IsError).ToList();
        var diagnostic = Assert.Single(errors);
        Assert.Equal(code, diagnostic.Code);
        return diagnostic;
    }

    [Fact]
    public void Twenty_thousand_nested_parentheses_are_one_nesting_error()
    {
        var text = "const X = " + new string('(', 20_000) + "1" + new string(')', 20_000) + ";\nconst Y = ;\n";
        var result = LoadText(text);
        var errors = result.Diagnostics.Where(d => d.IsError).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal(DiagnosticCode.NestingTooDeep, errors[0].Code);
        // The 256th opening parenthesis is the first too many (the const expression itself is a level).
        Assert.Equal((1, 11 + 256), errors[0].Position);
        // The parser recovered: the error on the next line is still found.
        Assert.Equal(DiagnosticCode.ExpectedExpression, errors[1].Code);
        Assert.Equal(2, errors[1].Position.Line);
    }

    [Fact]
    public void Twenty_thousand_nested_blocks_are_one_nesting_error()
    {
        var text = "fn f() " + new string('{', 20_000) + new string('}', 20_000) + "\n";
        var diagnostic = Single(LoadText(text), DiagnosticCode.NestingTooDeep);
        Assert.Equal(1, diagnostic.Position.Line);
    }

    [Fact]
    public void Twenty_thousand_nested_ifs_are_one_nesting_error()
    {
        var builder = new StringBuilder("shared int x;\nfn f() {\n");
        for (var i = 0; i < 20_000; i++)
        {
            builder.Append("if (x) ");
        }
        builder.Append("x = 1;\n}\n");
        var diagnostic = Single(LoadText(builder.ToString()), DiagnosticCode.NestingTooDeep);
        Assert.Equal(3, diagnostic.Position.Line);
    }

    [Fact]
    public void A_long_chain_of_unary_operators_is_one_nesting_error()
    {
        var text = "const X = " + new string('!', 50_000) + "true;\n";
        Single(LoadText(text), DiagnosticCode.NestingTooDeep);
    }

    [Fact]
    public void A_long_chain_of_binary_operators_is_one_complexity_error()
    {
        var text = "const X = 1" + string.Concat(Enumerable.Repeat(" + 1", 100_000)) + ";\n";
        var diagnostic = Single(LoadText(text), DiagnosticCode.ExpressionTooComplex);
        Assert.Equal(1, diagnostic.Position.Line);
    }

    [Fact]
    public void Binary_bytes_are_one_error_naming_the_first_nul()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        bytes[0] = (byte)'x';
        bytes[1] = (byte)'\n';
        bytes[2] = (byte)'y';
        bytes[3] = 0;
        var diagnostic = Single(LoadBytes(bytes), DiagnosticCode.BinaryFile);
        Assert.Equal((2, 2), diagnostic.Position);
    }

    [Fact]
    public void Invalid_utf8_is_reported_where_it_is()
    {
        var bytes = Encoding.UTF8.GetBytes("const A = 1;\nconst B = ").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes(";\n")).ToArray();
        var result = LoadBytes(bytes);
        var diagnostic = result.Diagnostics.First(d => d.IsError);
        Assert.Equal(DiagnosticCode.InvalidUtf8, diagnostic.Code);
        Assert.Equal((2, 11), diagnostic.Position);
    }

    [Fact]
    public void Invalid_utf8_in_a_comment_is_reported_too()
    {
        var bytes = Encoding.UTF8.GetBytes("// ok\n// bad: ").Concat(new byte[] { 0xFF, 0xFE }).Concat(Encoding.UTF8.GetBytes("\nconst A = 1;\n")).ToArray();
        var diagnostic = Single(LoadBytes(bytes), DiagnosticCode.InvalidUtf8);
        Assert.Equal((2, 9), diagnostic.Position);
    }

    [Fact]
    public void An_unterminated_comment_is_reported_at_its_start()
    {
        var diagnostic = Single(LoadText("const A = 1;\n\n   /* never closed\nconst B = 2;\n"), DiagnosticCode.UnterminatedComment);
        Assert.Equal((3, 4), diagnostic.Position);
    }

    [Fact]
    public void An_unterminated_string_is_reported_at_its_quote()
    {
        var result = LoadText("fn f() {\n    panic(\"oops);\n}\n");
        var diagnostic = result.Diagnostics.First(d => d.IsError);
        Assert.Equal(DiagnosticCode.UnterminatedString, diagnostic.Code);
        Assert.Equal((2, 11), diagnostic.Position);
    }

    [Fact]
    public void An_oversized_literal_is_reported_at_the_literal()
    {
        var diagnostic = Single(LoadText("const A = 1;\nconst B = 18446744073709551616;\n"), DiagnosticCode.IntegerLiteralOutOfRange);
        Assert.Equal((2, 11), diagnostic.Position);
    }

    [Fact]
    public void An_empty_file_is_a_model_with_nothing_in_it()
    {
        var result = LoadText(string.Empty);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.Scenarios);
    }

    [Fact]
    public void A_missing_file_is_a_diagnostic()
    {
        var result = FrontEnd.Load(Path.Combine(_directory, "absent.kflow"));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticCode.FileNotFound, diagnostic.Code);
    }

    [Fact]
    public void An_empty_or_invalid_file_name_is_a_diagnostic()
    {
        // 'kexecsim lint ""' threw from Path.GetFullPath.
        Assert.Equal(["kexecsim: error KF0402: \"\": no such file (the file name is empty)"], FrontEnd.Load("").Diagnostics.Select(d => d.ToString()));
        Assert.Equal(["kexecsim: error KF0402: a\\x00b: no such file (a file name cannot hold a NUL character)"],
            FrontEnd.Load("a\0b").Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_NUL_character_in_an_import_path_of_a_text_is_a_diagnostic_at_the_import()
    {
        // Finding 2 of the fuzzing harness (docs/fuzzing.md): LoadText of a text whose import path holds a NUL.
        var result = FrontEnd.LoadText("m.kflow", "import \"a\0b.kflow\";\nscenario \"s\" { }\n");
        Assert.Equal(["m.kflow:1:8: error KF0402: cannot find import \"a\\x00b.kflow\" (a file name cannot hold a NUL character)"], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_directory_given_as_a_model_says_it_is_a_directory()
    {
        var result = FrontEnd.Load(_directory);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal($"kexecsim: error KF0405: {_directory}: is a directory, not a file", diagnostic.ToString());
    }

    [Fact]
    public void A_device_given_as_a_model_is_refused_without_reading_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var result = FrontEnd.Load("/dev/zero");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("kexecsim: error KF0405: /dev/zero: is a character device, not a regular file", diagnostic.ToString());
    }

    [Fact]
    public void A_fifo_import_is_refused_without_opening_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var fifo = Path.Combine(_directory, "pipe.kflow");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        // Opening a FIFO for reading blocks until a writer comes: the loader must not open it.
        var result = LoadText("import \"pipe.kflow\";\nfn f() { }\n");
        var diagnostic = Single(result, DiagnosticCode.NotARegularFile);
        Assert.Equal((1, 8), diagnostic.Position);
        Assert.EndsWith($"error KF0405: {Loading.ModelLoader.Display(fifo)}: is a FIFO (named pipe), not a regular file", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dev/zero", "/dev/zero: is a character device, not a regular file")]
    [InlineData("/proc/self/fd/0", "/proc/self/fd/0: is a ")]
    public void A_device_import_allowed_outside_the_tree_is_still_refused_without_reading_it(string device, string message)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // Outside the model's tree these are KF0406 (corpus errors/load); allowed out, the file kind still guards.
        var path = Path.Combine(_directory, "input.kflow");
        File.WriteAllText(path, $"import \"{device}\";\nfn f() {{ }}\n");
        var result = FrontEnd.Load(path, new LoadOptions { AllowImportOutside = true });
        var diagnostic = Single(result, DiagnosticCode.NotARegularFile);
        Assert.Equal((1, 8), diagnostic.Position);
        Assert.Contains($"error KF0405: {message}", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void File_kinds_are_found_without_opening_the_file()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        Assert.Equal(Loading.FileKind.CharacterDevice, Loading.InputFile.KindOf("/dev/zero"));
        Assert.Equal(Loading.FileKind.Directory, Loading.InputFile.KindOf(_directory));
        var file = Path.Combine(_directory, "plain.kflow");
        File.WriteAllText(file, "fn f() { }\n");
        Assert.Equal(Loading.FileKind.RegularFile, Loading.InputFile.KindOf(file));
        Assert.Null(Loading.InputFile.KindOf(Path.Combine(_directory, "absent")));
    }

    [Fact]
    public void A_file_that_reports_no_size_is_read_through_the_byte_budget()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // procfs files report size 0 and may hold more: the budget, not the size, bounds the read.
        var result = Loading.InputFile.Read("/proc/self/status", "status", maxBytes: 64);
        Assert.False(result.Succeeded);
        Assert.Equal(Loading.InputFileProblem.TooLarge, result.Problem);
        Assert.Equal("status: file is more than 64 bytes; the limit is 64 bytes", result.Message);

        var whole = Loading.InputFile.Read("/proc/self/status", "status", maxBytes: 1 << 20);
        Assert.True(whole.Succeeded);
        Assert.StartsWith("Name:", System.Text.Encoding.ASCII.GetString(whole.Bytes!), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_whose_read_fails_says_so_in_our_words()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // /proc/self/mem is a regular file whose read at offset 0 fails (EIO: nothing is mapped there).
        // The message used to end in .NET's own text, naming the path a second time.
        var result = FrontEnd.Load("/proc/self/mem");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("kexecsim: error KF0404: /proc/self/mem: cannot read: an I/O error (EIO)", diagnostic.ToString());
    }

    [Fact]
    public void A_huge_file_that_reports_no_size_stops_at_the_byte_budget()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // /proc/self/pagemap reports size 0 and holds 8 bytes per page of the address space. It used to
        // be read into a doubling buffer (162 MB resident) and then fail on a 1-byte read (EINVAL).
        const long budget = Loading.ModelLoader.MaxFileBytes;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = Loading.InputFile.Read("/proc/self/pagemap", "pagemap", budget);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Loading.InputFileProblem.TooLarge, read.Problem);
        Assert.InRange(allocated, budget, budget + (4 << 20));

        var result = FrontEnd.Load("/proc/self/pagemap");
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("kexecsim: error KF0403: /proc/self/pagemap: file is more than 67108864 bytes; the limit is 67108864 bytes", diagnostic.ToString());
    }

    [Fact]
    public void A_large_generated_model_loads_without_errors()
    {
        // About 4 MB: 20,000 functions and as many variables.
        var builder = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            builder.Append($"shared int v{i} = {i};\nfn f{i}(int a) -> int {{ int b = a * 2 + v{i}; if (b > 10) {{ v{i} = b; }} return b; }}\n");
        }
        builder.Append("fn main() { f0(1); done(); }\nscenario \"big\" { cpu 0 runs main(); expect pass; }\n");
        var result = LoadText(builder.ToString());
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Scenarios);
    }

    [Fact]
    public void Random_garbage_text_never_throws()
    {
        var random = new Random(1234);
        const string alphabet = "(){}[];,.=+-*/%<>!&|^~?:\"\\ \n\tabcxyz019_fnifwhilelooptrue/";
        for (var round = 0; round < 300; round++)
        {
            var length = random.Next(0, 400);
            var chars = new char[length];
            for (var i = 0; i < length; i++)
            {
                chars[i] = alphabet[random.Next(alphabet.Length)];
            }
            var result = LoadText(new string(chars));
            Assert.All(result.Diagnostics, d => Assert.True(d.Source is null || d.Position.Line >= 1));
        }
    }
}
