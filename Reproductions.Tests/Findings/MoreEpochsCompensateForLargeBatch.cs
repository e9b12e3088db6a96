namespace Reproductions.Tests.Findings;

/// <summary>
/// F10: more epochs compensate too: bs 1024 at lr 0.01 trained for as many steps as bs 64 reaches bs 64's distance from
/// init and its accuracy (blog: 480 epochs, W distance 6.63 vs 6.71, test 98% vs 98%).
/// </summary>
[TestFixture, Property("Finding", "F10")]
public class MoreEpochsCompensateForLargeBatch : FindingFixture
{
    protected override string Finding => "F10";

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_takes_as_many_steps_as_bs64(string profile)
    {
        var runs = Runs(profile);
        var longSteps = runs.Final("bs1024_long", m => m.Steps);
        var bs64Steps = runs.Final("bs64", m => m.Steps);
        TestContext.Out.WriteLine($"steps: long run {FindingContext.Describe(longSteps)}, bs64 {FindingContext.Describe(bs64Steps)}");
        longSteps.Zip(bs64Steps, (l, s) => Math.Abs(l - s) / s).Should().OnlyContain(r => r < 0.02, "the protocol compares equal step counts");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_reaches_the_bs64_distance_within_seed_noise(string profile)
    {
        var runs = Runs(profile);
        Claims.WithinSeedSpread(runs.Final("bs1024_long", m => m.WeightDistance), runs.Final("bs64", m => m.WeightDistance), "long bs1024 - bs64 weight distance");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void The_long_run_reaches_the_bs64_test_accuracy_within_seed_noise(string profile)
    {
        var runs = Runs(profile);
        Claims.Matches(runs.Final("bs1024_long", m => m.TestAccuracy), runs.Final("bs64", m => m.TestAccuracy), "long bs1024 - bs64 test accuracy");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        FindingContext.AssertBaseline(runs, samples => AddFinal(samples, runs, ["bs64", "bs1024_long"],
            "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance"));
    }
}
