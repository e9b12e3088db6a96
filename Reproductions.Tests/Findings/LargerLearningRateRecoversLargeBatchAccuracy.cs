namespace Reproductions.Tests.Findings;

/// <summary>
/// F03: raising the learning rate recovers the accuracy lost to a large batch: bs 1024 at lr 0.1 reaches the bs-64
/// accuracy (blog: 98% vs 98%) and beats bs 1024 at lr 0.01 (blog: 96%).
/// </summary>
[TestFixture, Finding("F03")]
public class LargerLearningRateRecoversLargeBatchAccuracy : FindingFixture
{
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Bs1024_at_lr_0_1_beats_bs1024_at_lr_0_01(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("bs1024_lr01", m => m.TestAccuracy), runs.Final("bs1024", m => m.TestAccuracy),
            "bs1024 lr 0.1 - bs1024 lr 0.01 test accuracy");
    }

    /// <summary>
    /// Full recovery, full profile only: after the quick profile's 5 epochs, bs 1024 at lr 0.1 has taken 50 steps and is
    /// measured 1.9 points short of bs 64 (it recovers about 80% of the lost accuracy; see the report), so quick asserts
    /// the partial recovery above and this check needs the paper's 30 epochs.
    /// </summary>
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Bs1024_at_lr_0_1_matches_bs64_within_seed_noise(string profile)
    {
        var runs = Runs(profile);
        Claims.WithinSeedSpread(runs.Final("bs1024_lr01", m => m.TestAccuracy), runs.Final("bs64", m => m.TestAccuracy),
            "bs1024 lr 0.1 - bs64 lr 0.01 test accuracy");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples => AddFinal(samples, runs, ["bs64", "bs1024", "bs1024_lr01"],
            "trainAccuracy", "testAccuracy", "weightDistance"));
    }
}
