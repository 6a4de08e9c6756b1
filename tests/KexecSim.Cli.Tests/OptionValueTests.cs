using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// Raw .NET text never reaches a user: a bad option value is one line naming the option, the value and
/// what it should be, exit 2, before any search (issue 7, item 9).
/// </summary>
public sealed class OptionValueTests : CliFixture
{
    private const string Model = "fn f() { done(); }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); expect pass; }\n";

    [Theory]
    [InlineData("--time-limit", "abc", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "NaN", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "Infinity", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "-Infinity", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "1e308", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "0", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--time-limit", "-1", "a number of seconds, more than 0 and at most 1000000000")]
    [InlineData("--max-states", "-5", "a whole number of states, 1 or more")]
    [InlineData("--max-states", "0", "a whole number of states, 1 or more")]
    [InlineData("--max-states", "x", "a whole number of states, 1 or more")]
    [InlineData("--max-states", "99999999999999999999", "a whole number of states, 1 or more")]
    [InlineData("--memory-limit", "9000000000000", "a whole number of megabytes from 1 to 8796093022207")]
    [InlineData("--memory-limit", "1.5", "a whole number of megabytes from 1 to 8796093022207")]
    [InlineData("--memory-limit", "0", "a whole number of megabytes from 1 to 8796093022207")]
    [InlineData("--cpus", "x", "a whole number of CPUs from 1 to 1024")]
    [InlineData("--cpus", "99999999999", "a whole number of CPUs from 1 to 1024")]
    [InlineData("--workers", "0", "a whole number of workers from 1 to 1024")]
    [InlineData("--workers", "1025", "a whole number of workers from 1 to 1024")]
    [InlineData("--workers", "two", "a whole number of workers from 1 to 1024")]
    [InlineData("--format", "xml", "one of text, json, ktap, junit")]
    [InlineData("--strategy", "random", "bfs or dfs")]
    [InlineData("--strategy", "DFS", "bfs or dfs")]
    public void A_bad_option_value_is_one_line_naming_the_option_and_exit_2(string option, string value, string expected)
    {
        var (exit, stdout, stderr) = Run("check", Write("m.kflow", Model), option, value);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"kexecsim: {option} {value}: expected {expected}\n", stderr);
    }

    [Fact]
    public void Lint_cpus_that_is_not_a_number_names_the_option_not_a_dotnet_type()
    {
        var (exit, _, stderr) = Run("lint", Write("m.kflow", Model), "--cpus", "two");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: --cpus two: expected a whole number of CPUs from 1 to 1024\n", stderr);
    }

    [Fact]
    public void Largest_limits_are_accepted()
    {
        var (exit, _, stderr) = Run("check", Write("m.kflow", Model), "--memory-limit", "8796093022207", "--time-limit", "1e9", "--max-states", "9223372036854775807");
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(ExitCodes.Success, exit);
    }

    [Fact]
    public void A_missing_option_value_still_gets_the_usage_hint()
    {
        var (exit, _, stderr) = Run("check", Write("m.kflow", Model), "--time-limit");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("kexecsim: Required argument missing for option: '--time-limit'.\nRun 'kexecsim check --help' for usage.\n", stderr);
    }
}
