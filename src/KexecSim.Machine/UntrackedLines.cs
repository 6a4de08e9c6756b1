using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>
/// The semantics-aware reduction of cache state (<c>check --reduce all</c>; docs/reduction.md, "Lines whose
/// cache state is not tracked"): the memory lines whose cache entries no check can observe, decided once
/// per program by a static analysis of its compiled code. The machine built with them does not keep their
/// entries: a variable access to such a line changes the variable (and wakes its monitors) but puts or
/// takes nothing in any cache. What the full machine would do differently is only a write-back (or
/// eviction) of such an entry, which changes nothing anyone can see: the line's memory keeps the value
/// token and key it started with, because
/// <list type="number">
/// <item>only variables live on it, and a variable access stores <c>OLD_CONTENT</c> under the old kernel's
/// key, which is the line's initial key (rule <see cref="Rule.InitialKey"/>);</item>
/// <item>no code names the line as a value (a region expression, <c>for_each_line</c>, a line-typed
/// variable's initialiser, the stack or <c>next_kernel</c> region; and the first line, line 0, when code
/// takes lines and some line value may be one nobody assigned, which is 0), so no load, store, partial or direct
/// write, flush, DMA or clobber reaches it, and nothing reads its memory (<see cref="Rule.Named"/>);</item>
/// <item>no code lives on it, so no fetch looks at it (<see cref="Rule.Code"/>);</item>
/// <item>no code the next kernel may run touches its variables, so its key never changes and the end-of-run
/// CORRUPTION check never looks at it (<see cref="Rule.NextKernel"/>);</item>
/// <item>evictions are on, so a finished run whose only dirty lines are such lines reaches, by evictions
/// alone, the settled state the reduced machine is in (<see cref="Rule.Evictions"/>); after
/// <c>platform_reset()</c> nothing moves any more, and both machines are in a terminal state whose
/// <c>final</c> values are the same.</item>
/// </list>
/// The lines left out only make WBINVDs shorter (fewer write-back steps, the same IN_WBINVD window) and
/// remove evictions that change nothing: the explorers turn a reduced path back into a run of the full
/// machine by putting those write-backs in (<c>UntrackedTraces</c>).
/// </summary>
public sealed class UntrackedLines
{
    /// <summary>Why a line's cache state is tracked (the first rule that keeps it), or that it is not.</summary>
    public enum Rule
    {
        /// <summary>Not tracked: no check can observe its cache entries.</summary>
        Untracked,

        /// <summary>No variable lives on the line, so it enters a cache only when code names it (nothing to drop).</summary>
        NoVariable,

        /// <summary>The platform has <c>evictions off</c>: a dirty line then stays dirty until a WBINVD, and a
        /// finished run is settled (SEMANTICS.md section 8) only when none is left.</summary>
        Evictions,

        /// <summary>A region the line belongs to is named as a value (<c>text[0]</c>, <c>for_each_line</c>, a
        /// line variable's initialiser), or is the stack or the <c>next_kernel</c> region.</summary>
        Named,

        /// <summary>Code lives on the line (it is fetched).</summary>
        Code,

        /// <summary>The line's initial key is not the old kernel's key (variable accesses would change it).</summary>
        InitialKey,

        /// <summary>A variable on the line may be accessed by code the next kernel runs (a function passed as a
        /// value, such as <c>boot_next_kernel</c>'s, or a handler, and what they call).</summary>
        NextKernel,
    }

    private readonly bool[] _untracked;
    private readonly Rule[] _rules;

    /// <summary>Analyses <paramref name="program"/>.</summary>
    public UntrackedLines(CompiledProgram program)
    {
        var lines = program.Lines.Count;
        _rules = new Rule[lines];
        _untracked = new bool[lines];
        Array.Fill(_rules, Rule.NoVariable);
        foreach (var variable in program.Variables)
        {
            foreach (var line in variable.HomeLinePerCpu)
            {
                _rules[line] = Rule.Untracked;
            }
        }
        var oldKey = program.Platform.SmeActive ? BuiltinValues.KeySme : BuiltinValues.KeyNone;
        var named = NamedRegions(program);
        var code = new HashSet<int>(program.Functions.SelectMany(f => f.HomeLinePerCpu));
        var nextKernelVariables = NextKernelVariables(program);
        var nextKernelLines = new HashSet<int>(nextKernelVariables.SelectMany(v => program.Variables[v].HomeLinePerCpu));
        var namedLines = new HashSet<int>(named.SelectMany(r => program.Regions[r].Lines));
        if (program.MayHoldUnassignedLine && TakesLines(program.LiveIntrinsics))
        {
            // A line value nobody assigned (a line local, a missing return) is 0: the first line.
            namedLines.Add(0);
        }
        for (var line = 0; line < lines; line++)
        {
            if (_rules[line] != Rule.Untracked)
            {
                continue;
            }
            _rules[line] =
                !program.Platform.Evictions ? Rule.Evictions
                : namedLines.Contains(line) ? Rule.Named
                : code.Contains(line) ? Rule.Code
                : program.Lines[line].InitialKey != oldKey ? Rule.InitialKey
                : nextKernelLines.Contains(line) ? Rule.NextKernel
                : Rule.Untracked;
            _untracked[line] = _rules[line] == Rule.Untracked;
        }
        Lines = Enumerable.Range(0, lines).Where(l => _untracked[l]).ToArray();
    }

    /// <summary>The untracked lines, by id.</summary>
    public IReadOnlyList<int> Lines { get; }

    public int Count => Lines.Count;

    /// <summary>PERF: indexed by line in the machine's variable accesses.</summary>
    internal bool[] Mask => _untracked;

    public bool IsUntracked(int line) => _untracked[line];

    /// <summary>Why <paramref name="line"/>'s cache state is tracked, or <see cref="Rule.Untracked"/>.</summary>
    public Rule RuleFor(int line) => _rules[line];

    /// <summary>The regions whose lines code can name as values: operands of the region-line instructions,
    /// line variables' initialisers, the stack and the <c>next_kernel</c> regions.</summary>
    private static HashSet<int> NamedRegions(CompiledProgram program)
    {
        var named = new HashSet<int>();
        foreach (var function in program.Functions)
        {
            foreach (var instruction in function.Code)
            {
                if (instruction.Op is OpCode.RegionLine or OpCode.RegionLineOf or OpCode.RegionLineAt)
                {
                    named.Add(instruction.A);
                }
            }
        }
        foreach (var variable in program.Variables)
        {
            if (variable.TypeName == "line")
            {
                var region = (int)(variable.InitialValue >> 32);
                if (region >= 0 && region < program.Regions.Count)
                {
                    named.Add(region);
                }
            }
        }
        if (program.StackRegion >= 0)
        {
            named.Add(program.StackRegion);
        }
        if (program.NextKernelRegion >= 0)
        {
            named.Add(program.NextKernelRegion);
        }
        return named;
    }

    /// <summary>Whether any code that can run takes a line as an argument (load, store, movnti, movdir64b, clflush, dma_write).</summary>
    private static bool TakesLines(IReadOnlySet<IntrinsicId> live) =>
        live.Contains(IntrinsicId.Load) || live.Contains(IntrinsicId.Store) || live.Contains(IntrinsicId.Movnti)
        || live.Contains(IntrinsicId.Movdir64b) || live.Contains(IntrinsicId.Clflush) || live.Contains(IntrinsicId.DmaWrite);

    /// <summary>The variables that code the next kernel may run accesses (none when nothing boots it):
    /// from every function named as a value and every handler, through calls.</summary>
    private static HashSet<int> NextKernelVariables(CompiledProgram program)
    {
        var variables = new HashSet<int>();
        if (!program.LiveIntrinsics.Contains(IntrinsicId.BootNextKernel))
        {
            return variables;
        }
        var roots = new List<int>(program.FunctionValues);
        roots.AddRange(program.VectorHandlers.Values);
        roots.AddRange(program.Functions.Where(f => f.Handler is not null).Select(f => f.Id));
        if (program.NmiHandler >= 0)
        {
            roots.Add(program.NmiHandler);
        }
        if (program.MceHandler >= 0)
        {
            roots.Add(program.MceHandler);
        }
        var seen = new HashSet<int>();
        var work = new Stack<int>(roots);
        while (work.TryPop(out var function))
        {
            if (!seen.Add(function))
            {
                continue;
            }
            foreach (var instruction in program.Functions[function].Code)
            {
                switch (instruction.Op)
                {
                    case OpCode.Call:
                        work.Push(instruction.A);
                        break;
                    case OpCode.LoadVar or OpCode.LoadVarOf or OpCode.StoreVar or OpCode.StoreVarOf or OpCode.PushVarRef or OpCode.PushVarRefOf:
                        variables.Add(instruction.A);
                        break;
                }
            }
        }
        return variables;
    }
}
