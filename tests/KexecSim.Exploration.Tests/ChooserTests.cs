using KexecSim.Exploration;
using KexecSim.Language;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>Choices inside a step go through an <see cref="IChooser"/>: every branch once, in option order; a replay re-makes the recorded ones.</summary>
public sealed class ChooserTests
{
    /// <summary>A step's choices as a tree: choose(2); then choose(3) after 0, or choose(2) twice after 1.</summary>
    private static void Step(IChooser chooser)
    {
        if (chooser.Choose(2) == 0)
        {
            chooser.Choose(3);
        }
        else
        {
            chooser.Choose(2);
            chooser.Choose(2);
        }
    }

    [Fact]
    public void The_depth_first_chooser_runs_every_branch_once_in_option_order()
    {
        var chooser = new DepthFirstChooser();
        var branches = new List<int[]>();
        chooser.Reset();
        do
        {
            Step(chooser);
            branches.Add(chooser.Choices.ToArray());
        }
        while (chooser.Advance());
        Assert.Equal(
            [[0, 0], [0, 1], [0, 2], [1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]],
            branches);
    }

    [Fact]
    public void A_step_without_choices_is_one_branch_and_reset_starts_over()
    {
        var chooser = new DepthFirstChooser();
        chooser.Reset();
        Assert.True(chooser.Choices.IsEmpty);
        Assert.False(chooser.Advance());

        chooser.Reset();
        Assert.Equal(0, chooser.Choose(4));
        Assert.True(chooser.Advance());
        Assert.Equal(1, chooser.Choose(4));
        chooser.Reset();
        Assert.Equal(0, chooser.Choose(2));
        Assert.Equal([0], chooser.Choices.ToArray());
    }

    [Fact]
    public void The_depth_first_chooser_grows_past_its_first_eight_choices()
    {
        var chooser = new DepthFirstChooser();
        var branches = 0;
        chooser.Reset();
        do
        {
            for (var k = 0; k < 10; k++)
            {
                chooser.Choose(2);
            }
            branches++;
        }
        while (chooser.Advance());
        Assert.Equal(1024, branches);
    }

    [Fact]
    public void Nested_either_and_choose_in_one_step_give_each_successor_once_in_option_order()
    {
        const string model = """
            shared int x;
            fn f() {
                atomic {
                    int a = 0;
                    either { a = choose(3); } or { either { a = 10; } or { a = 20 + choose(2); } }
                    x = a;
                }
                done();
            }
            scenario "s" { cpu 0 runs f(); }
            """;
        var loaded = FrontEnd.LoadText("c.kflow", model);
        Assert.DoesNotContain(loaded.Diagnostics, d => d.IsError);
        var machine = new Machine.Machine(loaded.Scenarios.Single());
        var initial = machine.NewState();
        Assert.Equal(Outcome.Ok, machine.CreateInitial(initial));
        var work = machine.NewState();
        var chooser = new DepthFirstChooser();
        var branches = new List<int[]>();
        var encodings = new HashSet<string>();
        chooser.Reset();
        do
        {
            work.CopyFrom(initial);
            Assert.Equal(Outcome.Ok, machine.Apply(work, Transition.Step(0), chooser));
            branches.Add(chooser.Choices.ToArray());
            encodings.Add(string.Join(",", work.Span.ToArray()));
        }
        while (chooser.Advance());
        Assert.Equal([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1, 0], [1, 1, 1]], branches);
        Assert.Equal(6, encodings.Count);

        // Without a chooser the step stops at its first choice.
        work.CopyFrom(initial);
        Assert.Equal(Outcome.NeedChoice, machine.Apply(work, Transition.Step(0), null));

        // A replay re-makes one branch from its recorded choices, to the same state.
        var replay = new TraceChooser();
        replay.Start([1, 1, 0]);
        work.CopyFrom(initial);
        Assert.Equal(Outcome.Ok, machine.Apply(work, Transition.Step(0), replay));
        Assert.Equal(3, replay.Taken);
        Assert.Contains(string.Join(",", work.Span.ToArray()), encodings);
    }

    [Fact]
    public void The_trace_chooser_hands_out_the_recorded_choices_and_says_where_they_do_not_fit()
    {
        var chooser = new TraceChooser();
        chooser.Start([1, 5]);
        Assert.Equal(1, chooser.Choose(2));
        Assert.Equal(-1, chooser.Choose(3));
        Assert.Equal(1, chooser.Taken);
        Assert.False(chooser.RanOut);
        Assert.Equal("recorded choice 2 is 5, but the step's choice there has 3 options (0 to 2)", chooser.WrongChoice);

        chooser.Start([0]);
        Assert.Null(chooser.WrongChoice);
        Assert.Equal(0, chooser.Choose(1));
        Assert.Equal(-1, chooser.Choose(2));
        Assert.True(chooser.RanOut);
        Assert.Null(chooser.WrongChoice);

        chooser.Start([-1]);
        Assert.Equal(-1, chooser.Choose(1));
        Assert.Equal("recorded choice 1 is -1, but the step's choice there has 1 option (0 to 0)", chooser.WrongChoice);
    }
}
