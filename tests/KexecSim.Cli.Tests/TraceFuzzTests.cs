using System.Text.Json.Nodes;
using KexecSim.Cli;

namespace KexecSim.Cli.Tests;

/// <summary>
/// replay and explain of a damaged trace never throw (issue 7, item 10): each of many seeded mutations
/// of real traces is exit 0, 1 or 2 with no .NET text, and an exit 2 is said in one line.
/// </summary>
public sealed class TraceFuzzTests : CliFixture
{
    private static readonly JsonNode?[] Replacements =
    [
        null, "", "NOPE", "a\0b", -1, 0, 1, 2, 5, 7, int.MaxValue, int.MinValue, long.MaxValue, 1e308, -1e308, true,
        new JsonArray(), new JsonObject(), "LIVELOCK", "ASSERTION", "Step", "Deliver", "Evict",
    ];

    [Theory]
    [InlineData("choices", 1)]
    [InlineData("ll", 2)]
    public void Mutated_traces_replay_or_are_refused_without_an_exception(string scenario, int seed)
    {
        foreach (var model in new[] { "r06-choices.kflow", "r14-ll.kflow" })
        {
            File.Copy(Path.Combine(TestPaths.RobustnessCases, model), Path.Combine(Scratch, model), overwrite: true);
        }
        var good = Path.Combine(Scratch, "good.json");
        Run("check", Path.Combine(Scratch, scenario == "ll" ? "r14-ll.kflow" : "r06-choices.kflow"), "--scenario", scenario, "--trace", good);
        var original = JsonNode.Parse(File.ReadAllText(good))!;
        var random = new Random(seed);
        var trace = Path.Combine(Scratch, "t.json");
        var seen = new HashSet<int>();
        // KEXECSIM_FUZZ_ROUNDS raises the count for a longer hunt by hand.
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("KEXECSIM_FUZZ_ROUNDS"), out var n) ? n : 150;
        for (var round = 0; round < rounds; round++)
        {
            var mutated = original.DeepClone();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                Mutate(mutated, random);
            }
            var text = mutated.ToJsonString();
            File.WriteAllText(trace, text);
            foreach (var command in new[] { "replay", "explain" })
            {
                var (exit, stdout, stderr) = Run(command, trace);
                var context = $"{command} of {text}";
                seen.Add(exit);
                Assert.True(exit is ExitCodes.Success or ExitCodes.Violation or ExitCodes.BadInput, $"exit {exit}: {context}\n{stderr}");
                Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("System.", stdout + stderr, StringComparison.Ordinal);
                if (exit == ExitCodes.BadInput)
                {
                    Assert.True(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).All(l => l.StartsWith("kexecsim: ", StringComparison.Ordinal) || l.Contains(": error KF", StringComparison.Ordinal)),
                        $"{context}\n{stderr}");
                }
            }
        }
        // Not vacuous: some mutants still replay, some diverge, some are refused.
        Assert.Equal([ExitCodes.Success, ExitCodes.Violation, ExitCodes.BadInput], seen.Order());
    }

    /// <summary>Replaces or removes one value somewhere in the tree (keeps the root an object).</summary>
    private static void Mutate(JsonNode root, Random random)
    {
        var containers = new List<JsonNode>();
        Collect(root, containers);
        var container = containers[random.Next(containers.Count)];
        var replacement = Replacements[random.Next(Replacements.Length)]?.DeepClone();
        switch (container)
        {
            case JsonObject o when o.Count > 0:
                var key = o.ElementAt(random.Next(o.Count)).Key;
                if (random.Next(8) == 0)
                {
                    o.Remove(key);
                }
                else
                {
                    o[key] = replacement;
                }
                break;
            case JsonArray a when a.Count > 0:
                var index = random.Next(a.Count);
                if (random.Next(4) == 0)
                {
                    a.RemoveAt(index);
                }
                else
                {
                    a[index] = replacement;
                }
                break;
            case JsonArray a:
                a.Add(replacement);
                break;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> containers)
    {
        if (node is JsonObject o)
        {
            containers.Add(o);
            foreach (var (_, child) in o)
            {
                if (child is not null)
                {
                    Collect(child, containers);
                }
            }
        }
        else if (node is JsonArray a)
        {
            containers.Add(a);
            foreach (var child in a)
            {
                if (child is not null)
                {
                    Collect(child, containers);
                }
            }
        }
    }
}
