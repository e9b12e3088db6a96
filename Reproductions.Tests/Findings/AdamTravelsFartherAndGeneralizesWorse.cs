using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F12: Adam (bs 64, lr 0.01) travels much farther from init than SGD and generalises worse; its distance grows about
/// linearly with epochs (blog: weight distance 254.3 vs 6.71, test accuracy 95% vs 98%).
/// </summary>
[TestFixture, Finding("F12")]
public class AdamTravelsFartherAndGeneralizesWorse : FindingFixture
{
    /// <summary>"At least 10x farther", the reading of the blog's 254.3 vs 6.71 (38x).</summary>
    private const double MinDistanceRatio = 10;

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_moves_at_least_ten_times_farther_than_SGD(string profile)
    {
        var runs = Runs(profile);
        var ratio = runs.Final("adam_bs64", m => m.WeightDistance).Zip(runs.Final("sgd_bs64", m => m.WeightDistance), (a, s) => a / s).ToArray();
        FindingContext.Measured($"Adam / SGD weight distance per seed: {FindingContext.Describe(ratio)}");
        ratio.Should().OnlyContain(r => r >= MinDistanceRatio);
    }

    /// <summary>
    /// "Not generalising as well" read as the generalisation gap (train - test accuracy), the metric the blog defines in
    /// its introduction. Quick profile only, where it holds on every seed: after the full profile's 30 epochs it does not
    /// (see <see cref="Adam_lower_test_accuracy_is_under_fitting_not_a_larger_gap"/>).
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    public void Adam_has_the_larger_generalization_gap(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("adam_bs64", m => m.GeneralizationGap), runs.Final("sgd_bs64", m => m.GeneralizationGap),
            "Adam - SGD generalisation gap");
    }

    /// <summary>
    /// What the full profile measured instead of a larger gap (CPU, seeds 1-5): Adam's train accuracy ends about 3 points
    /// below SGD's (96.95% vs 99.95%), more than its test accuracy does (95.43% vs 98.08%), so its gap is the smaller one
    /// on 4 of 5 seeds. Adam's lower test accuracy is under-fitting at lr 0.01, not a larger gap; the blog itself judges by
    /// test accuracy ("for simplicity in our study we only care about the test accuracy"). Asserted: SGD's train accuracy
    /// exceeds Adam's beyond seed noise, and Adam's gap is not larger than SGD's beyond seed noise.
    /// </summary>
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_lower_test_accuracy_is_under_fitting_not_a_larger_gap(string profile)
    {
        var runs = Runs(profile);
        Claims.Exceeds(runs.Final("sgd_bs64", m => m.TrainAccuracy), runs.Final("adam_bs64", m => m.TrainAccuracy), "SGD - Adam train accuracy");
        Claims.Matches(runs.Final("sgd_bs64", m => m.GeneralizationGap), runs.Final("adam_bs64", m => m.GeneralizationGap),
            "SGD - Adam generalisation gap");
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
        AssertBaseline(profile, samples =>
        {
            AddFinal(samples, runs, ["adam_bs64", "sgd_bs64"], "trainAccuracy", "testAccuracy", "weightDistance", "biasDistance", "weightNorm");
            samples.Add("adam_bs64.r2_distance_vs_epoch", LinearR2(runs, "adam_bs64"));
            samples.Add("sgd_bs64.r2_distance_vs_epoch", LinearR2(runs, "sgd_bs64"));
        });
    }

    private static double[] LinearR2(TrainingRuns runs, string run) =>
        runs[run].Select(r => Claims.LineR2(r.Epochs.Select(e => (double)e.Epoch).ToArray(), r.Epochs.Select(e => e.WeightDistance).ToArray())).ToArray();
}
