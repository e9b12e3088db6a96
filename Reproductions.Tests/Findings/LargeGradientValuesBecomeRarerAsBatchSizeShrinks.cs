using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F08: raw last-layer gradient values have heavier tails for larger B; the count of large values (beyond a fixed
/// threshold, shared bins over all trials) falls monotonically as B shrinks (blog: about 1e5 at B = 1024, 1e2 at B = 2).
/// The threshold is the shared-bin edge above which tailFraction (1%) of the B = 1024 values lie, per variant and regime.
/// Measured: the single-step reading reproduces the counts; the literal mean-loss protocol shows the opposite.
/// Claims: configs/F08.json.
/// </summary>
[TestFixture, Finding("F08")]
public class LargeGradientValuesBecomeRarerAsBatchSizeShrinks : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var variant in new[] { "single-step", "literal-mean" })
            foreach (var regime in new[] { "early", "late" })
            {
                var group = $"{variant}/{regime}";
                var prefix = $"{variant}.{regime}";
                samples.Add($"{prefix}.log10_threshold", Values(measured, group, "tailThreshold").Select(Math.Log10).ToArray());
                foreach (var b in new[] { 1, 8, 64, 512 })
                    samples.Add($"{prefix}.log10_large_values_per_trial_b{b}", Values(measured, group, $"largeValues@{b}").Select(v => Math.Log10(1 + v)).ToArray());
            }
    }
}
