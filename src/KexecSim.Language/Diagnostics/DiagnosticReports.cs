using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace KexecSim.Language.Diagnostics;

/// <summary>
/// Diagnostics as machine-readable documents, for editors and CI code scanning (<c>kexecsim lint
/// --format json|sarif</c>, docs/cli.md): the project's own JSON, and SARIF 2.1.0 (OASIS), which code
/// scanning services read. Positions are 1-based lines and columns in UTF-16 code units, as in the
/// text form; a diagnostic about no place in a file (a missing root file) has no location.
/// </summary>
public static class DiagnosticReports
{
    /// <summary>The version of the <c>--format json</c> document; raised when a field changes meaning or goes.</summary>
    public const int JsonSchemaVersion = 1;

    public const string SarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        NewLine = "\n",
        // Paths and messages as they are (quotes, '<', non-ASCII), JSON-escaped only where JSON requires it.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly record struct Place(string File, int Line, int Column, int EndLine, int EndColumn);

    private static Place? Locate(Diagnostic diagnostic)
    {
        if (diagnostic.Source is not { } source)
        {
            return null;
        }
        var (line, column) = source.GetLineColumn(diagnostic.Span.Start);
        var (endLine, endColumn) = source.GetLineColumn(diagnostic.Span.End);
        return new Place(source.Path, line, column, endLine, endColumn);
    }

    /// <summary>
    /// <c>{"schemaVersion", "tool", "version", "diagnostics": [{"file", "line", "column", "endLine",
    /// "endColumn", "severity", "code", "message"}], "errors", "warnings"}</c>; file and positions are
    /// null for a diagnostic without a place.
    /// </summary>
    public static string Json(IReadOnlyList<Diagnostic> diagnostics, string toolVersion)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", JsonSchemaVersion);
            json.WriteString("tool", "kexecsim");
            json.WriteString("version", toolVersion);
            json.WriteStartArray("diagnostics");
            foreach (var diagnostic in diagnostics)
            {
                json.WriteStartObject();
                if (Locate(diagnostic) is { } place)
                {
                    json.WriteString("file", place.File);
                    json.WriteNumber("line", place.Line);
                    json.WriteNumber("column", place.Column);
                    json.WriteNumber("endLine", place.EndLine);
                    json.WriteNumber("endColumn", place.EndColumn);
                }
                else
                {
                    foreach (var name in new[] { "file", "line", "column", "endLine", "endColumn" })
                    {
                        json.WriteNull(name);
                    }
                }
                json.WriteString("severity", diagnostic.Severity.Keyword());
                json.WriteString("code", diagnostic.Code.Format());
                json.WriteString("message", diagnostic.Message);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("errors", diagnostics.Count(d => d.IsError));
            json.WriteNumber("warnings", diagnostics.Count(d => !d.IsError));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>
    /// A SARIF 2.1.0 log with one run: the rules are the codes that occur (id KFnnnn, name the code's
    /// name, default level its severity), each result its rule, level, message and region. A relative
    /// path is a URI relative to <c>%SRCROOT%</c> (the directory lint ran in); an absolute one a file URI.
    /// </summary>
    public static string Sarif(IReadOnlyList<Diagnostic> diagnostics, string toolVersion)
    {
        var rules = diagnostics.Select(d => d.Code).Distinct().Order().ToList();
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("$schema", SarifSchema);
            json.WriteString("version", "2.1.0");
            json.WriteStartArray("runs");
            json.WriteStartObject();
            json.WriteStartObject("tool");
            json.WriteStartObject("driver");
            json.WriteString("name", "kexecsim");
            json.WriteString("version", toolVersion);
            json.WriteStartArray("rules");
            foreach (var rule in rules)
            {
                json.WriteStartObject();
                json.WriteString("id", rule.Format());
                json.WriteString("name", rule.ToString());
                json.WriteStartObject("defaultConfiguration");
                json.WriteString("level", Level(rule.DefaultSeverity()));
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteString("columnKind", "utf16CodeUnits");
            json.WriteStartArray("results");
            foreach (var diagnostic in diagnostics)
            {
                json.WriteStartObject();
                json.WriteString("ruleId", diagnostic.Code.Format());
                json.WriteNumber("ruleIndex", rules.IndexOf(diagnostic.Code));
                json.WriteString("level", Level(diagnostic.Severity));
                json.WriteStartObject("message");
                json.WriteString("text", diagnostic.Message);
                json.WriteEndObject();
                if (Locate(diagnostic) is { } place)
                {
                    json.WriteStartArray("locations");
                    json.WriteStartObject();
                    json.WriteStartObject("physicalLocation");
                    json.WriteStartObject("artifactLocation");
                    if (Path.IsPathRooted(place.File))
                    {
                        json.WriteString("uri", new Uri(place.File).AbsoluteUri);
                    }
                    else
                    {
                        json.WriteString("uri", string.Join('/', place.File.Split('/', '\\').Select(Uri.EscapeDataString)));
                        json.WriteString("uriBaseId", "%SRCROOT%");
                    }
                    json.WriteEndObject();
                    json.WriteStartObject("region");
                    json.WriteNumber("startLine", place.Line);
                    json.WriteNumber("startColumn", place.Column);
                    json.WriteNumber("endLine", place.EndLine);
                    json.WriteNumber("endColumn", place.EndColumn);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    json.WriteEndObject();
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Level(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Note => "note",
        _ => "warning",
    };
}
