using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F05: for the same samples seen, larger batches make larger last-layer gradient steps; the norm grows like sqrt(B)
/// (squared norm linear in B); early-regime norms exceed late-regime ones (blog: slope 0.5, early > late). Measured on the
/// gradient-competition trials under each protocol variant: the single-step reading reproduces the growth; the protocol
/// as written makes the summed norm fall with B (loss mean-reduced) or blow up (loss summed). Claims: configs/F05.json.
/// </summary>
[TestFixture, Finding("F05")]
public class SummedGradientNormGrowsLikeSqrtBatchSize : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var variant in new[] { "single-step", "literal-mean" })
            foreach (var regime in new[] { "early", "late" })
            {
                var group = $"{variant}/{regime}";
                var prefix = $"{variant}.{regime}";
                samples.Add($"{prefix}.loglog_slope", Values(measured, group, "loglogSlope"));
                samples.Add($"{prefix}.loglog_slope_rms", Values(measured, group, "loglogSlopeRms"));
                samples.Add($"{prefix}.log10_mean_norm_b1", Values(measured, group, "meanNorm@1").Select(Math.Log10).ToArray());
                samples.Add($"{prefix}.log10_mean_norm_b1024", Values(measured, group, "meanNorm@1024").Select(Math.Log10).ToArray());
            }
        foreach (var regime in new[] { "early", "late" })
            samples.Add($"single-step.{regime}.squared_norm_r2", Values(measured, $"single-step/{regime}", "squaredNormR2"));
    }
}
