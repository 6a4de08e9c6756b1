using System.Text.Json;
using KexecSim.Cli;
using KexecSim.Reporting;

namespace KexecSim.Cli.Tests;

/// <summary><c>lint --format json|sarif</c>: the exact documents, for editors and CI code scanning.</summary>
public sealed class LintFormatTests : CliFixture
{
    private const string Bad = "shared cpumask m;\nfn f() {\n    int x = 0;\n    cpumask_clear_cpu(m, 1);\n}\n";

    private static readonly string Version = TraceFile.ToolVersion;

    [Fact]
    public void Json_lists_every_diagnostic_with_its_span_severity_and_code()
    {
        var file = Write("bad.kflow", Bad);
        var missing = Path.Combine(Scratch, "missing.kflow");
        var (exit, stdout, stderr) = Run("lint", file, missing, "--format", "json");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal(string.Empty, stderr);
        Assert.Equal($$"""
            {
              "schemaVersion": 1,
              "tool": "kexecsim",
              "version": "{{Version}}",
              "diagnostics": [
                {
                  "file": "{{file}}",
                  "line": 3,
                  "column": 9,
                  "endLine": 3,
                  "endColumn": 10,
                  "severity": "warning",
                  "code": "KF0801",
                  "message": "local variable 'x' is never read"
                },
                {
                  "file": "{{file}}",
                  "line": 4,
                  "column": 5,
                  "endLine": 4,
                  "endColumn": 22,
                  "severity": "error",
                  "code": "KF0204",
                  "message": "'cpumask_clear_cpu' expects (int, cpumask), got (cpumask, int)"
                },
                {
                  "file": null,
                  "line": null,
                  "column": null,
                  "endLine": null,
                  "endColumn": null,
                  "severity": "error",
                  "code": "KF0402",
                  "message": "{{missing}}: no such file"
                }
              ],
              "errors": 2,
              "warnings": 1
            }

            """, stdout);
    }

    [Fact]
    public void Sarif_is_one_run_with_the_rules_that_occur_and_a_file_uri_for_an_absolute_path()
    {
        var file = Write("kernel name.kflow", "fn f() {\n    native_wbinvd();\n}\n");
        var (exit, stdout, _) = Run("lint", file, "--format", "sarif");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($$"""
            {
              "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
              "version": "2.1.0",
              "runs": [
                {
                  "tool": {
                    "driver": {
                      "name": "kexecsim",
                      "version": "{{Version}}",
                      "rules": [
                        {
                          "id": "KF0208",
                          "name": "UnknownFunction",
                          "defaultConfiguration": {
                            "level": "error"
                          }
                        }
                      ]
                    }
                  },
                  "columnKind": "utf16CodeUnits",
                  "results": [
                    {
                      "ruleId": "KF0208",
                      "ruleIndex": 0,
                      "level": "error",
                      "message": {
                        "text": "unknown function 'native_wbinvd'; did you mean wbinvd()? (kernel name)"
                      },
                      "locations": [
                        {
                          "physicalLocation": {
                            "artifactLocation": {
                              "uri": "{{new Uri(file).AbsoluteUri}}"
                            },
                            "region": {
                              "startLine": 2,
                              "startColumn": 5,
                              "endLine": 2,
                              "endColumn": 18
                            }
                          }
                        }
                      ]
                    }
                  ]
                }
              ]
            }

            """, stdout);
        Assert.EndsWith("/kernel%20name.kflow", new Uri(file).AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public void A_clean_model_is_an_empty_list_and_exit_0_in_both_formats()
    {
        var file = Write("clean.kflow", "fn f() { done(); }\nscenario \"s\" { cpu 0 runs f(); }\n");
        var json = Run("lint", file, "--format", "json");
        Assert.Equal(ExitCodes.Success, json.Exit);
        using (var document = JsonDocument.Parse(json.Out))
        {
            Assert.Equal(0, document.RootElement.GetProperty("diagnostics").GetArrayLength());
            Assert.Equal(0, document.RootElement.GetProperty("errors").GetInt32());
        }
        var sarif = Run("lint", file, "--format", "sarif");
        Assert.Equal(ExitCodes.Success, sarif.Exit);
        using (var document = JsonDocument.Parse(sarif.Out))
        {
            var run = Assert.Single(document.RootElement.GetProperty("runs").EnumerateArray());
            Assert.Equal(0, run.GetProperty("results").GetArrayLength());
            Assert.Equal(0, run.GetProperty("tool").GetProperty("driver").GetProperty("rules").GetArrayLength());
        }
    }

    [Fact]
    public void Text_stays_the_default_and_an_unknown_format_is_one_line()
    {
        var file = Write("bad.kflow", Bad);
        Assert.Equal((ExitCodes.BadInput,
            $"{file}:3:9: warning KF0801: local variable 'x' is never read\n{file}:4:5: error KF0204: 'cpumask_clear_cpu' expects (int, cpumask), got (cpumask, int)\n1 error, 1 warning\n",
            string.Empty), Run("lint", file));
        Assert.Equal((ExitCodes.BadInput, string.Empty, "kexecsim: --format xml: expected text, json or sarif\n"), Run("lint", file, "--format", "xml"));
    }
}
