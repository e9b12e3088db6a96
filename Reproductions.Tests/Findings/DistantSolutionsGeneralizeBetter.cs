using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using MathNet.Numerics.Statistics;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F09: better solutions lie far from init. At lr 0.01 the weight distance travelled falls as the batch size grows,
/// and across the batch size x learning rate grid test accuracy rises with distance (blog: bs 64 travels 6.71 to 98%).
/// Claims: configs/F09.json.
/// </summary>
[TestFixture, Finding("F09")]
public class DistantSolutionsGeneralizeBetter : FindingFixture
{
    private static readonly string[] Grid = ["bs64", "bs256", "bs1024", "bs64_lr01", "bs256_lr01", "bs1024_lr01"];

    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        var runs = Runs(measured);
        AddFinal(samples, runs, Grid, "testAccuracy", "weightDistance", "biasDistance");
        samples.Add("spearman_distance_vs_test_accuracy", Enumerable.Range(0, runs.Seeds.Count).Select(s => Correlation.Spearman(
            Grid.Select(r => runs[r][s].Final.WeightDistance), Grid.Select(r => runs[r][s].Final.TestAccuracy))).ToArray(), claimNull: 0);
    }
}
