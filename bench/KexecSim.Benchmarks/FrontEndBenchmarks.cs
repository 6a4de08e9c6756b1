using System.Text;
using BenchmarkDotNet.Attributes;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Benchmarks;

/// <summary>
/// Front-end throughput on a generated model of about 1 MB that reads like the kernel flows
/// (functions with loops, calls, intrinsics; variables; a scenario). MB/s = size / mean time.
/// </summary>
[MemoryDiagnoser]
public class FrontEndBenchmarks
{
    private string _text = string.Empty;
    private SourceText _source = null!;

    public static string GenerateModel(int functions)
    {
        var builder = new StringBuilder();
        builder.Append("region boot[4];\nregion next_kernel = text, data;\nenum Vector { REBOOT_VECTOR = 0xf8 }\n");
        for (var i = 0; i < functions; i++)
        {
            builder.Append($$"""
                shared int counter_{{i}} = {{i}};
                percpu bool flag_{{i}};
                shared cpumask mask_{{i}};
                // stop_this_cpu_{{i}}: clears its bit after the flush, then parks.
                fn stop_this_cpu_{{i}}(int depth) -> int {
                    local_irq_disable();
                    cpumask_clear_cpu(this_cpu(), mask_{{i}});
                    if (flag_{{i}} && (cpuid(0x80000000) >= 0x8000001f)) {
                        wbinvd();
                    }
                    for (int k = 0; k < depth; k++) {
                        counter_{{i}} += k * 2 + 1;
                    }
                    for_each_cpu (c in mask_{{i}}) send_nmi(c);
                    if (!wait_until(cpumask_empty(mask_{{i}}), 1_000_000)) {
                        pr_err("cpu %d did not stop", this_cpu());
                    }
                    return counter_{{i}} > 3 ? 1 : 0;
                }

                """);
        }
        builder.Append("fn main() { stop_this_cpu_0(2); done(); }\n");
        builder.Append("scenario \"bench\" { platform { cpus 4; } cpu 0 runs main(); expect pass; }\n");
        return builder.ToString();
    }

    [GlobalSetup]
    public void Setup()
    {
        _text = GenerateModel(1_400);
        _source = new SourceText("bench.kflow", _text);
        Console.WriteLine($"// model size: {Encoding.UTF8.GetByteCount(_text)} bytes");
    }

    [Benchmark]
    public int Lex() => Lexer.Tokenize(_source, new DiagnosticBag()).Count;

    [Benchmark]
    public int LexParse() => Parser.Parse(_source, new DiagnosticBag()).Declarations.Count;

    /// <summary>Lexing, parsing, binding and compiling the scenario: the whole front end.</summary>
    [Benchmark]
    public int LexParseBindCompile()
    {
        var result = FrontEnd.LoadText("bench.kflow", _text);
        if (result.HasErrors)
        {
            throw new InvalidOperationException(result.Diagnostics.First(d => d.IsError).ToString());
        }
        return result.Scenarios.Count;
    }
}
