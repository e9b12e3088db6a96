using System.Globalization;
using MathNet.Numerics.Statistics;
using ScottPlot;
using ScottPlot.Plottables;
using ScottPlot.TickGenerators;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>
/// The report's figures, as ScottPlot PNGs: per protocol variant, the mean norm against B on log-log axes (error bars:
/// one std across trials; dashed: the sqrt(B) fit), the normalised std and IQR against B, and per regime the stacked
/// histograms of normalised norms and of raw |gradient values| (shared bins, the large-value threshold marked).
/// </summary>
public static class CompetitionFigures
{
    private const int Width = 900, Height = 600;
    private static readonly Color[] RegimeColors = [Colors.Blue, Colors.Green, Colors.Orange, Colors.Purple];

    /// <summary>Every figure of F05-F08.</summary>
    public static IReadOnlyList<string> Write(CompetitionResult result, string folder) =>
        Findings.SelectMany(f => ForFinding(result, f, folder)).ToList();

    public static readonly string[] Findings = ["F05", "F06", "F07", "F08"];

    /// <summary>
    /// The figures of one finding, named by its id: F05 mean norm vs B (log-log, per variant), F06 normalised std vs B
    /// (per variant), F07 stacked histograms of normalised norms and F08 raw-value histograms (per variant and regime).
    /// </summary>
    public static IReadOnlyList<string> ForFinding(CompetitionResult result, string finding, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        foreach (var variant in result.Variants)
        {
            switch (finding)
            {
                case "F05":
                    files.Add(NormVersusBatchSize(result, variant, folder));
                    break;
                case "F06":
                    files.Add(NormalisedSpread(result, variant, folder));
                    break;
                case "F07":
                    files.AddRange(result.RegimeNames.Select(r => NormalisedHistograms(result, variant, r, folder)));
                    break;
                case "F08":
                    files.AddRange(result.RegimeNames.Select(r => ValueHistograms(result, variant, r, folder)));
                    break;
                default:
                    throw new ArgumentException($"No gradient-competition figures for '{finding}'.", nameof(finding));
            }
        }
        return files;
    }

    private static string FileName(CompetitionResult result, string finding, string what, ProtocolVariant variant, string? regime = null) =>
        $"{finding}-{result.Profile.Profile}-{what}-{variant.Name()}{(regime is null ? "" : "-" + regime)}.png";

    private static string NormVersusBatchSize(CompetitionResult result, ProtocolVariant variant, string folder)
    {
        var plot = new Plot();
        var i = 0;
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(variant, regime);
            var color = RegimeColors[i++ % RegimeColors.Length];
            var points = c.Batches.Where(b => b.Trials > b.Diverged && b.Mean > 0).ToList();
            if (points.Count == 0) continue;
            var xs = points.Select(b => Math.Log10(b.BatchSize)).ToArray();
            var ys = points.Select(b => Math.Log10(b.Mean)).ToArray();
            // One std either side, drawn in log space (the lower end clipped at a tenth of the mean).
            var up = points.Select(b => Math.Log10(b.Mean + b.Std) - Math.Log10(b.Mean)).ToArray();
            var down = points.Select(b => Math.Log10(b.Mean) - Math.Log10(Math.Max(b.Mean - b.Std, b.Mean / 10))).ToArray();
            var errors = new ErrorBar(xs, ys, null, null, up, down) { Color = color };
            plot.Add.Plottable(errors);
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LineWidth = 0;
            scatter.MarkerSize = 8;
            scatter.LegendText = FormattableString.Invariant($"{regime}: mean norm (slope {c.LogLog.Slope:F2}, 95% CI {c.LogLog.SlopeLow:F2} to {c.LogLog.SlopeHigh:F2})");
            // The sqrt(B) fit: log10 norm = 0.5 log10 B + c, with c the mean offset of the points.
            var offset = xs.Zip(ys, (x, y) => y - 0.5 * x).Mean();
            var fit = plot.Add.ScatterLine(new[] { xs.Min(), xs.Max() }, new[] { offset + 0.5 * xs.Min(), offset + 0.5 * xs.Max() }, color);
            fit.LinePattern = LinePattern.Dashed;
            fit.LegendText = $"{regime}: sqrt(B) fit";
        }
        plot.Title($"Summed last-layer gradient norm vs batch size ({variant.Name()}, {result.Profile.Profile})");
        plot.XLabel("batch size B");
        plot.YLabel("mean L2 norm over trials (bars: +-1 std)");
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, folder, FileName(result, "F05", "norm-vs-batch-size", variant));
    }

    private static string NormalisedSpread(CompetitionResult result, ProtocolVariant variant, string folder)
    {
        var plot = new Plot();
        var i = 0;
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(variant, regime);
            var color = RegimeColors[i++ % RegimeColors.Length];
            var points = c.Batches.Where(b => b.Trials - b.Diverged > 1 && b.NormalisedStd > 0 && double.IsFinite(b.NormalisedStd)).ToList();
            if (points.Count == 0) continue;
            var xs = points.Select(b => Math.Log10(b.BatchSize)).ToArray();
            var std = plot.Add.Scatter(xs, points.Select(b => Math.Log10(b.NormalisedStd)).ToArray(), color);
            std.LegendText = FormattableString.Invariant($"{regime}: normalised std (Spearman with B {c.SpearmanNormalisedStd:F2})");
        }
        plot.Title($"Std of the norm after scaling each B to the mean at B={result.Profile.ReferenceBatchSize} ({variant.Name()}, {result.Profile.Profile})");
        plot.XLabel("batch size B");
        plot.YLabel($"std over trials of norm x mu_{result.Profile.ReferenceBatchSize} / mu_B");
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left, decadesOnly: false);
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, folder, FileName(result, "F06", "normalised-std", variant));
    }

    /// <summary>Ridge plot: one histogram of normalised norms per B (shared bins), stacked upwards from the smallest B.</summary>
    private static string NormalisedHistograms(CompetitionResult result, ProtocolVariant variant, string regime, string folder)
    {
        const int bins = 40;
        var c = result.Curve(variant, regime);
        var plot = new Plot();
        var all = c.Batches.SelectMany(b => b.NormalisedNorms).Where(double.IsFinite).ToArray();
        var positions = new List<double>();
        var labels = new List<string>();
        if (all.Length > 1)
        {
            var lo = all.Min();
            var hi = all.Max();
            if (hi <= lo) hi = lo + 1;
            var width = (hi - lo) / bins;
            var row = 0;
            foreach (var b in c.Batches)
            {
                var values = b.NormalisedNorms.Where(double.IsFinite).ToArray();
                if (values.Length == 0) continue;
                var histogram = new Histogram(values, bins, lo, hi + width * 1e-9);
                var peak = Enumerable.Range(0, bins).Max(k => histogram[k].Count);
                var xs = new List<double>();
                var ys = new List<double>();
                for (var k = 0; k < bins; k++)
                {
                    xs.Add(lo + k * width);
                    xs.Add(lo + (k + 1) * width);
                    var h = row + 0.9 * histogram[k].Count / Math.Max(peak, 1);
                    ys.Add(h);
                    ys.Add(h);
                }
                var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), RegimeColors[row % RegimeColors.Length]);
                line.FillY = true;
                line.FillYValue = row;
                line.FillYColor = line.Color.WithAlpha(0.3);
                positions.Add(row);
                labels.Add(b.BatchSize.ToString(CultureInfo.InvariantCulture));
                row++;
            }
        }
        plot.Axes.Left.TickGenerator = new NumericManual(positions.ToArray(), labels.ToArray());
        plot.Title(FormattableString.Invariant($"Normalised norms per B ({variant.Name()}, {regime}, {result.Profile.Profile}); Spearman(B, IQR) {c.SpearmanNormalisedIqr:F2}"));
        plot.XLabel($"trial norm x mu_{result.Profile.ReferenceBatchSize} / mu_B (each row scaled to its peak)");
        plot.YLabel("batch size B");
        return Save(plot, folder, FileName(result, "F07", "normalised-norm-histograms", variant, regime), height: 900);
    }

    /// <summary>Counts of raw |gradient values| on the shared log bins, one line per B, with the large-value threshold.</summary>
    private static string ValueHistograms(CompetitionResult result, ProtocolVariant variant, string regime, string folder)
    {
        var c = result.Curve(variant, regime);
        var plot = new Plot();
        var bins = result.Profile.Histogram;
        var palette = new ScottPlot.Palettes.Category20();
        var k = 0;
        foreach (var b in c.Batches)
        {
            var cell = result.Pooled[new CellKey(variant, regime, b.BatchSize)];
            var xs = new List<double>();
            var ys = new List<double>();
            for (var slot = 1; slot <= bins.Bins; slot++)
            {
                var count = cell.Values.Counts[slot];
                if (count == 0) continue;
                xs.Add(Math.Log10(bins.LowerEdge(slot)) + 0.5 / bins.BinsPerDecade);
                ys.Add(Math.Log10(count));
            }
            if (xs.Count == 0) continue;
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), palette.GetColor(k++));
            line.LegendText = FormattableString.Invariant($"B={b.BatchSize}: {b.TailCount} >= threshold");
        }
        if (c.TailThreshold > 0 && double.IsFinite(c.TailThreshold))
        {
            var v = plot.Add.VerticalLine(Math.Log10(c.TailThreshold), 2, Colors.Black, LinePattern.Dashed);
            v.LegendText = FormattableString.Invariant($"threshold {c.TailThreshold:G3} ({result.Profile.TailFraction:P0} of B={result.Profile.ReferenceBatchSize}'s values above)");
        }
        plot.Title($"Raw last-layer gradient values, all trials, shared bins ({variant.Name()}, {regime}, {result.Profile.Profile})");
        plot.XLabel("|gradient value| (summed over the trial's steps)");
        plot.YLabel($"count per bin ({bins.BinsPerDecade} bins per decade)");
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, folder, FileName(result, "F08", "raw-value-histograms", variant, regime), height: 700);
    }

    /// <summary>Labels an axis whose coordinates are log10 values with the values themselves, minor ticks log-spaced.</summary>
    /// <param name="decadesOnly">Ticks at powers of ten only (false: also between them, for ranges of about a decade).</param>
    private static void LogAxis(ScottPlot.IAxis axis, bool decadesOnly = true)
    {
        axis.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = decadesOnly,
            LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
        };
    }

    private static string Save(Plot plot, string folder, string name, int height = Height)
    {
        var path = Path.Combine(folder, name);
        plot.SavePng(path, Width, height);
        return path;
    }
}
