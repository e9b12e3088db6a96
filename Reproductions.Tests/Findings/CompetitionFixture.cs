using Reproductions.Harness.GradientCompetition;

namespace Reproductions.Tests.Findings;

/// <summary>
/// Base of the gradient-competition fixtures (F05-F08): the finding's config and the protocol's trials per profile (run
/// once per process, see <see cref="CompetitionContext"/>), the check that the finding's figures are drawn, and, from
/// <see cref="FindingFixture"/>, each check's verdict recorded for the report.
/// </summary>
public abstract class CompetitionFixture : FindingFixture
{
    /// <summary>Whether the finding draws one figure per protocol variant and regime (else one per variant, regimes together).</summary>
    protected abstract bool FigurePerRegime { get; }

    protected (CompetitionFinding Finding, CompetitionResult Result) Load(string profile)
    {
        var finding = CompetitionContext.Finding(Finding, profile);
        return (finding, CompetitionContext.Result(finding));
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = CompetitionContext.GpuReason)]
    public void Writes_its_figures(string profile)
    {
        var (_, result) = Load(profile);
        var files = CompetitionFigures.ForFinding(result, Finding, CompetitionContext.ReportFolder);
        files.Should().HaveCount(result.Variants.Count() * (FigurePerRegime ? result.RegimeNames.Count() : 1))
            .And.OnlyContain(f => Path.GetFileName(f).StartsWith(Finding + "-", StringComparison.Ordinal));
        foreach (var file in files) new FileInfo(file).Length.Should().BeGreaterThan(10_000, $"{file} is a rendered PNG");
    }
}
