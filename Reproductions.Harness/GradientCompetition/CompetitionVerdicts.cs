using System.Globalization;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>Whether one protocol variant's trials show one finding's claim in one regime, with the number that decides.</summary>
public sealed record Verdict(string Finding, ProtocolVariant Variant, string Regime, bool Reproduces, string Measured);

/// <summary>
/// Decides, from the measured statistics, which protocol variant reproduces which claim of F05-F08, by the same
/// yardsticks the tests use: F05 the log-log slope's 95% CI within the resolution of 0.5; F06 and F07 Spearman(B,
/// normalised std / IQR) above the one-sided critical value at alpha; F08 the large-value count never rising as B
/// shrinks, and higher at the largest B than at the smallest. The yardsticks come from the findings' configs.
/// </summary>
public static class CompetitionVerdicts
{
    public static IReadOnlyList<Verdict> Decide(CompetitionResult result, double slope = 0.5, double slopeResolution = 0.25, double alpha = 0.05)
    {
        var inv = CultureInfo.InvariantCulture;
        var critical = CompetitionChecks.SpearmanCritical(result.Profile.BatchSizes.Count, alpha);
        var verdicts = new List<Verdict>();
        foreach (var variant in result.Variants)
            foreach (var regime in result.RegimeNames)
            {
                var c = result.Curve(variant, regime);
                var diverged = c.DivergedTrials > 0 ? string.Create(inv, $"; {c.DivergedTrials} trial(s) diverged from B={c.FirstDivergedBatchSize}") : "";
                var f05 = c.DivergedTrials == 0 && c.LogLog.SlopeLow >= slope - slopeResolution && c.LogLog.SlopeHigh <= slope + slopeResolution;
                verdicts.Add(new Verdict("F05", variant, regime, f05,
                    string.Create(inv, $"slope {c.LogLog.Slope:F3} [{c.LogLog.SlopeLow:F3}, {c.LogLog.SlopeHigh:F3}], RMS {c.LogLogRms.Slope:F3}, R^2(norm^2 ~ B) {c.SquaredNorm.RSquared:F3}") + diverged));
                verdicts.Add(new Verdict("F06", variant, regime, c.DivergedTrials == 0 && c.SpearmanNormalisedStd > critical,
                    string.Create(inv, $"Spearman {c.SpearmanNormalisedStd:F3} (critical {critical:F3}); std/mean {c.Batches[0].RelativeStd:G3} at B={c.Batches[0].BatchSize}, {c.Batches[^1].RelativeStd:G3} at B={c.Batches[^1].BatchSize}") + diverged));
                verdicts.Add(new Verdict("F07", variant, regime, c.DivergedTrials == 0 && c.SpearmanNormalisedIqr > critical,
                    string.Create(inv, $"Spearman {c.SpearmanNormalisedIqr:F3} (critical {critical:F3})") + diverged));
                var perTrial = c.Batches.Select(b => (double)b.TailCount / Math.Max(1, b.Trials)).ToArray();
                var f08 = c.DivergedTrials == 0 && CompetitionChecks.NonDecreasing(perTrial) && perTrial[^1] > perTrial[0];
                verdicts.Add(new Verdict("F08", variant, regime, f08,
                    string.Create(inv, $"values >= {c.TailThreshold:G3} per trial: {perTrial[0]:G3} at B={c.Batches[0].BatchSize}, {perTrial[^1]:G3} at B={c.Batches[^1].BatchSize}; ") +
                    (CompetitionChecks.NonDecreasing(perTrial) ? "never rising as B shrinks" :
                        CompetitionChecks.NonDecreasing(perTrial.Reverse().ToArray()) ? "never falling as B shrinks (the opposite)" : "not monotone") + diverged));
            }
        return verdicts;
    }
}
