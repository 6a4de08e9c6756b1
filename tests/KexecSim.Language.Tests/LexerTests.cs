using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Tests;

public sealed class LexerTests
{
    private static List<Token> Lex(string text, DiagnosticBag? diagnostics = null) =>
        Lexer.Tokenize(new SourceText("t.kflow", text), diagnostics ?? new DiagnosticBag());

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1_000_000", 1_000_000L)]
    [InlineData("0xDEAD_BEEF", 0xDEADBEEFL)]
    [InlineData("0x8000001f", 0x8000001fL)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("0xFFFFFFFFFFFFFFFF", -1L)]
    public void Integer_literals(string text, long value)
    {
        var token = Lex(text)[0];
        Assert.Equal(TokenKind.Integer, token.Kind);
        Assert.Equal(value, token.Value);
    }

    [Fact]
    public void Keywords_are_reserved_but_scenario_words_are_not()
    {
        var kinds = Lex("for_each_cpu cpu runs either or in key line").Select(t => t.Kind).ToList();
        Assert.Equal([TokenKind.ForEachCpuKeyword, TokenKind.Identifier, TokenKind.Identifier, TokenKind.EitherKeyword,
            TokenKind.OrKeyword, TokenKind.InKeyword, TokenKind.KeyKeyword, TokenKind.LineKeyword, TokenKind.EndOfFile], kinds);
    }

    [Fact]
    public void Operators_take_the_longest_match()
    {
        var kinds = Lex("a<<=b>>c->d..e++f--g+=h-=i&&j||k!=l==m").Where(t => t.Kind != TokenKind.Identifier).Select(t => t.Kind).ToList();
        Assert.Equal([TokenKind.LessLess, TokenKind.Equals, TokenKind.GreaterGreater, TokenKind.Arrow, TokenKind.DotDot,
            TokenKind.PlusPlus, TokenKind.MinusMinus, TokenKind.PlusEquals, TokenKind.MinusEquals, TokenKind.AmpersandAmpersand,
            TokenKind.PipePipe, TokenKind.BangEquals, TokenKind.EqualsEquals, TokenKind.EndOfFile], kinds);
    }

    [Fact]
    public void Ranges_are_not_numbers()
    {
        var tokens = Lex("1..3");
        Assert.Equal([TokenKind.Integer, TokenKind.DotDot, TokenKind.Integer, TokenKind.EndOfFile], tokens.Select(t => t.Kind));
    }

    [Fact]
    public void Strings_decode_their_three_escapes()
    {
        var token = Lex("\"a\\\"b\\\\c\\nd\"")[0];
        Assert.Equal("a\"b\\c\nd", token.Text);
    }

    [Fact]
    public void Comments_are_skipped_and_do_not_nest()
    {
        var bag = new DiagnosticBag();
        var tokens = Lex("a // x\n/* /* */ b", bag);
        Assert.Equal(["a", "b", ""], tokens.Select(t => t.Text));
        Assert.Empty(bag.ToSortedList());
    }
}
