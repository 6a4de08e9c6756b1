using KexecSim.Exploration;
using KexecSim.Program;
using Rule = KexecSim.Machine.UntrackedLines.Rule;

namespace KexecSim.Machine.Tests;

/// <summary>
/// The static analysis behind <c>--reduce all</c> (docs/reduction.md, "Lines whose cache state is not
/// tracked"): one test per rule that keeps a line's cache state, each changing one thing of a model whose
/// line <c>vars[0]</c> is otherwise untracked; and what the machine built with it does differently.
/// </summary>
public sealed class UntrackedLinesTests
{
    private static string Model(string declarations = "", string body = "a = 1;", string platform = "", string functions = "") => $$"""
        region vars[2];
        region next_kernel = text;
        shared int a in vars[0];
        {{declarations}}
        fn main() {
            {{body}}
            done();
        }
        {{functions}}
        scenario "s" {
            platform { vendor intel; cpus 2; {{platform}} }
            cpu 0 runs main();
            expect pass;
        }
        """;

    private static Rule RuleOfLine(string model, string line)
    {
        var program = RuleHarness.Compile(model);
        var untracked = new UntrackedLines(program);
        var id = program.Lines.Single(l => l.Name == line).Id;
        Assert.Equal(untracked.RuleFor(id) == Rule.Untracked, untracked.IsUntracked(id));
        Assert.Equal(untracked.IsUntracked(id), untracked.Lines.Contains(id));
        return untracked.RuleFor(id);
    }

    [Fact]
    public void A_line_only_variables_live_on_that_nothing_names_is_untracked() =>
        Assert.Equal(Rule.Untracked, RuleOfLine(Model(), "vars[0]"));

    [Fact]
    public void A_line_no_variable_lives_on_has_nothing_to_drop() =>
        Assert.Equal(Rule.NoVariable, RuleOfLine(Model(), "vars[1]"));

    [Fact]
    public void With_evictions_off_every_line_is_tracked() =>
        Assert.Equal(Rule.Evictions, RuleOfLine(Model(platform: "evictions off;"), "vars[0]"));

    [Theory]
    [InlineData("", "int v = load(vars[1], KEY_NONE);")]
    [InlineData("", "for_each_line (l in vars) { clflush(l, KEY_NONE); }")]
    [InlineData("shared line where = vars[1];", "a = 1;")]
    public void A_line_of_a_region_the_code_names_is_tracked(string declarations, string body) =>
        Assert.Equal(Rule.Named, RuleOfLine(Model(declarations, body), "vars[0]"));

    // Review finding: a line local nobody assigned holds 0, the first line (here text[0]).
    [Fact]
    public void The_first_line_is_tracked_when_code_takes_lines_because_an_unassigned_line_is_it()
    {
        const string Lines = """
            region code[1];
            shared int t in text[0];
            fn f() in code[0] {
                t = 1;
                BODY
                done();
            }
            scenario "s" { platform { vendor intel; cpus 1; } cpu 0 runs f(); expect pass; }
            """;
        var model = Lines.Replace("BODY", "line l; clflush(l, KEY_NONE);");
        Assert.Equal(0, RuleHarness.Compile(model).Lines.Single(l => l.Name == "text[0]").Id);
        Assert.Equal(Rule.Named, RuleOfLine(model, "text[0]"));
        Assert.Equal(Rule.Untracked, RuleOfLine(Lines.Replace("BODY", "t = 2;"), "text[0]"));
    }

    [Fact]
    public void A_line_the_image_is_copied_over_is_tracked() =>
        Assert.Equal(Rule.Named, RuleOfLine(Model().Replace("region next_kernel = text;", "region next_kernel = text, vars;"), "vars[0]"));

    [Fact]
    public void A_line_code_lives_on_is_tracked() =>
        Assert.Equal(Rule.Code, RuleOfLine(Model(functions: "fn helper() in vars[0] { a = 2; }", body: "helper();"), "vars[0]"));

    [Fact]
    public void A_line_whose_initial_key_is_not_the_kernels_is_tracked() =>
        Assert.Equal(Rule.InitialKey, RuleOfLine(Model().Replace("region vars[2];", "region vars[2] key tdx_key(1);"), "vars[0]"));

    [Fact]
    public void A_line_the_next_kernel_may_write_is_tracked()
    {
        var model = Model(body: "boot_next_kernel(next_main);", functions: "fn next_main() { a = 2; done(); }");
        Assert.Equal(Rule.NextKernel, RuleOfLine(model, "vars[0]"));
        // Without boot_next_kernel the same function runs in the old kernel only.
        Assert.Equal(Rule.Untracked, RuleOfLine(Model(functions: "fn next_main() { a = 2; }", body: "next_main();"), "vars[0]"));
    }

    [Fact]
    public void A_handler_counts_as_next_kernel_code_once_the_next_kernel_can_boot()
    {
        var model = Model(body: "boot_next_kernel(next_main);", functions: "fn next_main() { done(); }\nhandler nmi { a = 3; }");
        Assert.Equal(Rule.NextKernel, RuleOfLine(model, "vars[0]"));
    }

    [Fact]
    public void The_reduced_machine_puts_no_entry_of_an_untracked_line_in_any_cache()
    {
        var program = RuleHarness.Compile(Model(body: "a = 1; a = a + 1;"));
        var untracked = new UntrackedLines(program);
        Assert.Equal(1, untracked.Count);
        foreach (var (machine, entries) in new[] { (new Machine(program), 1), (new Machine(program, untracked), 0) })
        {
            var state = machine.NewState();
            Assert.Equal(Outcome.Ok, machine.CreateInitial(state));
            while (state.Cpus[0].Mode == CpuMode.Running)
            {
                Assert.Equal(Outcome.Ok, machine.Apply(state, Transition.Step(0), null));
            }
            Assert.Equal(2, state.Variables[machine.Layout.VariableSlot(0, 0)]);
            Assert.Equal(entries, state.Caches[0].Count);
        }
    }

    [Fact]
    public void A_machine_given_nothing_to_leave_out_tracks_every_line()
    {
        var program = RuleHarness.Compile(Model(platform: "evictions off;"));
        var untracked = new UntrackedLines(program);
        Assert.Equal(0, untracked.Count);
        Assert.Null(new Machine(program, untracked).Untracked);
        Assert.Null(new Machine(program).Untracked);
    }

    [Fact]
    public void Reduce_none_tracks_every_line_and_reduce_all_reports_the_untracked_ones()
    {
        var model = Model();
        var all = RuleHarness.Check(model);
        var none = RuleHarness.Check(model, options: new CheckOptions { Reduce = Reduction.None });
        Assert.Equal(ReductionUse.Reduced, all.Result.Reduction);
        Assert.Equal(["vars[0]"], all.Result.UntrackedLines.Select(l => all.Result.Program.Lines[l].Name));
        Assert.Equal(ReductionUse.None, none.Result.Reduction);
        Assert.Empty(none.Result.UntrackedLines);
        Assert.Equal((none.Outcome, 5L, 3L), (all.Outcome, none.Result.Statistics.States, all.Result.Statistics.States));
        Assert.True(all.Result.Statistics.States < none.Result.Statistics.States);
    }
}
