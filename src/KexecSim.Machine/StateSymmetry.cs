using System.IO.Hashing;
using System.Numerics;
using System.Runtime.InteropServices;
using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// Symmetry reduction over the scenario's <c>symmetric</c> CPUs (docs/symmetry.md): permutes a state's
/// vector by a permutation of those CPUs, and maps a state to the representative of its orbit that the
/// search stores. Every place <see cref="SymmetrySpec"/> lists is rewritten: CPU headers, stacks and
/// private caches move with their CPU, percpu variable instances and percpu lines move, and values that
/// are CPU ids, cpumasks, percpu lines or place references are mapped.
/// </summary>
/// <remarks>
/// <para>The representative sorts the symmetric CPUs by a signature of what each one is (its header, its
/// stack, its cache, its percpu data, and how shared cpumasks and CPU-id variables relate to it), ties
/// broken by id. Any member of the orbit is a sound representative (the explored graph is then a
/// quotient of the reachable one: Emerson and Sistla, "Symmetry and model checking", FMSD 1996; Ip and
/// Dill, "Better verification through symmetry", FMSD 1996); a signature that tells more CPUs apart
/// merges more states. Ids in the signature are never absolute for a symmetric CPU: a percpu line is its
/// offset and "mine" or "another's", so two CPUs in the same situation get the same signature.</para>
/// <para>Soundness needs the machine's transitions to commute with every permutation: the compiler's
/// specification says when they do (<see cref="SymmetrySpec.IsUsable"/>), and a test checks the
/// commutation state by state on models that use every kind of place.</para>
/// </remarks>
public sealed class StateSymmetry
{
    private readonly MachineLayout _layout;
    private readonly StateLayout _shape;
    private readonly SymmetrySpec _spec;
    private readonly CompiledFunction[] _functions;
    private readonly int[] _symmetric;
    private readonly bool[] _isSymmetric;
    private readonly int _cpus;
    private readonly int _maskWords;
    private readonly bool _privateCaches;

    // Per function: slot kinds (indexed by slot) and operand kinds (indexed by pc, then depth).
    private readonly SymmetricValueKind[]?[] _slotKinds;
    private readonly SymmetricValueKind[]?[]?[] _operandKinds;

    // Per variable the spec lists: its first word in the vector, words per instance, and what it holds.
    private readonly (int First, int Words, bool Mask, bool PerCpu, SymmetricValueKind Kind)[] _variables;

    // Per CPU: the memory lines that are its copies of percpu lines.
    private readonly int[][] _linesOf;

    // Scratch (PERF: reused; the search canonicalises every successor).
    private readonly int[] _permutation;
    private readonly int[] _inverse;
    private readonly ulong[] _signatures;
    private readonly int[] _order;
    private long[] _out = new long[256];
    private long[] _stack = new long[256];
    private readonly long[] _maskScratch;

    // The parent's copy (SetParent): per CPU where its stack and private cache lie in it, and the part
    // of its signature those regions and its header give, once computed (PERF: a successor differs from
    // its parent in one CPU or two, and that part is most of a signature's cost).
    private long[] _parent = new long[256];
    private bool _hasParent;
    private readonly int[] _parentStack;
    private readonly int[] _parentStackWords;
    private readonly int[] _parentCache;
    private readonly ulong[] _parentPart;
    private readonly bool[] _parentPartKnown;

    /// <summary>Prepares the reduction; throws when the specification may not be used.</summary>
    public StateSymmetry(MachineLayout layout)
    {
        _layout = layout;
        _shape = layout.State;
        _spec = layout.Program.Symmetry;
        if (!_spec.IsUsable)
        {
            throw new InvalidOperationException($"symmetry cannot be used: {_spec.UnusableReason ?? "fewer than two CPUs"}");
        }
        _functions = [.. layout.Program.Functions];
        _cpus = layout.Cpus;
        _maskWords = layout.CpumaskWords;
        _privateCaches = layout.CacheCount == _cpus && _cpus > 1;
        _symmetric = [.. _spec.Cpus];
        _isSymmetric = new bool[_cpus];
        foreach (var cpu in _symmetric)
        {
            _isSymmetric[cpu] = true;
        }
        _slotKinds = new SymmetricValueKind[]?[_functions.Length];
        foreach (var slot in _spec.Slots)
        {
            var kinds = _slotKinds[slot.Function] ??= new SymmetricValueKind[_functions[slot.Function].SlotCount];
            for (var w = 0; w < slot.Words; w++)
            {
                kinds[slot.Slot + w] = slot.Words > 1 ? SymmetricValueKind.Cpumask : slot.Value;
            }
        }
        _operandKinds = new SymmetricValueKind[]?[]?[_functions.Length];
        foreach (var operand in _spec.Operands)
        {
            var byPc = _operandKinds[operand.Function] ??= new SymmetricValueKind[]?[_functions[operand.Function].Code.Length];
            var kinds = byPc[operand.Pc];
            if (kinds is null || kinds.Length <= operand.Depth)
            {
                var grown = new SymmetricValueKind[operand.Depth + 1];
                kinds?.CopyTo(grown, 0);
                byPc[operand.Pc] = kinds = grown;
            }
            kinds[operand.Depth] = operand.Value;
        }
        _variables = [.. _spec.Variables.Select(v =>
        {
            var compiled = layout.Program.Variables[v.Variable];
            return (_shape.Variables + layout.VariableOffsets[v.Variable], layout.WordsPerInstance(compiled), compiled.IsMask, v.PerCpuInstances, v.Value);
        })];
        _linesOf = new int[_cpus][];
        for (var c = 0; c < _cpus; c++)
        {
            var cpu = c;
            _linesOf[c] = [.. Enumerable.Range(0, _spec.LineCpu.Length).Where(line => _spec.LineCpu[line] == cpu)];
        }
        _permutation = new int[_cpus];
        _inverse = new int[_cpus];
        _signatures = new ulong[_cpus];
        _order = new int[_symmetric.Length];
        _maskScratch = new long[_maskWords];
        _parentStack = new int[_cpus];
        _parentStackWords = new int[_cpus];
        _parentCache = new int[_cpus];
        _parentPart = new ulong[_cpus];
        _parentPartKnown = new bool[_cpus];
    }

    /// <summary>
    /// Tells the reduction which state the next <see cref="Canonicalize"/> calls canonicalise successors
    /// of: a CPU whose header, stack and private cache are word for word the parent's reuses the part of
    /// its signature they give. Only speed depends on it: the regions are compared with a copy of the
    /// parent taken here, so any state may be canonicalised afterwards, and the representative is the
    /// one <see cref="Canonicalize"/> gives without a parent.
    /// </summary>
    public void SetParent(MachineState parent)
    {
        var words = parent.Span;
        if (_parent.Length < words.Length)
        {
            _parent = new long[words.Length * 2];
        }
        words.CopyTo(_parent);
        foreach (var cpu in _symmetric)
        {
            _parentStack[cpu] = parent.StackStart(cpu);
            _parentStackWords[cpu] = parent.Cpus[cpu].StackWords;
            _parentCache[cpu] = _privateCaches ? parent.CacheStart(cpu) : 0;
            _parentPartKnown[cpu] = false;
        }
        _hasParent = true;
    }

    /// <summary>Forgets the parent (<see cref="SetParent"/>).</summary>
    public void ClearParent() => _hasParent = false;

    /// <summary>The symmetric CPUs.</summary>
    public IReadOnlyList<int> Cpus => _symmetric;

    /// <summary>
    /// The representative of <paramref name="state"/>'s orbit: its vector with the symmetric CPUs sorted
    /// by signature. The span is valid until the next call (it may be the state's own vector).
    /// </summary>
    public ReadOnlySpan<long> Canonicalize(MachineState state)
    {
        for (var i = 0; i < _symmetric.Length; i++)
        {
            _signatures[_symmetric[i]] = Signature(state, _symmetric[i]);
            _order[i] = _symmetric[i];
        }
        // Insertion sort by (signature, id): a handful of CPUs.
        for (var i = 1; i < _order.Length; i++)
        {
            var cpu = _order[i];
            var j = i - 1;
            while (j >= 0 && _signatures[_order[j]] > _signatures[cpu])
            {
                _order[j + 1] = _order[j];
                j--;
            }
            _order[j + 1] = cpu;
        }
        var identity = true;
        for (var c = 0; c < _cpus; c++)
        {
            _permutation[c] = c;
        }
        for (var i = 0; i < _order.Length; i++)
        {
            // The CPU with the i-th smallest signature becomes the i-th symmetric id.
            _permutation[_order[i]] = _symmetric[i];
            identity &= _order[i] == _symmetric[i];
        }
        LastWasIdentity = identity;
        if (identity)
        {
            return state.Span;
        }
        var length = Permute(state, _permutation);
        return new ReadOnlySpan<long>(_out, 0, length);
    }

    /// <summary>Whether the last <see cref="Canonicalize"/> returned the state's own vector (its fingerprint is then
    /// the representative's).</summary>
    public bool LastWasIdentity { get; private set; }

    /// <summary>The permutation the last <see cref="Canonicalize"/> applied (old CPU → new CPU).</summary>
    public ReadOnlySpan<int> LastPermutation => _permutation;

    /// <summary>Writes π(<paramref name="state"/>) into <paramref name="target"/>.</summary>
    /// <param name="permutation">Indexed by CPU: where each CPU goes (the identity outside the symmetric set).</param>
    public void Permute(MachineState state, ReadOnlySpan<int> permutation, MachineState target)
    {
        var length = Permute(state, permutation);
        target.Decode(new ReadOnlySpan<long>(_out, 0, length));
    }

    // ───────────────────────────── Permuting ─────────────────────────────

    private int Permute(MachineState state, ReadOnlySpan<int> permutation)
    {
        var source = state.Span;
        if (_out.Length < source.Length)
        {
            _out = new long[source.Length * 2];
        }
        var output = _out;
        for (var c = 0; c < _cpus; c++)
        {
            _inverse[permutation[c]] = c;
        }
        // The fixed part as it is, then every moved or mapped place over it.
        source[.._shape.FixedWords].CopyTo(output);

        foreach (var (first, words, mask, perCpu, kind) in _variables)
        {
            if (!perCpu && kind == SymmetricValueKind.None)
            {
                continue; // copied with the fixed part, and nothing in it names a CPU
            }
            if (perCpu)
            {
                for (var c = 0; c < _cpus; c++)
                {
                    var from = first + (c * words);
                    var to = first + (permutation[c] * words);
                    MapValue(source.Slice(from, words), output.AsSpan(to, words), kind, mask, permutation);
                }
            }
            else
            {
                MapValue(source.Slice(first, words), output.AsSpan(first, words), kind, mask, permutation);
            }
        }

        foreach (var c in _symmetric)
        {
            if (permutation[c] == c)
            {
                continue;
            }
            foreach (var line in _linesOf[c])
            {
                source.Slice(_shape.Lines + (line * StateLayout.LineWords), StateLayout.LineWords)
                    .CopyTo(output.AsSpan(_shape.Lines + (_spec.MapLine(line, permutation) * StateLayout.LineWords)));
            }
        }

        for (var c = 0; c < _cpus; c++)
        {
            var from = _shape.CpuHeader(c);
            var to = _shape.CpuHeader(permutation[c]);
            if (from != to)
            {
                source.Slice(from, StateLayout.CpuHeaderWords).CopyTo(output.AsSpan(to)); // else copied with the fixed part
            }
            var head = source[from + CpuState.HeadWord];
            var monitor = (int)((head >> 32) & 0xFFFF_FFFF) - 1;
            if (monitor >= 0)
            {
                output[to + CpuState.HeadWord] = (head & 0xFFFF_FFFFL) | ((long)(_spec.MapLine(monitor, permutation) + 1) << 32);
            }
        }

        // Stacks, in the new CPU order.
        var at = _shape.FixedWords;
        for (var n = 0; n < _cpus; n++)
        {
            var c = _inverse[n];
            var start = state.StackStart(c);
            var words = state.Cpus[c].StackWords;
            source.Slice(start, words).CopyTo(output.AsSpan(at));
            MapStack(state.Cpus[c], output.AsSpan(at, words), permutation);
            at += words;
        }

        // Caches: a private one moves with its CPU; every tag's line is mapped, and the entries are sorted
        // again only when a line moved (insertion sort: a cache holds a few lines, nearly in order).
        const long DirtyBit = 1L << 62;
        for (var n = 0; n < _shape.CacheCount; n++)
        {
            var from = state.CacheStart(_privateCaches ? _inverse[n] : n);
            var count = (int)source[from];
            output[at++] = count;
            var first = at;
            var moved = false;
            for (var i = 0; i < count; i++)
            {
                var word = source[from + 1 + (2 * i)];
                var line = CacheEntry.LineOf(word & ~DirtyBit);
                var mapped = _spec.MapLine(line, permutation);
                if (mapped != line)
                {
                    moved = true;
                    word = (word & (DirtyBit | 0xFF_FFFF)) | ((long)mapped << 24);
                }
                output[at++] = word;
                output[at++] = source[from + 2 + (2 * i)];
            }
            if (moved)
            {
                for (var i = 1; i < count; i++)
                {
                    var tag = output[first + (2 * i)];
                    var value = output[first + (2 * i) + 1];
                    var j = i - 1;
                    while (j >= 0 && (output[first + (2 * j)] & ~DirtyBit) > (tag & ~DirtyBit))
                    {
                        output[first + (2 * j) + 2] = output[first + (2 * j)];
                        output[first + (2 * j) + 3] = output[first + (2 * j) + 1];
                        j--;
                    }
                    output[first + (2 * j) + 2] = tag;
                    output[first + (2 * j) + 3] = value;
                }
            }
        }
        return at;
    }

    /// <summary>Maps one CPU's stack in place: frame slots, saved fetches, operands (split into the frames'
    /// parts by the static depths), deferred fetches.</summary>
    private void MapStack(CpuState cpu, Span<long> stack, ReadOnlySpan<int> permutation) => MapStack(cpu, stack, permutation, -1);

    /// <param name="relativeTo">-1: map through <paramref name="permutation"/>; a CPU: rewrite every CPU datum
    /// as that CPU sees it (itself, another symmetric CPU, or a fixed value), for its signature.</param>
    private void MapStack(CpuState cpu, Span<long> stack, ReadOnlySpan<int> permutation, int relativeTo)
    {
        var depth = cpu.Depth;
        var frameWords = cpu.FrameWords;
        var operands = cpu.OperandCount;
        var operandBase = frameWords;
        var offset = 0;
        for (var d = 0; d < depth; d++)
        {
            var function = (int)(stack[offset] & 0xFFFF_FFFF);
            var pc = (int)stack[offset + 1];
            var compiled = _functions[function];
            var saved = stack[offset + 2];
            if (saved != 0)
            {
                long mapped = 0;
                for (var i = 0; i < 3; i++)
                {
                    var line = (int)((saved >> (21 * i)) & 0x1F_FFFF) - 1;
                    if (line >= 0)
                    {
                        mapped |= (long)((relativeTo < 0 ? _spec.MapLine(line, permutation) : RelativeLine(line, relativeTo) & 0xFFFFF) + 1) << (21 * i);
                    }
                }
                stack[offset + 2] = mapped;
            }
            if (_slotKinds[function] is { } slotKinds)
            {
                var slots = stack.Slice(offset + Machine.FrameHeaderWords, compiled.SlotCount);
                for (var s = 0; s < slotKinds.Length; s++)
                {
                    if (slotKinds[s] == SymmetricValueKind.Cpumask)
                    {
                        var words = 1;
                        while (s + words < slotKinds.Length && slotKinds[s + words] == SymmetricValueKind.Cpumask && words < _maskWords)
                        {
                            words++;
                        }
                        if (relativeTo < 0)
                        {
                            MapMask(slots.Slice(s, words), permutation);
                        }
                        else
                        {
                            RelativeMask(slots.Slice(s, words), relativeTo);
                        }
                        s += words - 1;
                    }
                    else if (slotKinds[s] != SymmetricValueKind.None)
                    {
                        slots[s] = relativeTo < 0 ? MapScalar(slots[s], slotKinds[s], permutation) : RelativeValue(slots[s], slotKinds[s], relativeTo);
                    }
                }
            }
            var size = Machine.FrameHeaderWords + compiled.SlotCount;
            // This frame's part of the operand stack: all that is left for the top frame; for a frame
            // below, the depth at its resumption point, less the value its callee will return.
            int own;
            if (d == depth - 1)
            {
                own = frameWords + operands - operandBase;
            }
            else
            {
                var above = offset + size;
                var calleeKind = (FrameKind)((stack[above] >> 32) & 0xF);
                var callee = _functions[(int)(stack[above] & 0xFFFF_FFFF)];
                own = _spec.OperandDepths[function]![pc] - (calleeKind == FrameKind.Call && callee.ReturnsValue ? 1 : 0);
            }
            if (own > 0 && _operandKinds[function]?[pc] is { } kinds)
            {
                for (var k = 0; k < own && k < kinds.Length; k++)
                {
                    if (kinds[k] != SymmetricValueKind.None)
                    {
                        stack[operandBase + k] = relativeTo < 0 ? MapScalar(stack[operandBase + k], kinds[k], permutation) : RelativeValue(stack[operandBase + k], kinds[k], relativeTo);
                    }
                }
            }
            operandBase += own;
            offset += size;
        }
        var fetches = stack[(frameWords + operands)..];
        for (var i = 0; i < fetches.Length; i++)
        {
            fetches[i] = relativeTo < 0 ? _spec.MapLine((int)fetches[i], permutation) : RelativeLine((int)fetches[i], relativeTo);
        }
    }

    private void MapValue(ReadOnlySpan<long> from, Span<long> to, SymmetricValueKind kind, bool mask, ReadOnlySpan<int> permutation)
    {
        from.CopyTo(to);
        if (kind == SymmetricValueKind.None)
        {
            return;
        }
        if (mask)
        {
            MapMask(to, permutation);
            return;
        }
        to[0] = MapScalar(to[0], kind, permutation);
    }

    /// <summary>Whether a stack may hold a CPU datum: a frame of a function with CPU-data slots or operands,
    /// saved fetches, or deferred fetches (PERF: most stacks hold none and are hashed in place).</summary>
    private bool HoldsCpuData(CpuState cpu, ReadOnlySpan<long> stack)
    {
        if (cpu.FetchCount > 0)
        {
            return true;
        }
        var offset = 0;
        for (var d = 0; d < cpu.Depth; d++)
        {
            var function = (int)(stack[offset] & 0xFFFF_FFFF);
            if (_slotKinds[function] is not null || _operandKinds[function] is not null || stack[offset + 2] != 0)
            {
                return true;
            }
            offset += Machine.FrameHeaderWords + _functions[function].SlotCount;
        }
        return false;
    }

    /// <summary>A cpumask as <paramref name="cpu"/> sees it: whether it holds it, and how many CPUs it holds.</summary>
    private static void RelativeMask(Span<long> mask, int cpu)
    {
        var self = (mask[cpu >> 6] >> (cpu & 63)) & 1;
        var count = PopCount(mask);
        mask.Clear();
        mask[0] = self | (count << 1);
    }

    /// <summary>A scalar as <paramref name="cpu"/> sees it (<see cref="MapScalar"/>'s cases).</summary>
    private long RelativeValue(long value, SymmetricValueKind kind, int cpu)
    {
        if ((kind & SymmetricValueKind.PlaceReference) != 0 && PlaceRef.Kind(value) != 0)
        {
            return PlaceRef.Kind(value) != PlaceRef.GlobalKind ? value
                : (value & ~(0xFFFFL << 32)) | ((RelativeScalar(PlaceRef.Cpu(value), SymmetricValueKind.CpuId, cpu) & 0xFFFF) << 32);
        }
        if ((kind & SymmetricValueKind.PerCpuLine) != 0 && (kind & SymmetricValueKind.CpuId) == 0)
        {
            var line = (int)(value & 0xFFFF_FFFF);
            return line >= 0 && line < _spec.LineCpu.Length ? (value & ~0xFFFF_FFFFL) | (uint)RelativeLine(line, cpu) : value;
        }
        return (kind & SymmetricValueKind.CpuId) != 0 ? RelativeScalar(value, SymmetricValueKind.CpuId, cpu) : value;
    }

    private void MapMask(Span<long> mask, ReadOnlySpan<int> permutation)
    {
        var result = _maskScratch.AsSpan(0, mask.Length);
        result.Clear();
        for (var w = 0; w < mask.Length; w++)
        {
            var bits = (ulong)mask[w];
            while (bits != 0)
            {
                var cpu = (w << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                var mapped = cpu < _cpus ? permutation[cpu] : cpu;
                result[mapped >> 6] |= 1L << (mapped & 63);
            }
        }
        result.CopyTo(mask);
    }

    /// <summary>One scalar through the permutation, by what its place may hold (docs/symmetry.md).</summary>
    private long MapScalar(long value, SymmetricValueKind kind, ReadOnlySpan<int> permutation)
    {
        if ((kind & SymmetricValueKind.PlaceReference) != 0 && PlaceRef.Kind(value) != 0)
        {
            if (PlaceRef.Kind(value) != PlaceRef.GlobalKind)
            {
                return value;
            }
            var cpu = PlaceRef.Cpu(value);
            return cpu < _cpus ? (value & ~(0xFFFFL << 32)) | ((long)(permutation[cpu] & 0xFFFF) << 32) : value;
        }
        if ((kind & SymmetricValueKind.PerCpuLine) != 0 && (kind & SymmetricValueKind.CpuId) == 0)
        {
            var line = (int)(value & 0xFFFF_FFFF);
            return line >= 0 && line < _spec.LineCpu.Length ? (value & ~0xFFFF_FFFFL) | (uint)_spec.MapLine(line, permutation) : value;
        }
        if ((kind & SymmetricValueKind.CpuId) != 0)
        {
            return SymmetrySpec.MapCpu(value, permutation);
        }
        return value;
    }

    // ───────────────────────────── Signatures ─────────────────────────────

    /// <summary>What CPU <paramref name="cpu"/> is, in terms no permutation changes: the same for two CPUs in
    /// the same situation.</summary>
    /// <summary>Whether <paramref name="cpu"/>'s header, stack and private cache are the parent's, word for word.</summary>
    private bool SameOwnRegionsAsParent(MachineState state, int cpu)
    {
        var words = state.Span;
        var parent = _parent.AsSpan();
        var header = _shape.CpuHeader(cpu);
        if (!words.Slice(header, StateLayout.CpuHeaderWords).SequenceEqual(parent.Slice(header, StateLayout.CpuHeaderWords)))
        {
            return false;
        }
        var stackWords = state.Cpus[cpu].StackWords;
        if (stackWords != _parentStackWords[cpu]
            || !words.Slice(state.StackStart(cpu), stackWords).SequenceEqual(parent.Slice(_parentStack[cpu], stackWords)))
        {
            return false;
        }
        if (_privateCaches)
        {
            var from = state.CacheStart(cpu);
            var count = words[from];
            if (count != parent[_parentCache[cpu]])
            {
                return false;
            }
            var length = 1 + (2 * (int)count);
            return words.Slice(from, length).SequenceEqual(parent.Slice(_parentCache[cpu], length));
        }
        return true;
    }

    /// <summary>The part of a signature a CPU's header, stack and private cache give.</summary>
    private ulong OwnPart(MachineState state, int cpu)
    {
        var header = _shape.CpuHeader(cpu);
        var words = state.Span;
        var head = words[header + CpuState.HeadWord];
        var monitor = (int)((head >> 32) & 0xFFFF_FFFF) - 1;
        var h = Mix((ulong)((head & 0xFFFF_FFFFL) ^ ((long)RelativeLine(monitor, cpu) << 32)));
        for (var w = 1; w < StateLayout.CpuHeaderWords; w++)
        {
            h = Mix(h ^ (ulong)words[header + w]);
        }
        // The stack: frames and operands as they are, deferred fetches relative to this CPU.
        var cpuState = state.Cpus[cpu];
        var start = state.StackStart(cpu);
        var stackWords = cpuState.StackWords;
        if (_stack.Length < stackWords)
        {
            _stack = new long[stackWords * 2];
        }
        var original = words.Slice(start, stackWords);
        if (HoldsCpuData(cpuState, original))
        {
            var stack = _stack.AsSpan(0, stackWords);
            original.CopyTo(stack);
            MapStack(cpuState, stack, default, cpu);
            h ^= XxHash3.HashToUInt64(MemoryMarshal.AsBytes(stack));
        }
        else
        {
            h ^= XxHash3.HashToUInt64(MemoryMarshal.AsBytes(original));
        }
        if (_privateCaches)
        {
            var cache = state.Caches[cpu];
            ulong entries = 0;
            for (var i = 0; i < cache.Count; i++)
            {
                var entry = cache[i];
                // Order-free: a sum of mixed entries (relative lines may sort differently).
                entries += Mix(((ulong)RelativeLine(entry.Line, cpu) << 24) ^ (ulong)entry.Key ^ (entry.Dirty ? 1UL << 62 : 0) ^ Mix((ulong)entry.Value));
            }
            h = Mix(h ^ entries);
        }
        return h;
    }

    private ulong Signature(MachineState state, int cpu)
    {
        ulong h;
        if (_hasParent && SameOwnRegionsAsParent(state, cpu))
        {
            if (!_parentPartKnown[cpu])
            {
                _parentPart[cpu] = OwnPart(state, cpu);
                _parentPartKnown[cpu] = true;
            }
            h = _parentPart[cpu];
        }
        else
        {
            h = OwnPart(state, cpu);
        }
        var words = state.Span;
        foreach (var (first, size, mask, perCpu, kind) in _variables)
        {
            long feature;
            if (perCpu)
            {
                var instance = words.Slice(first + (cpu * size), size);
                feature = mask ? ((instance[cpu >> 6] >> (cpu & 63)) & 1) | (PopCount(instance) << 1) : RelativeScalar(instance[0], kind, cpu);
            }
            else if (mask && kind != SymmetricValueKind.None)
            {
                feature = (words[first + (cpu >> 6)] >> (cpu & 63)) & 1;
            }
            else if ((kind & SymmetricValueKind.CpuId) != 0)
            {
                feature = words[first] == cpu ? 1 : 0;
            }
            else
            {
                continue;
            }
            h = Mix(h ^ (ulong)feature);
        }
        foreach (var line in _linesOf[cpu])
        {
            var at = _shape.Lines + (line * StateLayout.LineWords);
            h = Mix(h ^ (ulong)words[at]) ^ Mix((ulong)words[at + 1] + 0x9E37) ^ Mix((ulong)words[at + 2] + 0x7F4A);
        }
        return h;
    }

    private long RelativeScalar(long value, SymmetricValueKind kind, int cpu)
    {
        if (kind == SymmetricValueKind.CpuId)
        {
            return value == cpu ? -1000 : value >= 0 && value < _cpus && _isSymmetric[value] ? -1001 : value;
        }
        return kind == SymmetricValueKind.None ? value : 0;
    }

    private static long PopCount(ReadOnlySpan<long> mask)
    {
        long count = 0;
        foreach (var word in mask)
        {
            count += BitOperations.PopCount((ulong)word);
        }
        return count;
    }

    /// <summary>A line as this CPU sees it: its own copy of a percpu line by offset, another symmetric CPU's
    /// copy as one mark, a shared line by id.</summary>
    private int RelativeLine(int line, int cpu)
    {
        if (line < 0 || line >= _spec.LineCpu.Length)
        {
            return line;
        }
        var owner = _spec.LineCpu[line];
        if (owner < 0 || !_isSymmetric[owner])
        {
            return line;
        }
        var offset = line - (owner * _spec.LineStride[line]);
        return owner == cpu ? (1 << 29) | offset : (1 << 30) | offset;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        x ^= x >> 33;
        return x;
    }
}
