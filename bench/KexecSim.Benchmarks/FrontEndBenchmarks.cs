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

/// <summary>
/// The robustness issue's slow inputs (issue 12, bench/inputs/gen-slow-inputs.py, here in C#) through the
/// whole front end at 1x and 10x the generator's listed size: linear time shows as the same MB/s at both.
/// bench/front-end-scale.sh measures the same through the kexecsim process at 1x, 2x, 5x and 10x.
/// </summary>
[MemoryDiagnoser]
public class SlowInputBenchmarks
{
    private string _text = string.Empty;

    [Params("loop-body", "unknown-names", "call-chain", "alias-doubling", "long-ident")]
    public string Generator { get; set; } = "loop-body";

    [Params(1, 10)]
    public int Scale { get; set; } = 1;

    /// <summary>The largest size the generator's help names (its "listed size").</summary>
    public static int ListedSize(string generator) => generator switch
    {
        "loop-body" => 20_000,
        "unknown-names" => 4_000,
        "call-chain" => 32_000,
        "alias-doubling" => 30,
        "long-ident" => 1_000_000,
        _ => throw new ArgumentOutOfRangeException(nameof(generator), generator, "no such generator"),
    };

    /// <summary>What gen-slow-inputs.py KIND N writes.</summary>
    public static string Generate(string generator, int n)
    {
        var builder = new StringBuilder();
        switch (generator)
        {
            case "loop-body":
                builder.Append("shared int x;\nfn f() { int v = 0; loop { ");
                builder.AppendJoin(' ', Enumerable.Repeat("v = v * 3 + 1;", n));
                builder.Append(" x = v; } }\nscenario \"s\" { platform { cpus 3; } cpu 0..2 runs f(); timeouts off; expect pass; }\n");
                break;
            case "unknown-names":
                builder.Append("fn f() {\n");
                for (var i = 0; i < n; i++)
                {
                    builder.Append($"  int v{i} = ").Append('q', 100).Append(";\n");
                }
                builder.Append("}\n");
                break;
            case "call-chain":
                builder.Append("shared int x;\n");
                for (var i = 0; i < n; i++)
                {
                    builder.Append($"fn F{i}() {{ {(i + 1 < n ? $"F{i + 1}();" : "x = 1;")} }}\n");
                }
                builder.Append("fn f() { loop { F0(); } }\nscenario \"s\" { platform { cpus 1; } cpu 0 runs f(); }\n");
                break;
            case "alias-doubling":
                builder.Append("region r0[1000];\n");
                for (var i = 1; i <= n; i++)
                {
                    builder.Append($"region r{i} = r{i - 1}, r{i - 1};\n");
                }
                builder.Append("fn f() { hlt(); }\nscenario \"s\" { platform { cpus 2; } cpu 0..1 runs f(); }\n");
                break;
            case "long-ident":
                builder.Append("fn f() { x").Append('y', n).Append(" = 1; }\n");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(generator), generator, "no such generator");
        }
        return builder.ToString();
    }

    [GlobalSetup]
    public void Setup()
    {
        _text = Generate(Generator, ListedSize(Generator) * Scale);
        Console.WriteLine($"// {Generator} x{Scale}: {Encoding.UTF8.GetByteCount(_text)} bytes");
    }

    /// <summary>Lexing, parsing, binding and compiling (errors expected for some generators: they are the point).</summary>
    [Benchmark]
    public int Lint() => FrontEnd.LoadText("slow.kflow", _text).Diagnostics.Count;
}

