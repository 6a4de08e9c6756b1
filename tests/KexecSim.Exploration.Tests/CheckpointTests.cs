using System.Text.RegularExpressions;
using KexecSim.Language;
using KexecSim.Program;

namespace KexecSim.Exploration.Tests;

/// <summary>
/// Issue 12, item 3: a breadth-first search saved at a level boundary (<see cref="CheckpointOptions"/>) and
/// resumed by a new explorer gives what the uninterrupted search gives: verdict, statistics but the time and
/// the peak memory, the counterexample step by step, the violations kept aside, coverage (docs/checkpoint.md).
/// </summary>
public sealed partial class CheckpointTests : IDisposable
{
    private static readonly KeyValuePair<string, string>[] Identity = [KeyValuePair.Create("test", "1")];

    private readonly string _scratch = Directory.CreateTempSubdirectory("kexecsim-checkpoint-").FullName;

    public void Dispose()
    {
        Directory.Delete(_scratch, recursive: true);
        GC.SuppressFinalize(this);
    }

    // The peak memory is a measurement: a resumed search's queues start without the chunks the
    // uninterrupted one had kept from earlier levels (docs/checkpoint.md, "Guarantees").
    [GeneratedRegex(@" memory=[0-9]+")]
    private static partial Regex Memory();

    private static string Describe(CheckResult result) => Memory().Replace(WorkersTests.Describe(result), string.Empty);

    private static CompiledProgram Catalog(string file, string scenario)
    {
        var loaded = FrontEnd.Load(Path.Combine(TestPaths.RepositoryRoot, file), new LoadOptions { ModelPath = [TestPaths.Models] });
        Assert.DoesNotContain(loaded.Diagnostics, d => d.IsError);
        return loaded.Scenarios.Single(s => s.ScenarioName == scenario);
    }

    private static CompiledProgram Compile(string text)
    {
        var result = FrontEnd.LoadText("e.kflow", text);
        Assert.DoesNotContain(result.Diagnostics, d => d.IsError);
        return result.Scenarios.Single();
    }

    private static CheckOptions Options(int workers, long? bitstate, long maxStates = 2_000_000) => new()
    {
        Workers = workers,
        ChunkStates = 3,
        MinParallelBatch = 1,
        BitstateBytes = bitstate,
        MaxStates = maxStates,
    };

    /// <summary>The search stopped by a state limit after a checkpoint at every level, then a new explorer
    /// resumed from the last one without the limit.</summary>
    private (CheckResult Stopped, Checkpoint Saved, CheckResult Resumed) StopAndResume(CompiledProgram program, long stopAt, int workers = 1, long? bitstate = null)
    {
        var directory = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        var stopped = new BreadthFirstExplorer(program, Options(workers, bitstate, stopAt) with
        {
            Checkpoint = new CheckpointOptions { Directory = directory, Every = TimeSpan.Zero, Identity = Identity },
        }).Run();
        var saved = Checkpoint.Open(directory, Identity);
        var resumed = new BreadthFirstExplorer(program, Options(workers, bitstate) with
        {
            Checkpoint = new CheckpointOptions { Resume = saved, Identity = Identity },
        }).Run();
        return (stopped, saved, resumed);
    }

    public static TheoryData<string, string, int, long?> Scenarios() => new()
    {
        // A counterexample of the expected code (CORRUPTION at depth 28).
        { "models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall", 1, null },
        { "models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall", 3, null },
        // A pass: every state explored, coverage exhaustive.
        { "models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-before-seamcall", 1, null },
        // EXEC_CLOBBERED, a violation that needs message data (found again along its path).
        { "models/catalog/seed002-parked-cpus.kflow", "parked-hlt-stray-nmi", 2, null },
        // A violation of another code kept aside while the search goes on.
        { "tests/corpus/clean/language_md_example.kflow", "tdx-kexec-erratum", 1, null },
        { "tests/corpus/clean/language_md_example.kflow", "tdx-kexec-erratum", 1, 1 << 20 },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void A_search_resumed_from_a_level_boundary_gives_what_the_uninterrupted_search_gives(string file, string scenario, int workers, long? bitstate)
    {
        var program = Catalog(file, scenario);
        var whole = new BreadthFirstExplorer(program, Options(workers, bitstate)).Run();
        Assert.NotEqual(Verdict.LimitReached, whole.Verdict);
        var expected = Describe(whole);
        // Stopped half and two thirds of the way: each resumes from a level in the middle.
        foreach (var fraction in new[] { 2, 3 })
        {
            var stopAt = (whole.Statistics.States * (fraction - 1) / fraction) + 1;
            var (stopped, saved, resumed) = StopAndResume(program, stopAt, workers, bitstate);
            Assert.Equal(Verdict.LimitReached, stopped.Verdict);
            Assert.InRange(saved.Depth, 1, whole.Statistics.Depth - 1);
            // The limit is looked at after the checkpoint of the level it stops in: that level's or an earlier one's.
            Assert.InRange(saved.States, 1, stopped.Statistics.States);
            Assert.InRange(saved.Depth, stopped.Statistics.Depth - 1, stopped.Statistics.Depth);
            Assert.Equal(expected, Describe(resumed));
        }
    }

    [Fact]
    public void A_livelock_found_after_a_resumed_search_is_the_uninterrupted_search_s()
    {
        // The LIVELOCK graph is saved with the search: the cycle is found in the whole graph after a resume,
        // with and without the reductions (with them, the full search that follows a reduced cycle runs anew).
        var program = Compile(LivelockModels.TwoComponents);
        // --livelock lean saves each node's finished mark instead of the graph, and its pass finds the same cycle.
        foreach (var (reduce, lean) in new[] { (Reduction.All, false), (Reduction.None, false), (Reduction.All, true), (Reduction.None, true) })
        {
            var options = Options(1, null) with { Reduce = reduce, LivelockLean = lean };
            var whole = new BreadthFirstExplorer(program, options).Run();
            Assert.Equal(ViolationCode.Livelock, whole.Violation!.Code);
            var expected = Describe(whole);
            for (long stopAt = 2; stopAt < whole.Statistics.States; stopAt += 4)
            {
                var directory = Path.Combine(_scratch, $"livelock-{reduce}-{lean}-{stopAt}");
                var stopped = new BreadthFirstExplorer(program, options with
                {
                    MaxStates = stopAt,
                    Checkpoint = new CheckpointOptions { Directory = directory, Every = TimeSpan.Zero, Identity = Identity },
                }).Run();
                Assert.Equal(Verdict.LimitReached, stopped.Verdict);
                var resumed = new BreadthFirstExplorer(program, options with
                {
                    Checkpoint = new CheckpointOptions { Resume = Checkpoint.Open(directory, Identity), Identity = Identity },
                }).Run();
                Assert.Equal(expected, Describe(resumed));
            }
        }
    }

    [Fact]
    public void A_checkpoint_is_one_generation_of_files_named_in_its_manifest_with_their_checksums()
    {
        var program = Catalog("models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall");
        var (_, saved, _) = StopAndResume(program, 2000);
        var names = Directory.GetFiles(saved.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var generation = saved.Generation;
        Assert.Equal(
            [$"frontier-{generation}.bin", $"graph-{generation}.bin", "manifest.json", $"nodes-{generation}.bin", $"search-{generation}.bin", $"visited-{generation}.bin"],
            names);
        // One generation per level written (every level from 0, then the files of the older ones removed).
        Assert.Equal(saved.Depth + 1, generation);
        Assert.Equal(saved.Identity, Identity);
    }

    [Fact]
    public void A_checkpoint_of_another_search_or_a_damaged_one_is_refused_with_what_differs()
    {
        var program = Catalog("models/catalog/seed001-tdx-incoherent-flag.kflow", "tdx-flag-after-seamcall");
        var (_, saved, _) = StopAndResume(program, 500);
        var other = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, [KeyValuePair.Create("test", "2")]));
        Assert.Equal("the checkpoint is of another search: test was 1, is now 2", other.Message);
        var more = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, [KeyValuePair.Create("test", "1"), KeyValuePair.Create("--cpus", "4")]));
        Assert.Equal("the checkpoint is of another search: --cpus was not recorded, is now 4", more.Message);

        // One byte of the node table changed.
        var nodes = Path.Combine(saved.Directory, $"nodes-{saved.Generation}.bin");
        var bytes = File.ReadAllBytes(nodes);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(nodes, bytes);
        var damaged = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, Identity));
        Assert.Matches($"^the checkpoint is damaged: nodes-{saved.Generation}\\.bin has checksum [0-9a-f]{{32}}, the manifest says [0-9a-f]{{32}}$", damaged.Message);
        // Cut short.
        File.WriteAllBytes(nodes, bytes[..^8]);
        damaged = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, Identity));
        Assert.Equal($"the checkpoint is damaged: nodes-{saved.Generation}.bin has {bytes.Length - 8} bytes, the manifest says {bytes.Length}", damaged.Message);
        File.Delete(nodes);
        damaged = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, Identity));
        Assert.Equal($"the checkpoint is incomplete: nodes-{saved.Generation}.bin is missing", damaged.Message);
        // A manifest cut in half.
        var manifest = Path.Combine(saved.Directory, Checkpoint.ManifestName);
        File.WriteAllText(manifest, File.ReadAllText(manifest)[..100]);
        damaged = Assert.Throws<CheckpointException>(() => Checkpoint.Open(saved.Directory, Identity));
        Assert.StartsWith("the checkpoint is damaged: manifest.json is not a checkpoint manifest (", damaged.Message);
        Assert.Equal("no such directory", Assert.Throws<CheckpointException>(() => Checkpoint.Open(Path.Combine(_scratch, "none"), Identity)).Message);
    }

    [Fact]
    public void A_program_hash_changes_with_the_program()
    {
        const string model = """
            shared int x;
            fn a() { x = N; done(); }
            scenario "s" { platform { cpus 2; } cpu 0, 1 runs a(); expect pass; }
            """;
        var one = Compile("const N = 1;\n" + model);
        Assert.Equal(Checkpoint.ProgramHash(one), Checkpoint.ProgramHash(Compile("const N = 1;\n" + model)));
        Assert.NotEqual(Checkpoint.ProgramHash(one), Checkpoint.ProgramHash(Compile("const N = 2;\n" + model)));
        Assert.NotEqual(Checkpoint.ProgramHash(one), Checkpoint.ProgramHash(Compile("const N = 1;\n" + model.Replace("cpus 2", "cpus 3", StringComparison.Ordinal).Replace("0, 1", "0, 1, 2", StringComparison.Ordinal))));
        Assert.Matches("^[0-9a-f]{32}$", Checkpoint.ProgramHash(one));
    }
}
