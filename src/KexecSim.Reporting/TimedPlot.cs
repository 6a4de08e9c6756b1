using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace KexecSim.Reporting;

/// <summary>
/// <c>simulate --timed --plot OUT.svg</c>: the time to finish of the runs as a histogram (runs per bin, left axis)
/// with its cumulative distribution (share of runs finished by then, right axis), drawn by OxyPlot, a plotting
/// library, and exported as a self-contained SVG (no hand-written SVG).
/// </summary>
public static class TimedPlot
{
    /// <summary>Bins of the histogram (fewer when there are fewer distinct times).</summary>
    private const int Bins = 40;

    /// <summary>The SVG of the time-to-finish histogram and CDF of <paramref name="report"/>'s timed figures.</summary>
    public static string Svg(SimulationReport report, double width = 900, double height = 520)
    {
        var timed = report.Timed ?? throw new ArgumentException("not a timed simulation", nameof(report));
        var times = timed.Finishes.Select(f => f.Ns).Order().ToList();
        var (scale, unit) = Unit(times.Count == 0 ? 0 : times[^1]);
        var model = new PlotModel
        {
            Title = $"\"{report.Scenario}\": time to finish",
            Subtitle = times.Count == 0
                ? "no run reached done()"
                : $"{times.Count:N0} of {report.Statistics.RunsDone:N0} runs reached done(); p50 {TimedInfo.Time(timed.Finish!.P50Ns)}, p99 {TimedInfo.Time(timed.Finish.P99Ns)}",
            Background = OxyColors.White,
        };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = $"time to finish ({unit})", MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Key = "runs", Title = "runs per bin", Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Key = "share", Title = "share of runs finished (CDF)", Minimum = 0, Maximum = 1.02 });
        if (times.Count > 0)
        {
            var low = times[0] / scale;
            var high = times[^1] / scale;
            var width1 = high > low ? (high - low) / Bins : Math.Max(1e-9, Math.Abs(high) * 0.01 + 1e-9);
            var counts = new int[Bins];
            foreach (var t in times)
            {
                counts[Math.Clamp((int)((t / scale - low) / width1), 0, Bins - 1)]++;
            }
            var histogram = new RectangleBarSeries { YAxisKey = "runs", Title = "runs", FillColor = OxyColor.FromRgb(0x4C, 0x78, 0xA8), StrokeThickness = 0 };
            for (var i = 0; i < Bins; i++)
            {
                if (counts[i] > 0)
                {
                    histogram.Items.Add(new RectangleBarItem(low + (i * width1), 0, low + ((i + 1) * width1), counts[i]));
                }
            }
            model.Series.Add(histogram);
            var cdf = new StairStepSeries { YAxisKey = "share", Title = "CDF", Color = OxyColor.FromRgb(0xE4, 0x57, 0x56), StrokeThickness = 2 };
            for (var i = 0; i < times.Count; i++)
            {
                if (i + 1 == times.Count || times[i + 1] != times[i])
                {
                    cdf.Points.Add(new DataPoint(times[i] / scale, (i + 1) / (double)times.Count));
                }
            }
            model.Series.Add(cdf);
        }
        return SvgExporter.ExportToString(model, width, height, isDocument: true);
    }

    private static (double Scale, string Unit) Unit(long largestNs) => largestNs switch
    {
        < 10_000 => (1, "ns"),
        < 10_000_000 => (1e3, "µs"),
        < 10_000_000_000 => (1e6, "ms"),
        _ => (1e9, "s"),
    };
}
