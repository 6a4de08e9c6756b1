using KexecSim.Language.Diagnostics;

namespace KexecSim.Language.Tests;

/// <summary>The SARIF and JSON forms of diagnostics (DiagnosticReports), beyond what the CLI tests show.</summary>
public sealed class DiagnosticReportTests
{
    [Fact]
    public void A_relative_path_is_an_escaped_uri_under_srcroot()
    {
        var diagnostics = FrontEnd.LoadText("models/my flow#1.kflow", "fn f() { x = 1; }\n").Diagnostics;
        var sarif = DiagnosticReports.Sarif(diagnostics, "9.9.9");
        var compact = string.Concat(sarif.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains("""
            "artifactLocation":{"uri":"models/my%20flow%231.kflow","uriBaseId":"%SRCROOT%"},"region":{"startLine":1,"startColumn":10,"endLine":1,"endColumn":11}
            """, compact, StringComparison.Ordinal);
        Assert.Contains("\"text\": \"unknown name 'x'\"", sarif, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_keeps_quotes_and_non_ascii_readable_and_escapes_what_json_requires()
    {
        var diagnostics = FrontEnd.LoadText("models/é.kflow", "fn f() { \"a\\\"b\"; }\n").Diagnostics;
        var json = DiagnosticReports.Json(diagnostics, "9.9.9");
        Assert.Contains("\"file\": \"models/é.kflow\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", json, StringComparison.Ordinal);
    }
}
