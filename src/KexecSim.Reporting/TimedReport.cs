using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using KexecSim.Exploration;

namespace KexecSim.Reporting;

/// <summary>A distribution of times in nanoseconds: how many, the smallest, the mean, the nearest-rank p50, p90 and
/// p99, and the largest.</summary>
public sealed record DistributionInfo(long Count, long MinNs, double MeanNs, long P50Ns, long P90Ns, long P99Ns, long MaxNs)
{
    /// <summary>The distribution of <paramref name="sorted"/> (ascending); null when it is empty.</summary>
    public static DistributionInfo? Of(IReadOnlyList<long> sorted)
    {
        if (sorted.Count == 0)
        {
            return null;
        }
        long Rank(int percent) => sorted[Math.Max(0, (int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1)];
        var mean = Math.Round(sorted.Sum(x => (double)x) / sorted.Count, 1);
        return new DistributionInfo(sorted.Count, sorted[0], mean, Rank(50), Rank(90), Rank(99), sorted[^1]);
    }
}

/// <summary>A finished run and its time to finish.</summary>
public sealed record FinishInfo(long Run, long Ns);

/// <summary>One <c>wait_until</c> site: where, in which function, how many waits ended, how many timed out, their
/// durations' distribution and every duration (ns, ascending).</summary>
public sealed record WaitInfo(string Location, string Function, long Count, long TimedOut, DistributionInfo? Durations, IReadOnlyList<long> DurationsNs);

/// <summary>
/// Timed mode's part of a simulation report (<c>simulate --timed</c>, docs/timed.md): the parameters the runs
/// used, the distribution of the time to finish and of every wait, and the raw figures they come from (every
/// finished run's time, every wait's duration), which is what <c>merge</c> combines.
/// </summary>
public sealed record TimedInfo(
    IReadOnlyList<TimedParameterInfo> Parameters,
    DistributionInfo? Finish,
    IReadOnlyList<FinishInfo> Finishes,
    IReadOnlyList<WaitInfo> Waits)
{
    public static TimedInfo Create(TimedSummary summary, TimedParameters parameters, long platformWbinvdUs)
    {
        var finishes = summary.Finishes.Select(f => new FinishInfo(f.Run, f.Nanoseconds)).ToList();
        return new TimedInfo(
            [.. parameters.Describe(platformWbinvdUs).Select(p => new TimedParameterInfo(p.Name, p.Value))],
            DistributionInfo.Of([.. finishes.Select(f => f.Ns).Order()]),
            finishes,
            [.. summary.Waits.Select(w => new WaitInfo(w.Span.ToString(), w.Function, w.Count, w.TimedOut, DistributionInfo.Of(w.DurationsNs), w.DurationsNs))]);
    }

    /// <summary>The timed parts of the shards of one simulation as one: finishes by run index, waits by site.</summary>
    public static TimedInfo Merge(IReadOnlyList<TimedInfo> parts)
    {
        var finishes = parts.SelectMany(p => p.Finishes).OrderBy(f => f.Run).ToList();
        var waits = parts.SelectMany(p => p.Waits)
            .GroupBy(w => (w.Location, w.Function))
            .Select(g =>
            {
                List<long> durations = [.. g.SelectMany(w => w.DurationsNs).Order()];
                return new WaitInfo(g.Key.Location, g.Key.Function, g.Sum(w => w.Count), g.Sum(w => w.TimedOut), DistributionInfo.Of(durations), durations);
            })
            .ToList();
        // The sites in the order the first part lists them (source order), then any only later parts saw.
        var order = parts.SelectMany(p => p.Waits).Select(w => (w.Location, w.Function)).Distinct().ToList();
        waits.Sort((a, b) => order.IndexOf((a.Location, a.Function)).CompareTo(order.IndexOf((b.Location, b.Function))));
        return new TimedInfo(parts[0].Parameters, DistributionInfo.Of([.. finishes.Select(f => f.Ns).Order()]), finishes, waits);
    }

    /// <summary>The parameters as one line (<c>NAME=VALUE ...</c>), also what tells two timed simulations apart.</summary>
    [JsonIgnore]
    public string ParameterLine => string.Join(" ", Parameters.Select(p => $"{p.Name}={p.Value}"));

    /// <summary>The text lines of the timed figures.</summary>
    public void AppendText(StringBuilder b)
    {
        var inv = CultureInfo.InvariantCulture;
        b.AppendLine(inv, $"timed: {ParameterLine}");
        b.AppendLine(Finish is { } f
            ? string.Create(inv, $"time to finish: {f.Count:N0} run{(f.Count == 1 ? string.Empty : "s")} reached done(); {Spread(f)}")
            : "time to finish: no run reached done()");
        foreach (var w in Waits)
        {
            var share = w.Count == 0 ? 0 : 100.0 * w.TimedOut / w.Count;
            b.AppendLine(inv, $"wait_until at {w.Location} in {w.Function}(): ended {w.Count:N0} time{(w.Count == 1 ? string.Empty : "s")}, {w.TimedOut:N0} timed out ({share:0.0}%){(w.Durations is { } d ? "; waited " + Spread(d) : string.Empty)}");
        }
    }

    private static string Spread(DistributionInfo d) =>
        $"min {Time(d.MinNs)}, p50 {Time(d.P50Ns)}, p90 {Time(d.P90Ns)}, p99 {Time(d.P99Ns)}, max {Time(d.MaxNs)}, mean {Time((long)Math.Round(d.MeanNs))}";

    /// <summary>A time in the unit that reads best: ns, µs, ms or s.</summary>
    public static string Time(long ns) => ns switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{ns} ns"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:0.0} µs"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.000} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e9:0.000} s"),
    };
}

/// <summary>One timed-mode parameter and the value the runs used.</summary>
public sealed record TimedParameterInfo(string Name, string Value);
