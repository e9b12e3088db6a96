using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F08: raw last-layer gradient values have heavier tails for larger B; the count of large values (beyond a fixed
/// threshold, shared bins over all trials) falls monotonically as B shrinks (blog: about 1e5 at B = 1024, 1e2 at B = 2).
/// The threshold is the shared-bin edge above which tailFraction (1%) of the B = 1024 values lie, per variant and regime.
/// Measured: the single-step reading reproduces it; the literal mean-loss protocol shows the opposite.
/// </summary>
[TestFixture, Finding("F08")]
public class LargeGradientValuesBecomeRarerAsBatchSizeShrinks : CompetitionFixture
{

    protected override bool FigurePerRegime => true;

    private static double[] Counts(CurveSummary c) => c.Batches.Select(b => (double)b.TailCount / Math.Max(1, b.Trials)).ToArray();

    /// <summary>Single step: the count of large values per trial never rises as B shrinks, and is larger at the largest B than at the smallest.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Single_step_large_values_become_rarer_as_the_batch_size_shrinks(string profile)
    {
        var (_, result) = Load(profile);
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.SingleStep, regime);
            Describe(c);
            var perTrial = Counts(c);
            FindingContext.Measured($"{regime}: large values per trial, B ascending: {FindingContext.Describe(perTrial)}");
            CompetitionChecks.NonDecreasing(perTrial).Should().BeTrue($"{regime}: the blog's claim, the count of values >= {c.TailThreshold:G3} falls monotonically as B shrinks");
            perTrial[^1].Should().BeGreaterThan(perTrial[0], $"{regime}: and the tail at the largest B is heavier than at the smallest");
        }
    }

    /// <summary>Literal protocol, mean loss: measured, large values become more common as B shrinks (the count never rises with B).</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Literal_protocol_with_mean_loss_large_values_become_commoner_as_the_batch_size_shrinks(string profile)
    {
        var (_, result) = Load(profile);
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.LiteralMean, regime);
            Describe(c);
            var perTrial = Counts(c);
            FindingContext.Measured($"{regime}: large values per trial, B ascending: {FindingContext.Describe(perTrial)}");
            CompetitionChecks.NonDecreasing(perTrial.Reverse().ToArray()).Should().BeTrue($"{regime}: measured, the opposite of the blog's claim");
            perTrial[0].Should().BeGreaterThan(perTrial[^1]);
        }
    }

    /// <summary>Per trial seed: the threshold and log10(1 + large values per trial) at B = 1, 8, 64 and 512 (B = 1024 holds 1% by construction).</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Matches_its_baseline(string profile)
    {
        var (finding, result) = Load(profile);
        AssertBaseline(profile, samples =>
        {
            foreach (var variant in new[] { ProtocolVariant.SingleStep, ProtocolVariant.LiteralMean })
                foreach (var regime in result.RegimeNames)
                {
                    var prefix = $"{variant.Name()}.{regime}";
                    samples.Add($"{prefix}.log10_threshold", result.PerSeedValues(variant, regime, c => Math.Log10(c.TailThreshold)));
                    foreach (var b in new[] { 1, 8, 64, 512 })
                        samples.Add($"{prefix}.log10_large_values_per_trial_b{b}",
                            result.PerSeedValues(variant, regime, c => Math.Log10(1 + (double)c.At(b)!.TailCount / c.At(b)!.Trials)));
                }
        });
    }
}
