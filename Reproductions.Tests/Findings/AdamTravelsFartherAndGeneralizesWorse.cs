namespace Reproductions.Tests.Findings;

/// <summary>
/// F12: Adam (bs 64, lr 0.01) travels much farther from init than SGD and generalises worse; its distance grows about
/// linearly with epochs (blog: weight distance 254.3 vs 6.71, test accuracy 95% vs 98%).
/// </summary>
[TestFixture, Property("Finding", "F12")]
public class AdamTravelsFartherAndGeneralizesWorse : FindingFixture
{
    /// <summary>"At least 10x farther", the reading of the blog's 254.3 vs 6.71 (38x).</summary>
    private const double MinDistanceRatio = 10;

    protected override string Finding => "F12";

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_moves_at_least_ten_times_farther_than_SGD(string profile)
    {
        var runs = Runs(profile);
        var ratio = runs.Final("adam_bs64", m => m.WeightDistance).Zip(runs.Final("sgd_bs64", m => m.WeightDistance), (a, s) => a / s).ToArray();
        TestContext.Out.WriteLine($"Adam / SGD weight distance per seed: {FindingContext.Describe(ratio)}");
        ratio.Should().OnlyContain(r => r >= MinDistanceRatio);
    }

    /// <summary>Generalises worse, measured as the generalisation gap (train - test accuracy), the blog's own metric.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_has_the_larger_generalization_gap(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("adam_bs64", m => m.GeneralizationGap), runs.Final("sgd_bs64", m => m.GeneralizationGap),
            "Adam - SGD generalisation gap");
    }

    /// <summary>
    /// The blog's lower test accuracy for Adam. Full profile only: after the quick profile's 5 epochs SGD is still far
    /// from converged, and Adam's test accuracy is measured level with it within seed noise (see the report).
    /// </summary>
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_ends_with_lower_test_accuracy(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("sgd_bs64", m => m.TestAccuracy), runs.Final("adam_bs64", m => m.TestAccuracy), "SGD - Adam test accuracy");
    }

    /// <summary>Closer to linear: the R^2 of a line fitted to distance against epoch is higher for Adam than for SGD.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_distance_grows_closer_to_linearly_than_SGD(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(LinearR2(runs, "adam_bs64"), LinearR2(runs, "sgd_bs64"), "R^2 of distance against epoch, Adam - SGD");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        FindingContext.AssertBaseline(runs, samples =>
        {
            AddFinal(samples, runs, ["adam_bs64", "sgd_bs64"], "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance", "weightNorm");
            samples.Add("adam_bs64.r2_distance_vs_epoch", LinearR2(runs, "adam_bs64"));
            samples.Add("sgd_bs64.r2_distance_vs_epoch", LinearR2(runs, "sgd_bs64"));
        });
    }

    private static double[] LinearR2(Harness.Experiments.FindingRuns runs, string run) =>
        runs[run].Select(r => Claims.LineR2(r.Epochs.Select(e => (double)e.Epoch).ToArray(), r.Epochs.Select(e => e.WeightDistance).ToArray())).ToArray();
}
