using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>One row of a counterexample: the step, the CPU (or -1 for memory and the environment), and what happened.</summary>
public sealed record StepRow(int Number, int Cpu, string Action, string? Source, string? Location, IReadOnlyList<string> Messages);

/// <summary>A counterexample made readable: the trace replayed with each step's source line, and the rule in words.</summary>
public sealed class CounterexampleView
{
    public required IReadOnlyList<StepRow> Rows { get; init; }
    /// <summary>The violation replayed (else the one recorded); null for a trace that records none and commits none.</summary>
    public required Violation? Violation { get; init; }
    public required string Rule { get; init; }
    public required ReplayResult Replay { get; init; }
    public required int Cpus { get; init; }

    /// <summary>What was printed before step 1 (init blocks, the CPUs' first local steps).</summary>
    public required IReadOnlyList<string> InitialMessages { get; init; }

    public static CounterexampleView Build(CompiledProgram program, Trace trace)
    {
        var replayer = new Replayer(program);
        var narration = new Narration(program);
        var rows = new List<StepRow>();
        var clobberedAt = new Dictionary<int, int>();
        var replay = replayer.Replay(trace, (step, state) =>
        {
            var where = step.Location is { } l ? $"{Path.GetFileName(l.Source.Path)}:{l.Position.Line}" : null;
            var source = step.Location is { } at ? (step.AtBackEdge ? $"loop back-edge ({where})" : Snippet(at)) : null;
            var action = step.Step.Transition.Kind == TransitionKind.Step && source is not null ? source : InColumn(step.Description, step.Cpu);
            rows.Add(new StepRow(step.Number, step.Step.Transition.Kind is TransitionKind.Evict ? -1 : step.Cpu, action,
                step.Step.Transition.Kind == TransitionKind.Step ? null : source, where, narration.Messages(step.Events)));
            for (var i = 0; i < state.Lines.Length; i++)
            {
                if ((state.Lines[i].Flags & LineFlags.Clobbered) != 0 && !clobberedAt.ContainsKey(i))
                {
                    clobberedAt[i] = step.Number;
                }
            }
        });
        var violation = replay.Violation ?? trace.Violation;
        var rule = violation is null ? string.Empty : narration.Text(violation);
        if (violation is not null && violation.Line >= 0 && clobberedAt.TryGetValue(violation.Line, out var at)
            && violation.Code is ViolationCode.ExecClobbered or ViolationCode.DataClobbered)
        {
            rule += $" at step {at}";
        }
        return new CounterexampleView
        {
            Rows = rows,
            Violation = violation,
            Rule = rule,
            Replay = replay,
            InitialMessages = narration.Messages(replay.InitialEvents),
            Cpus = program.Platform.Cpus,
        };
    }

    /// <summary>A description without the "CPU n" its column already says.</summary>
    private static string InColumn(string description, int cpu)
    {
        foreach (var prefix in new[] { $"CPU {cpu}'s ", $"CPU {cpu} " })
        {
            if (description.StartsWith(prefix, StringComparison.Ordinal))
            {
                return description[prefix.Length..];
            }
        }
        return description;
    }

    /// <summary>The first line of the instruction's source text, trimmed.</summary>
    public static string Snippet(DebugSpan span)
    {
        var text = span.Source.ToString(span.Span);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0)
        {
            text = text[..newline].TrimEnd() + " ...";
        }
        return text.Trim();
    }
}
