using System.Diagnostics;
using System.Globalization;
using System.Text;
using KexecSim.Fuzz;
using KexecSim.Language;
using SharpFuzz;

// The fuzzing harness (docs/fuzzing.md).
//   KexecSim.Fuzz frontend|trace                     one AFL++ target, inputs from AFL (fuzz/run.sh starts it)
//   KexecSim.Fuzz mutate frontend|trace CORPUS FINDINGS [--inputs N] [--seed S]
//                                                    the in-process mutation loop: N inputs mutated from CORPUS
//                                                    (seeded), each failing input written to FINDINGS
// Both run their whole loop on one thread with the front end's stack (FrontEnd.RunOnLargeStack): no load starts a
// thread of its own. The front-end target reads the input from a file too, and loads it twice, on every 16th input
// (and whenever the file reads differently from the text): FuzzTargets.FrontEnd.
if (args.Length >= 1 && args[0] is "frontend" or "trace")
{
    var count = 0L;
    Action<ReadOnlySpan<byte>> target = args[0] == "frontend"
        ? input => FuzzTargets.FrontEnd(input, twice: ++count % MutationLoop.FullCheckEvery == 0, file: count % MutationLoop.FullCheckEvery == 0)
        : input => FuzzTargets.Trace(input);
    // The instrumented RunOnLargeStack runs before Fuzzer.OutOfProcess.Run maps AFL's coverage map (in the fork
    // server too, which never maps it): its branches go to a scratch map of the same size until Run replaces it.
    unsafe
    {
        SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
    }
    return FrontEnd.RunOnLargeStack(() =>
    {
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            target(memory.ToArray());
        });
        return 0;
    });
}
if (args.Length >= 4 && args[0] == "mutate" && args[1] is "frontend" or "trace")
{
    var inputs = 100_000L;
    var seed = 1;
    for (var i = 4; i + 1 < args.Length; i += 2)
    {
        switch (args[i])
        {
            case "--inputs":
                inputs = long.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
            case "--seed":
                seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                break;
        }
    }
    return FrontEnd.RunOnLargeStack(() => MutationLoop.Run(args[1], args[2], args[3], inputs, seed));
}
Console.Error.WriteLine("usage: KexecSim.Fuzz frontend|trace  |  KexecSim.Fuzz mutate frontend|trace CORPUS FINDINGS [--inputs N] [--seed S]");
return 2;

/// <summary>
/// A seeded havoc loop in the manner of AFL's: each input is a corpus entry with 1 to 8 stacked mutations
/// (bit flips, interesting bytes, deletions, duplications, dictionary tokens, splices with another entry).
/// Not coverage-guided: the corpus does not grow. Every input that throws is written to the findings folder.
/// </summary>
internal static class MutationLoop
{
    /// <summary>Every this many inputs, the front-end target also reads the input from a file and loads it twice.</summary>
    public const int FullCheckEvery = 16;

    private static readonly string[] Tokens =
    [
        "import ", "\"", "const ", "enum ", "region ", "shared ", "percpu ", "fn ", "handler ", "vector ", "nmi ", "mce ",
        "scenario ", "platform ", "cpus ", "vendor ", "amd", "intel", "runs ", "cpu ", "init ", "final ", "expect ", "pass",
        "DEADLOCK", "LIVELOCK", "symmetric ", "timeouts ", "inject ", "define ", "wait_until(", "choose(", "either ", " or ",
        "loop ", "while ", "for_each_cpu ", "for_each_line ", "atomic ", "return ", "break;", "{", "}", "(", ")", "[", "]",
        ";", ",", "..", "=", "==", "->", "0x", "-1", "9223372036854775807", "0xFFFF_FFFF_FFFF_FFFF", "/*", "*/", "//",
        "\n", "int ", "bool ", "cpumask ", "key ", "line ", "in ", "store(", "load(", "KEY_NONE", "hlt()", "wbinvd()",
        "send_ipi(", "send_nmi(", "done()", "this_cpu()", "tdx_key(", "cpu_all_mask", "%d", "\\", "\u00e9", "\uFEFF",
        "\"format\"", "\"steps\"", "\"choices\"", "\"transition\"", "\"cycleStart\"", "\"violation\"", "\"scenario\"",
        "null", "true", "[]", "{}", "1e308", "\"Step\"", "\"Timeout\"", "\"Deliver\"", "\"Evict\"",
    ];

    public static int Run(string targetName, string corpusDirectory, string findingsDirectory, long inputs, int seed)
    {
        var corpus = Directory.GetFiles(corpusDirectory).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        if (corpus.Length == 0)
        {
            Console.Error.WriteLine($"no corpus files in {corpusDirectory}");
            return 2;
        }
        Directory.CreateDirectory(findingsDirectory);
        Func<byte[], long, object> target = targetName == "frontend"
            ? (input, n) => FuzzTargets.FrontEnd(input, twice: n % FullCheckEvery == 0, file: n % FullCheckEvery == 0)
            : (input, _) => FuzzTargets.Trace(input);
        var tokens = Tokens.Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(seed);
        var findings = new Dictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var buffer = new List<byte>(64 * 1024);
        var lastReport = TimeSpan.Zero;
        for (long n = 1; n <= inputs; n++)
        {
            var input = Mutate(corpus, tokens, random, buffer);
            try
            {
                target(input, n);
            }
            catch (Exception e)
            {
                // One finding per exception type and top frame; the first input of each is kept.
                var signature = $"{e.GetType().Name} {new StackTrace(e).GetFrame(0)?.GetMethod()?.Name}";
                if (findings.TryAdd(signature, 1))
                {
                    var file = Path.Combine(findingsDirectory, $"{targetName}-{findings.Count:D3}.bin");
                    File.WriteAllBytes(file, input);
                    Console.WriteLine($"finding {findings.Count}: {signature} -> {file}\n{e}");
                }
                else
                {
                    findings[signature]++;
                }
            }
            if (n % 100_000 == 0 || n == inputs || clock.Elapsed - lastReport > TimeSpan.FromMinutes(1))
            {
                lastReport = clock.Elapsed;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{targetName}: {n:N0} inputs, {clock.Elapsed.TotalSeconds:F0} s, {n / clock.Elapsed.TotalSeconds:F0} exec/s, {findings.Count} distinct findings ({findings.Values.Sum()} failing inputs)"));
            }
        }
        return findings.Count == 0 ? 0 : 1;
    }

    private static byte[] Mutate(byte[][] corpus, byte[][] tokens, Random random, List<byte> data)
    {
        data.Clear();
        data.AddRange(corpus[random.Next(corpus.Length)]);
        for (var edits = 1 << random.Next(4); edits > 0; edits--)
        {
            var at = random.Next(data.Count + 1);
            switch (random.Next(9))
            {
                case 0 when data.Count > 0:
                    at = Math.Min(at, data.Count - 1);
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    at = Math.Min(at, data.Count - 1);
                    data[at] = (byte)(random.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x7F, _ => random.Next(256) });
                    break;
                case 2 when data.Count > 0:
                    at = Math.Min(at, data.Count - 1);
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(32)));
                    break;
                case 3 when data.Count > 0:
                    {
                        at = Math.Min(at, data.Count - 1);
                        var length = Math.Min(data.Count - at, 1 + random.Next(64));
                        data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                        break;
                    }
                case 4:
                case 5:
                    data.InsertRange(at, tokens[random.Next(tokens.Length)]);
                    break;
                case 6:
                    {
                        var other = corpus[random.Next(corpus.Length)];
                        if (other.Length > 0)
                        {
                            var from = random.Next(other.Length);
                            data.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(256))).ToArray());
                        }
                        break;
                    }
                case 7 when data.Count > 0:
                    {
                        // A decimal number replaced by an extreme one.
                        var digit = data.FindIndex(Math.Min(at, data.Count - 1), b => b is >= (byte)'0' and <= (byte)'9');
                        if (digit >= 0)
                        {
                            var end = digit;
                            while (end < data.Count && data[end] is >= (byte)'0' and <= (byte)'9')
                            {
                                end++;
                            }
                            data.RemoveRange(digit, end - digit);
                            data.InsertRange(digit, Encoding.ASCII.GetBytes(random.Next(6) switch
                            {
                                0 => "0", 1 => "1024", 2 => "1025", 3 => "65", 4 => "4294967296", _ => "99999999999999999999",
                            }));
                        }
                        break;
                    }
                default:
                    if (data.Count > 1)
                    {
                        var cut = random.Next(data.Count / 2, data.Count); // truncation
                        data.RemoveRange(cut, data.Count - cut);
                    }
                    break;
            }
        }
        return data.ToArray();
    }
}
