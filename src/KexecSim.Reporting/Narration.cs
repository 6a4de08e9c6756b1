using System.Globalization;
using System.Text;
using KexecSim.Exploration;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// The narration table: every sentence a report says about a violation (<see cref="Violation"/>, by its
/// <see cref="ViolationReason"/>), about what a step does (<see cref="StepAction"/>) or about what it did
/// (<see cref="StepEvent"/>). The machine and the explorer yield data only; the words live here, once, in
/// the model's names.
/// </summary>
public sealed class Narration
{
    private readonly CompiledProgram _program;
    private readonly MachineLayout _layout;

    public Narration(CompiledProgram program)
    {
        _program = program;
        _layout = new MachineLayout(program);
    }

    /// <summary>The rule a violation broke, in the user's words.</summary>
    public string Text(Violation v) => v.Reason switch
    {
        ViolationReason.FetchedClobbered => $"CPU {v.Cpu} fetched {Line(v.Line)} after {Clobberer(v.Other, v.Region)} overwrote it",
        ViolationReason.UsedClobbered => $"CPU {v.Cpu} used '{VariableName(v.Variable, v.Number)}' on {Line(v.Line)} after {Clobberer(v.Other, v.Region)} overwrote it",
        ViolationReason.StaleRead =>
            $"CPU {v.Cpu} (next kernel) read {BuiltinValues.FormatValue(v.Value)} from {Line(v.Line)} with {BuiltinValues.FormatKey(v.Key)}, "
            + $"but {BuiltinValues.FormatValue(v.ExpectedValue)} was written there with {BuiltinValues.FormatKey(v.ExpectedKey)}: a stale line of the old kernel was written back over it",
        ViolationReason.StaleAtEnd =>
            $"{Line(v.Line)} holds {(v.Flag ? "poison" : $"{BuiltinValues.FormatValue(v.Value)} written with {BuiltinValues.FormatKey(v.Key)}")} at the end of the run, "
            + $"but the next kernel's {BuiltinValues.FormatValue(v.ExpectedValue)} was written there with {BuiltinValues.FormatKey(v.ExpectedKey)}: a stale line of the old kernel was written back over it",
        ViolationReason.PoisonRead => $"CPU {v.Cpu} read poisoned {Line(v.Line)}: machine check{(v.Code == ViolationCode.TripleFault ? " inside the machine-check handler" : string.Empty)}",
        ViolationReason.MachineCheckInWaitForSipi => $"a machine check reached CPU {v.Cpu} in wait-for-SIPI: it is not contained and takes the machine down",
        ViolationReason.MachineCheckInHandler => $"a machine check reached CPU {v.Cpu} inside its machine-check handler: triple fault",
        ViolationReason.MachineCheckUnhandled => $"a machine check reached CPU {v.Cpu}, which has no handler mce: the machine goes down",
        ViolationReason.WbinvdInGuest =>
            $"CPU {v.Cpu} executed {(v.Flag ? "WBINVD" : "WBNOINVD")} in a confidential guest: {(_layout.HasFeature(PlatformFeatures.TdxGuest) ? "#VE" : "#VC")}",
        ViolationReason.DecommissionedRunningGuest => $"CPU {v.Cpu} decommissioned ASID {v.Number} while CPU {v.Other} was running that guest",
        ViolationReason.InitReachedBootCpu => $"INIT reached CPU {v.Other}, the boot CPU: the whole platform resets",
        ViolationReason.ResetDuringWbinvd => $"CPU {v.Cpu} reset the platform while CPU {v.Other} was still in WBINVD: the platform hangs",
        ViolationReason.Panicked => $"CPU {v.Cpu} panicked: {Format(v.Text, v.Values)}",
        ViolationReason.BugOn => $"CPU {v.Cpu} hit BUG_ON",
        ViolationReason.AssertionFailed => $"assertion failed: {v.Text}",
        ViolationReason.NoCpuCanMove => "no CPU can move and the run has not finished: " + string.Join("; ", v.Cpus.Select(Situation)),
        ViolationReason.CycleRepeats =>
            $"the run never finishes: a cycle of {v.Number} step(s) repeats forever ({(v.Cpus.Count > 0 ? string.Join("; ", v.Cpus.Select(c => $"CPU {c.Cpu} at {c.Location}")) : "no CPU moves")})",
        ViolationReason.NoVisibleAction => $"more than {Machine.Machine.MaxLocalInstructions} instructions without a visible action: a loop that never touches memory",
        ViolationReason.AtomicTooLong => "an atomic block ran too long",
        ViolationReason.WaitTooLong => "a wait condition ran too long",
        ViolationReason.CallTooDeep => $"call depth over {Machine.Machine.MaxFrames}: runaway recursion",
        ViolationReason.DivisionByZero => "division by zero",
        ViolationReason.LineIndexOutOfRange => OutOfRange(_program.Regions[v.Region], v.Number),
        ViolationReason.NoSuchCpu => $"CPU {v.Other} does not exist (CPUs 0..{_layout.Cpus - 1})",
        ViolationReason.InvalidAsid => $"vmrun({v.Number}): an ASID is between 1 and 65535",
        ViolationReason.InvalidOptionCount => $"choose({v.Number}): the number of options must be between 1 and 1000000",
        ViolationReason.UnknownFirmwareCommand => $"sev_cmd({v.Number}): not a firmware command (SNP_INIT, SNP_DECOMMISSION, SNP_DF_FLUSH, SNP_SHUTDOWN_EX)",
        ViolationReason.NotALine => "not a line of any region",
        ViolationReason.ChoiceInInitOrFinal => "init and final blocks cannot make nondeterministic choices",
        ViolationReason.WaitInInitOrFinal => "an init or final block waited for a condition that is false",
        ViolationReason.HaltInInitOrFinal => "an init or final block cannot halt or wait",
        ViolationReason.Recorded => v.Text,
        _ => throw new ArgumentOutOfRangeException(nameof(v), v.Reason, "a violation reason with no sentence"),
    };

    /// <summary>A violation in one line: its code, CPU and place, then the rule ("EXEC_CLOBBERED on CPU 1 at m.kflow:3:5: …").</summary>
    public string Line(Violation v) => v.Location is { } at ? $"{v.Code.Name()} on CPU {v.Cpu} at {at}: {Text(v)}" : $"{v.Code.Name()}: {Text(v)}";

    /// <summary>The line a step's event prints in a trace (pr_err, warnings, INIT, the end of the run), or null for an event that prints nothing.</summary>
    public string? Message(StepEvent stepEvent) => stepEvent switch
    {
        InitHeldPending e => $"CPU {e.Cpu}: INIT to CPU {e.Target} is held pending ({Blocker(e.Blocker)})",
        InitApplied e => $"CPU {e.Cpu}: INIT puts CPU {e.Target} into wait-for-SIPI",
        RunFinished e => e.PlatformReset ? $"CPU {e.Cpu}: platform_reset()" : $"CPU {e.Cpu}: done()",
        MessageLogged e => $"CPU {e.Cpu}: {(e.Level == LogLevel.Error ? "pr_err" : "pr_warn")}: {Format(e.Template, e.Values)}",
        WarningHit e => $"CPU {e.Cpu}: WARNING at {e.Location}",
        NextKernelBooted e => $"CPU {e.Cpu}: boots the next kernel at {_program.Functions[e.Function].Name}()",
        _ => null,
    };

    /// <summary>The lines a step's events print, in order.</summary>
    public IReadOnlyList<string> Messages(IEnumerable<StepEvent> events)
    {
        var messages = new List<string>();
        foreach (var stepEvent in events)
        {
            if (Message(stepEvent) is { } message)
            {
                messages.Add(message);
            }
        }
        return messages;
    }

    /// <summary>The values a step's events showed, in order, each once (a wait that polls a flag reads it once a poll).</summary>
    public IReadOnlyList<StepValue> Values(IEnumerable<StepEvent> events)
    {
        var values = new List<StepValue>();
        var seen = new HashSet<StepValue>();
        foreach (var stepEvent in events)
        {
            if (Value(stepEvent) is { } value && seen.Add(value))
            {
                values.Add(value);
            }
        }
        return values;
    }

    /// <summary>The value an event showed, or null for one that shows none (its words are a <see cref="Message"/> or the step's own).</summary>
    public StepValue? Value(StepEvent stepEvent) => stepEvent switch
    {
        VariableRead e => new StepValue("read", e.Cpu, VariableName(e.Variable, e.Instance), null,
            e.Mask is { } mask ? FormatMask(mask) : FormatTyped(_program.Variables[e.Variable].TypeName, e.Value)),
        VariableWritten e => new StepValue("write", e.Cpu, VariableName(e.Variable, e.Instance),
            e.OldMask is { } oldMask ? FormatMask(oldMask) : FormatTyped(_program.Variables[e.Variable].TypeName, e.Old),
            e.NewMask is { } newMask ? FormatMask(newMask) : FormatTyped(_program.Variables[e.Variable].TypeName, e.New)),
        LocalAssigned e when LocalAt(e.Function, e.Slot) is { TypeName: not "cpumask" } local =>
            new StepValue("local", e.Cpu, local.Name, null, FormatTyped(local.TypeName, e.Value)),
        FunctionCalled e when e.Arguments.Count > 0 => new StepValue("call", e.Cpu, _program.Functions[e.Function].Name, null, Arguments(e)),
        LineAccessed e => new StepValue(e.Access switch
        {
            LineAccess.Load => "load",
            LineAccess.Store => "store",
            LineAccess.Movnti => "movnti",
            LineAccess.Dma => "dma_write",
            LineAccess.Movdir64b => "movdir64b",
            _ => "clflush",
        }, e.Cpu, Entry(e.Line, e.Key), e.OldPoisoned ? "poison" : e.Old is { } old ? BuiltinValues.FormatValue(old) : null,
            e.Access == LineAccess.Clflush ? string.Empty : BuiltinValues.FormatValue(e.Value)),
        LineWrittenBack e => new StepValue("writeback", e.Cache, Entry(e.Line, e.Key), null, BuiltinValues.FormatValue(e.Value)),
        IntrinsicReturned e => new StepValue("result", e.Cpu, Query(e), null, QueryValue(e)),
        FunctionReturned e => new StepValue("return", e.Cpu, _program.Functions[e.Function].Name, null,
            FormatTyped(_program.Functions[e.Function].ReturnTypeName, e.Value)),
        FirmwareCommandRun e => new StepValue("firmware", e.Cpu, $"sev_cmd({FirmwareCommand(e.Command)}, {BuiltinValues.FormatValue(e.Argument)})", null, FirmwareStatus(e.Status)),
        ChoiceTaken e => new StepValue("choice", e.Cpu, "choice", null, string.Create(CultureInfo.InvariantCulture, $"option {e.Choice + 1} of {e.Options}")),
        _ => null,
    };

    /// <summary>A value of a kflow type in the model's words: <c>true</c>, <c>KEY_SME</c>, <c>text[0]</c>, an enum member's name, a number.</summary>
    public string FormatTyped(string typeName, long value) => typeName switch
    {
        "bool" => value != 0 ? "true" : "false",
        "key" => BuiltinValues.FormatKey(value),
        "line" => (int)(uint)value < _program.Lines.Count ? Line((int)(uint)value) : BuiltinValues.FormatValue(value),
        "int" => BuiltinValues.FormatValue(value),
        _ when _program.EnumMembers.TryGetValue(typeName, out var members) && members.TryGetValue(value, out var member) => member,
        _ => BuiltinValues.FormatValue(value),
    };

    /// <summary>A cpumask as the kernel prints one with <c>%*pbl</c>, in braces: <c>{0-2,5}</c>, <c>{}</c>.</summary>
    public string FormatMask(IReadOnlyList<long> words)
    {
        var parts = new List<string>();
        var cpus = _layout.Cpus;
        for (var c = 0; c < cpus; c++)
        {
            if (!Bit(words, c))
            {
                continue;
            }
            var last = c;
            while (last + 1 < cpus && Bit(words, last + 1))
            {
                last++;
            }
            parts.Add(last == c ? c.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{c}-{last}"));
            c = last;
        }
        return "{" + string.Join(",", parts) + "}";

        static bool Bit(IReadOnlyList<long> words, int cpu) => (cpu >> 6) < words.Count && (words[cpu >> 6] & (1L << (cpu & 63))) != 0;
    }

    /// <summary>A firmware command's name (<c>SNP_DF_FLUSH</c>), or its number.</summary>
    public static string FirmwareCommand(long command) => command switch
    {
        BuiltinValues.SnpInit => "SNP_INIT",
        BuiltinValues.SnpDecommission => "SNP_DECOMMISSION",
        BuiltinValues.SnpDfFlush => "SNP_DF_FLUSH",
        BuiltinValues.SnpShutdownEx => "SNP_SHUTDOWN_EX",
        _ => BuiltinValues.FormatValue(command),
    };

    /// <summary>A firmware status word's name (<c>WBINVD_REQUIRED</c>), or its number.</summary>
    public static string FirmwareStatus(long status) => status switch
    {
        BuiltinValues.SevOk => "SEV_OK",
        BuiltinValues.WbinvdRequired => "WBINVD_REQUIRED",
        BuiltinValues.DfflushRequired => "DFFLUSH_REQUIRED",
        BuiltinValues.InvalidGuestState => "INVALID_GUEST_STATE",
        BuiltinValues.InvalidPlatformState => "INVALID_PLATFORM_STATE",
        _ => BuiltinValues.FormatValue(status),
    };

    private LocalInfo? LocalAt(int function, int slot)
    {
        foreach (var local in _program.Functions[function].Locals)
        {
            if (local.Slot == slot)
            {
                return local;
            }
        }
        return null;
    }

    /// <summary>A query as the model wrote it, with its arguments' values: <c>cpuid(0x8000001f)</c>, <c>cpu_has(SME)</c>, <c>cpumask_weight(cpus_stop_mask)</c>.</summary>
    private string Query(IntrinsicReturned e)
    {
        var arguments = e.Intrinsic switch
        {
            IntrinsicId.CpuHas => CpuFeatures.Names[(int)e.Arguments[0]],
            IntrinsicId.CpuHasBug => _program.BugNames[(int)e.Arguments[0]],
            IntrinsicId.Cpuid => BuiltinValues.FormatValue(e.Arguments[0]),
            IntrinsicId.CpumaskTestCpu => $"{BuiltinValues.FormatValue(e.Arguments[0])}, {MaskName(e.Arguments[1])}",
            IntrinsicId.CpumaskEmpty or IntrinsicId.CpumaskWeight or IntrinsicId.CpumaskFirst => MaskName(e.Arguments[0]),
            IntrinsicId.WarnOn => e.Arguments[0] != 0 ? "true" : "false",
            _ => string.Empty,
        };
        return $"{QueryName(e.Intrinsic)}({arguments})";
    }

    /// <summary>The kflow name of an intrinsic <see cref="IntrinsicReturned"/> reports.</summary>
    private static string QueryName(IntrinsicId intrinsic) => intrinsic switch
    {
        IntrinsicId.CpuHas => "cpu_has",
        IntrinsicId.CpuHasBug => "cpu_has_bug",
        IntrinsicId.Cpuid => "cpuid",
        IntrinsicId.KernelKey => "kernel_key",
        IntrinsicId.SnpState => "snp_state",
        IntrinsicId.TdxState => "tdx_state",
        IntrinsicId.CpumaskTestCpu => "cpumask_test_cpu",
        IntrinsicId.CpumaskEmpty => "cpumask_empty",
        IntrinsicId.CpumaskWeight => "cpumask_weight",
        IntrinsicId.CpumaskFirst => "cpumask_first",
        IntrinsicId.WarnOn => "warn_on",
        _ => intrinsic.ToString(),
    };

    /// <summary>A query's value in the words of its return type: a bool, a key, a firmware state's name, a number.</summary>
    private static string QueryValue(IntrinsicReturned e) => e.Intrinsic switch
    {
        IntrinsicId.CpuHas or IntrinsicId.CpuHasBug or IntrinsicId.CpumaskTestCpu or IntrinsicId.CpumaskEmpty or IntrinsicId.WarnOn =>
            e.Value != 0 ? "true" : "false",
        IntrinsicId.KernelKey => BuiltinValues.FormatKey(e.Value),
        IntrinsicId.SnpState => e.Value == 1 ? "SNP_STATE_INIT" : e.Value == 0 ? "SNP_STATE_UNINIT" : BuiltinValues.FormatValue(e.Value),
        IntrinsicId.TdxState => e.Value == 1 ? "TDX_STATE_INIT" : e.Value == 0 ? "TDX_STATE_UNINIT" : BuiltinValues.FormatValue(e.Value),
        IntrinsicId.Cpuid when e.Value is > 9 or < 0 => "0x" + e.Value.ToString("x", CultureInfo.InvariantCulture),
        _ => BuiltinValues.FormatValue(e.Value),
    };

    /// <summary>The cpumask a reference names: a variable (<c>cpus_stop_mask</c>, <c>mask[1]</c>), <c>cpu_all_mask</c> or a local one.</summary>
    private string MaskName(long place) => PlaceRef.Kind(place) switch
    {
        PlaceRef.GlobalKind => VariableName(PlaceRef.Index(place), PlaceRef.Cpu(place)),
        PlaceRef.AllMaskKind => "cpu_all_mask",
        _ => "a local cpumask",
    };

    /// <summary>A call's arguments by parameter name: <c>cpu = 1, l = text[0]</c> (a cpumask parameter: the mask it refers to).</summary>
    private string Arguments(FunctionCalled call)
    {
        var function = _program.Functions[call.Function];
        var parts = new List<string>(call.Arguments.Count);
        for (var i = 0; i < call.Arguments.Count; i++)
        {
            var parameter = LocalAt(call.Function, i);
            var value = call.Arguments[i];
            string text;
            if (i < function.ParameterIsMask.Length && function.ParameterIsMask[i])
            {
                text = MaskName(value);
            }
            else
            {
                text = parameter is null ? BuiltinValues.FormatValue(value) : FormatTyped(parameter.TypeName, value);
            }
            parts.Add(parameter is null ? text : $"{parameter.Name} = {text}");
        }
        return string.Join(", ", parts);
    }

    /// <summary>What a step does, in words ("CPU 1 takes an NMI", "cache 0 evicts text[0] (KEY_NONE)").</summary>
    public string Describe(StepAction action)
    {
        var (subject, predicate) = Sentence(action);
        return subject is null ? predicate : $"{subject} {predicate}";
    }

    /// <summary>
    /// What a step does, without the "CPU n" (or "CPU n's") its lane already says ("takes an NMI", "wait
    /// times out"); a step that is not a CPU's own ("a stray SMI arrives for CPU 1") in full.
    /// </summary>
    public string DescribeInLane(StepAction action) => Sentence(action).Predicate;

    /// <summary>A replay's verdict in words: its message, or the step of the trace that could not be taken.</summary>
    public string ReplayMessage(ReplayResult replay) => replay.Divergence is { } d
        ? $"step {d.Step} diverges: {Describe(d.Action)} is {(d.Blocked ? "blocked" : "not possible")} in this state"
        : replay.Message;

    /// <summary>A step's sentence split into the CPU it is about (null when none leads it) and the rest.</summary>
    private (string? Subject, string Predicate) Sentence(StepAction a)
    {
        if (a.Recorded)
        {
            var t = a.Transition;
            return (null, $"the recorded {t.Kind} (cpu {t.Cpu}, arg {t.Arg}, tag {t.Tag})");
        }
        var cpu = $"CPU {a.Cpu}";
        var cpus = $"CPU {a.Cpu}'s";
        return a.Kind switch
        {
            TransitionKind.Step => (cpu, a.VmExit ? "exits its guest (VMEXIT)" : "steps"),
            TransitionKind.Timeout => (cpus, "wait times out"),
            TransitionKind.Deliver => (cpu, a.Event switch
            {
                EventKind.Vector => $"takes the {InterruptName(a.Vector)} interrupt",
                EventKind.Nmi => "takes an NMI",
                EventKind.Smi => "takes an SMI",
                _ => "takes a machine check",
            }),
            TransitionKind.WbinvdWriteBack => (cpus, $"WBINVD writes back {Entry(a.Line, a.Key)}"),
            TransitionKind.WbinvdFinish => (cpus, "WBINVD completes"),
            TransitionKind.Evict => (null, $"cache {a.Cache} evicts {Entry(a.Line, a.Key)}"),
            TransitionKind.Inject => (null, $"a stray {EventName(a.Event)} arrives for CPU {a.Cpu}"),
            _ => (null, a.Transition.ToString()),
        };
    }

    /// <summary>An injected event's name.</summary>
    private static string EventName(EventKind kind) => kind switch
    {
        EventKind.Vector => "VECTOR",
        EventKind.Nmi => "NMI",
        EventKind.Smi => "SMI",
        _ => "MCE",
    };

    /// <summary>A delivered interrupt's vector as the model names it in its handler (handler vector REBOOT_VECTOR), else its number.</summary>
    private string InterruptName(int index)
    {
        if (index >= _layout.VectorValues.Length)
        {
            return "unhandled";
        }
        var handler = _program.Functions[_layout.VectorHandlerByIndex[index]].Name;
        const string prefix = "handler vector ";
        return handler.StartsWith(prefix, StringComparison.Ordinal) ? handler[prefix.Length..] : $"0x{_layout.VectorValues[index]:x}";
    }

    /// <summary>A cache entry: its line and key ("text[0] (KEY_NONE)").</summary>
    public string Entry(int line, long key) => $"{Line(line)} ({BuiltinValues.FormatKey(key)})";

    /// <summary>A pending-vector index in words: the vector of its handler's declaration.</summary>
    public string VectorName(int index)
    {
        const string prefix = "handler vector ";
        if (index < _layout.VectorHandlerByIndex.Length)
        {
            var name = _program.Functions[_layout.VectorHandlerByIndex[index]].Name;
            return name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : $"vector {_layout.VectorValues[index]}";
        }
        return "a vector with no handler";
    }

    /// <summary>A message with its printf-style values (%d, %x, %u, %s, %llu…).</summary>
    public static string Format(string template, IReadOnlyList<long> values)
    {
        var builder = new StringBuilder();
        var next = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] == '%' && i + 1 < template.Length)
            {
                var j = i + 1;
                while (j < template.Length && "lhz".Contains(template[j], StringComparison.Ordinal))
                {
                    j++;
                }
                if (j < template.Length && "dxuis".Contains(template[j], StringComparison.Ordinal))
                {
                    if (next < values.Count)
                    {
                        var value = values[next++];
                        builder.Append(template[j] == 'x' ? value.ToString("x", CultureInfo.InvariantCulture) : BuiltinValues.FormatValue(value));
                    }
                    i = j;
                    continue;
                }
            }
            builder.Append(template[i]);
        }
        // Values with no placeholder of their own are kept too, in order (nothing a model prints is lost).
        for (var separator = " ["; next < values.Count; separator = ", ")
        {
            builder.Append(separator).Append(BuiltinValues.FormatValue(values[next++]));
            if (next == values.Count)
            {
                builder.Append(']');
            }
        }
        return builder.ToString();
    }

    private string Line(int line) => _layout.LineName(line);

    private string Clobberer(int cpu, int region)
    {
        var who = cpu >= 0 ? $"CPU {cpu}" : "a device";
        return region >= 0 ? $"{who} (through {_layout.RegionName(region)})" : $"{who} (in the next kernel)";
    }

    /// <summary>A variable instance's name: <c>flag</c>, or <c>flag[1]</c> for CPU 1's instance of a percpu one.</summary>
    public string VariableName(int variable, long cpu) =>
        _program.Variables[variable].IsPercpu ? $"{_program.Variables[variable].Name}[{cpu}]" : _program.Variables[variable].Name;

    private static string OutOfRange(CompiledRegion region, long index) =>
        $"{region.Name}[{index}] is out of range: '{region.Name}' has {region.LinesPerInstance} line(s)";

    private static string Blocker(InitBlocker blocker) => blocker switch
    {
        InitBlocker.VmxRoot => "VMX root operation",
        InitBlocker.GifClear => "GIF = 0",
        _ => "it is in WBINVD",
    };

    /// <summary>Where a CPU is, in words: for deadlock reports.</summary>
    private string Situation(CpuSituation cpu)
    {
        var where = cpu.Location is { } at ? $" at {at}" : string.Empty;
        var what = cpu.Mode switch
        {
            CpuMode.Running when cpu.GuestAsid != 0 => $"runs guest ASID {cpu.GuestAsid}",
            CpuMode.Running => "waits" + where,
            CpuMode.Halted => "is halted" + where,
            CpuMode.Mwait => "sleeps in MWAIT" + where,
            CpuMode.WaitForSipi => "is in wait-for-SIPI",
            CpuMode.InWbinvd => "is in WBINVD",
            _ => "has finished",
        };
        return $"CPU {cpu.Cpu} {what}{MaskedPending(cpu)}";
    }

    /// <summary>
    /// The events a CPU holds pending but may not take, in words (" with REBOOT_VECTOR pending and IF = 0"):
    /// a hang whose wake-up is masked (every CPU starts with IF = 0, SEMANTICS.md section 1).
    /// </summary>
    private string MaskedPending(CpuSituation cpu)
    {
        if (cpu.Mode is CpuMode.Finished)
        {
            return string.Empty;
        }
        var parts = new List<string>();
        var gifClear = (cpu.Flags & CpuFlags.GifClear) != 0;
        var interruptsEnabled = (cpu.Flags & CpuFlags.InterruptsEnabled) != 0;
        var nmiPending = (cpu.Flags & CpuFlags.PendingNmi) != 0;
        if (cpu.PendingVectors != 0 && (!interruptsEnabled || gifClear))
        {
            var names = new List<string>();
            var pending = cpu.PendingVectors;
            while (pending != 0)
            {
                var index = System.Numerics.BitOperations.TrailingZeroCount(pending);
                pending &= pending - 1;
                names.Add(VectorName(index));
            }
            var masks = interruptsEnabled ? "GIF = 0" : gifClear ? "IF = 0 and GIF = 0" : "IF = 0";
            parts.Add($"{string.Join(", ", names)} pending and {masks}");
        }
        if (nmiPending && (cpu.Flags & CpuFlags.NmiBlocked) != 0)
        {
            parts.Add("an NMI pending, blocked until the NMI handler returns");
        }
        else if (nmiPending && gifClear)
        {
            parts.Add("an NMI pending and GIF = 0");
        }
        if ((cpu.Flags & CpuFlags.PendingSmi) != 0 && gifClear)
        {
            parts.Add("an SMI pending and GIF = 0");
        }
        if (cpu.InitBlockedBy is { } blocker)
        {
            parts.Add($"INIT pending, blocked by {Blocker(blocker)}");
        }
        return parts.Count == 0 ? string.Empty : " with " + string.Join("; and ", parts);
    }
}
