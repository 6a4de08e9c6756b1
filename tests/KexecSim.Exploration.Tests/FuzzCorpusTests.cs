using KexecSim.Fuzz;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// The fuzzing smoke run (issue 12 item 4, docs/fuzzing.md): every file of the seed corpus and every finding
/// (fuzz/corpus/frontend, fuzz/corpus/trace) goes through the harness's own target functions in-process,
/// with their invariants; the tallies are pinned so that a corpus that stops exercising a path is noticed.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static string Corpus(string target) => Path.Combine(TestPaths.RepositoryRoot, "fuzz", "corpus", target);

    [Fact]
    public void Every_front_end_corpus_file_keeps_the_invariants_and_loads_the_same_twice()
    {
        var files = Directory.GetFiles(Corpus("frontend")).Order(StringComparer.Ordinal).ToList();
        var withErrors = 0;
        var diagnostics = 0;
        foreach (var file in files)
        {
            var lines = FuzzTargets.FrontEnd(File.ReadAllBytes(file), twice: true);
            diagnostics += lines.Count;
            withErrors += lines.Any(l => l.Contains(": error KF", StringComparison.Ordinal)) ? 1 : 0;
        }
        Assert.Equal((116, 81, 146), (files.Count, withErrors, diagnostics));
    }

    [Fact]
    public void Finding_2_a_NUL_in_an_import_path_is_refused_as_binary_from_a_file()
    {
        var lines = FuzzTargets.FrontEnd(File.ReadAllBytes(Path.Combine(Corpus("frontend"), "finding2-nul-in-import-path.kflow")));
        Assert.Equal([$"{Path.Combine(FuzzTargets.Workspace, FuzzTargets.ModelFileName)}:1:10: error KF0007: this is not a text file (NUL byte at offset 9); kflow models are UTF-8 text"], lines);
    }

    [Fact]
    public void Every_trace_corpus_file_is_refused_or_replayed_and_explained()
    {
        var outcomes = Directory.GetFiles(Corpus("trace")).Order(StringComparer.Ordinal)
            .Select(file => $"{Path.GetFileName(file)}={FuzzTargets.Trace(File.ReadAllBytes(file))}");
        Assert.Equal(
            [
                "check-blocked.json=Confirmed", "check-choices.json=Confirmed", "check-kick.json=Confirmed", "check-ll.json=Confirmed",
                "finding3-control-character-in-format.json=Refused",
                "robustness-r06-replay-either-choice-out-of-range.json=Diverged",
                "robustness-r07-replay-confirms-impossible-choose-value.json=Diverged",
                "robustness-r14a-trace-empty-root.json=Refused", "robustness-r14b-trace-nul-in-modelpath.json=Refused",
                "robustness-r14c-trace-violation-null-explain.json=Refused", "robustness-r14d-trace-unknown-violation-code-explain.json=Refused",
                "robustness-r15-trace-root-dev-zero.json=Confirmed", "simulate-kick.json=Confirmed", "simulate-timed-kick.json=Confirmed",
            ], outcomes);
    }

    [Fact]
    public void Finding_3_a_control_character_in_a_refused_trace_value_is_escaped_in_the_one_line_refusal()
    {
        var text = File.ReadAllText(Path.Combine(Corpus("trace"), "finding3-control-character-in-format.json"));
        var refusal = Assert.Throws<InvalidDataException>(() => KexecSim.Reporting.TraceFile.Parse(text));
        Assert.Equal("not a kexecsim trace (format 'kexecsim-t\\race')", refusal.Message);
        var choices = File.ReadAllText(Path.Combine(Corpus("trace"), "check-choices.json"));
        var code = Assert.Throws<InvalidDataException>(() => KexecSim.Reporting.TraceFile.Parse(
            choices.Replace("\"code\": \"ASSERTION\"", "\"code\": \"A\\u001b[2JB\"", StringComparison.Ordinal)));
        Assert.Equal("\"violation.code\" 'A\\x1b[2JB' is not a violation code", code.Message);
    }
}
