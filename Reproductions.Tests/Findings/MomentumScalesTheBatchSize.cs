using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F18 (Smith et al. 2018): at a fixed rate, bs 640 with momentum 0.9 keeps the noise scale of bs 64 without momentum and
/// reaches its accuracy with 10x fewer updates; bs 640 without momentum falls short. Claims: configs/F18.json.
/// </summary>
[TestFixture, Finding("F18")]
public class MomentumScalesTheBatchSize : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["bs64_m0", "bs640_m09", "bs640_m0"], "trainAccuracy", "testAccuracy", "weightDistance", "steps");
}
