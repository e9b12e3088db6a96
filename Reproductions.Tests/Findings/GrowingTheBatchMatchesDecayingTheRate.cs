using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F15 (Smith et al. 2018, "Don't decay the learning rate, increase the batch size"): growing the batch x5 at the epochs
/// where schedule A divides the rate by 5 ends at A's test accuracy with 2.4x fewer updates, and at A's training loss
/// rather than at that of a control that keeps the rate and the batch. Claims: configs/F15.json.
/// </summary>
[TestFixture, Finding("F15")]
public class GrowingTheBatchMatchesDecayingTheRate : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["A_decay_rate", "B_grow_batch", "hybrid", "C_constant_rate"], "trainLoss", "trainAccuracy", "testAccuracy", "weightDistance", "steps");
}
