using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F10: more epochs compensate too: bs 1024 at lr 0.01 trained for as many steps as bs 64 reaches bs 64's distance from
/// init and its accuracy (blog: 480 epochs, W distance 6.63 vs 6.71, test 98% vs 98%).
/// </summary>
[TestFixture, Finding("F10")]
public class MoreEpochsCompensateForLargeBatch : FindingFixture
{
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_takes_as_many_steps_as_bs64(string profile)
    {
        var runs = Runs(profile);
        var longSteps = runs.Final("bs1024_long", m => m.Steps);
        var bs64Steps = runs.Final("bs64", m => m.Steps);
        FindingContext.Measured($"steps: long run {FindingContext.Describe(longSteps)}, bs64 {FindingContext.Describe(bs64Steps)}");
        longSteps.Zip(bs64Steps, (l, s) => Math.Abs(l - s) / s).Should().OnlyContain(r => r < 0.02, "the protocol compares equal step counts");
    }

    /// <summary>"Nearly all": the blog's own numbers (6.63 against 6.71 for bs 64, from about half that after 30 epochs at bs 1024) close 97% of the gap.</summary>
    private const double NearlyAll = 0.9;

    /// <summary>
    /// The extra epochs close the distance gap: (long - short) / (bs64 - short), per seed, where short is bs 1024 trained
    /// for bs 64's epochs; the 95% interval of that fraction lies above <see cref="NearlyAll"/>. (Measured on the full
    /// profile: the long run ends 1.2% short of bs 64's distance, consistently across seeds, as in the blog's 6.63 vs 6.71,
    /// so "the same distance" within seed noise does not hold; "nearly all of the gap closed" does.)
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_closes_nearly_all_of_the_distance_gap(string profile)
    {
        var runs = Runs(profile);
        var closed = GapClosed(runs);
        var (mean, low, high) = Claims.Interval(closed);
        FindingContext.Measured($"fraction of the bs1024-to-bs64 distance gap closed by the long run, per seed: {FindingContext.Describe(closed)}; mean {mean:F4}, 95% CI [{low:F4}, {high:F4}]");
        FindingContext.Measured($"long / bs64 distance per seed: {FindingContext.Describe(runs.Final("bs1024_long", m => m.WeightDistance).Zip(runs.Final("bs64", m => m.WeightDistance), (l, s) => l / s))}");
        low.Should().BeGreaterThan(NearlyAll);
    }

    private static double[] GapClosed(TrainingRuns runs)
    {
        var longRun = runs.Final("bs1024_long", m => m.WeightDistance);
        var shortRun = runs.Final("bs1024", m => m.WeightDistance);
        var bs64 = runs.Final("bs64", m => m.WeightDistance);
        return longRun.Select((l, i) => (l - shortRun[i]) / (bs64[i] - shortRun[i])).ToArray();
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_reaches_the_bs64_test_accuracy_within_seed_noise(string profile)
    {
        var runs = Runs(profile);
        Claims.WithinSeedSpread(runs.Final("bs1024_long", m => m.TestAccuracy), runs.Final("bs64", m => m.TestAccuracy), "long bs1024 - bs64 test accuracy");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples =>
        {
            AddFinal(samples, runs, ["bs64", "bs1024", "bs1024_long"], "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance");
            samples.Add("distance_gap_closed", GapClosed(runs));
        });
    }
}
