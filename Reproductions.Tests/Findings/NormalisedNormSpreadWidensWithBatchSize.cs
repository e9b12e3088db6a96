using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F07: the distribution of normalised norms across trials is wide for large B and narrow for small B (blog: stacked
/// histograms per B). Measured as the interquartile range of the normalised norms: the literal protocol with a
/// mean-reduced loss reproduces it; the single-step reading shows the opposite.
/// </summary>
[TestFixture, Finding("F07")]
public class NormalisedNormSpreadWidensWithBatchSize : CompetitionFixture
{

    protected override bool FigurePerRegime => true;

    /// <summary>Literal protocol, mean loss: Spearman(B, normalised IQR) above the one-sided critical value at level alpha, in every regime.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Literal_protocol_with_mean_loss_normalised_spread_widens_with_the_batch_size(string profile)
    {
        var (finding, result) = Load(profile);
        var critical = CompetitionChecks.SpearmanCritical(result.Profile.BatchSizes.Count, finding.Check("alpha"));
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.LiteralMean, regime);
            Describe(c);
            c.SpearmanNormalisedIqr.Should().BeGreaterThan(critical,
                $"{regime}: the blog's claim, the normalised norms' IQR rank-correlates with B beyond chance (critical {critical:F3})");
            c.At(result.Profile.ReferenceBatchSize)!.NormalisedIqr.Should().BeGreaterThan(c.At(result.Profile.BatchSizes.Min())!.NormalisedIqr,
                $"{regime}: wide at the largest B, narrow at the smallest");
        }
    }

    /// <summary>Single step over B samples: measured, the normalised spread narrows as B grows.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Single_step_normalised_spread_narrows_with_the_batch_size(string profile)
    {
        var (finding, result) = Load(profile);
        var critical = CompetitionChecks.SpearmanCritical(result.Profile.BatchSizes.Count, finding.Check("alpha"));
        foreach (var regime in result.RegimeNames)
        {
            var c = result.Curve(ProtocolVariant.SingleStep, regime);
            Describe(c);
            c.SpearmanNormalisedIqr.Should().BeLessThan(-critical, $"{regime}: measured, the opposite of the blog's histograms");
        }
    }

    /// <summary>Per trial seed: Spearman(B, normalised IQR) for the two stable variants.</summary>
    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Matches_its_baseline(string profile)
    {
        var (finding, result) = Load(profile);
        AssertBaseline(profile, samples =>
        {
            foreach (var variant in new[] { ProtocolVariant.LiteralMean, ProtocolVariant.SingleStep })
                foreach (var regime in result.RegimeNames)
                    samples.Add($"{variant.Name()}.{regime}.spearman_normalised_iqr", result.PerSeedValues(variant, regime, c => c.SpearmanNormalisedIqr));
        });
    }
}
