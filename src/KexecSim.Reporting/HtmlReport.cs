using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fluid;
using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// The HTML report (docs/html-report.md): one self-contained file, written from the report model. Its frame is a
/// Liquid template (Fluid, every value HTML-encoded on output), its sequence diagram an SVG built as an XML tree
/// (<see cref="HtmlSequenceDiagram"/>, every text and attribute escaped by the writer), and what the keyboard
/// step-through shows is JSON in a <c>script type="application/json"</c> element (the serializer escapes
/// <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c>, so no model string can close the element). The script and the style
/// are the writer's own resources: nothing is fetched. Nothing depends on the clock or the culture: the same model
/// gives the same bytes.
/// </summary>
public static class HtmlReport
{
    private static readonly Lazy<IFluidTemplate> Template = new(() =>
    {
        var parser = new FluidParser();
        if (!parser.TryParse(Resource("report.liquid"), out var template, out var error))
        {
            throw new InvalidOperationException($"the HTML report's template does not parse: {error}");
        }
        return template;
    });

    private static readonly TemplateOptions Options = CreateOptions();

    private static readonly JsonSerializerOptions Json = new()
    {
        // The default encoder escapes <, >, &, ' and every non-ASCII character: the data cannot end its script element.
        Encoder = JavaScriptEncoder.Default,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
    };

    /// <summary>The report of a counterexample (or of a search that found none, <paramref name="model"/> null).</summary>
    /// <param name="model">The counterexample replayed; null when the search found none.</param>
    /// <param name="check">The search that produced it, for the verdict, statistics and coverage; null for a replayed trace file.</param>
    /// <param name="program">The scenario's program (needed when <paramref name="model"/> is null).</param>
    /// <param name="file">The model file the scenario came from, as the user named it.</param>
    public static string Render(ReportModel? model, CheckResult? check, CompiledProgram program, string file)
    {
        var diagram = model is null ? null : HtmlSequenceDiagram.Build(model);
        var page = new PageModel
        {
            Title = $"{program.ScenarioName} — KexecSim report",
            Scenario = program.ScenarioName,
            File = file,
            Tool = $"kexecsim {TraceFile.ToolVersion}",
            Verdict = Verdict(model, check),
            VerdictClass = model?.Violation is not null || check is { ExpectationMet: false } ? "bad" : "good",
            Expectation = check is null ? null : $"expected {check.Expected}: {(check.ExpectationMet ? "met" : "NOT met")}",
            Rule = model?.Violation is not null ? model.Rule : null,
            ViolationCode = model?.Violation?.Code.Name(),
            ViolationWhere = model?.Violation?.Location?.ToString(),
            Replay = model is null ? null : model.Narration.ReplayMessage(model.Replay),
            Statistics = Statistics(model, check, program),
            Coverage = CoverageFacts(check),
            CoverageWarnings = check?.Coverage?.Warnings.Select(w => w.ToString()).ToList() ?? [],
            InitialMessages = model?.InitialMessages.ToList() ?? [],
            Svg = diagram?.Svg ?? string.Empty,
            Sources = diagram?.Sources.Select((s, i) => new SourceModel(i, s.Path, s.Lines.Select((text, n) => new SourceLineModel(n + 1, text)).ToList())).ToList() ?? [],
            Data = diagram is null ? "null" : JsonSerializer.Serialize(diagram.Data, Json),
            Narrative = model is null ? [] : model.Steps.Select(step => new NarrativeModel(step.Number, Explanation.Sentence(model, step), [.. step.Messages])).ToList(),
            Cycle = model?.Trace.CycleStart is not null ? Explanation.CycleNote : null,
            RuleBroken = model?.Violation is { } broken ? Explanation.RuleBroken(model, broken) : null,
            Why = model?.Violation is { } why ? "Why it is a bug on real hardware: " + Explanation.WhyItMatters(why.Code) : null,
            Css = Resource("report.css"),
            Script = Resource("report.js"),
        };
        var context = new TemplateContext(page, Options);
        return Template.Value.Render(context, HtmlEncoder.Default).ReplaceLineEndings("\n");
    }

    private static string Verdict(ReportModel? model, CheckResult? check)
    {
        if (model?.Violation is { } v)
        {
            return v.Code.Name();
        }
        if (check is not null)
        {
            return check.Outcome;
        }
        return model is null ? "no counterexample" : "no violation";
    }

    private static List<FactModel> Statistics(ReportModel? model, CheckResult? check, CompiledProgram program)
    {
        var facts = new List<FactModel> { new("CPUs", Number(program.Platform.Cpus)) };
        if (model is not null)
        {
            facts.Add(new("steps", Number(model.Steps.Count)));
        }
        if (check is not null)
        {
            var s = check.Statistics;
            facts.Add(new("states", Number(s.States)));
            facts.Add(new("transitions", Number(s.Transitions)));
            facts.Add(new("depth", Number(s.Depth)));
            facts.Add(new("strategy", check.Strategy == SearchStrategy.DepthFirst ? "depth-first" : "breadth-first"));
            if (TextReport.SymmetryWord(check.Symmetry) is { } symmetry)
            {
                facts.Add(new("symmetry", symmetry));
            }
            if (TextReport.ReductionWord(check.Reduction) is { } reduction)
            {
                facts.Add(new("reduction", reduction));
            }
            if (check.LimitReason is { } limit)
            {
                facts.Add(new("stopped", limit));
            }
        }
        return facts;
    }

    private static List<FactModel> CoverageFacts(CheckResult? check)
    {
        if (check?.Coverage is not { } coverage)
        {
            return [];
        }
        var percent = coverage.Statements == 0 ? 100 : coverage.Reached * 100.0 / coverage.Statements;
        return
        [
            new("statements reached", $"{Number(coverage.Reached)} of {Number(coverage.Statements)} ({percent.ToString("0.0", CultureInfo.InvariantCulture)}%)"),
            new("search", coverage.Exhaustive ? "exhaustive" : check.Verdict == Exploration.Verdict.LimitReached ? "stopped by a limit" : "stopped at the counterexample"),
        ];
    }

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions { CultureInfo = CultureInfo.InvariantCulture };
        options.MemberAccessStrategy.Register<PageModel>();
        options.MemberAccessStrategy.Register<FactModel>();
        options.MemberAccessStrategy.Register<NarrativeModel>();
        options.MemberAccessStrategy.Register<SourceModel>();
        options.MemberAccessStrategy.Register<SourceLineModel>();
        return options;
    }

    private static string Resource(string name)
    {
        using var stream = typeof(HtmlReport).Assembly.GetManifestResourceStream($"KexecSim.Reporting.Html.{name}")
            ?? throw new InvalidOperationException($"the HTML report's resource {name} is missing from {typeof(HtmlReport).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    // What the template sees: strings only (formatted here, invariantly), so the template decides nothing but layout.
    private sealed class PageModel
    {
        public required string Title { get; init; }
        public required string Scenario { get; init; }
        public required string File { get; init; }
        public required string Tool { get; init; }
        public required string Verdict { get; init; }
        public required string VerdictClass { get; init; }
        public required string? Expectation { get; init; }
        public required string? Rule { get; init; }
        public required string? ViolationCode { get; init; }
        public required string? ViolationWhere { get; init; }
        public required string? Replay { get; init; }
        public required List<FactModel> Statistics { get; init; }
        public required List<FactModel> Coverage { get; init; }
        public required List<string> CoverageWarnings { get; init; }
        public required List<string> InitialMessages { get; init; }
        public required string Svg { get; init; }
        public required List<SourceModel> Sources { get; init; }
        public required string Data { get; init; }
        public required List<NarrativeModel> Narrative { get; init; }
        public required string? Cycle { get; init; }
        public required string? RuleBroken { get; init; }
        public required string? Why { get; init; }
        public required string Css { get; init; }
        public required string Script { get; init; }
    }

    private sealed record FactModel(string Name, string Value);

    /// <summary>A step of the <c>explain</c> narrative (<see cref="Explanation.Sentence"/>) and the lines it printed.</summary>
    private sealed record NarrativeModel(int Number, string Text, List<string> Messages);

    private sealed record SourceModel(int Index, string Path, List<SourceLineModel> Lines);

    private sealed record SourceLineModel(int Number, string Text);
}
