using Reproductions.Harness.Protocols;

using MathNet.Numerics.Statistics;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F09: better solutions lie far from init. At lr 0.01 the weight distance travelled falls as the batch size grows,
/// and across the batch size x learning rate grid test accuracy rises with distance (blog: bs 64 travels 6.71 to 98%).
/// </summary>
[TestFixture, Finding("F09")]
public class DistantSolutionsGeneralizeBetter : FindingFixture
{
    private static readonly string[] AtLr001 = ["bs64", "bs256", "bs1024"];
    private static readonly string[] Grid = ["bs64", "bs256", "bs1024", "bs64_lr01", "bs256_lr01", "bs1024_lr01"];

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void At_lr_0_01_distance_falls_as_batch_size_grows(string profile)
    {
        var runs = Runs(profile);
        Claims.DescendingForEverySeed(AtLr001, AtLr001.Select(r => runs.Final(r, m => m.WeightDistance)).ToArray(), runs.Seeds,
            "weight distance from init at lr 0.01");
    }

    /// <summary>Spearman rank correlation between distance and test accuracy over the six grid cells, per seed.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Test_accuracy_rises_with_distance_across_the_grid(string profile)
    {
        var rho = RankCorrelations(Runs(profile));
        var (mean, low, high) = Claims.Interval(rho);
        FindingContext.Measured($"Spearman(distance, test accuracy) per seed: {FindingContext.Describe(rho)}; mean {mean:F3}, 95% CI [{low:F3}, {high:F3}]");
        rho.Should().OnlyContain(r => r > 0, "accuracy should rise with distance for every seed");
        low.Should().BeGreaterThan(0, "the rank correlation should be positive beyond the seed-to-seed spread");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples =>
        {
            AddFinal(samples, runs, Grid, "testAccuracy", "weightDistance", "biasDistance");
            samples.Add("spearman_distance_vs_test_accuracy", RankCorrelations(runs));
        });
    }

    private static double[] RankCorrelations(TrainingRuns runs) =>
        Enumerable.Range(0, runs.Seeds.Count).Select(s => Correlation.Spearman(
            Grid.Select(r => runs[r][s].Final.WeightDistance),
            Grid.Select(r => runs[r][s].Final.TestAccuracy))).ToArray();
}
