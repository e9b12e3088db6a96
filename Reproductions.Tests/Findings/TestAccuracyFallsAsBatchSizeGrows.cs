using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F01: higher batch size gives lower asymptotic test (and train) accuracy: bs 64 > 256 > 1024 at lr 0.01
/// (blog: test 98% at bs 64, 95-96% at bs 1024; train 100% at bs 64).
/// </summary>
[TestFixture, Finding("F01")]
public class TestAccuracyFallsAsBatchSizeGrows : FindingFixture
{
    private static readonly string[] Order = ["bs64", "bs256", "bs1024"];

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Test_accuracy_falls_as_batch_size_grows_for_every_seed(string profile) =>
        AssertOrderedForEverySeed(Runs(profile), m => m.TestAccuracy, "test accuracy");

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Train_accuracy_falls_as_batch_size_grows_for_every_seed(string profile) =>
        AssertOrderedForEverySeed(Runs(profile), m => m.TrainAccuracy, "train accuracy");

    /// <summary>
    /// The bs-64 minus bs-1024 test-accuracy gap, per seed: its 95% confidence interval over seeds (Student t) must lie
    /// above zero, so the gap is a measured effect, not seed noise.
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_64_vs_1024_test_gap_is_positive_beyond_seed_noise(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("bs64", m => m.TestAccuracy), runs.Final("bs1024", m => m.TestAccuracy), "bs64 - bs1024 test accuracy");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples =>
        {
            foreach (var run in Order)
            {
                samples.Add($"{run}.train_accuracy", runs.Final(run, m => m.TrainAccuracy));
                samples.Add($"{run}.test_accuracy", runs.Final(run, m => m.TestAccuracy));
                samples.Add($"{run}.generalization_gap", runs.Final(run, m => m.GeneralizationGap));
            }
            samples.Add("test_gap_bs64_vs_bs1024", Gap(runs));
        });
    }

    private static double[] Gap(TrainingRuns runs) =>
        runs.Final("bs64", m => m.TestAccuracy).Zip(runs.Final("bs1024", m => m.TestAccuracy), (a, b) => a - b).ToArray();

    private static void AssertOrderedForEverySeed(TrainingRuns runs, Func<Harness.Training.EpochMetrics, double> metric, string what) =>
        Claims.DescendingForEverySeed(Order, Order.Select(r => runs.Final(r, metric)).ToArray(), runs.Seeds, what);
}
