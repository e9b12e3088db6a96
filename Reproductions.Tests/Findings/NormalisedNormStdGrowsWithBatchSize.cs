using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F06: after scaling each batch size's mean norm to that of B = 1024 (mu_1024 / mu_B), the std of the norm across trials
/// grows with B (blog: "for the same average distance, larger batch sizes have larger variance in the distance").
/// Measured: the literal protocol with a mean-reduced loss reproduces it; the single-step reading shows the opposite.
/// Claims: configs/F06.json.
/// </summary>
[TestFixture, Finding("F06")]
public class NormalisedNormStdGrowsWithBatchSize : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var variant in new[] { "literal-mean", "single-step" })
            foreach (var regime in new[] { "early", "late" })
            {
                var group = $"{variant}/{regime}";
                var prefix = $"{variant}.{regime}";
                AddUnlessLeftOut(samples, finding, $"{prefix}.spearman_normalised_std", Values(measured, group, "spearmanNormalisedStd"), claimNull: 0);
                samples.Add($"{prefix}.relative_std_b1", Values(measured, group, "relativeStd@1"));
                samples.Add($"{prefix}.relative_std_b1024", Values(measured, group, "relativeStd@1024"));
            }
    }
}
