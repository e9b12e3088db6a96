using System.Globalization;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// The gradient competition's metrics: per protocol variant and regime (a group, "single-step/early"), computed from
/// one trial seed's trials at a time, so that each has one value per trial seed.
/// </summary>
public static class CompetitionMetrics
{
    public sealed record Metric(MetricDisplay Display, Func<CurveSummary, double> Read);

    private static BatchSummary Smallest(CurveSummary c) => c.Batches[0];
    private static BatchSummary Largest(CurveSummary c) => c.Batches[^1];
    public static double PerTrial(BatchSummary b) => (double)b.TailCount / Math.Max(1, b.Trials);

    /// <summary>Whether <paramref name="metric"/> names a per-seed metric: one of <see cref="Known"/>, or "name@B" of <see cref="AtBatchSize"/>.</summary>
    public static bool IsMetric(string metric) =>
        Known.ContainsKey(metric) || Pooled.ContainsKey(metric) || (Split(metric) is { } at && AtBatchSize.ContainsKey(at.Name));

    /// <summary>"meanNorm@64" as (meanNorm, 64); null for a name without "@B".</summary>
    public static (string Name, int BatchSize)? Split(string metric)
    {
        var at = metric.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && int.TryParse(metric[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? (metric[..at], b) : null;
    }

    public static readonly IReadOnlyDictionary<string, Metric> Known = new Dictionary<string, Metric>(StringComparer.OrdinalIgnoreCase)
    {
        ["loglogSlope"] = new(new("loglogSlope", "log-log slope of the mean norm against B", "", 1), c => c.LogLog.Slope),
        ["loglogSlopeRms"] = new(new("loglogSlopeRms", "log-log slope of the RMS norm against B", "", 1), c => c.LogLogRms.Slope),
        ["squaredNormR2"] = new(new("squaredNormR2", "R^2 of the mean squared norm linear in B", "", 1), c => c.SquaredNorm.RSquared),
        ["meanNormSmallestB"] = new(new("meanNormSmallestB", "mean norm at the smallest B", "L2 norm", 1), c => Smallest(c).Mean),
        ["meanNormLargestB"] = new(new("meanNormLargestB", "mean norm at the largest B", "L2 norm", 1), c => Largest(c).Mean),
        ["spearmanNormalisedStd"] = new(new("spearmanNormalisedStd", "Spearman(B, normalised std)", "", 1), c => c.SpearmanNormalisedStd),
        ["spearmanNormalisedIqr"] = new(new("spearmanNormalisedIqr", "Spearman(B, normalised IQR)", "", 1), c => c.SpearmanNormalisedIqr),
        ["relativeStdSmallestB"] = new(new("relativeStdSmallestB", "std / mean of the norm at the smallest B", "", 1), c => Smallest(c).RelativeStd),
        ["relativeStdLargestB"] = new(new("relativeStdLargestB", "std / mean of the norm at the largest B", "", 1), c => Largest(c).RelativeStd),
        ["tailThreshold"] = new(new("tailThreshold", "large-value threshold", "|gradient value|", 1), c => c.TailThreshold),
        ["largeValuesSmallestB"] = new(new("largeValuesSmallestB", "large values per trial at the smallest B", "count", 1), c => PerTrial(Smallest(c))),
        ["largeValuesLargestB"] = new(new("largeValuesLargestB", "large values per trial at the largest B", "count", 1), c => PerTrial(Largest(c))),
        ["spearmanLargeValues"] = new(new("spearmanLargeValues", "Spearman(B, share of large values)", "", 1), c => c.SpearmanTailCount),
        ["divergedTrials"] = new(new("divergedTrials", "trials with a non-finite gradient", "count", 1), c => c.DivergedTrials),
    };

    /// <summary>Metrics at one batch size, named "metric@B" (e.g. meanNorm@64): one value per trial seed.</summary>
    public static readonly IReadOnlyDictionary<string, Metric> AtBatchSize = new Dictionary<string, Metric>(StringComparer.OrdinalIgnoreCase)
    {
        ["meanNorm"] = new(new("meanNorm", "mean norm", "L2 norm", 1), _ => double.NaN),
        ["relativeStd"] = new(new("relativeStd", "std / mean of the norm", "", 1), _ => double.NaN),
        ["normalisedStd"] = new(new("normalisedStd", "normalised std of the norm", "", 1), _ => double.NaN),
        ["normalisedIqr"] = new(new("normalisedIqr", "normalised IQR of the norm", "", 1), _ => double.NaN),
        ["largeValues"] = new(new("largeValues", "large values per trial", "count", 1), _ => double.NaN),
        ["tailShape"] = new(new("tailShape", "log10 of the 99.9% over the 50% quantile of the non-zero |values|", "decades", 1), _ => double.NaN),
    };

    /// <summary>The value of an at-B metric in one curve's batch size, from the cell's trials.</summary>
    public static double ReadAt(string metric, CurveSummary c, BatchSummary b, CellData cell) => metric.ToLowerInvariant() switch
    {
        "meannorm" => b.Mean,
        "relativestd" => b.RelativeStd,
        "normalisedstd" => b.NormalisedStd,
        "normalisediqr" => b.NormalisedIqr,
        "largevalues" => PerTrial(b),
        "tailshape" => TailShape(cell),
        _ => double.NaN,
    };

    /// <summary>
    /// How heavy the tail of the raw values is, whatever their scale: log10(q99.9 / q50) of the non-zero |values| on the
    /// shared bins. A scale change (every value doubled) leaves it unchanged; a heavier tail relative to the centre raises it.
    /// </summary>
    public static double TailShape(CellData cell) =>
        Math.Log10(cell.Values.NonZeroQuantile(0.999) / cell.Values.NonZeroQuantile(0.5));

    /// <summary>Statistics of all trial seeds' trials together: fits with their 95% interval, rank correlations with their points.</summary>
    public static readonly IReadOnlyDictionary<string, (MetricDisplay Display, Func<CompetitionResult, CurveSummary, PooledStatistic> Read)> Pooled =
        new Dictionary<string, (MetricDisplay, Func<CompetitionResult, CurveSummary, PooledStatistic>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["loglogSlope"] = (Known["loglogSlope"].Display, (_, c) => Fit(c.LogLog)),
            ["loglogSlopeRms"] = (Known["loglogSlopeRms"].Display, (_, c) => Fit(c.LogLogRms)),
            ["squaredNormR2"] = (Known["squaredNormR2"].Display, (_, c) => new PooledStatistic(c.SquaredNorm.RSquared, double.NaN, double.NaN, c.SquaredNorm.Points)),
            ["spearmanNormalisedStd"] = (Known["spearmanNormalisedStd"].Display, (_, c) => Rank(c.SpearmanNormalisedStd, c)),
            ["spearmanNormalisedIqr"] = (Known["spearmanNormalisedIqr"].Display, (_, c) => Rank(c.SpearmanNormalisedIqr, c)),
            ["spearmanLargeValues"] = (Known["spearmanLargeValues"].Display, (_, c) => Rank(c.SpearmanTailCount, c)),
            ["spearmanTailShape"] = (new("spearmanTailShape", "Spearman(B, tail shape)", "", 1), SpearmanTailShape),
            ["blowUp"] = (new("blowUp", "largest mean norm below the reference B over the mean norm at it (infinite when a trial diverged)", "", 1), BlowUp),
        };

    private static PooledStatistic Fit(LineFit f) => new(f.Slope, f.SlopeLow, f.SlopeHigh, f.Points);

    private static PooledStatistic Rank(double rho, CurveSummary c) =>
        new(rho, double.NaN, double.NaN, c.Batches.Count(b => b.Diverged == 0 && b.Trials > 0 && b.Mean > 0));

    private static PooledStatistic SpearmanTailShape(CompetitionResult result, CurveSummary c)
    {
        var points = c.Batches.Where(b => b.Diverged == 0 && b.Trials > 0)
            .Select(b => (B: (double)b.BatchSize, Shape: TailShape(result.Pooled[new CellKey(c.Variant, c.Regime, b.BatchSize)])))
            .Where(p => double.IsFinite(p.Shape)).ToList();
        var rho = points.Count >= 3 ? MathNet.Numerics.Statistics.Correlation.Spearman(points.Select(p => p.B), points.Select(p => p.Shape)) : double.NaN;
        return new PooledStatistic(rho, double.NaN, double.NaN, points.Count);
    }

    private static PooledStatistic BlowUp(CompetitionResult result, CurveSummary c)
    {
        var reference = c.At(result.Profile.ReferenceBatchSize)!.Mean;
        var below = c.Batches.Where(b => b.BatchSize > c.Batches[0].BatchSize && b.BatchSize < result.Profile.ReferenceBatchSize).ToList();
        var ratio = below.Any(b => b.Diverged > 0) ? double.PositiveInfinity : below.Select(b => b.Mean / reference).DefaultIfEmpty(double.NaN).Max();
        return new PooledStatistic(ratio, double.NaN, double.NaN, below.Count);
    }

    /// <summary>Per-batch-size columns a finding's <c>report.tables</c> may ask for.</summary>
    public static readonly IReadOnlyDictionary<string, (string Heading, Func<BatchSummary, CurveSummary, string> Cell)> Columns =
        new Dictionary<string, (string, Func<BatchSummary, CurveSummary, string>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["trials"] = ("trials", (b, _) => I(b.Trials)),
            ["diverged"] = ("diverged", (b, _) => I(b.Diverged)),
            ["meanNorm"] = ("mean norm", (b, _) => G(b.Mean)),
            ["std"] = ("std", (b, _) => G(b.Std)),
            ["relativeStd"] = ("std / mean", (b, _) => G(b.RelativeStd)),
            ["normalisedStd"] = ("normalised std", (b, _) => G(b.NormalisedStd)),
            ["normalisedIqr"] = ("normalised IQR", (b, _) => G(b.NormalisedIqr)),
            ["largeValues"] = ("large values per trial", (b, c) => G(PerTrial(b))),
        };

    /// <summary>The group of a variant in a regime: "single-step/early".</summary>
    public static string Group(ProtocolVariant variant, string regime) => $"{variant.Name()}/{regime}";

    public static bool TryParseGroup(string group, out ProtocolVariant variant, out string regime)
    {
        var slash = group.IndexOf('/', StringComparison.Ordinal);
        regime = slash > 0 ? group[(slash + 1)..] : "";
        variant = default;
        return slash > 0 && ProtocolVariants.TryParse(group[..slash], out variant);
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

/// <summary>What a gradient-competition experiment measured (nothing when its trials are not stored).</summary>
public sealed class CompetitionMeasured(CompetitionExperiment experiment, CompetitionResult? result, IReadOnlyList<MissingRun> missing) : Measured
{
    public override Experiment Experiment => experiment;

    /// <summary>The trials themselves (null when not stored).</summary>
    public CompetitionResult? Result => result;

    /// <summary>The trials, or an error naming what is missing.</summary>
    public CompetitionResult Trials => result ?? throw new InvalidOperationException(
        $"the gradient-competition trials of profile '{experiment.Profile.Profile}' are not stored ({string.Join(", ", missing.Select(m => m.Run))}).");

    public override IReadOnlyList<MeasuredGroup> Groups => result is null ? [] :
        result.Variants.SelectMany(v => result.RegimeNames.Select(r =>
            new MeasuredGroup(CompetitionMetrics.Group(v, r), $"{v.Describe()}; {experiment.Profile.TrialsPerSeed(v)} trials per seed and B", [result.Device]))).ToList();

    public override IReadOnlyList<MissingRun> Missing => missing;

    public override string GroupHeading => "variant/regime";

    public override string SettingHeading => "protocol variant";

    public override IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric)
    {
        if (result is null || !CompetitionMetrics.TryParseGroup(group, out var variant, out var regime)
            || !result.Variants.Contains(variant) || !result.RegimeNames.Contains(regime)) return null;
        if (CompetitionMetrics.Known.TryGetValue(metric, out var m))
            return result.Profile.Seeds.Select(s => (IReadOnlyList<double>)[m.Read(result.Curve(variant, regime, s))]).ToList();
        if (CompetitionMetrics.Split(metric) is not { } at || !CompetitionMetrics.AtBatchSize.ContainsKey(at.Name)
            || !result.Profile.BatchSizes.Contains(at.BatchSize)) return null;
        return result.Profile.Seeds.Select(s =>
        {
            var c = result.Curve(variant, regime, s);
            return (IReadOnlyList<double>)[CompetitionMetrics.ReadAt(at.Name, c, c.At(at.BatchSize)!, result.PerSeed[s][new CellKey(variant, regime, at.BatchSize)])];
        }).ToList();
    }

    public override PooledStatistic? Pooled(string group, string metric)
    {
        if (result is null || !CompetitionMetrics.Pooled.TryGetValue(metric, out var p)
            || !CompetitionMetrics.TryParseGroup(group, out var variant, out var regime)
            || !result.Variants.Contains(variant) || !result.RegimeNames.Contains(regime)) return null;
        return p.Read(result, result.Curve(variant, regime));
    }

    public override IReadOnlyList<string> Devices => result is null ? [] : [result.Device];

    public override double Seconds => result?.Seconds ?? 0;

    public override DateTime? Newest => result?.CompletedUtc;

    /// <summary>One table per variant: per batch size, the columns <c>report.tables</c> names, for every regime; the curve's fits in the caption.</summary>
    public override IReadOnlyList<ReportTable> Tables(ReportSpec spec)
    {
        if (result is null || spec.Tables.Count == 0) return [];
        var tables = new List<ReportTable>();
        foreach (var variant in result.Variants)
        {
            var curves = result.RegimeNames.Select(r => result.Curve(variant, r)).ToList();
            var columns = new List<string> { "B" };
            foreach (var c in curves)
                columns.AddRange(spec.Tables.Select(t => $"{c.Regime}: {CompetitionMetrics.Columns[t].Heading}"));
            var rows = new List<IReadOnlyList<string>>();
            foreach (var b in result.Profile.BatchSizes)
            {
                var row = new List<string> { b.ToString(CultureInfo.InvariantCulture) };
                foreach (var c in curves)
                    row.AddRange(spec.Tables.Select(t => c.At(b) is { } s ? CompetitionMetrics.Columns[t].Cell(s, c) : "n/a"));
                rows.Add(row);
            }
            var caption = string.Join(" ", curves.Select(c => $"{c.Regime}: {CurveLine(c)}."));
            tables.Add(new ReportTable($"{variant.Name()}: {variant.Describe()}; all trial seeds pooled", columns, rows, caption));
        }
        return tables;
    }

    public override IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target) =>
        result is null ? [] : CompetitionFigures.Draw(result, spec, target);

    /// <summary>The fits and rank correlations of one curve, on one line.</summary>
    public static string CurveLine(CurveSummary c) =>
        FormattableString.Invariant(
            $"log-log slope {c.LogLog.Slope:F3} [95% CI {c.LogLog.SlopeLow:F3}, {c.LogLog.SlopeHigh:F3}] over {c.LogLog.Points} B ") +
        FormattableString.Invariant(
            $"(RMS norm: {c.LogLogRms.Slope:F3} [{c.LogLogRms.SlopeLow:F3}, {c.LogLogRms.SlopeHigh:F3}]); ") +
        FormattableString.Invariant(
            $"norm^2 = {c.SquaredNorm.Slope:G4} B + {c.SquaredNorm.Intercept:G4} (R^2 {c.SquaredNorm.RSquared:F3}); ") +
        FormattableString.Invariant(
            $"Spearman(B, normalised std) {c.SpearmanNormalisedStd:F3}, (B, normalised IQR) {c.SpearmanNormalisedIqr:F3}, ") +
        FormattableString.Invariant($"(B, share of values >= {c.TailThreshold:G3}) {c.SpearmanTailCount:F3}") +
        (c.DivergedTrials > 0 ? FormattableString.Invariant($"; {c.DivergedTrials} trial(s) diverged, first at B={c.FirstDivergedBatchSize}") : "");
}
