using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F03: raising the learning rate recovers the accuracy lost to a large batch: bs 1024 at lr 0.1 reaches the bs-64
/// accuracy (blog: 98% vs 98%) and beats bs 1024 at lr 0.01 (blog: 96%). Claims: configs/F03.json.
/// </summary>
[TestFixture, Finding("F03")]
public class LargerLearningRateRecoversLargeBatchAccuracy : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["bs64", "bs1024", "bs1024_lr01"], "trainAccuracy", "testAccuracy", "weightDistance");
}
