namespace Reproductions.Tests.Findings;

/// <summary>
/// F04: a large batch does not get the model stuck. (a) 1024 for 1 epoch then 64, (b) 1024 then 64, (c) 1024 then the
/// learning rate x10 all end above the bs-1024 control trained as long, and reach the bs-64 accuracy (blog: all 98%).
/// </summary>
[TestFixture, Finding("F04")]
public class SwitchingAfterLargeBatchRecovers : FindingFixture
{
    private static readonly string[] Switches = ["a_1024x1_then_64", "b_1024_then_64", "c_1024_then_lr_x10"];

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Every_switch_ends_above_the_large_batch_control(string profile)
    {
        var runs = Runs(profile);
        Assert.Multiple(() =>
        {
            foreach (var run in Switches)
                Claims.Exceeds(runs.Final(run, m => m.TestAccuracy), runs.Final("control_1024", m => m.TestAccuracy), $"{run} - control test accuracy");
        });
    }

    /// <summary>
    /// Reaching bs 64's accuracy. In quick, schedule c (lr x10 at bs 1024) has only 50 steps after the switch and is
    /// measured 1.1 points short (the same effect as F03's quick profile), so quick asserts it for a and b and the full
    /// profile for all three.
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Every_switch_reaches_the_small_batch_accuracy_within_seed_noise(string profile)
    {
        var runs = Runs(profile);
        var switches = profile == "quick" ? Switches.Where(s => s != "c_1024_then_lr_x10") : Switches;
        Assert.Multiple(() =>
        {
            foreach (var run in switches)
                Claims.WithinSeedSpread(runs.Final(run, m => m.TestAccuracy), runs.Final("bs64", m => m.TestAccuracy), $"{run} - bs64 test accuracy");
        });
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples => AddFinal(samples, runs, [.. Switches, "control_1024", "bs64"],
            "trainAccuracy", "testAccuracy"));
    }
}
