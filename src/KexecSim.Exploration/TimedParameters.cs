using System.Globalization;

namespace KexecSim.Exploration;

/// <summary>
/// The costs and latencies of timed mode (<c>kexecsim simulate --timed</c>, SEMANTICS.md section 9), each with
/// its default and the source of that default (docs/timed.md has the table). A range is drawn uniformly per
/// event, in integer nanoseconds, from the run's random source. <c>--set NAME=VALUE</c> (or <c>NAME=MIN..MAX</c>
/// for a range) overrides one (<see cref="With"/>).
/// </summary>
public sealed record TimedParameters
{
    /// <summary>A step (one visible action: a memory access, an atomic, an intrinsic): 10 ns, a few dozen cycles.</summary>
    public long StepNs { get; init; } = 10;

    /// <summary>IPI delivery, send to handler entry: 1–3 µs, the usual x86 local-APIC figure.</summary>
    public (long Min, long Max) IpiUs { get; init; } = (1, 3);

    /// <summary>NMI delivery: as an IPI (the same APIC path), 1–3 µs.</summary>
    public (long Min, long Max) NmiUs { get; init; } = (1, 3);

    /// <summary>Waking from MWAIT after a write to the monitored line: the exit latency of the deepest C-state a
    /// parked CPU sits in, C6: 133 µs (Skylake-SP) to 290 µs (Sapphire Rapids), Linux drivers/idle/intel_idle.c.</summary>
    public (long Min, long Max) MwaitWakeUs { get; init; } = (133, 290);

    /// <summary>A <c>wait_until</c> whose condition is false is evaluated again at most this often, once something
    /// has changed: 1 µs, the <c>udelay(1)</c> of the kernel's wait loops.</summary>
    public long PollUs { get; init; } = 1;

    /// <summary>The cost of a WBINVD with every line of the machine dirty; null: the scenario's <c>wbinvd_us</c>
    /// (platform block, default 500).</summary>
    public long? WbinvdUs { get; init; }

    /// <summary>The part of a WBINVD's cost that does not depend on what it writes back: walking the whole cache
    /// (every line, clean or dirty, of every level), paid once by each WBINVD when it ends, drawn per WBINVD:
    /// 0 by default (SEMANTICS.md section 9 charges the write-backs only). A real WBINVD on a server part takes
    /// tens of µs to a few ms whatever is dirty (the model's caches hold a few lines): set this to the
    /// platform's measured flush.</summary>
    public (long Min, long Max) WbinvdWalkUs { get; init; } = (0, 0);

    /// <summary>How much each other CPU in WBINVD at the same time slows a write-back: its cost is multiplied by
    /// 1 + this × the others (0: no contention, the default; 1: two concurrent flushes take twice as long).</summary>
    public double WbinvdContention { get; init; }

    /// <summary>Mean time a dirty line stays before a spontaneous write-back (evictions on): 1,000 µs, exponential.
    /// An assumption (residency depends on the workload): vary it.</summary>
    public long EvictionMeanUs { get; init; } = 1000;

    /// <summary>Stray NMIs, SMIs and MCEs (the scenario's <c>inject</c> budget) arrive uniformly within this many
    /// µs of the run's start (then of the previous one): 2,000 µs.</summary>
    public long InjectWindowUs { get; init; } = 2000;

    /// <summary>The names <c>--set</c> takes.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["step_ns", "ipi_us", "nmi_us", "mwait_wake_us", "poll_us", "wbinvd_us", "wbinvd_walk_us", "wbinvd_contention", "eviction_mean_us", "inject_window_us"];

    /// <summary>These parameters with <paramref name="setting"/> (<c>NAME=VALUE</c> or <c>NAME=MIN..MAX</c>) applied;
    /// throws <see cref="FormatException"/> with a message naming what is wrong.</summary>
    public TimedParameters With(string setting)
    {
        var equals = setting.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new FormatException($"'{setting}': expected NAME=VALUE (names: {string.Join(", ", Names)})");
        }
        var name = setting[..equals].Trim();
        var value = setting[(equals + 1)..].Trim();
        return name switch
        {
            "step_ns" => this with { StepNs = Number(name, value) },
            "ipi_us" => this with { IpiUs = Range(name, value) },
            "nmi_us" => this with { NmiUs = Range(name, value) },
            "mwait_wake_us" => this with { MwaitWakeUs = Range(name, value) },
            "poll_us" => this with { PollUs = Number(name, value) },
            "wbinvd_us" => this with { WbinvdUs = Number(name, value) },
            "wbinvd_walk_us" => this with { WbinvdWalkUs = Range(name, value) },
            "wbinvd_contention" => this with { WbinvdContention = Fraction(name, value) },
            "eviction_mean_us" => this with { EvictionMeanUs = Math.Max(1, Number(name, value)) },
            "inject_window_us" => this with { InjectWindowUs = Number(name, value) },
            _ => throw new FormatException($"'{name}' is not a timed-mode parameter (names: {string.Join(", ", Names)})"),
        };
    }

    /// <summary>Each parameter as <c>NAME=VALUE</c>, in <see cref="Names"/> order (for reports).</summary>
    public IEnumerable<(string Name, string Value)> Describe(long platformWbinvdUs)
    {
        yield return ("step_ns", StepNs.ToString(CultureInfo.InvariantCulture));
        yield return ("ipi_us", Show(IpiUs));
        yield return ("nmi_us", Show(NmiUs));
        yield return ("mwait_wake_us", Show(MwaitWakeUs));
        yield return ("poll_us", PollUs.ToString(CultureInfo.InvariantCulture));
        yield return ("wbinvd_us", (WbinvdUs ?? platformWbinvdUs).ToString(CultureInfo.InvariantCulture));
        yield return ("wbinvd_walk_us", Show(WbinvdWalkUs));
        yield return ("wbinvd_contention", WbinvdContention.ToString("0.###", CultureInfo.InvariantCulture));
        yield return ("eviction_mean_us", EvictionMeanUs.ToString(CultureInfo.InvariantCulture));
        yield return ("inject_window_us", InjectWindowUs.ToString(CultureInfo.InvariantCulture));
    }

    private static string Show((long Min, long Max) range) => range.Min == range.Max
        ? range.Min.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{range.Min}..{range.Max}");

    private static long Number(string name, string value)
    {
        if (!long.TryParse(value.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new FormatException($"{name}={value}: expected a whole number, 0 or more");
        }
        return number;
    }

    private static (long, long) Range(string name, string value)
    {
        var dots = value.IndexOf("..", StringComparison.Ordinal);
        if (dots < 0)
        {
            var single = Number(name, value);
            return (single, single);
        }
        var (min, max) = (Number(name, value[..dots]), Number(name, value[(dots + 2)..]));
        if (max < min)
        {
            throw new FormatException($"{name}={value}: the range is empty (its end is below its start)");
        }
        return (min, max);
    }

    private static double Fraction(string name, string value)
    {
        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0 || double.IsInfinity(number))
        {
            throw new FormatException($"{name}={value}: expected a number, 0 or more");
        }
        return number;
    }
}

/// <summary>A timed run's figures: when done() was reached, when the run ended, and every wait that ended.</summary>
public sealed class TimedRunFigures
{
    /// <summary>The time <c>done()</c> or <c>platform_reset()</c> was reached, in ns; -1 when the run did not get there.</summary>
    public long FinishNs { get; set; } = -1;

    /// <summary>The time the run's last transition ended, in ns.</summary>
    public long EndNs { get; set; }

    /// <summary>Each <c>wait_until</c> that ended, in order.</summary>
    public List<WaitRecord> Waits { get; } = [];

    public void Clear()
    {
        FinishNs = -1;
        EndNs = 0;
        Waits.Clear();
    }
}

/// <summary>A <c>wait_until</c> that ended: where (function, instruction), how long it waited, whether it timed out.</summary>
public readonly record struct WaitRecord(int Function, int Pc, long Nanoseconds, bool TimedOut);
