using System.Globalization;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;
using ScottPlot;

namespace Reproductions.Harness.Reporting;

/// <summary>One SGD run of the suite placed by its noise scale: the finding that first names it, the run, g and its final test accuracy (mean over seeds).</summary>
public sealed record NoiseScalePoint(string Finding, string Run, double NoiseScale, double TestAccuracy, int Seeds);

/// <summary>The figure no single paper has: every SGD run's final test accuracy against its noise scale, with what it shows.</summary>
public sealed record SuiteFigure(string Title, string? File, string Caption, string Description, IReadOnlyList<NoiseScalePoint> Points);

/// <summary>
/// Final test accuracy of every stored SGD run of the suite against its noise scale g = lr N / (B (1 - m)) (Smith and Le;
/// for a schedule, its last phase's; N the samples it trains on), log x axis, one marker per finding. A run several
/// findings share is drawn once, under the first. A figure, not a claim: the runs are not independent, and Smith and Le
/// report an optimal noise scale rather than a monotone rise.
/// </summary>
public static class NoiseScaleFigure
{
    public const string FilePrefix = "suite-";

    /// <summary>g of a run: its last phase's rate, batch size and the momentum, over the samples it trains on; null for a non-SGD run.</summary>
    public static double? NoiseScale(TrainingConfig config)
    {
        if (config.Optimizer.Kind != OptimizerKind.Sgd) return null;
        var last = config.Phases[^1];
        var n = Data.DatasetSpecs.TrainingSamples(config);
        return last.LearningRate * n / (last.BatchSize * (1 - config.Optimizer.Momentum));
    }

    /// <summary>The points of every finding's stored training runs, in finding order, each run once.</summary>
    public static IReadOnlyList<NoiseScalePoint> Points(IEnumerable<(string Finding, Measured Measured)> findings)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var points = new List<NoiseScalePoint>();
        foreach (var (finding, measured) in findings)
        {
            if (measured is not TrainingMeasured training) continue;
            foreach (var (run, records) in training.Runs.Runs.OrderBy(r => r.Key, NaturalOrder.Instance))
            {
                if (NoiseScale(records[0].Config) is not { } g || !seen.Add(string.Join(",", records.Select(r => r.Hash)))) continue;
                points.Add(new NoiseScalePoint(finding, run, g, records.Average(r => r.Final.TestAccuracy), records.Count));
            }
        }
        return points;
    }

    public static SuiteFigure Draw(IReadOnlyList<NoiseScalePoint> points, string folder, string dataset, string profile)
    {
        var title = $"Every SGD run: final test accuracy against the noise scale ({profile} profile, {dataset})";
        const string caption = "One marker per run (mean over its seeds), shaped and coloured by the finding that first names it; x: g = lr N / (B (1 - m)) " +
                               "of the run's last phase, N the samples it trains on, log10 scale. Runs of different findings differ in more than g " +
                               "(epochs, schedules, training-set size), so this is a picture across the suite, not a test.";
        if (points.Count == 0) return new SuiteFigure(title, null, caption, "No SGD run is stored.", points);
        var plot = new Plot();
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.Cross, MarkerShape.Eks, MarkerShape.Asterisk];
        var findings = points.Select(p => p.Finding).Distinct().ToList();
        for (var i = 0; i < findings.Count; i++)
        {
            var mine = points.Where(p => p.Finding == findings[i]).ToList();
            var s = plot.Add.ScatterPoints(mine.Select(p => Math.Log10(p.NoiseScale)).ToArray(), mine.Select(p => p.TestAccuracy * 100).ToArray(),
                new ScottPlot.Palettes.Category20().GetColor(i));
            s.MarkerShape = shapes[i % shapes.Length];
            s.MarkerSize = 10;
            s.LegendText = findings[i];
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var low = (int)Math.Floor(points.Min(p => Math.Log10(p.NoiseScale)));
        var high = (int)Math.Ceiling(points.Max(p => Math.Log10(p.NoiseScale)));
        for (var e = low; e <= high; e++) ticks.AddMajor(e, Math.Pow(10, e).ToString("G6", CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Title(title, 16);
        plot.XLabel("noise scale g = lr N / (B (1 - m)), log10 scale", 15);
        plot.YLabel("final test accuracy (%)", 15);
        plot.ShowLegend(Edge.Right);
        var file = $"{FilePrefix}{dataset}-1-noisescale-testAccuracy.png";
        AtomicFile.WriteAllBytes(Path.Combine(folder, file), plot.GetImageBytes(ReportFigures.Width, ReportFigures.Height, ImageFormat.Png));
        plot.Dispose();
        return new SuiteFigure(title, file, caption, Describe(points), points);
    }

    /// <summary>What the figure shows, in words: the range of g, where accuracy peaks, and how it moves with g (Spearman over the points).</summary>
    public static string Describe(IReadOnlyList<NoiseScalePoint> points)
    {
        string N(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
        string P(double v) => (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";
        var best = points.MaxBy(p => p.TestAccuracy)!;
        var worst = points.MinBy(p => p.TestAccuracy)!;
        var text = $"{points.Count} SGD runs from {points.Select(p => p.Finding).Distinct().Count()} findings span g = {N(points.Min(p => p.NoiseScale))} to {N(points.Max(p => p.NoiseScale))}. " +
                   $"The highest accuracy, {P(best.TestAccuracy)}, is {best.Finding} {best.Run} at g = {N(best.NoiseScale)}; the lowest, {P(worst.TestAccuracy)}, is {worst.Finding} {worst.Run} at g = {N(worst.NoiseScale)}.";
        if (points.Count >= 4)
        {
            var rho = Correlation.Spearman(points.Select(p => Math.Log(p.NoiseScale)), points.Select(p => p.TestAccuracy));
            var above = points.Where(p => p.NoiseScale > best.NoiseScale).ToList();
            text += $" Across all points the rank correlation of accuracy with g is {N(rho)}" +
                    (above.Count > 0 ? $"; above the best run's g, {above.Count} run(s) reach at most {P(above.Max(p => p.TestAccuracy))}, so accuracy does not keep rising with g here." : "; no run has a larger g than the best.");
        }
        return text;
    }
}
