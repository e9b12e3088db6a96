using System.Globalization;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using ScottPlot;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// The sharpness protocol's figures and tables: sharpness against the training loss along training (log loss axis,
/// falling to the right, as the paper draws it), the paper's 1-D parametric plot between the small- and the large-batch
/// points, and the tables of the maximisers compared and of the checkpoints.
/// </summary>
public static class SharpnessFigures
{
    public const string VersusLoss = "sharpness-vs-loss";
    public const string Parametric = "parametric";
    public const string MaximiserTable = "maximisers";
    public const string CheckpointTable = "checkpoints";

    private static string N(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    private static string MeanStd(IEnumerable<double> values)
    {
        var (mean, std, count) = MetricDisplay.MeanStd(values);
        return count > 1 ? $"{N(mean)} ± {N(std)}" : N(mean);
    }

    private static string Title(FigureSpec spec, FigureTarget target) =>
        (spec.Title.StartsWith(target.Title, StringComparison.OrdinalIgnoreCase) ? spec.Title : $"{target.Title}: {spec.Title}") + $" ({target.Edition})";

    private static string? Save(Plot plot, FigureTarget target, int index, string kind)
    {
        var file = $"{target.Prefix}-{index}-{kind}.png";
        AtomicFile.WriteAllBytes(Path.Combine(target.Folder, file), plot.GetImageBytes(ReportFigures.Width, ReportFigures.Height, ImageFormat.Png));
        return file;
    }

    /// <summary>Sharpness at each kept checkpoint against the training loss there, one line per run and seed.</summary>
    public static FigureSection DrawVersusLoss(FigureSpec spec, int index, SharpnessMeasured measured, FigureTarget target)
    {
        var title = Title(spec, target);
        var runs = (spec.Runs.Count > 0 ? spec.Runs : measured.Sharpness.Settings.AlongTraining?.Runs ?? []).Where(measured.Along.ContainsKey).ToList();
        var along = measured.Sharpness.Settings.AlongTraining;
        var xLabel = "training loss at the checkpoint (log10 scale, falling to the right)";
        var yLabel = along is null ? "sharpness" : $"sharpness phi, {along.Space} space, eps {SharpnessMetrics.EpsilonName(along.Epsilon)}";
        var caption = "One line per run and seed, through its kept checkpoints from the initial point (left) to the end of training (right); " +
                      "x: the training loss over the evaluation set at the checkpoint.";
        if (runs.Count == 0)
            return new FigureSection(index, spec.Kind, spec.Metric, title, null, xLabel, yLabel, caption, [], null, "nothing to draw: no sharpness along training is stored");
        using var plot = new Plot();
        var series = new List<FigureSeries>();
        var allLoss = new List<double>();
        for (var r = 0; r < runs.Count; r++)
        {
            var color = new ScottPlot.Palettes.Category10().GetColor(r);
            var results = measured.Along[runs[r]];
            for (var s = 0; s < results.Count; s++)
            {
                var points = results[s].Points;
                var x = points.Select(p => Math.Log10(p.Loss)).ToArray();
                var y = points.Select(p => p.Measures[0].Phi).ToArray();
                var line = plot.Add.Scatter(x, y, color);
                line.MarkerSize = 6;
                if (s == 0) line.LegendText = runs[r];
                series.Add(new FigureSeries($"{runs[r]} seed {measured.Seeds[s]}", points.Select(p => p.Loss).ToList(), y, y.Select(_ => 0.0).ToList()));
                allLoss.AddRange(points.Select(p => p.Loss));
            }
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var low = (int)Math.Floor(Math.Log10(allLoss.Min()));
        var high = (int)Math.Ceiling(Math.Log10(allLoss.Max()));
        for (var e = low; e <= high; e++) ticks.AddMajor(e, Math.Pow(10, e).ToString("G6", CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(high, low); // the loss falls to the right, as in the paper's figure
        plot.Title(title, 15);
        plot.XLabel(xLabel, 15);
        plot.YLabel(yLabel, 15);
        plot.ShowLegend(Edge.Right);
        return new FigureSection(index, spec.Kind, spec.Metric, title, Save(plot, target, index, spec.Kind), xLabel, yLabel, caption, series, null, null);
    }

    /// <summary>The paper's parametric plot: loss (left axis) and accuracy (right axis), train and test, along x(a) = a x_large + (1 - a) x_small, mean over seeds.</summary>
    public static FigureSection DrawParametric(FigureSpec spec, int index, SharpnessMeasured measured, FigureTarget target)
    {
        var title = Title(spec, target);
        var p = measured.Sharpness.Settings.Parametric;
        var xLabel = p is null ? "a" : $"a, in x(a) = a x_{p.Large} + (1 - a) x_{p.Small}";
        const string yLabel = "loss (nats per sample); accuracy (%) on the right axis";
        var caption = "Mean over seeds; solid: loss (left axis), dashed: accuracy (right axis); a = 0 is the small-batch point, a = 1 the large-batch one, " +
                      "both trained from the seed's initial point. Train: the evaluation set of the sharpness measure.";
        if (measured.Lines is not { Count: > 0 } lines || p is null)
            return new FigureSection(index, spec.Kind, spec.Metric, title, null, xLabel, yLabel, caption, [], null, "nothing to draw: no parametric line is stored");
        using var plot = new Plot();
        var alphas = lines[0].Alphas.ToArray();
        double[] Mean(Func<ParametricLine, IReadOnlyList<double>> pick, double scale) =>
            alphas.Select((_, i) => lines.Average(l => pick(l)[i]) * scale).ToArray();
        double[] Std(Func<ParametricLine, IReadOnlyList<double>> pick, double scale) =>
            alphas.Select((_, i) => MetricDisplay.MeanStd(lines.Select(l => pick(l)[i] * scale)).Std).ToArray();
        var series = new List<FigureSeries>();
        var palette = new ScottPlot.Palettes.Category10();
        void Line(string name, Func<ParametricLine, IReadOnlyList<double>> pick, double scale, int colour, bool right)
        {
            var y = Mean(pick, scale);
            var line = plot.Add.Scatter(alphas, y, palette.GetColor(colour));
            line.LegendText = name;
            line.MarkerSize = 4;
            if (right)
            {
                line.LinePattern = LinePattern.Dashed;
                line.Axes.YAxis = plot.Axes.Right;
            }
            series.Add(new FigureSeries(name, alphas, y, Std(pick, scale)));
        }
        Line("train loss", l => l.TrainLoss, 1, 0, false);
        Line("test loss", l => l.TestLoss, 1, 1, false);
        Line("train accuracy (%)", l => l.TrainAccuracy, 100, 0, true);
        Line("test accuracy (%)", l => l.TestAccuracy, 100, 1, true);
        plot.Title(title, 15);
        plot.XLabel(xLabel, 15);
        plot.YLabel("loss (nats per sample)", 15);
        plot.Axes.Right.Label.Text = "accuracy (%)";
        plot.ShowLegend(Edge.Right);
        return new FigureSection(index, spec.Kind, spec.Metric, title, Save(plot, target, index, spec.Kind), xLabel, yLabel, caption, series, null, null);
    }

    /// <summary>The tables a finding's <c>report.tables</c> asks for: the maximisers compared in the subspace; the checkpoints along training.</summary>
    public static IReadOnlyList<ReportTable> Tables(SharpnessMeasured measured, IReadOnlyList<string> asked)
    {
        var tables = new List<ReportTable>();
        if (asked.Contains(MaximiserTable, StringComparer.OrdinalIgnoreCase) && measured.Final.Count > 0)
        {
            var rows = new List<IReadOnlyList<string>>();
            foreach (var (run, results) in measured.Final)
            {
                var bfgs = results.Select(r => r.Points[^1].Measures.First(m => SharpnessMetrics.SpaceName(m) == "subspace")).ToList();
                var ascent = results.Select(r => r.Points[^1].Measures.First(m => SharpnessMetrics.SpaceName(m) == "subspaceascent")).ToList();
                rows.Add([run, SharpnessMetrics.EpsilonName(bfgs[0].Epsilon), MeanStd(bfgs.Select(m => m.Phi)), MeanStd(ascent.Select(m => m.Phi)),
                    string.Join("; ", bfgs.Select(m => m.Stop).Distinct()), string.Join("; ", ascent.Select(m => m.Stop).Distinct()),
                    MeanStd(bfgs.Select(m => m.Seconds)), MeanStd(ascent.Select(m => m.Seconds))]);
            }
            tables.Add(new ReportTable("The two maximisers compared in the random subspace (the same subspace and box per seed)",
                ["run", "eps", "phi, bounded BFGS", "phi, projected ascent", "BFGS ended", "ascent ended", "BFGS seconds", "ascent seconds"], rows,
                $"Mean ± std over seeds; each search is capped at {measured.Sharpness.Settings.Evaluations} loss evaluations (the BFGS also at " +
                $"{measured.Sharpness.Settings.BfgsIterations} iterations). The higher phi is the better maximiser: phi is a lower bound on the true maximum."));
        }
        if (asked.Contains(CheckpointTable, StringComparer.OrdinalIgnoreCase) && measured.Along.Count > 0)
        {
            var rows = new List<IReadOnlyList<string>>();
            foreach (var (run, results) in measured.Along)
                for (var s = 0; s < results.Count; s++)
                    rows.Add([run, measured.Seeds[s].ToString(CultureInfo.InvariantCulture),
                        string.Join(", ", results[s].Points.Select(p => p.Epoch.ToString(CultureInfo.InvariantCulture))),
                        string.Join(", ", results[s].Points.Select(p => N(p.Loss))),
                        string.Join(", ", results[s].Points.Select(p => N(p.Measures[0].Phi))),
                        N(SharpnessMeasured.Spearman(results[s].Points))]);
            tables.Add(new ReportTable("Sharpness along training", ["run", "seed", "epochs", "training loss", "phi", "Spearman(phi, -log loss)"], rows,
                "At each kept checkpoint (epoch 0 is the initial point), over the evaluation set."));
        }
        return tables;
    }
}
