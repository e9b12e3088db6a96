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
    private static double PerTrial(BatchSummary b) => (double)b.TailCount / Math.Max(1, b.Trials);

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
        if (result is null || !CompetitionMetrics.Known.TryGetValue(metric, out var m)
            || !CompetitionMetrics.TryParseGroup(group, out var variant, out var regime)
            || !result.Variants.Contains(variant) || !result.RegimeNames.Contains(regime)) return null;
        return result.Profile.Seeds.Select(s => (IReadOnlyList<double>)[m.Read(result.Curve(variant, regime, s))]).ToList();
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
