using System.Text.RegularExpressions;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// docs/cli.md against the real <c>--help</c> of every command: each option a command's help lists
/// is in that command's synopsis line of docs/cli.md (by one of its names) and every name of it is
/// somewhere in the page; each option a synopsis line names is one its command has; and every
/// <c>--long-option</c> the page mentions is an option of some command.
/// </summary>
public sealed partial class CliDocumentationTests
{
    [GeneratedRegex(@"^  (?<names>-[^ <,]+(?:, -[^ <,]+)*)")]
    private static partial Regex HelpOption();

    [GeneratedRegex(@"(?<![\w\-`'])(?<name>--?[A-Za-z][\w\-]*)")]
    private static partial Regex OptionToken();

    [GeneratedRegex(@"(?<![\w\-])(?<name>--[a-z][\w\-]*)")]
    private static partial Regex LongOptionToken();

    private static readonly string[] Commands = ["check", "simulate", "merge", "replay", "explain", "lint", "list"];

    private static readonly HashSet<string> HelpNames = new(StringComparer.Ordinal) { "-?", "-h", "--help" };

    private static string CliPage => File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "cli.md")).ReplaceLineEndings("\n");

    /// <summary>The options of <c>kexecsim [COMMAND] --help</c>, each as its list of names.</summary>
    private static List<string[]> HelpOptions(string? command)
    {
        var stdout = new StringWriter();
        var exit = KexecSimCli.Run(command is null ? ["--help"] : [command, "--help"], stdout, new StringWriter());
        Assert.Equal(ExitCodes.Success, exit);
        var options = new List<string[]>();
        var inOptions = false;
        foreach (var line in stdout.ToString().ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.Length > 0 && !line.StartsWith(' '))
            {
                inOptions = line == "Options:";
                continue;
            }
            if (inOptions && HelpOption().Match(line) is { Success: true } match)
            {
                var names = match.Groups["names"].Value.Split(", ");
                if (!names.Any(HelpNames.Contains))
                {
                    options.Add(names);
                }
            }
        }
        return options;
    }

    /// <summary>The synopsis of <paramref name="command"/> in docs/cli.md's first code block: its line and the indented lines after it.</summary>
    private static string Synopsis(string command)
    {
        var page = CliPage;
        var start = page.IndexOf("```\n", StringComparison.Ordinal) + 4;
        var block = page[start..page.IndexOf("```", start, StringComparison.Ordinal)];
        var lines = block.Split('\n');
        var first = Array.FindIndex(lines, l => l.StartsWith($"kexecsim {command}", StringComparison.Ordinal)
            && (l.Length == $"kexecsim {command}".Length || l[$"kexecsim {command}".Length] == ' '));
        Assert.True(first >= 0, $"docs/cli.md has no synopsis line for 'kexecsim {command}'");
        var text = lines[first];
        for (var i = first + 1; i < lines.Length && lines[i].StartsWith(' '); i++)
        {
            text += "\n" + lines[i];
        }
        return text;
    }

    private static HashSet<string> Tokens(string text) =>
        OptionToken().Matches(text).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

    public static TheoryData<string> EveryCommand() => new(Commands);

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public void The_synopsis_of_each_command_lists_exactly_the_options_of_its_help(string command)
    {
        var help = HelpOptions(command);
        var synopsis = Tokens(Synopsis(command));
        Assert.Empty(help.Where(names => !names.Any(synopsis.Contains)).Select(names => string.Join(", ", names)));
        var known = help.SelectMany(n => n).ToHashSet(StringComparer.Ordinal);
        var unknown = synopsis.Where(t => !known.Contains(t) && !HelpNames.Contains(t)).ToList();
        Assert.Empty(unknown);
    }

    [Fact]
    public void Every_name_of_every_option_is_in_the_page_and_every_long_option_of_the_page_exists()
    {
        var page = CliPage;
        var all = Commands.Select(c => (string?)c).Append(null).SelectMany(HelpOptions).SelectMany(n => n).ToHashSet(StringComparer.Ordinal);
        var undocumented = all.Where(name => !Regex.IsMatch(page, $@"(?<![\w\-]){Regex.Escape(name)}(?![\w\-])")).ToList();
        Assert.Empty(undocumented);
        var mentioned = LongOptionToken().Matches(page).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var nonexistent = mentioned.Where(name => !all.Contains(name) && !HelpNames.Contains(name)).ToList();
        Assert.Empty(nonexistent);
    }

    [Fact]
    public void Every_command_of_the_help_has_a_synopsis_line()
    {
        var stdout = new StringWriter();
        KexecSimCli.Run(["--help"], stdout, new StringWriter());
        var listed = Regex.Matches(stdout.ToString(), @"^  (?<name>[a-z]+)(?: <|\s{2})", RegexOptions.Multiline).Select(m => m.Groups["name"].Value);
        Assert.Equal(Commands.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Assert.Contains("kexecsim --version", Synopsis("--version"), StringComparison.Ordinal);
    }
}
