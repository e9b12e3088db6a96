using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F10: more epochs compensate too: bs 1024 at lr 0.01 trained for as many steps as bs 64 travels to bs 64's distance
/// from init and reaches its accuracy (blog: 480 epochs, W distance 6.63 vs 6.71, test 98% vs 98%). Claims: configs/F10.json.
/// </summary>
[TestFixture, Finding("F10")]
public class MoreEpochsCompensateForLargeBatch : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        var runs = Runs(measured);
        AddFinal(samples, runs, ["bs64", "bs1024", "bs1024_long"], "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance");
        var longRun = runs.Final("bs1024_long", m => m.WeightDistance);
        var shortRun = runs.Final("bs1024", m => m.WeightDistance);
        var bs64 = runs.Final("bs64", m => m.WeightDistance);
        samples.Add("distance_gap_closed", longRun.Select((l, i) => (l - shortRun[i]) / (bs64[i] - shortRun[i])).ToArray(), claimNull: 0.5);
    }
}
