using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F02: a very small batch (2) does even better on MNIST than batch size 64 (blog: test 99% vs 98%). Claims: configs/F02.json.
/// </summary>
[TestFixture, Finding("F02")]
public class VerySmallBatchDoesEvenBetter : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["bs2", "bs64"], "trainAccuracy", "testAccuracy", "weightDistance", "weightNorm");
}
