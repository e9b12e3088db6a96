using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F05: for the same samples seen, larger batches make larger last-layer gradient steps; the norm grows like sqrt(B)
/// (squared norm linear in B); early-regime norms exceed late-regime ones (blog: slope 0.5, early > late).
/// Measured on the gradient-competition trials under each protocol variant: the single-step reading reproduces the
/// growth; the protocol as written (literal, mean-reduced loss) makes the summed norm fall with B; with the loss summed
/// it diverges at lr 0.01.
/// </summary>
[TestFixture, Finding("F05")]
public class SummedGradientNormGrowsLikeSqrtBatchSize : CompetitionFixture
{

    protected override bool FigurePerRegime => false;

    /// <summary>
    /// Single step over B samples (loss summed): the log-log slope of the mean norm and of the RMS norm, 95% CI, must
    /// both lie within the claim's resolution of 0.5 (checks: slope 0.5, slopeResolution 0.25, i.e. closer to sqrt(B)
    /// than to no growth (0) or to growth in proportion to B (1)), in every regime.
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Single_step_norm_grows_like_sqrt_of_the_batch_size(string profile)
    {
        var (finding, result) = Load(profile);
        var claim = finding.Check("slope");
        var resolution = finding.Check("slopeResolution");
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.SingleStep, regime);
            Describe(c);
            c.DivergedTrials.Should().Be(0);
            foreach (var (fit, what) in new[] { (c.LogLog, "mean norm"), (c.LogLogRms, "RMS norm") })
            {
                fit.SlopeLow.Should().BeGreaterThanOrEqualTo(claim - resolution, $"{regime}: the {what}'s log-log slope CI must lie within {resolution} of {claim}");
                fit.SlopeHigh.Should().BeLessThanOrEqualTo(claim + resolution, $"{regime}: the {what}'s log-log slope CI must lie within {resolution} of {claim}");
            }
            c.SquaredNorm.Slope.Should().BePositive($"{regime}: the squared norm grows with B");
        }
    }

    /// <summary>The protocol as written, loss mean-reduced: the summed norm falls with B (the CI of the slope lies below zero).</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Literal_protocol_with_mean_loss_makes_the_summed_norm_fall_with_the_batch_size(string profile)
    {
        var (finding, result) = Load(profile);
        var claim = finding.Check("slope");
        var resolution = finding.Check("slopeResolution");
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.LiteralMean, regime);
            Describe(c);
            c.DivergedTrials.Should().Be(0);
            c.LogLog.SlopeHigh.Should().BeNegative($"{regime}: measured, the summed norm of ceil(1024/B) mean-loss steps falls with B");
            c.LogLog.SlopeHigh.Should().BeLessThan(claim - resolution, $"{regime}: so the blog's growth is not reproduced by the protocol as written");
        }
    }

    /// <summary>
    /// The protocol as written, loss summed: at lr 0.01 the steps blow up. Measured criterion: at some B between 2 and
    /// 512 a trial's gradient is non-finite or the mean norm exceeds divergenceFactor (100) times the one-step norm at
    /// B = 1024; and at B = 1 it equals literal-mean (one sample: mean and sum are the same loss).
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Literal_protocol_with_summed_loss_diverges(string profile)
    {
        var (finding, result) = Load(profile);
        var factor = finding.Check("divergenceFactor");
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.LiteralSum, regime);
            Describe(c);
            var oneStep = c.At(result.Profile.ReferenceBatchSize)!.Mean;
            var middle = c.Batches.Where(b => b.BatchSize > 1 && b.BatchSize < result.Profile.ReferenceBatchSize).ToList();
            middle.Should().Contain(b => b.Diverged > 0 || b.Mean > factor * oneStep,
                $"{regime}: with the loss summed, ceil(1024/B) steps at lr 0.01 blow up (one-step norm {oneStep:G4})");
            foreach (var (seed, cells) in result.PerSeed)
            {
                var sumAtOne = cells[new CellKey(ProtocolVariant.LiteralSum, regime, 1)].Norms;
                var meanAtOne = cells[new CellKey(ProtocolVariant.LiteralMean, regime, 1)].Norms;
                sumAtOne.Should().Equal(meanAtOne.Take(sumAtOne.Count), $"{regime}, seed {seed}: at B = 1 the two reductions are the same trial");
            }
        }
    }

    /// <summary>
    /// Early-regime norms exceed late-regime ones at every B, beyond the trial spread (Welch's one-sided lower bound on
    /// the difference of means, level 1 - alpha, above zero), under the single-step reading and the literal mean-loss protocol.
    /// </summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Early_regime_norms_exceed_late_regime_norms_at_every_batch_size(string profile)
    {
        var (finding, result) = Load(profile);
        var alpha = finding.Check("alpha");
        foreach (var variant in new[] { ProtocolVariant.SingleStep, ProtocolVariant.LiteralMean })
            foreach (var b in result.Profile.BatchSizes)
            {
                var early = result.Pooled[new CellKey(variant, "early", b)].Norms;
                var late = result.Pooled[new CellKey(variant, "late", b)].Norms;
                var bound = CompetitionChecks.WelchLowerBound(early, late, alpha);
                FindingContext.Measured(FormattableString.Invariant($"{variant.Name()} B={b}: early - late >= {bound:G4} (level {1 - alpha})"));
                bound.Should().BePositive($"{variant.Name()} B={b}: early-regime norms must exceed late-regime ones beyond the trial spread");
            }
    }

    /// <summary>Per trial seed: every variant's log-log slopes and the squared-norm fit, and the early/late norm ratio at B = 1 and 1024.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Matches_its_baseline(string profile)
    {
        var (finding, result) = Load(profile);
        AssertBaseline(profile, samples =>
        {
            foreach (var variant in new[] { ProtocolVariant.SingleStep, ProtocolVariant.LiteralMean })
            {
                foreach (var regime in result.RegimeNames)
                {
                    var prefix = $"{variant.Name()}.{regime}";
                    samples.Add($"{prefix}.loglog_slope", result.PerSeedValues(variant, regime, c => c.LogLog.Slope));
                    samples.Add($"{prefix}.loglog_slope_rms", result.PerSeedValues(variant, regime, c => c.LogLogRms.Slope));
                    samples.Add($"{prefix}.log10_mean_norm_b1", result.PerSeedValues(variant, regime, c => Math.Log10(c.At(1)!.Mean)));
                    samples.Add($"{prefix}.log10_mean_norm_b1024", result.PerSeedValues(variant, regime, c => Math.Log10(c.At(1024)!.Mean)));
                }
            }
            foreach (var regime in result.RegimeNames)
                samples.Add($"single-step.{regime}.squared_norm_r2", result.PerSeedValues(ProtocolVariant.SingleStep, regime, c => c.SquaredNorm.RSquared));
        });
    }
}
