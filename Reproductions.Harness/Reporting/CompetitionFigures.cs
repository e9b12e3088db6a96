using System.Globalization;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;
using ScottPlot;
using ScottPlot.Plottables;
using ScottPlot.TickGenerators;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// The gradient competition's figures, as ScottPlot PNGs: per protocol variant, the mean norm against B on log-log axes
/// (error bars: one std across trials; dashed: the sqrt(B) fit) and the normalised std against B; per variant and
/// regime, the stacked histograms of normalised norms and of raw |gradient values| (shared bins, the large-value
/// threshold marked). A finding's <c>report.figures</c> names which kinds it shows.
/// </summary>
public static class CompetitionFigures
{
    public const string NormVersusBatchSize = "norm-vs-batch-size";
    public const string NormalisedStd = "normalised-std";
    public const string NormalisedHistograms = "normalised-histograms";
    public const string ValueHistograms = "value-histograms";

    private const int Width = 900, Height = 600;
    private static readonly Color[] RegimeColors = [Colors.Blue, Colors.Green, Colors.Orange, Colors.Purple];

    private sealed record Drawn(Plot Plot, string XLabel, string YLabel, string Caption, int Height = Height);

    /// <summary>The figures <paramref name="spec"/> asks for, numbered from 1 in order, drawn into the target's folder.</summary>
    public static IReadOnlyList<FigureSection> Draw(CompetitionResult result, ReportSpec spec, FigureTarget target)
    {
        var sections = new List<FigureSection>();
        foreach (var figure in spec.Figures)
        {
            bool Shown(ProtocolVariant v, string? regime) => figure.Runs.Count == 0 || figure.Runs.Any(g =>
                CompetitionMetrics.TryParseGroup(g, out var gv, out var gr) && gv == v && (regime is null || gr == regime));
            foreach (var variant in result.Variants)
            {
                var perRegime = figure.Kind is NormalisedHistograms or ValueHistograms;
                foreach (var regime in perRegime ? result.RegimeNames.Select(r => (string?)r) : [null])
                {
                    if (!Shown(variant, regime)) continue;
                    var drawn = figure.Kind switch
                    {
                        NormVersusBatchSize => NormVersusB(result, variant),
                        NormalisedStd => NormalisedSpread(result, variant),
                        NormalisedHistograms => NormalisedNormHistograms(result, variant, regime!),
                        ValueHistograms => RawValueHistograms(result, variant, regime!),
                        _ => throw new ArgumentException($"no gradient-competition figure of kind '{figure.Kind}'."),
                    };
                    var index = sections.Count + 1;
                    var what = regime is null ? variant.Name() : $"{variant.Name()}-{regime}";
                    var title = $"{target.Title}: {figure.Title} ({what}, {target.Edition})";
                    var file = $"{target.Prefix}-{index}-{figure.Kind}-{what}.png";
                    using (drawn.Plot)
                    {
                        drawn.Plot.Title(title, 16);
                        drawn.Plot.XLabel(drawn.XLabel);
                        drawn.Plot.YLabel(drawn.YLabel);
                        AtomicFile.WriteAllBytes(Path.Combine(target.Folder, file), drawn.Plot.GetImageBytes(Width, drawn.Height, ImageFormat.Png));
                    }
                    sections.Add(new FigureSection(index, figure.Kind, what, title, file, drawn.XLabel, drawn.YLabel, drawn.Caption, [], null, null));
                }
            }
        }
        return sections;
    }

    private static Drawn NormVersusB(CompetitionResult result, ProtocolVariant variant)
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
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperLeft);
        return new Drawn(plot, "batch size B", "mean L2 norm over trials (bars: +-1 std)",
            "Points: the mean over all trial seeds' trials of the summed last-layer gradient's L2 norm; bars: ±1 std over trials; dashed: a line of slope 1/2 (norm ~ sqrt(B)) through the points' mean offset. Legend: the fitted log-log slope and its 95% interval.");
    }

    private static Drawn NormalisedSpread(CompetitionResult result, ProtocolVariant variant)
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
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left, decadesOnly: false);
        plot.ShowLegend(Alignment.UpperLeft);
        return new Drawn(plot, "batch size B", $"std over trials of norm x mu_{result.Profile.ReferenceBatchSize} / mu_B",
            $"Each B's norms scaled by mu_{result.Profile.ReferenceBatchSize} / mu_B (the blog's normalisation), then their std over all trials; legend: Spearman's rank correlation with B.");
    }

    /// <summary>Ridge plot: one histogram of normalised norms per B (shared bins), stacked upwards from the smallest B.</summary>
    private static Drawn NormalisedNormHistograms(CompetitionResult result, ProtocolVariant variant, string regime)
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
        return new Drawn(plot, $"trial norm x mu_{result.Profile.ReferenceBatchSize} / mu_B (each row scaled to its peak)", "batch size B",
            FormattableString.Invariant($"One histogram of normalised norms per B (shared bins), stacked upwards from the smallest B; Spearman(B, normalised IQR) {c.SpearmanNormalisedIqr:F2}."), 900);
    }

    /// <summary>Counts of raw |gradient values| on the shared log bins, one line per B, with the large-value threshold.</summary>
    private static Drawn RawValueHistograms(CompetitionResult result, ProtocolVariant variant, string regime)
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
        LogAxis(plot.Axes.Bottom);
        LogAxis(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperLeft);
        return new Drawn(plot, "|gradient value| (summed over the trial's steps)", $"count per bin ({bins.BinsPerDecade} bins per decade)",
            FormattableString.Invariant($"Counts of raw |gradient values| of all trials on the shared log bins, one line per B; dashed: the large-value threshold, the bin edge above which {result.Profile.TailFraction:P0} of B={result.Profile.ReferenceBatchSize}'s values lie."), 700);
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

}
