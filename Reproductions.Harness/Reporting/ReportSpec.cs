using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Reporting;

/// <summary>One figure of a finding's report section; the protocol draws it.</summary>
/// <param name="Kind">A figure kind of the finding's protocol (training: curves, heatmap, layers, bars; gradient
/// competition: norm-vs-batch-size, normalised-std, normalised-histograms, value-histograms).</param>
/// <param name="Metric">A metric of the protocol, e.g. testAccuracy, weightDistance, layerCosines ("" where the kind has none).</param>
/// <param name="Runs">The groups to show, in order; empty: all of the profile's.</param>
/// <param name="LastEpochs">curves: show only the last N epochs of each run (the blog's F04 plots), 0: all.</param>
/// <param name="X">curves: "epoch" (default) or "steps"; heatmap: the setting on the x axis (learningRate, batchSize).</param>
/// <param name="Y">heatmap: the setting on the y axis.</param>
public sealed record FigureSpec(string Kind, string Metric, string Title, IReadOnlyList<string> Runs, int LastEpochs, string X, string Y);

/// <summary>What a finding's report shows: the metrics of its table (mean and std over seeds), extra per-point tables, and figures.</summary>
/// <param name="Tables">Columns of the protocol's per-point tables (the gradient competition's per-batch-size numbers); empty: none.</param>
public sealed record ReportSpec(IReadOnlyList<string> Metrics, IReadOnlyList<FigureSpec> Figures, IReadOnlyList<string> Tables)
{
    private static readonly HashSet<string> Keys = new(StringComparer.OrdinalIgnoreCase) { "metrics", "figures", "tables" };
    private static readonly HashSet<string> FigureKeys = new(StringComparer.OrdinalIgnoreCase) { "kind", "metric", "title", "runs", "lastEpochs", "x", "y" };

    /// <summary>Reads a <c>report</c> section, checking metric names, figure kinds and groups against the finding's protocol and experiment.</summary>
    public static ReportSpec Read(string where, IConfigurationSection report, Experiment experiment)
    {
        var protocol = experiment.Protocol;
        if (!report.Exists()) return new ReportSpec(protocol.DefaultMetrics, [], []);
        foreach (var child in report.GetChildren())
            if (!Keys.Contains(child.Key))
                throw new ConfigException($"{where}: unknown key '{child.Key}'. Known keys: {string.Join(", ", Keys)}.");
        var metrics = report.GetSection("metrics").GetChildren().Select(c => c.Value ?? "").ToList();
        foreach (var m in metrics)
            if (!protocol.IsMetric(m))
                throw new ConfigException($"{where}:metrics: '{m}' is not a metric of the {protocol.Name} protocol; known: {string.Join(", ", protocol.Metrics)}.");
        var tables = report.GetSection("tables").GetChildren().Select(c => c.Value ?? "").ToList();
        foreach (var t in tables)
            if (!protocol.TableColumns.Contains(t))
                throw new ConfigException($"{where}:tables: '{t}' is not a table column of the {protocol.Name} protocol; known: " +
                                          (protocol.TableColumns.Count > 0 ? string.Join(", ", protocol.TableColumns) : "none (it draws no extra tables)") + ".");
        var figures = new List<FigureSpec>();
        foreach (var f in report.GetSection("figures").GetChildren())
        {
            var at = $"{where}:figures:{f.Key}";
            foreach (var child in f.GetChildren())
                if (!FigureKeys.Contains(child.Key))
                    throw new ConfigException($"{at}: unknown key '{child.Key}'. Known keys: {string.Join(", ", FigureKeys)}.");
            var kind = f["kind"] ?? "";
            if (!protocol.FigureKinds.Contains(kind))
                throw new ConfigException($"{at}: kind = '{kind}': expected one of {string.Join(", ", protocol.FigureKinds)} (the {protocol.Name} protocol's figures).");
            var metric = f["metric"] ?? (kind == "layers" ? "layerCosines" : "");
            if (metric.Length > 0 ? !protocol.IsMetric(metric) : kind is "curves" or "heatmap" or "bars")
                throw new ConfigException($"{at}: metric = '{metric}': expected one of {string.Join(", ", protocol.Metrics)}.");
            var runs = f.GetSection("runs").GetChildren().Select(c => c.Value ?? "").ToList();
            foreach (var r in runs)
                if (!experiment.Groups.Contains(r, StringComparer.OrdinalIgnoreCase))
                    throw new ConfigException($"{at}: runs names '{r}', which this profile does not define (it has {string.Join(", ", experiment.Groups)}).");
            var lastEpochs = f["lastEpochs"] is { } le ? (int)ConfigFiles.Integer(at, "lastEpochs", le, 0) : 0;
            var x = f["x"] ?? (kind == "heatmap" ? "learningRate" : "epoch");
            var y = f["y"] ?? (kind == "heatmap" ? "batchSize" : "");
            figures.Add(new FigureSpec(kind, metric, f["title"] ?? $"{(metric.Length > 0 ? metric : kind)} ({kind})", runs, lastEpochs, x, y));
        }
        return new ReportSpec(metrics.Count > 0 ? metrics : protocol.DefaultMetrics, figures, tables);
    }
}
