using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F07: the distribution of normalised norms across trials is wide for large B and narrow for small B (blog: stacked
/// histograms per B). Measured as the interquartile range of the normalised norms: the literal protocol with a
/// mean-reduced loss reproduces it; the single-step reading shows the opposite. Claims: configs/F07.json.
/// </summary>
[TestFixture, Finding("F07")]
public class NormalisedNormSpreadWidensWithBatchSize : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var variant in new[] { "literal-mean", "single-step" })
            foreach (var regime in new[] { "early", "late" })
                AddUnlessLeftOut(samples, finding, $"{variant}.{regime}.spearman_normalised_iqr", Values(measured, $"{variant}/{regime}", "spearmanNormalisedIqr"), claimNull: 0);
    }
}
