using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F11: with SGD the distance from init grows monotonically but sublinearly: per epoch it increases, and it is
/// better described by a line in log(steps) than by a line in steps (R^2 of both fits, MathNet.Numerics).
/// </summary>
[TestFixture, Finding("F11")]
public class DistanceGrowsSublinearly : FindingFixture
{
    private static readonly string[] Sgd = ["bs64", "bs256", "bs1024"];

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Distance_increases_every_epoch(string profile)
    {
        var runs = Runs(profile);
        Assert.Multiple(() =>
        {
            foreach (var run in Sgd)
                foreach (var record in runs[run])
                    record.Epochs.Select(e => e.WeightDistance).Should().BeInAscendingOrder($"{run} seed {record.Config.Seed}")
                        .And.OnlyHaveUniqueItems($"{run} seed {record.Config.Seed} should move every epoch");
        });
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Distance_is_concave_closer_to_log_steps_than_to_steps(string profile)
    {
        var runs = Runs(profile);
        Assert.Multiple(() =>
        {
            foreach (var run in Sgd)
            {
                var (log, linear) = Fits(runs, run);
                FindingContext.Measured($"{run}: R^2 against log(steps) {FindingContext.Describe(log)}; against steps {FindingContext.Describe(linear)}");
                Claims.Exceeds(log, linear, $"{run}: R^2(log steps) - R^2(steps)");
            }
        });
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples =>
        {
            AddFinal(samples, runs, Sgd, "weightDistance", "biasDistance");
            foreach (var run in Sgd)
            {
                var (log, linear) = Fits(runs, run);
                samples.Add($"{run}.r2_log_steps", log);
                samples.Add($"{run}.r2_steps", linear);
            }
        });
    }

    /// <summary>Per seed: R^2 of distance against log(steps) and against steps, over the run's epochs.</summary>
    private static (double[] Log, double[] Linear) Fits(TrainingRuns runs, string run)
    {
        var records = runs[run];
        var log = records.Select(r => Claims.LineR2(r.Epochs.Select(e => Math.Log(e.Steps)).ToArray(), r.Epochs.Select(e => e.WeightDistance).ToArray())).ToArray();
        var linear = records.Select(r => Claims.LineR2(r.Epochs.Select(e => (double)e.Steps).ToArray(), r.Epochs.Select(e => e.WeightDistance).ToArray())).ToArray();
        return (log, linear);
    }
}
