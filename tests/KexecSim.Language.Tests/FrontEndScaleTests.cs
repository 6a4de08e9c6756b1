using System.Text;
using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>
/// The front end's work grows linearly with its input (issue 12, item 1). Each test counts the steps
/// of the analysis that used to be quadratic (<see cref="FrontEndWork"/>) on the robustness generators'
/// inputs at two sizes, so a regression fails here at small sizes, whatever the machine's speed.
/// </summary>
public sealed class FrontEndScaleTests
{
    // The generators of bench/inputs/gen-slow-inputs.py, in C#.
    private static string LoopBody(int n) =>
        "shared int x;\nfn f() { int v = 0; loop { " + string.Join(" ", Enumerable.Repeat("v = v * 3 + 1;", n)) + " x = v; } }\n"
        + "scenario \"s\" { platform { cpus 3; } cpu 0..2 runs f(); timeouts off; expect pass; }\n";

    private static string CallChain(int n)
    {
        var builder = new StringBuilder("shared int x;\n");
        for (var i = 0; i < n; i++)
        {
            builder.Append($"fn F{i}() {{ {(i + 1 < n ? $"F{i + 1}();" : "x = 1;")} }}\n");
        }
        builder.Append("fn f() { loop { F0(); } }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); }\n");
        return builder.ToString();
    }

    private static (FrontEndResult Result, FrontEndWork Work) Lint(string text)
    {
        using var scope = FrontEndWork.Measure();
        var result = FrontEnd.LoadText("scale.kflow", text);
        return (result, scope.Work);
    }

    [Fact]
    public void The_spinning_back_edge_analysis_visits_each_loop_body_instruction_a_bounded_number_of_times()
    {
        var (small, smallWork) = Lint(LoopBody(500));
        var (large, largeWork) = Lint(LoopBody(2_000));
        Assert.Empty(small.Diagnostics);
        Assert.Empty(large.Diagnostics);
        var code = large.Scenarios[0].Functions.Sum(f => f.Code.Length);
        // Linear: at most a few visits per instruction, so four times the body is about four times the work.
        Assert.InRange(largeWork.LoopAnalysisVisits, 1, 2L * code);
        Assert.InRange(largeWork.LoopAnalysisVisits, 1, 5 * smallWork.LoopAnalysisVisits);
    }

    [Fact]
    public void The_loop_analysis_still_makes_a_spinning_back_edge_visible_and_an_acting_one_not()
    {
        var spinning = FrontEnd.LoadText("spin.kflow",
            "shared int x;\nfn f() { int v = 0; loop { v = v + 1; if (v > 3) { x = 1; } } }\nscenario \"s\" { cpu 0 runs f(); }\n");
        var acting = FrontEnd.LoadText("act.kflow",
            "shared int x;\nfn f() { int v = 0; loop { v = v + 1; if (v > 3) { x = 1; } else { x = 2; } } }\nscenario \"s\" { cpu 0 runs f(); }\n");
        Assert.Empty(spinning.Diagnostics);
        Assert.Empty(acting.Diagnostics);
        static bool BackEdgeVisible(FrontEndResult r) =>
            r.Scenarios[0].Functions.Single(f => f.Name == "f").Code.Single(i => i.IsBackEdge).IsVisible;
        Assert.True(BackEdgeVisible(spinning));
        Assert.False(BackEdgeVisible(acting));
    }

    [Fact]
    public void Finding_the_functions_that_act_through_calls_follows_each_call_once()
    {
        var (small, smallWork) = Lint(CallChain(500));
        var (large, largeWork) = Lint(CallChain(2_000));
        Assert.Empty(small.Diagnostics);
        Assert.Empty(large.Diagnostics);
        var code = large.Scenarios[0].Functions.Sum(f => f.Code.Length);
        Assert.InRange(largeWork.CallGraphVisits, 1, 2L * code);
        Assert.InRange(largeWork.CallGraphVisits, 1, 5 * smallWork.CallGraphVisits);
        // F0 acts through the chain, so the loop that calls it does not spin.
        Assert.False(large.Scenarios[0].Functions.Single(f => f.Name == "f").Code.Single(i => i.IsBackEdge).IsVisible);
    }

    /// <summary>N locals, each initialised from an unknown name one edit from the local before it (uv7 for v7).</summary>
    private static string CloseUnknownNames(int n)
    {
        var builder = new StringBuilder("fn f() {\n  int v0 = 0;\n");
        for (var i = 1; i < n; i++)
        {
            builder.Append($"  int v{i} = uv{i - 1};\n");
        }
        return builder.Append("}\n").ToString();
    }

    [Fact]
    public void Suggestions_stop_at_the_error_cap_so_their_work_grows_with_the_candidates_only()
    {
        var (small, smallWork) = Lint(CloseUnknownNames(1_000));
        var (large, largeWork) = Lint(CloseUnknownNames(4_000));
        // The first 200 errors are shown (each with its suggestion), then one line says the rest are not.
        var errors = large.Diagnostics.Where(d => d.IsError).ToList();
        Assert.Equal(DiagnosticBag.MaxErrorsPerFile + 1, errors.Count);
        Assert.Equal("scale.kflow:3:12: error KF0201: unknown name 'uv0'; did you mean 'v0'?", errors[0].ToString());
        Assert.Equal("scale.kflow:13:13: error KF0201: unknown name 'uv10'; did you mean 'v10'?", errors[10].ToString());
        Assert.Equal(DiagnosticCode.TooManyErrors, errors[^1].Code);
        // Old: every one of the N references compared with every local in scope (N²/2 comparisons, 16x
        // the work at 4x the size). Now 200 suggestions, each over the locals in scope at that point.
        Assert.InRange(largeWork.SpellingCells, 1, 2 * smallWork.SpellingCells);
    }

    [Fact]
    public void A_word_is_compared_with_the_same_candidates_once()
    {
        var text = "fn g() { }\nfn f() {\n  gg(); gg(); gg();\n}\n";
        var (result, work) = Lint(text);
        Assert.Equal(
        [
            "scale.kflow:3:3: error KF0208: unknown function 'gg'",
            "scale.kflow:3:9: error KF0208: unknown function 'gg'",
            "scale.kflow:3:15: error KF0208: unknown function 'gg'",
        ], result.Diagnostics.Select(d => d.ToString()));
        var (once, onceWork) = Lint("fn g() { }\nfn f() {\n  gg();\n}\n");
        Assert.Single(once.Diagnostics);
        Assert.Equal(onceWork.SpellingCells, work.SpellingCells);
    }

    [Fact]
    public void A_cached_suggestion_is_the_same_as_a_fresh_one()
    {
        var result = FrontEnd.LoadText("t.kflow", "fn stop_cpu() { }\nfn f() {\n  stop_cp(); stop_cp();\n}\n");
        Assert.Equal(
        [
            "t.kflow:3:3: error KF0208: unknown function 'stop_cp'; did you mean 'stop_cpu'?",
            "t.kflow:3:14: error KF0208: unknown function 'stop_cp'; did you mean 'stop_cpu'?",
        ], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_huge_identifier_gets_no_suggestion_and_is_echoed_cut()
    {
        var (result, work) = Lint("fn f() { x" + new string('y', 1_000_000) + " = 1; }\n");
        Assert.Equal(["scale.kflow:1:10: error KF0201: unknown name 'x" + new string('y', 58) + "\u2026'"],
            result.Diagnostics.Select(d => d.ToString()));
        Assert.Equal(0, work.SpellingCells);
    }

    [Theory]
    [InlineData("cpus_stop_msk", "cpus_stop_mask")]
    [InlineData("CPUS_STOP_MASK", "cpus_stop_mask")]
    [InlineData("abd", "abc")]       // ties: the ordinally first of abc and abe
    [InlineData("stop", null)]       // 'stpo_mask' is too far
    [InlineData("ab", null)]         // short words get no guess
    public void Suggestions_are_the_closest_candidate_with_an_ordinal_tie_break(string word, string? expected)
    {
        string[] candidates = ["abe", "stpo_mask", "cpus_stop_mask", "abc", "x"];
        Assert.Equal(expected, Spelling.Suggest(word, candidates));
        Assert.Equal(expected, Spelling.Suggest(word, candidates.Reverse()));
    }

    [Fact]
    public void Candidates_whose_length_is_too_different_are_not_compared()
    {
        using var scope = FrontEndWork.Measure();
        Assert.Null(Spelling.Suggest("abcdef", [new string('a', 100_000), "z"]));
        Assert.Equal(0, scope.Work.SpellingCells);
        Assert.Null(Spelling.Suggest(new string('q', Spelling.MaxWordLength + 1), [new string('q', Spelling.MaxWordLength)]));
        Assert.Equal(0, scope.Work.SpellingCells);
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("abcd", "abdc", 1)]
    [InlineData("", "abc", 3)]
    [InlineData("Mask", "mask", 0)]
    public void The_distance_is_optimal_string_alignment_ignoring_case(string a, string b, int expected)
    {
        Assert.Equal(expected, Spelling.Distance(a, b));
        Assert.Equal(expected, Spelling.Distance(b, a));
    }

    private static string AliasChain(int n)
    {
        var builder = new StringBuilder("region r0[1];\n");
        for (var i = 1; i < n; i++)
        {
            builder.Append($"region r{i} = r{i - 1};\n");
        }
        return builder.Append("fn f() { hlt(); }\n").ToString();
    }

    [Fact]
    public void The_alias_cycle_check_visits_each_alias_part_a_bounded_number_of_times()
    {
        var (small, smallWork) = Lint(AliasChain(500));
        var (large, largeWork) = Lint(AliasChain(2_000));
        // Both are too deep (KF0228 at r65), which is all they report.
        Assert.Equal(["scale.kflow:66:8: error KF0228: region alias 'r65' nests 65 levels deep; aliases may nest at most 64 levels"],
            large.Diagnostics.Select(d => d.ToString()));
        Assert.Single(small.Diagnostics);
        // Old: a walk from every alias over everything it contains, n²/2 parts (29 s for 20,000).
        Assert.InRange(largeWork.AliasPartVisits, 1, 3L * 2_000);
        Assert.InRange(largeWork.AliasPartVisits, 1, 5 * smallWork.AliasPartVisits);
    }

    [Fact]
    public void Doubling_aliases_are_flattened_once_each_and_stop_at_the_line_budget()
    {
        // gen-slow-inputs.py alias-doubling 40: 1000 x 2^40 lines if expanded.
        var builder = new StringBuilder("region r0[1000];\n");
        for (var i = 1; i <= 40; i++)
        {
            builder.Append($"region r{i} = r{i - 1}, r{i - 1};\n");
        }
        builder.Append("fn f() { hlt(); }\nscenario \"s\" { platform { cpus 2; } cpu 0..1 runs f(); }\n");
        var (result, work) = Lint(builder.ToString());
        Assert.Equal(["scale.kflow:12:8: error KF0220: region alias 'r11' would have 2048000 lines; a region may have at most 1048576"],
            result.Diagnostics.Select(d => d.ToString()));
        Assert.InRange(work.AliasPartVisits, 1, 5 * 2 * 40);
    }

    [Fact]
    public void The_first_alias_of_each_cycle_is_reported_and_breaks_it()
    {
        var result = FrontEnd.LoadText("t.kflow",
            "region a = b;\nregion b = c;\nregion c = a;\nregion d = d;\nregion e = a;\nregion f = g, b;\nregion g = f;\n");
        Assert.Equal(
        [
            "t.kflow:1:8: error KF0225: region alias 'a' contains itself",
            "t.kflow:4:8: error KF0225: region alias 'd' contains itself",
            "t.kflow:6:8: error KF0225: region alias 'f' contains itself",
        ], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_blocking_call_is_found_through_a_long_chain_and_a_cycle_without_recursion()
    {
        // F0 -> F1 -> ... -> F9999 -> hlt(), and a cycle r <-> s whose s reaches hlt() after the call back.
        var builder = new StringBuilder();
        for (var i = 0; i < 10_000; i++)
        {
            builder.Append($"fn F{i}() {{ {(i + 1 < 10_000 ? $"F{i + 1}();" : "hlt();")} }}\n");
        }
        builder.Append("fn r() { s(); }\nfn s() { r(); hlt(); }\nfn calm() { r(); }\n");
        builder.Append("fn f() {\n  atomic { F0(); }\n  atomic { s(); }\n}\n");
        var result = FrontEnd.LoadText("t.kflow", builder.ToString());
        Assert.Equal(
        [
            "t.kflow:10005:12: error KF0214: 'F0' can block (it reaches 'hlt') and cannot be called inside atomic { }",
            "t.kflow:10006:12: error KF0214: 's' can block (it reaches 'hlt') and cannot be called inside atomic { }",
        ], result.Diagnostics.Select(d => d.ToString()));
    }
}
