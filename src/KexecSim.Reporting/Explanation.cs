using System.Globalization;
using System.Text;
using KexecSim.Machine;
using KexecSim.Program;

namespace KexecSim.Reporting;

/// <summary>
/// <c>kexecsim explain</c>: a counterexample as a numbered narrative in kernel terms. Each step says which CPU ran
/// which code (or what happened to it), what it read, wrote and got, with the values; a step that writes memory
/// also says where the other CPUs are (in WBINVD and with how many dirty lines under which key, halted, in MWAIT,
/// parked in INIT). It ends with the rule the run broke and why that is a bug on real hardware (per violation code).
/// Built only from the report model: the same trace gives the same text.
/// </summary>
public static class Explanation
{
    public static string Render(ReportModel model)
    {
        var builder = new StringBuilder();
        var program = model.Program;
        builder.AppendLine(CultureInfo.InvariantCulture, $"scenario \"{program.ScenarioName}\" ({program.ScenarioSpan})");
        if (program.Description.Length > 0)
        {
            AppendWrapped(builder, program.Description, "  ");
        }
        builder.AppendLine();
        builder.AppendLine(CultureInfo.InvariantCulture, $"what happens ({model.Steps.Count} {(model.Steps.Count == 1 ? "step" : "steps")}):");
        if (model.InitialMessages.Count > 0)
        {
            AppendWrapped(builder, "Before step 1, the init blocks and the CPUs' first steps print:", "   ");
            foreach (var message in model.InitialMessages)
            {
                AppendWrapped(builder, message, "     | ");
            }
        }
        var numberWidth = model.Steps.Count.ToString(CultureInfo.InvariantCulture).Length;
        foreach (var step in model.Steps)
        {
            var number = step.Number.ToString(CultureInfo.InvariantCulture).PadLeft(numberWidth) + ". ";
            AppendWrapped(builder, Sentence(model, step), " " + number, new string(' ', number.Length + 1));
            foreach (var message in step.Messages)
            {
                AppendWrapped(builder, message, new string(' ', number.Length + 1) + "| ");
            }
            if (model.Trace.CycleStart is { } start && step.Number == start + 1)
            {
                AppendWrapped(builder, CycleNote, new string(' ', number.Length + 1));
            }
        }
        builder.AppendLine();
        if (model.Violation is { } v)
        {
            AppendWrapped(builder, RuleBroken(model, v), string.Empty, "  ");
            if (v.Location is { } at)
            {
                AppendWrapped(builder, $"at {at}: {at.Source.GetLine(at.Position.Line).Trim()}", "  ");
            }
            builder.AppendLine();
            AppendWrapped(builder, "Why it is a bug on real hardware: " + WhyItMatters(v.Code), string.Empty, "  ");
        }
        else
        {
            builder.AppendLine("The run breaks no rule.");
        }
        builder.AppendLine();
        builder.AppendLine(CultureInfo.InvariantCulture, $"replay: {model.Narration.ReplayMessage(model.Replay)}");
        return builder.ToString();
    }

    /// <summary>Said after the first step of a LIVELOCK's cycle.</summary>
    public const string CycleNote = "From here on the steps repeat forever (the cycle of the LIVELOCK).";

    /// <summary>The narrative's closing line: the violation's code, CPU and rule.</summary>
    public static string RuleBroken(ReportModel model, Violation v) =>
        $"The rule broken: {v.Code.Name()}{(v.Cpu >= 0 ? $" on CPU {v.Cpu}" : string.Empty)}: {model.Rule}.";

    /// <summary>One step in a sentence: the context (other CPUs, when the step writes memory), who did what, and the values.</summary>
    public static string Sentence(ReportModel model, ReportStep step)
    {
        var what = step.Kind == TransitionKind.Step && step.Location is { } at
            ? $"CPU {step.Cpu} runs `{(step.AtBackEdge ? "the loop's back-edge" : ReportModel.Snippet(at))}`{(step.Function.Length > 0 ? $" in {step.Function}()" : string.Empty)}"
            : model.Narration.Describe(step.What) + (step.Source is { } source && !step.AtBackEdge ? $" at `{source}`" : string.Empty);
        if (step.Where is { } where)
        {
            what += $" ({where})";
        }
        var effects = new List<string>();
        foreach (var stepEvent in step.Events)
        {
            if (Effect(model, stepEvent) is { } effect)
            {
                effects.Add(effect);
            }
        }
        var sentence = effects.Count == 0 ? what : $"{what}: {string.Join("; ", effects)}";
        var context = WritesMemory(step) || step.Number == model.Steps.Count ? Context(model, step) : null;
        return context is null ? Upper(sentence) + "." : $"{context}, {Lower(sentence)}.";
    }

    private static string Upper(string sentence) => sentence.Length == 0 ? sentence : char.ToUpperInvariant(sentence[0]) + sentence[1..];

    private static string Lower(string sentence) => sentence.StartsWith("CPU", StringComparison.Ordinal) || sentence.Length == 0
        ? sentence
        : char.ToLowerInvariant(sentence[0]) + sentence[1..];

    private static bool WritesMemory(ReportStep step) =>
        step.Values.Any(v => v.Kind is "store" or "movnti" or "dma_write" or "movdir64b" or "writeback");

    /// <summary>The other CPUs a reader must see at this step (those not running): "While CPU 1 is still in WBINVD with 2 dirty lines under KEY_SME and CPU 2 is halted".</summary>
    private static string? Context(ReportModel model, ReportStep step)
    {
        var before = model.SnapshotAfter(step.Number - 1);
        var parts = new List<string>();
        foreach (var cpu in before.Cpus)
        {
            if (cpu.Cpu == step.Cpu && step.Lane >= 0)
            {
                continue;
            }
            var where = cpu.Mode switch
            {
                CpuMode.InWbinvd => "is still in WBINVD" + DirtyLines(before, cpu.Cpu),
                CpuMode.Halted => "is halted (HLT)" + DirtyLines(before, cpu.Cpu),
                CpuMode.Mwait => "sleeps in MWAIT" + DirtyLines(before, cpu.Cpu),
                CpuMode.WaitForSipi => "is parked in wait-for-SIPI (INIT)",
                _ => null,
            };
            if (where is not null)
            {
                parts.Add($"CPU {cpu.Cpu} {where}");
            }
        }
        return parts.Count == 0 ? null : "While " + string.Join(" and ", parts);
    }

    /// <summary>" with 2 dirty lines under KEY_SME" for the CPU's own cache (a private one), else nothing.</summary>
    private static string DirtyLines(MachineSnapshot snapshot, int cpu)
    {
        var cache = snapshot.Caches.FirstOrDefault(c => c.Cpus.Count == 1 && c.Cpus[0] == cpu);
        if (cache is null)
        {
            return string.Empty;
        }
        var byKey = cache.Entries.Where(e => e.Dirty).GroupBy(e => e.KeyName).Select(g => (Key: g.Key, Count: g.Count())).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (byKey.Count == 0)
        {
            return string.Empty;
        }
        return " with " + string.Join(" and ", byKey.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count} dirty {(g.Count == 1 ? "line" : "lines")} under {g.Key}")));
    }

    /// <summary>What an event did, in a phrase, or null when the step's own words already say it.</summary>
    /// <summary>What a memory write replaced, as a load of the line and key would have seen it: ", replacing OLD_CONTENT".</summary>
    private static string Held(StepValue value) => value.Old switch
    {
        null => string.Empty,
        "poison" => ", over poison",
        var old => $", replacing {old}",
    };

    private static string? Effect(ReportModel model, StepEvent stepEvent)
    {
        var narration = model.Narration;
        if (narration.Value(stepEvent) is { } value)
        {
            return value.Kind switch
            {
                "read" => $"reads {value.Name} = {value.Value}",
                "write" => $"sets {value.Name} from {value.Old} to {value.Value}",
                "local" => $"{value.Name} = {value.Value}",
                "call" => $"calls {value.Name}({value.Value})",
                "load" => $"loads {value.Name} and gets {value.Value}",
                "store" => $"stores {value.Value} into {value.Name} (a cached write){Held(value)}",
                "movnti" => $"writes {value.Value} straight to memory at {value.Name} (MOVNTI, a partial write){Held(value)}",
                "dma_write" => $"a device writes {value.Value} into {value.Name} by DMA{Held(value)}",
                "movdir64b" => $"writes {value.Value} over {value.Name} with MOVDIR64B{Held(value)}",
                "clflush" => $"flushes {value.Name} from every cache",
                "writeback" => $"cache {value.Cpu} writes {value.Name} back to memory: memory now holds {value.Value}",
                "firmware" => $"the firmware answers {value.Name} with {value.Value}",
                "result" => $"{value.Name} gives {value.Value}",
                "return" => $"{value.Name}() returns {value.Value}",
                "choice" => $"takes {value.Value} of a nondeterministic choice",
                _ => value.Text,
            };
        }
        return stepEvent switch
        {
            EventSent e => e.Kind switch
            {
                SentEvent.Vector => $"sends the {narration.VectorName(e.VectorIndex)} IPI to CPU {e.Target}",
                SentEvent.Nmi => $"sends an NMI to CPU {e.Target}",
                _ => $"sends an INIT to CPU {e.Target}",
            },
            NextKernelBooted e => $"the next kernel starts on CPU {e.Cpu} at {model.Program.Functions[e.Function].Name}()",
            _ => null,
        };
    }

    /// <summary>Why a violation of <paramref name="code"/> is a bug on real hardware, in a paragraph.</summary>
    public static string WhyItMatters(ViolationCode code) => code switch
    {
        ViolationCode.ExecClobbered =>
            "the CPU fetches instructions from memory that kexec has already overwritten with the next kernel's image. "
            + "A real CPU then executes bytes of the new kernel (or a half-copied mix) as if they were the old code: a wild jump, "
            + "a triple fault, or a silent write into the image before it boots. Every CPU but the one copying must be parked in code "
            + "and data the copy does not touch (or in INIT) before the copy starts, and must stay there whatever interrupt arrives.",
        ViolationCode.DataClobbered =>
            "the CPU reads or writes a variable whose memory now belongs to the next kernel's image. It acts on image bytes as if "
            + "they were its own data, and its writes corrupt the image the next kernel boots from.",
        ViolationCode.Corruption =>
            "caches are tagged by physical address and encryption key (SME's C-bit, a TDX KeyID, an SEV ASID). A dirty line written "
            + "under one key that is still in a cache when the memory is reused under another is written back later, over the new "
            + "data: the next kernel reads ciphertext or stale contents, and nothing reports it. Every CPU that may hold such lines "
            + "must complete its WBINVD before the memory is reused.",
        ViolationCode.MachineCheck =>
            "the read consumes poisoned memory (for example a TDX private line partially written with another key, the TDX_PW_MCE "
            + "erratum), which raises a machine check. With no handler that can recover, the kernel panics or the platform resets: "
            + "the kexec or the crash dump is lost.",
        ViolationCode.TripleFault =>
            "a machine check inside the machine-check handler is a triple fault: the processor shuts down and the platform resets, "
            + "so the kexec or the crash dump is lost.",
        ViolationCode.GuestException =>
            "in a confidential guest (TDX, SEV-ES, SEV-SNP) WBINVD may not reach the hardware: it raises #VE or #VC, which the stop "
            + "and kexec paths cannot handle, so the guest crashes instead of rebooting.",
        ViolationCode.FirmwareRace =>
            "the SEV firmware changes the state of an ASID while a CPU is still running that guest: the firmware and the CPU disagree "
            + "about who owns the guest's memory, which the firmware forbids and which can leave the RMP or the guest's pages inconsistent.",
        ViolationCode.PlatformReset =>
            "an INIT that reaches the bootstrap processor resets the whole platform: the machine reboots instead of running the next "
            + "(or the crash) kernel, and the dump is lost.",
        ViolationCode.ResetHang =>
            "the platform is reset while another CPU is still flushing its caches with WBINVD, which takes up to milliseconds on large "
            + "caches; real platforms hang in this case, and the reboot never completes.",
        ViolationCode.Panic =>
            "the kernel calls panic(): on a kexec or kdump path that means the next kernel does not come up and no dump is taken.",
        ViolationCode.Bug =>
            "BUG_ON() fires: the kernel stops on a state it considers impossible.",
        ViolationCode.Assertion =>
            "a property the scenario states about the kernel's state does not hold in this run: the code allows an interleaving its "
            + "authors assumed impossible.",
        ViolationCode.Deadlock =>
            "no CPU can make progress and the run has not finished: the machine hangs here (a CPU waiting for an IPI it cannot take, "
            + "a wait that never ends), and only a watchdog or a power cycle gets out.",
        ViolationCode.Livelock =>
            "the CPUs keep running but the run never finishes, even under a fair scheduler: the machine spins here forever.",
        _ =>
            "it is not a kernel bug: the model itself did something invalid (an index out of range, a runaway loop, a bad argument); "
            + "fix the model.",
    };

    private static void AppendWrapped(StringBuilder builder, string text, string firstPrefix, string? prefix = null)
    {
        prefix ??= firstPrefix;
        var lines = TextReport.Wrap(text, TextReport.Width - Math.Max(firstPrefix.Length, prefix.Length));
        for (var i = 0; i < lines.Count; i++)
        {
            builder.Append(i == 0 ? firstPrefix : prefix).AppendLine(i == 0 ? lines[i] : lines[i].TrimStart());
        }
    }
}
