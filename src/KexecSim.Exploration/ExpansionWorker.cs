using System.Diagnostics;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Exploration;

/// <summary>
/// One worker of the parallel breadth-first search (<see cref="CheckOptions.Workers"/>): it expands a
/// contiguous chunk of a level's states with its own machine, states, chooser, symmetry and coverage
/// marks (the machine is not thread-safe), and writes what each step reached as records in its own
/// buffers, in the order one worker would meet them. It decides nothing: the search merges the records
/// of every chunk, chunk 0 first, into its visited set, node table, LIVELOCK graph, frontier and
/// expectation policy (<see cref="BreadthFirstExplorer"/>).
/// PERF: flat buffers grown only, never shrunk; nothing is allocated per transition.
/// </summary>
internal sealed class ExpansionWorker
{
    /// <summary>What a step reached.</summary>
    public enum RecordKind : byte
    {
        /// <summary>A state: its fingerprint and stored vector are in the record (the merge looks it up).</summary>
        State,

        /// <summary>The step itself committed a violation.</summary>
        StepViolation,

        /// <summary>The state the step reached is settled and violates (the settled check).</summary>
        SettledViolation,
    }

    /// <summary>One enabled outcome of a step from a state of the chunk.</summary>
    public struct Record
    {
        public Transition Transition;
        public int ChoiceStart;
        public int ChoiceCount;
        public int VectorStart;
        public int VectorLength;
        public ulong Fingerprint;

        /// <summary>With symmetry: the fingerprint of the successor's own vector (the search's memo's key: the merge
        /// tells the memo its representative's node).</summary>
        public ulong Raw;
        public RecordKind Kind;
        public bool Finished;
    }

    private readonly Machine.Machine _machine;
    private readonly MachineState _parent;
    private readonly StateQueue.Reader _reader = new();
    private readonly MachineState _work;
    private readonly SuccessorEnumerator _successors;
    private readonly StateSymmetry? _symmetry;
    private readonly ExpectationPolicy _policy;

    // Small at first (they grow to what the chunks need, and are counted in the search's memory: a pipelined pool has
    // two sets of workers).
    private Record[] _records = new Record[64];
    private Violation?[] _violations = new Violation?[64];
    private int[] _choicePool = new int[64];
    private long[] _vectorPool = new long[1 << 10];
    private int[] _parentEnds = new int[64];
    private Violation?[] _terminals = new Violation?[64];
    private int _recordCount;
    private int _choiceCount;
    private int _vectorCount;

    // With symmetry: the chunk's canonicalised successors by their own vector's fingerprint, the record that holds each
    // one's representative (a memo of the chunk, cleared per chunk; lossy, so a miss costs a canonicalisation). PERF:
    // one worker's search learns each new vector's representative at once (its memo); a worker reads no memo (the merge
    // writes it meanwhile), so a vector made twice in one chunk was canonicalised twice (an eighth more
    // canonicalisations with two workers at N = 6).
    private readonly RepresentativeMemo _chunkVectors = new(bits: 14);

    /// <param name="symmetry">Whether the search reduces by symmetry: each successor is canonicalised.</param>
    public ExpansionWorker(Reductions reductions, ExpectationPolicy policy, bool symmetry)
    {
        _machine = reductions.NewMachine();
        _successors = new SuccessorEnumerator(_machine);
        Marks = new ExecutionMarks(_machine.Program);
        _machine.Marks = Marks;
        _parent = _machine.NewState();
        _work = _machine.NewState();
        _policy = policy;
        _symmetry = symmetry ? new StateSymmetry(_machine.Layout) : null;
    }

    /// <summary>What this worker's machine executed, over every chunk it expanded.</summary>
    public ExecutionMarks Marks { get; }

    /// <summary>Whether this worker's machine ever executed a <c>hlt()</c> with the step reaching it.</summary>
    public bool MergedAHalt => _machine.MergedAHalt;

    /// <summary>Whether this worker's machine ever evaluated the scenario's <c>final</c> block.</summary>
    public bool FinalEvaluated => _machine.FinalEvaluations > 0;

    /// <summary>The chunk: the level's states <see cref="From"/> to <see cref="To"/> (exclusive).</summary>
    public int From { get; private set; }

    public int To { get; private set; }

    /// <summary>Set when the chunk met a violation that ends the search (a step's, a settled or a
    /// terminal one): the worker stopped there, and the search runs that part of the level itself.</summary>
    public bool MetEnd { get; private set; }

    /// <summary>An exception the expansion threw, handed to the search's thread.</summary>
    public Exception? Error { get; set; }

    /// <summary>The bytes the expansions of this worker allocated on their thread, over every batch
    /// (the allocation test's measure: buffers grow during warm-up, then nothing).</summary>
    public long AllocatedBytes { get; set; }

    /// <summary>The bytes the worker's buffers hold.</summary>
    public long MemoryBytes =>
        (long)_records.Length * 48 + (long)_violations.Length * 8 + (long)_choicePool.Length * 4 + (long)_vectorPool.Length * 8
        + (long)_parentEnds.Length * 4 + (long)_terminals.Length * 8;

    public void Assign(int from, int to)
    {
        From = from;
        To = to;
    }

    /// <summary>One past the last record of the chunk's state <paramref name="index"/> (0 is <see cref="From"/>).</summary>
    public int ParentEnd(int index) => _parentEnds[index];

    /// <summary>For a state of the chunk without successors: its terminal violation, if any.</summary>
    public Violation? Terminal(int index) => _terminals[index];

    public ref readonly Record RecordAt(int index) => ref _records[index];

    /// <summary>The records of the chunk's expansion.</summary>
    public int RecordCount => _recordCount;

    public Violation ViolationAt(int index) => _violations[index]!;

    public ReadOnlySpan<int> Choices(in Record record) => _choicePool.AsSpan(record.ChoiceStart, record.ChoiceCount);

    public ReadOnlySpan<long> Vector(in Record record) => _vectorPool.AsSpan(record.VectorStart, record.VectorLength);

    /// <summary>
    /// Expands the chunk's states of <paramref name="level"/>: every transition and every branch of its
    /// choices, each outcome recorded; a state without successors gets its terminal check. The same
    /// machine calls, in the same order, as <see cref="BreadthFirstExplorer"/>'s own expansion.
    /// </summary>
    public void Expand(StateQueue level)
    {
        _recordCount = 0;
        _choiceCount = 0;
        _vectorCount = 0;
        _chunkVectors.Clear();
        MetEnd = false;
        var parents = To - From;
        if (_parentEnds.Length < parents)
        {
            _parentEnds = new int[Math.Max(parents, _parentEnds.Length * 2)];
            _terminals = new Violation?[_parentEnds.Length];
        }
        for (var i = 0; i < parents; i++)
        {
            _parent.Decode(_reader.Get(level, From + i, out _));
            var terminal = ExpandOne();
            _parentEnds[i] = _recordCount;
            _terminals[i] = terminal;
            if (terminal is not null && _policy.EndsSearch(terminal.Code))
            {
                MetEnd = true;
            }
            if (MetEnd)
            {
                return;
            }
        }
    }

    /// <summary>PERF: a method of its own, so the JIT compiles it fully (as the explorer's Expand).</summary>
    private Violation? ExpandOne()
    {
        var successors = 0;
        _symmetry?.SetParent(_parent);
        _successors.Start(_parent, _work);
        while (_successors.MoveNext())
        {
            successors++;
            var outcome = _successors.Outcome;
            var work = _successors.Work;
            var violation = outcome == Outcome.Violation ? _machine.LastViolation : _machine.CheckSettled(work);
            ref var record = ref NextRecord(_successors.Transition, _successors.Choices);
            if (violation is not null)
            {
                record.Kind = outcome == Outcome.Violation ? RecordKind.StepViolation : RecordKind.SettledViolation;
                _violations[_recordCount - 1] = violation;
                if (_policy.EndsSearch(violation.Code))
                {
                    MetEnd = true;
                    return null;
                }
                continue;
            }
            if (_symmetry is null)
            {
                record.Fingerprint = MachineState.Fingerprint(work.Span);
                record.Finished = work.Finished;
                Keep(ref record, work.Span);
                continue;
            }
            record.Raw = MachineState.Fingerprint(work.Span);
            // The same vector made again in this chunk: its representative and stored vector are the earlier record's
            // (the memo learns of them only at the merge).
            if (_chunkVectors.TryGet(record.Raw, out var earlier))
            {
                ref readonly var first = ref _records[earlier];
                record.Fingerprint = first.Fingerprint;
                record.Finished = first.Finished;
                record.Kind = RecordKind.State;
                record.VectorStart = first.VectorStart;
                record.VectorLength = first.VectorLength;
                continue;
            }
            var stored = _symmetry.Canonicalize(work);
            record.Fingerprint = _symmetry.LastWasIdentity ? record.Raw : MachineState.Fingerprint(stored);
            record.Finished = work.Finished;
            Keep(ref record, stored);
            _chunkVectors.Set(record.Raw, _recordCount - 1);
        }
        return successors == 0 ? _machine.CheckTerminal(_parent) : null;
    }

    /// <summary>A successor to store: its vector into the pool.</summary>
    private void Keep(ref Record record, ReadOnlySpan<long> stored)
    {
        record.Kind = RecordKind.State;
        record.VectorStart = _vectorCount;
        record.VectorLength = stored.Length;
        if (_vectorCount + stored.Length > _vectorPool.Length)
        {
            Array.Resize(ref _vectorPool, Math.Max(_vectorPool.Length * 2, _vectorCount + stored.Length));
        }
        stored.CopyTo(_vectorPool.AsSpan(_vectorCount));
        _vectorCount += stored.Length;
    }

    private ref Record NextRecord(Transition transition, ReadOnlySpan<int> choices)
    {
        if (_recordCount == _records.Length)
        {
            Array.Resize(ref _records, _records.Length * 2);
            Array.Resize(ref _violations, _records.Length);
        }
        if (_choiceCount + choices.Length > _choicePool.Length)
        {
            Array.Resize(ref _choicePool, Math.Max(_choicePool.Length * 2, _choiceCount + choices.Length));
        }
        choices.CopyTo(_choicePool.AsSpan(_choiceCount));
        ref var record = ref _records[_recordCount];
        _violations[_recordCount] = null;
        _recordCount++;
        record = default;
        record.Transition = transition;
        record.ChoiceStart = _choiceCount;
        record.ChoiceCount = choices.Length;
        _choiceCount += choices.Length;
        return ref record;
    }
}
