using Reproductions.Harness.Protocols;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;
using ScottPlot;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// Draws a finding's figures with ScottPlot as PNG (title, axis labels with units, legend), from stored runs only:
/// <list type="bullet">
/// <item>curves: the metric per epoch (or per optimiser step), one colour per run, the mean over seeds with a shaded
/// ±1 std band, epochs without a value (not evaluated) skipped; LastEpochs shows the last N epochs re-numbered from 1;</item>
/// <item>heatmap: a final metric over the grid of two settings, each cell annotated, with a colour bar;</item>
/// <item>layers: grouped bars of the final per-layer cosines to init, per run, error bars ±1 std;</item>
/// <item>bars: a final metric per run, error bars ±1 std.</item>
/// </list>
/// On the full profile the bar kinds also mark the paper's numbers.
/// </summary>
public static class ReportFigures
{
    public const int Width = 1000;
    public const int Height = 600;

    /// <summary>Settings a heatmap axis can show, read from a run's config.</summary>
    public static readonly IReadOnlyDictionary<string, (string Label, Func<TrainingConfig, double> Read)> Settings =
        new Dictionary<string, (string, Func<TrainingConfig, double>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["learningRate"] = ("learning rate (first phase)", c => c.Phases[0].LearningRate),
            ["batchSize"] = ("batch size (first phase, samples)", c => c.Phases[0].BatchSize),
            ["epochs"] = ("epochs (all phases)", c => c.TotalEpochs),
            ["momentum"] = ("momentum", c => c.Optimizer.Momentum),
            ["trainSamples"] = ("training samples", c => c.TrainSamples ?? double.NaN),
        };

    /// <summary>The PNG's name: finding and dataset, 1-based figure index, kind and metric, e.g. F01-mnist-1-curves-testAccuracy.png.</summary>
    public static string FileName(string prefix, int index, FigureSpec spec) => $"{prefix}-{index}-{spec.Kind}-{spec.Metric}.png";

    private sealed record Drawn(Plot? Plot, string XLabel, string YLabel, string Caption, List<FigureSeries> Series, HeatmapGrid? Grid, List<string> Notes);

    /// <summary>Draws one figure into <paramref name="folder"/> (atomically) and returns what it shows.</summary>
    /// <param name="diverged">Runs stored only as diverged: the sweep figure marks them; the others note them as not results.</param>
    public static FigureSection Render(FigureSpec spec, int index, TrainingRuns runs, FigureTarget target, IReadOnlyCollection<string>? diverged = null)
    {
        diverged ??= [];
        var experiment = runs.Experiment;
        var markPaper = target.MarkPaper;
        var names = spec.Runs.Count > 0 ? spec.Runs.ToList() : experiment.Runs.Select(r => r.Name).Order(NaturalOrder.Instance).ToList();
        var stored = names.Where(runs.Runs.ContainsKey).ToList();
        var title = (spec.Title.StartsWith(target.Title, StringComparison.OrdinalIgnoreCase) ? spec.Title : $"{target.Title}: {spec.Title}")
                    + $" ({target.Edition})";
        // A run keeps its colour across a finding's figures: its place among all of the profile's runs.
        var all = experiment.Runs.Select(r => r.Name).Order(NaturalOrder.Instance).ToList();
        Color ColorOf(string run) => Palette(all.FindIndex(n => string.Equals(n, run, StringComparison.OrdinalIgnoreCase)));
        var drawn = spec.Kind switch
        {
            "curves" => Curves(spec, runs, stored, ColorOf),
            "heatmap" => Heatmap(spec, runs, names),
            "layers" => Layers(spec, runs, stored, markPaper, target.Reference),
            "bars" => Bars(spec, runs, stored, markPaper, ColorOf, target.Reference),
            "sweep" => Sweep(spec, runs, names, diverged),
            _ => new Drawn(null, "", "", "", [], null, [$"unknown figure kind '{spec.Kind}'"]),
        };
        var missing = names.Except(stored, StringComparer.OrdinalIgnoreCase).Except(diverged, StringComparer.OrdinalIgnoreCase).ToList();
        if (missing.Count > 0) drawn.Notes.Insert(0, $"not in the store, so not drawn: {string.Join(", ", missing)}");
        var divergedHere = names.Intersect(diverged, StringComparer.OrdinalIgnoreCase).ToList();
        if (divergedHere.Count > 0 && spec.Kind != "sweep") drawn.Notes.Insert(0, $"diverged, so not results and not drawn: {string.Join(", ", divergedHere)}");

        string? file = null;
        if (drawn.Plot is { } plot)
        {
            using (plot)
            {
                plot.Title(title, 18);
                plot.XLabel(drawn.XLabel, 15);
                plot.YLabel(drawn.YLabel, 15);
                file = FileName(target.Prefix, index, spec);
                AtomicFile.WriteAllBytes(Path.Combine(target.Folder, file), plot.GetImageBytes(Width, Height, ImageFormat.Png));
            }
        }
        else if (drawn.Notes.Count == 0 || missing.Count == names.Count)
        {
            drawn.Notes.Add("nothing to draw: none of its runs is stored");
        }
        return new FigureSection(index, spec.Kind, spec.Metric, title, file, drawn.XLabel, drawn.YLabel, drawn.Caption, drawn.Series, drawn.Grid,
            drawn.Notes.Count > 0 ? string.Join("; ", drawn.Notes) : null);
    }

    private static Color Palette(int i) => new ScottPlot.Palettes.Category10().GetColor(Math.Max(0, i));

    private static int SeedCount(TrainingRuns runs) => runs.Seeds.Count;

    private static Drawn Curves(FigureSpec spec, TrainingRuns runs, List<string> stored, Func<string, Color> colorOf)
    {
        var display = MetricDisplay.For(spec.Metric);
        var perLayer = MetricDisplay.IsPerLayer(spec.Metric);
        var notes = new List<string>();
        var bySteps = string.Equals(spec.X, "steps", StringComparison.OrdinalIgnoreCase);
        if (!bySteps && !string.Equals(spec.X, "epoch", StringComparison.OrdinalIgnoreCase) && spec.X.Length > 0)
            notes.Add($"x = '{spec.X}' is not epoch or steps: drawn per epoch");
        var xLabel = (bySteps, spec.LastEpochs > 0) switch
        {
            (true, true) => $"parameter updates (optimizer steps) since the start of the last {spec.LastEpochs} epochs (count)",
            (true, false) => "parameter updates, optimizer steps (count)",
            (false, true) => $"epoch of the last {spec.LastEpochs}, re-numbered from 1",
            _ => "epoch",
        };
        var caption = $"Lines: mean over {SeedCount(runs)} seeds; shaded: ±1 std over seeds; epochs without a measurement are skipped." +
                      (spec.LastEpochs > 0 ? $" Only each run's last {spec.LastEpochs} epochs, re-numbered from 1." : "");
        if (stored.Count == 0) return new Drawn(null, xLabel, display.AxisLabel, caption, [], null, notes);

        var plot = new Plot();
        var series = new List<FigureSeries>();
        var legend = new List<LegendItem>();
        LinePattern[] patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];
        for (var i = 0; i < stored.Count; i++)
        {
            var records = runs[stored[i]];
            var epochs = records.Min(r => r.Epochs.Count);
            var start = spec.LastEpochs > 0 ? Math.Max(0, epochs - spec.LastEpochs) : 0;
            var stepsBefore = start > 0 ? records[0].Epochs[start - 1].Steps : 0;
            var components = perLayer ? records.Min(r => r.Epochs[0].LayerCosines.Length) : 1;
            for (var c = 0; c < components; c++)
            {
                var xs = new List<double>();
                var means = new List<double>();
                var stds = new List<double>();
                for (var e = start; e < epochs; e++)
                {
                    var (mean, std, count) = MetricDisplay.MeanStd(records.Select(r =>
                        perLayer ? MetricNames.Vector(r.Epochs[e], spec.Metric)[c] : MetricNames.Scalar(r.Epochs[e], spec.Metric)));
                    if (count == 0) continue;
                    var epoch = records[0].Epochs[e];
                    xs.Add(bySteps ? epoch.Steps - stepsBefore : spec.LastEpochs > 0 ? e - start + 1 : epoch.Epoch);
                    means.Add(mean * display.Scale);
                    stds.Add(std * display.Scale);
                }
                if (xs.Count == 0) continue;
                var label = perLayer ? $"{stored[i]}, layer {c + 1}" : stored[i];
                var color = colorOf(stored[i]);
                var pattern = perLayer ? patterns[c % patterns.Length] : LinePattern.Solid;
                var x = xs.ToArray();
                var band = plot.Add.FillY(x, means.Zip(stds, (m, s) => m - s).ToArray(), means.Zip(stds, (m, s) => m + s).ToArray());
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
                band.MarkerSize = 0;
                var line = plot.Add.ScatterLine(x, means.ToArray(), color);
                line.LineWidth = 2;
                line.LinePattern = pattern;
                if (x.Length <= 40)
                {
                    line.MarkerShape = MarkerShape.FilledCircle;
                    line.MarkerSize = 5;
                }
                legend.Add(new LegendItem { LabelText = label, LineColor = color, LineWidth = 2, LinePattern = pattern });
                series.Add(new FigureSeries(label, xs, means, stds));
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true }; // epochs and steps are counts
        legend.Add(new LegendItem { LabelText = $"±1 std over {SeedCount(runs)} seeds", FillColor = Colors.Gray.WithAlpha(0.35) });
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return new Drawn(plot, xLabel, display.AxisLabel, caption, series, null, notes);
    }

    private static Drawn Heatmap(FigureSpec spec, TrainingRuns runs, List<string> names)
    {
        var display = MetricDisplay.For(spec.Metric);
        var experiment = runs.Experiment;
        var notes = new List<string>();
        if (!Settings.TryGetValue(spec.X, out var xSetting) || !Settings.TryGetValue(spec.Y, out var ySetting))
        {
            notes.Add($"heatmap axes must be settings ({string.Join(", ", Settings.Keys)}); got x = '{spec.X}', y = '{spec.Y}'");
            return new Drawn(null, spec.X, spec.Y, "", [], null, notes);
        }
        if (MetricDisplay.IsPerLayer(spec.Metric))
        {
            notes.Add($"a heatmap needs a scalar metric; {spec.Metric} has one value per layer");
            return new Drawn(null, xSetting.Label, ySetting.Label, "", [], null, notes);
        }
        var caption = $"Each cell: the final {display.Label} of the run with those settings, mean ± std over {SeedCount(runs)} seeds; grey: not stored.";
        var cells = names.Select(n => (Name: n, Config: experiment.Run(n).ForSeed(experiment.Seeds[0])))
            .Select(c => (c.Name, X: xSetting.Read(c.Config), Y: ySetting.Read(c.Config))).ToList();
        var xs = cells.Select(c => c.X).Distinct().Order().ToList();
        var ys = cells.Select(c => c.Y).Distinct().Order().ToList();
        var mean = Grid(ys.Count, xs.Count, double.NaN);
        var std = Grid(ys.Count, xs.Count, double.NaN);
        var cellRuns = Enumerable.Range(0, ys.Count).Select(_ => new string?[xs.Count]).ToArray();
        foreach (var c in cells)
        {
            int xi = xs.IndexOf(c.X), yi = ys.IndexOf(c.Y);
            if (cellRuns[yi][xi] is { } taken)
            {
                notes.Add($"{c.Name} has the same {spec.X} and {spec.Y} as {taken}; the cell shows {taken}");
                continue;
            }
            cellRuns[yi][xi] = c.Name;
            if (!runs.Runs.ContainsKey(c.Name)) continue;
            var (m, s, _) = MetricDisplay.MeanStd(runs.Final(c.Name, f => MetricNames.Scalar(f, spec.Metric)));
            mean[yi][xi] = m * display.Scale;
            std[yi][xi] = s * display.Scale;
        }
        var grid = new HeatmapGrid(spec.X, spec.Y, xs, ys, mean, std, cellRuns);
        if (!mean.SelectMany(r => r).Any(double.IsFinite)) return new Drawn(null, xSetting.Label, ySetting.Label, caption, [], grid, notes);

        var plot = new Plot();
        var intensities = new double[ys.Count, xs.Count];
        for (var yi = 0; yi < ys.Count; yi++)
            for (var xi = 0; xi < xs.Count; xi++)
                intensities[ys.Count - 1 - yi, xi] = mean[yi][xi]; // row 0 is drawn at the top; y ascends upwards
        var colormap = new ScottPlot.Colormaps.Viridis();
        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Colormap = colormap;
        heatmap.Extent = new CoordinateRect(-0.5, xs.Count - 0.5, -0.5, ys.Count - 0.5);
        heatmap.NaNCellColor = Colors.LightGray;
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = display.AxisLabel;
        var finite = mean.SelectMany(r => r).Where(double.IsFinite).ToArray();
        double low = finite.Min(), high = finite.Max();
        for (var yi = 0; yi < ys.Count; yi++)
            for (var xi = 0; xi < xs.Count; xi++)
            {
                var v = mean[yi][xi];
                var decimals = display.IsPercent ? 2 : MetricDisplay.DecimalsFor(v);
                var text = double.IsFinite(v)
                    ? $"{MetricDisplay.Number(v, decimals)}{(display.IsPercent ? "%" : "")}\n± {MetricDisplay.Number(std[yi][xi], decimals)}"
                    : cellRuns[yi][xi] is null ? "no run" : "not stored";
                var label = plot.Add.Text(text, xi, yi);
                label.Alignment = Alignment.MiddleCenter;
                label.LabelFontSize = 16;
                label.LabelBold = true;
                var shade = double.IsFinite(v) ? colormap.GetColor(high > low ? (v - low) / (high - low) : 0.5) : Colors.LightGray;
                label.LabelFontColor = shade.Luminance > 0.5 ? Colors.Black : Colors.White;
            }
        plot.Axes.Bottom.TickGenerator = Ticks(xs.Select(MetricDisplay.Setting));
        plot.Axes.Left.TickGenerator = Ticks(ys.Select(MetricDisplay.Setting));
        plot.Axes.SetLimits(-0.5, xs.Count - 0.5, -0.5, ys.Count - 0.5);
        plot.HideGrid();
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"cell: mean ± std over {SeedCount(runs)} seeds", FillColor = colormap.GetColor(0.5) });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "not stored", FillColor = Colors.LightGray });
        plot.ShowLegend(Edge.Bottom);
        return new Drawn(plot, xSetting.Label, ySetting.Label, caption, [], grid, notes);
    }

    private static Drawn Layers(FigureSpec spec, TrainingRuns runs, List<string> stored, bool markPaper, Func<string, string, string?> reference)
    {
        var notes = new List<string>();
        var metric = spec.Metric;
        if (!MetricDisplay.IsPerLayer(metric))
        {
            notes.Add($"a layers figure needs a per-layer metric (layerCosines); got {metric}");
            return new Drawn(null, "", "", "", [], null, notes);
        }
        var display = MetricDisplay.For(metric);
        var caption = $"Bars: mean over {SeedCount(runs)} seeds of the final epoch; error bars: ±1 std over seeds" +
                      (markPaper ? "; black diamonds: the paper's values." : ".");
        if (stored.Count == 0) return new Drawn(null, "run", display.AxisLabel, caption, [], null, notes);

        var plot = new Plot();
        var layers = stored.Max(n => runs[n].Min(r => r.Final.LayerCosines.Length));
        var widths = runs[stored[0]][0].Config.Model.Widths;
        const double group = 0.8;
        var barWidth = group / layers;
        var bars = new List<Bar>();
        var series = new List<FigureSeries>();
        var paperX = new List<double>();
        var paperY = new List<double>();
        var lowest = 0.0;
        for (var g = 0; g < stored.Count; g++)
        {
            var records = runs[stored[g]];
            var count = records.Min(r => r.Final.LayerCosines.Length);
            var means = new List<double>();
            var stds = new List<double>();
            for (var l = 0; l < count; l++)
            {
                var (m, s, _) = MetricDisplay.MeanStd(records.Select(r => r.Final.LayerCosines[l]));
                means.Add(m);
                stds.Add(s);
                bars.Add(new Bar
                {
                    Position = g - group / 2 + barWidth * (l + 0.5), Value = m, Error = s, Size = barWidth * 0.92,
                    FillColor = Palette(l), LineWidth = 0,
                });
                lowest = Math.Min(lowest, m - s);
            }
            series.Add(new FigureSeries(stored[g], Enumerable.Range(1, count).Select(l => (double)l).ToList(), means, stds));
            if (markPaper && ReferenceValue.TryParse(reference(stored[g], metric), out var paper) && paper.Components.Count == count)
                for (var l = 0; l < count; l++)
                {
                    paperX.Add(g - group / 2 + barWidth * (l + 0.5));
                    paperY.Add((paper.Components[l].Low + paper.Components[l].High) / 2);
                }
        }
        plot.Add.Bars(bars);
        var legend = Enumerable.Range(0, layers).Select(l => new LegendItem
        {
            LabelText = widths.Length > l + 1 ? $"layer {l + 1} ({widths[l]} x {widths[l + 1]})" : $"layer {l + 1}",
            FillColor = Palette(l),
        }).ToList();
        legend.Add(new LegendItem { LabelText = $"error bar: ±1 std over {SeedCount(runs)} seeds", LineColor = Colors.Black, LineWidth = 1.5f });
        if (paperX.Count > 0)
        {
            MarkPaper(plot, paperX, paperY);
            legend.Add(PaperLegend());
        }
        plot.Axes.Bottom.TickGenerator = Ticks(stored);
        plot.Axes.SetLimits(-0.6, stored.Count - 0.4, Math.Min(0, lowest - 0.05), 1.08);
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return new Drawn(plot, "run", display.AxisLabel, caption, series, null, notes);
    }

    private static Drawn Bars(FigureSpec spec, TrainingRuns runs, List<string> stored, bool markPaper, Func<string, Color> colorOf, Func<string, string, string?> reference)
    {
        var notes = new List<string>();
        if (MetricDisplay.IsPerLayer(spec.Metric))
        {
            notes.Add($"a bars figure needs a scalar metric; {spec.Metric} has one value per layer (use kind 'layers')");
            return new Drawn(null, "", "", "", [], null, notes);
        }
        var display = MetricDisplay.For(spec.Metric);
        var caption = $"Bars: mean over {SeedCount(runs)} seeds of the final epoch; error bars: ±1 std over seeds" +
                      (markPaper ? "; black diamonds: the paper's values (both ends of a range)." : ".");
        if (stored.Count == 0) return new Drawn(null, "run", display.AxisLabel, caption, [], null, notes);

        var plot = new Plot();
        var series = new List<FigureSeries>();
        var bars = new List<Bar>();
        var paperX = new List<double>();
        var paperY = new List<double>();
        for (var i = 0; i < stored.Count; i++)
        {
            var (m, s, _) = MetricDisplay.MeanStd(runs.Final(stored[i], f => MetricNames.Scalar(f, spec.Metric)));
            bars.Add(new Bar { Position = i, Value = m * display.Scale, Error = s * display.Scale, Size = 0.6, FillColor = colorOf(stored[i]), LineWidth = 0 });
            series.Add(new FigureSeries(stored[i], [i], [m * display.Scale], [s * display.Scale]));
            if (markPaper && ReferenceValue.TryParse(reference(stored[i], spec.Metric), out var paper) && paper.Components.Count == 1)
                foreach (var end in new[] { paper.Components[0].Low, paper.Components[0].High }.Distinct())
                {
                    paperX.Add(i);
                    paperY.Add(end * display.Scale);
                }
        }
        plot.Add.Bars(bars);
        var legend = stored.Select(n => new LegendItem { LabelText = n, FillColor = colorOf(n) }).ToList();
        legend.Add(new LegendItem { LabelText = $"error bar: ±1 std over {SeedCount(runs)} seeds", LineColor = Colors.Black, LineWidth = 1.5f });
        if (paperX.Count > 0)
        {
            MarkPaper(plot, paperX, paperY);
            legend.Add(PaperLegend());
        }
        plot.Axes.Bottom.TickGenerator = Ticks(stored);
        plot.Axes.Margins(bottom: 0);
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return new Drawn(plot, "run", display.AxisLabel, caption, series, null, notes);
    }

    /// <summary>
    /// A final metric against a setting of the runs (x: batchSize, learningRate, ...; log2 axis), mean ± std over seeds, one
    /// point per run in the order given; runs that diverged are marked on the x axis with a red cross.
    /// </summary>
    private static Drawn Sweep(FigureSpec spec, TrainingRuns runs, List<string> names, IReadOnlyCollection<string> diverged)
    {
        var notes = new List<string>();
        var x = spec.X == "epoch" ? "batchSize" : spec.X;
        if (!Settings.TryGetValue(x, out var setting) || MetricDisplay.IsPerLayer(spec.Metric))
        {
            notes.Add($"a sweep needs a scalar metric and a setting on x ({string.Join(", ", Settings.Keys)}); got {spec.Metric} against '{x}'");
            return new Drawn(null, x, spec.Metric, "", [], null, notes);
        }
        var display = MetricDisplay.For(spec.Metric);
        var experiment = runs.Experiment;
        var caption = $"Points: mean over {SeedCount(runs)} seeds of the final epoch; error bars: ±1 std over seeds; x on a log2 scale." +
                      " Red crosses on the axis: settings whose run diverged (an outcome, not a result).";
        var points = new List<(double X, double Mean, double Std, string Run)>();
        var crosses = new List<(double X, string Run)>();
        foreach (var name in names)
        {
            var value = Math.Log2(setting.Read(experiment.Run(name).ForSeed(experiment.Seeds[0])));
            if (runs.Runs.ContainsKey(name))
            {
                var (m, sd, _) = MetricDisplay.MeanStd(runs.Final(name, f => MetricNames.Scalar(f, spec.Metric)));
                points.Add((value, m * display.Scale, sd * display.Scale, name));
            }
            else if (diverged.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                crosses.Add((value, name));
            }
        }
        if (points.Count == 0 && crosses.Count == 0) return new Drawn(null, setting.Label, display.AxisLabel, caption, [], null, notes);
        var plot = new Plot();
        var series = new List<FigureSeries>();
        if (points.Count > 0)
        {
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Mean).ToArray(), Palette(0));
            line.MarkerSize = 8;
            line.LegendText = $"{display.Label}, mean over seeds";
            var bars = plot.Add.ErrorBar(points.Select(p => p.X).ToArray(), points.Select(p => p.Mean).ToArray(), points.Select(p => p.Std).ToArray());
            bars.Color = Palette(0);
            series.Add(new FigureSeries(spec.Metric, points.Select(p => Math.Pow(2, p.X)).ToList(), points.Select(p => p.Mean).ToList(), points.Select(p => p.Std).ToList()));
        }
        if (crosses.Count > 0)
        {
            var bottom = points.Count > 0 ? points.Min(p => p.Mean - p.Std) : 0;
            var marks = plot.Add.ScatterPoints(crosses.Select(c => c.X).ToArray(), crosses.Select(_ => bottom).ToArray(), Colors.Red);
            marks.MarkerShape = MarkerShape.Cross;
            marks.MarkerSize = 14;
            marks.LegendText = "diverged";
            notes.Add($"diverged: {string.Join(", ", crosses.Select(c => c.Run))}");
            series.Add(new FigureSeries("diverged", crosses.Select(c => Math.Pow(2, c.X)).ToList(), crosses.Select(_ => double.NaN).ToList(), crosses.Select(_ => double.NaN).ToList()));
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var p in points.Select(p => p.X).Concat(crosses.Select(c => c.X)).Distinct().Order())
            ticks.AddMajor(p, Math.Pow(2, p).ToString("G6", System.Globalization.CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.ShowLegend(Edge.Right);
        return new Drawn(plot, setting.Label + ", log2 scale", display.AxisLabel, caption, series, null, notes);
    }

    private static void MarkPaper(Plot plot, List<double> xs, List<double> ys)
    {
        var marks = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray(), Colors.Black);
        marks.MarkerShape = MarkerShape.FilledDiamond;
        marks.MarkerSize = 11;
    }

    private static LegendItem PaperLegend() =>
        new() { LabelText = "the paper's value", MarkerShape = MarkerShape.FilledDiamond, MarkerSize = 11, MarkerFillColor = Colors.Black, MarkerLineColor = Colors.Black };

    private static ScottPlot.TickGenerators.NumericManual Ticks(IEnumerable<string> labels)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var i = 0;
        foreach (var label in labels) ticks.AddMajor(i++, label);
        return ticks;
    }

    private static double[][] Grid(int rows, int columns, double value) =>
        Enumerable.Range(0, rows).Select(_ => Enumerable.Repeat(value, columns).ToArray()).ToArray();
}
