using CsCheck;

namespace KexecSim.Language.Tests;

/// <summary>Property tests of the front end (CsCheck): no input makes it throw, and every diagnostic points into the file.</summary>
public sealed class PropertyTests
{
    // Fragments that make nearly-valid kflow more often than random characters would.
    private static readonly string[] Fragments =
    [
        "fn ", "f", "(", ")", "{", "}", "[", "]", ";", ",", "int ", "bool ", "cpumask ", "x", "y", " = ", "+", "*", "==", "&&",
        "!", "if ", "else ", "while ", "loop ", "for_each_cpu ", "for_each_line ", " in ", "return ", "either ", "or ", "atomic ",
        "shared ", "percpu ", "region ", "const ", "enum ", "handler nmi ", "scenario \"s\" ", "cpu 0 runs ", "expect pass;",
        "platform { cpus 2; }", "store(text[0], KEY_NONE, 1)", "wbinvd()", "hlt()", "done()", "1", "0x10", "1..2", "\"m\"",
        "/* c */", "// c\n", "\n", " ", "?", ":", "->", "++", "--",
    ];

    private static readonly Gen<string> Programs =
        Gen.Int[0, Fragments.Length - 1].Array[0, 80].Select(indices => string.Concat(indices.Select(i => Fragments[i])));

    [Fact]
    public void The_front_end_never_throws_and_every_diagnostic_points_into_the_file()
    {
        Programs.Sample(text =>
        {
            var result = FrontEnd.LoadText("p.kflow", text);
            foreach (var diagnostic in result.Diagnostics)
            {
                if (diagnostic.Source is null)
                {
                    continue;
                }
                Assert.InRange(diagnostic.Span.Start, 0, text.Length);
                Assert.InRange(diagnostic.Span.End, 0, text.Length);
                Assert.True(diagnostic.Position.Line >= 1 && diagnostic.Position.Column >= 1);
            }
            Assert.True(result.HasErrors || result.Scenarios.Count == result.Program!.Scenarios.Count);
        }, iter: 2_000, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Random_unicode_text_never_throws()
    {
        Gen.String.Sample(text =>
        {
            var result = FrontEnd.LoadText("u.kflow", text);
            Assert.NotNull(result.Diagnostics);
        }, iter: 500, seed: "0N0XIzNsQ0O2");
    }
}
