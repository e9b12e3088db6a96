namespace Reproductions.Tests.Findings;

/// <summary>
/// F14: SGD leaves each layer almost parallel to its init (per-layer cosine above 0.9), the middle layer changing
/// least; Adam does not (blog: SGD bs 64 [0.988 0.993 0.928], Adam [0.124 0.359 0.153]).
/// </summary>
[TestFixture, Finding("F14")]
public class SgdLayersStayParallelToInit : FindingFixture
{
    private static readonly string[] Sgd = ["bs64", "bs1024", "bs1024_lr01", "bs1024_long"];

    /// <summary>The bound for "almost parallel".</summary>
    private const double MinCosine = 0.9;

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Every_SGD_layer_stays_above_cosine_0_9_with_the_middle_layer_highest(string profile)
    {
        var runs = Runs(profile);
        Assert.Multiple(() =>
        {
            foreach (var run in Sgd)
                foreach (var record in runs[run])
                {
                    var c = record.Final.LayerCosines;
                    FindingContext.Measured($"{run} seed {record.Config.Seed}: cosines {FindingContext.Describe(c)}");
                    c.Should().OnlyContain(v => v > MinCosine, $"{run} seed {record.Config.Seed}");
                    c[1].Should().BeGreaterThan(Math.Max(c[0], c[2]), $"the middle layer changes least ({run} seed {record.Config.Seed})");
                }
            foreach (var record in runs["bs2"])
                FindingContext.Measured($"bs2 seed {record.Config.Seed} (reported, not asserted): cosines {FindingContext.Describe(record.Final.LayerCosines)}");
        });
    }

    /// <summary>Adam's mean per-layer cosine lies below the lowest SGD cosine of the same seed, beyond seed noise.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Adam_layers_turn_far_from_their_init(string profile)
    {
        var runs = Runs(profile);
        var lowestSgd = Enumerable.Range(0, runs.Seeds.Count).Select(s => Sgd.Min(r => runs[r][s].Final.LayerCosines.Min())).ToArray();
        var adamMean = runs.Final("adam_bs64", m => m.LayerCosines.Average());
        Claims.Exceeds(lowestSgd, adamMean, "lowest SGD layer cosine - Adam's mean layer cosine");
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = FullReason)]
    public void Matches_its_baseline(string profile)
    {
        var runs = Runs(profile);
        AssertBaseline(profile, samples => AddFinal(samples, runs, [.. Sgd, "adam_bs64", "bs2"], "layerCosines"));
    }
}
