using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F12: Adam (bs 64, lr 0.01) travels much farther from init than SGD and ends with lower test accuracy; its distance
/// grows about linearly with epochs (blog: weight distance 254.3 vs 6.71, test accuracy 95% vs 98%). Claims: configs/F12.json.
/// </summary>
[TestFixture, Finding("F12")]
public class AdamTravelsFartherAndGeneralizesWorse : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        AddFinal(samples, Runs(measured), ["adam_bs64", "sgd_bs64"], "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance", "weightNorm");
        samples.Add("adam_bs64.r2_distance_vs_epoch", Values(measured, "adam_bs64", "r2DistanceVsEpoch"));
        samples.Add("sgd_bs64.r2_distance_vs_epoch", Values(measured, "sgd_bs64", "r2DistanceVsEpoch"));
    }
}
