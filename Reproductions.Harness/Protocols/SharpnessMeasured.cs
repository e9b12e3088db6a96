using System.Globalization;
using System.Text.RegularExpressions;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Models;
using Reproductions.Harness.Reporting;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// The sharpness protocol's metrics beside the training metrics of its runs:
/// <list type="bullet">
/// <item><c>sharpnessFull&lt;eps&gt;</c>, <c>sharpnessSubspace&lt;eps&gt;</c> (eps written as 1e-3, 5e-4): phi at the run's
/// final point; <c>logSharpness...</c> its natural log (a paired difference of logs is the log of the ratio);
/// <c>sharpnessSubspaceAscent&lt;eps&gt;</c>: phi in the subspace by projected ascent, to compare with the bounded BFGS;</item>
/// <item><c>gradientNorm</c>, <c>lossAtPoint</c>: the training loss's gradient norm and value at the final point (over the evaluation set);</item>
/// <item><c>bestTestAccuracy</c>, <c>bestTestEpoch</c>, <c>epochsRun</c>, <c>reachedTarget</c> (1 when the run stopped at its training-accuracy target);</item>
/// <item><c>sharpnessLossSpearman</c>: per seed, the rank correlation of the sharpness at the kept checkpoints with -log(loss);
/// pooled over seeds as a statistic for rank claims.</item>
/// </list>
/// </summary>
public static partial class SharpnessMetrics
{
    [GeneratedRegex(@"^(log)?(sharpness)(Full|Subspace|SubspaceAscent)(\d+e-\d+)$", RegexOptions.IgnoreCase)]
    private static partial Regex SharpnessName();

    private static readonly Dictionary<string, MetricDisplay> Plain = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gradientNorm"] = new("gradientNorm", "gradient norm of the training loss at the final point", "L2 norm", 1),
        ["lossAtPoint"] = new("lossAtPoint", "training loss at the final point (evaluation set)", "nats per sample", 1),
        ["bestTestAccuracy"] = new("bestTestAccuracy", "best test accuracy over the epochs", "%", 100),
        ["bestTestEpoch"] = new("bestTestEpoch", "epoch of the best test accuracy", "", 1),
        ["epochsRun"] = new("epochsRun", "epochs trained", "count", 1),
        ["reachedTarget"] = new("reachedTarget", "stopped at its training-accuracy target (1) or at the epoch cap (0)", "", 1),
        ["sharpnessLossSpearman"] = new("sharpnessLossSpearman", "rank correlation of sharpness with -log(training loss) along training", "Spearman", 1),
    };

    public static IEnumerable<string> Names => Plain.Keys.Concat(["sharpnessFull<eps>", "sharpnessSubspace<eps>", "sharpnessSubspaceAscent<eps>", "logSharpnessFull<eps>", "logSharpnessSubspace<eps>"]);

    public static bool IsMetric(string metric) => Plain.ContainsKey(metric) || SharpnessName().IsMatch(metric);

    /// <summary>The name of eps in a metric: 0.001 is "1e-3", 0.0005 is "5e-4".</summary>
    public static string EpsilonName(double epsilon)
    {
        var exponent = (int)Math.Floor(Math.Log10(epsilon) + 1e-9);
        var mantissa = Math.Round(epsilon / Math.Pow(10, exponent), 6);
        return string.Create(CultureInfo.InvariantCulture, $"{mantissa:G6}e{exponent}");
    }

    /// <summary>The space, eps and whether it is the log, of a sharpness metric; null for another metric.</summary>
    public static (string Space, string Epsilon, bool Log)? Parse(string metric) =>
        SharpnessName().Match(metric) is { Success: true } m ? (m.Groups[3].Value.ToLowerInvariant(), m.Groups[4].Value, m.Groups[1].Success) : null;

    /// <summary>The space of a measure as its metric names it: full, subspace, subspaceascent.</summary>
    public static string SpaceName(SharpnessMeasure m) =>
        m.Space == "full" ? "full" : m.Space.EndsWith("(projected ascent)", StringComparison.Ordinal) ? "subspaceascent" : "subspace";

    public static MetricDisplay? Display(string metric)
    {
        if (Plain.TryGetValue(metric, out var d)) return d;
        if (Parse(metric) is not { } p) return null;
        var space = p.Space switch { "full" => "full space", "subspace" => "random subspace", _ => "random subspace, projected ascent" };
        return new MetricDisplay(metric, $"{(p.Log ? "log " : "")}sharpness, {space}, eps {p.Epsilon}", p.Log ? "ln phi" : "phi", 1);
    }
}

/// <summary>What a sharpness experiment measured: its runs (as the training protocol measures them), the sharpness of their final points and along training, and the parametric lines.</summary>
public sealed class SharpnessMeasured(
    SharpnessExperiment experiment, TrainingMeasured training, IReadOnlyDictionary<string, IReadOnlyList<SharpnessResult>> final,
    IReadOnlyDictionary<string, IReadOnlyList<SharpnessResult>> along, IReadOnlyList<ParametricLine>? lines, IReadOnlyList<MissingRun> missing) : Measured
{
    public override Experiment Experiment => experiment;
    public SharpnessExperiment Sharpness => experiment;
    public TrainingMeasured Training => training;

    /// <summary>Per run, the final point's sharpness per seed (seed order).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<SharpnessResult>> Final => final;

    /// <summary>Per run, the sharpness at its kept checkpoints per seed.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<SharpnessResult>> Along => along;

    /// <summary>The parametric line per seed, when measured.</summary>
    public IReadOnlyList<ParametricLine>? Lines => lines;

    public override IReadOnlyList<MeasuredGroup> Groups => training.Groups;
    public override IReadOnlyList<MissingRun> Missing => missing;
    public override string GroupHeading => training.GroupHeading;
    public override string SettingHeading => training.SettingHeading;

    public override IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric)
    {
        if (SharpnessMetrics.Parse(metric) is { } p)
        {
            if (!final.TryGetValue(group, out var results)) return null;
            var values = results.Select(r => r.Points[^1].Measures
                .Where(m => SharpnessMetrics.SpaceName(m) == p.Space && SharpnessMetrics.EpsilonName(m.Epsilon) == p.Epsilon)
                .Select(m => p.Log ? (m.Phi > 0 ? Math.Log(m.Phi) : double.NaN) : m.Phi).ToList()).ToList();
            return values.All(v => v.Count == 1) ? values.Select(v => (IReadOnlyList<double>)[v[0]]).ToList() : null;
        }
        switch (metric)
        {
            case "gradientNorm":
            case "lossAtPoint":
                return final.TryGetValue(group, out var f)
                    ? f.Select(r => (IReadOnlyList<double>)[metric == "gradientNorm" ? r.Points[^1].Measures[0].GradientNorm : r.Points[^1].Loss]).ToList() : null;
            case "sharpnessLossSpearman":
                return along.TryGetValue(group, out var a) ? a.Select(r => (IReadOnlyList<double>)[Spearman(r.Points)]).ToList() : null;
        }
        if (!training.Runs.Runs.TryGetValue(group, out var records)) return null;
        return metric switch
        {
            "bestTestAccuracy" => records.Select(r => (IReadOnlyList<double>)[r.Epochs.Max(e => e.TestAccuracy)]).ToList(),
            "bestTestEpoch" => records.Select(r => (IReadOnlyList<double>)[r.Epochs.MaxBy(e => e.TestAccuracy)!.Epoch]).ToList(),
            "epochsRun" => records.Select(r => (IReadOnlyList<double>)[r.Epochs.Count]).ToList(),
            "reachedTarget" => records.Select(r => (IReadOnlyList<double>)[r.ReachedTarget ? 1 : 0]).ToList(),
            _ => training.Values(group, metric),
        };
    }

    /// <summary>Spearman of sharpness with -log(loss) over the checkpoints of one seed (NaN under 3 points).</summary>
    public static double Spearman(IReadOnlyList<SharpnessPoint> points) =>
        points.Count < 3 ? double.NaN : Correlation.Spearman(points.Select(p => p.Measures[0].Phi), points.Select(p => -Math.Log(p.Loss)));

    /// <summary>sharpnessLossSpearman pooled over every seed's checkpoints.</summary>
    public override PooledStatistic? Pooled(string group, string metric)
    {
        if (metric != "sharpnessLossSpearman" || !along.TryGetValue(group, out var results)) return null;
        var points = results.SelectMany(r => r.Points).ToList();
        return new PooledStatistic(Spearman(points), double.NaN, double.NaN, points.Count);
    }

    public override IReadOnlyList<IReadOnlyList<double>>? History(string group, string metric) => training.History(group, metric);

    public override IReadOnlyList<string> Devices => training.Devices;

    /// <summary>Training and measuring time of the stored results.</summary>
    public override double Seconds => training.Seconds + final.Values.Concat(along.Values).SelectMany(r => r).Sum(r => r.Seconds) + (lines?.Sum(l => l.Seconds) ?? 0);

    public override DateTime? Newest => training.Newest;

    public override IReadOnlyList<ReportTable> Tables(ReportSpec spec) => SharpnessFigures.Tables(this, spec.Tables);

    public override IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target) =>
        spec.Figures.Select((f, i) => f.Kind switch
        {
            SharpnessFigures.VersusLoss => SharpnessFigures.DrawVersusLoss(f, i + 1, this, target),
            SharpnessFigures.Parametric => SharpnessFigures.DrawParametric(f, i + 1, this, target),
            _ => ReportFigures.Render(f, i + 1, training.Runs, target, missing.Where(m => m.Diverged is { Count: > 0 }).Select(m => m.Run).ToList()),
        }).ToList();
}
