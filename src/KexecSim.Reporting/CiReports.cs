using System.Globalization;
using System.Text;
using System.Xml.Linq;
using KexecSim.Exploration;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>A checked scenario as the writers see it: the search's result and, when it is to be shown, its counterexample's report model.</summary>
public sealed record CheckedScenario(CheckResult Result, string File, ReportModel? Model)
{
    /// <summary>The narration table of the scenario's program.</summary>
    public Narration Narration => Model?.Narration ?? new Narration(Result.Program);
}

/// <summary>
/// KTAP (the kernel's test output format, Documentation/dev-tools/ktap.rst) and JUnit XML, for kernel
/// CI systems: one test per scenario; a test passes when the scenario meets its expectation.
/// </summary>
public static class CiReports
{
    public static string Ktap(IReadOnlyList<CheckedScenario> scenarios)
    {
        var builder = new StringBuilder();
        builder.Append("KTAP version 1\n");
        builder.Append(CultureInfo.InvariantCulture, $"1..{scenarios.Count}\n");
        for (var i = 0; i < scenarios.Count; i++)
        {
            var (result, file, view) = scenarios[i];
            var name = result.Program.ScenarioName;
            foreach (var line in Describe(scenarios[i]))
            {
                builder.Append("# ").Append(line).Append('\n');
            }
            if (!result.ExpectationMet && view is not null)
            {
                var trace = new StringBuilder();
                TextReport.AppendCounterexample(trace, view);
                foreach (var line in trace.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'))
                {
                    builder.Append("# ").Append(line).Append('\n');
                }
            }
            var status = result.ExpectationMet ? "ok" : "not ok";
            builder.Append(CultureInfo.InvariantCulture, $"{status} {i + 1} {name}\n");
        }
        return builder.ToString();
    }

    public static string Junit(IReadOnlyList<CheckedScenario> scenarios)
    {
        var failures = scenarios.Count(s => !s.Result.ExpectationMet && s.Result.Verdict != Verdict.LimitReached);
        var errors = scenarios.Count(s => s.Result.Verdict == Verdict.LimitReached);
        var time = scenarios.Sum(s => s.Result.Statistics.Seconds);
        var suite = new XElement("testsuite",
            new XAttribute("name", "kexecsim"),
            new XAttribute("tests", scenarios.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", errors),
            new XAttribute("time", Seconds(time)));
        foreach (var scenario in scenarios)
        {
            var (result, file, view) = scenario;
            var testcase = new XElement("testcase",
                new XAttribute("classname", file),
                new XAttribute("name", result.Program.ScenarioName),
                new XAttribute("time", Seconds(result.Statistics.Seconds)));
            var text = string.Join("\n", Describe(scenario));
            if (result.Verdict == Verdict.LimitReached)
            {
                testcase.Add(new XElement("error", new XAttribute("message", result.LimitReason ?? "limit reached"), text));
            }
            else if (!result.ExpectationMet)
            {
                var body = new StringBuilder(text).Append('\n');
                if (view is not null)
                {
                    TextReport.AppendCounterexample(body, view);
                }
                testcase.Add(new XElement("failure", new XAttribute("message", $"expected {result.Expected}, got {result.Outcome}"), body.ToString()));
            }
            else
            {
                testcase.Add(new XElement("system-out", text));
            }
            suite.Add(testcase);
        }
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement("testsuites", new XAttribute("name", "kexecsim"), new XAttribute("tests", scenarios.Count),
                new XAttribute("failures", failures), new XAttribute("errors", errors), suite));
        var writer = new Utf8StringWriter();
        document.Save(writer);
        return writer + "\n";
    }

    private static IEnumerable<string> Describe(CheckedScenario scenario)
    {
        var (result, file, _) = scenario;
        var s = result.Statistics;
        yield return $"{result.Program.ScenarioName} ({file}): expected {result.Expected}, outcome {result.Outcome}";
        if (result.Violation is { } v)
        {
            yield return $"{v.Code.Name()}: {scenario.Narration.Text(v)}";
        }
        if (result.LimitReason is { } limit)
        {
            yield return $"stopped: {limit}";
        }
        yield return string.Create(CultureInfo.InvariantCulture, $"{s.States} states, {s.Transitions} transitions, depth {s.Depth}");
        foreach (var warning in result.Warnings)
        {
            yield return $"warning: {warning}";
        }
        foreach (var warning in result.CoverageWarnings)
        {
            yield return warning.ToString();
        }
    }

    private static string Seconds(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture);

    private sealed class Utf8StringWriter : StringWriter
    {
        public Utf8StringWriter()
            : base(CultureInfo.InvariantCulture)
        {
        }

        public override Encoding Encoding => Encoding.UTF8;
    }
}
