namespace Reproductions.Tests.Findings;

/// <summary>F02: a very small batch (2) does even better on MNIST than batch size 64 (blog: test 99% vs 98%).</summary>
[TestFixture, Finding("F02")]
public class VerySmallBatchDoesEvenBetter : FindingFixture
{
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Batch_size_2_beats_batch_size_64_in_test_accuracy(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("bs2", m => m.TestAccuracy), runs.Final("bs64", m => m.TestAccuracy), "bs2 - bs64 test accuracy");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples => AddFinal(samples, runs, ["bs2", "bs64"],
            "trainAccuracy", "testAccuracy", "weightDistance", "weightNorm"));
    }
}
