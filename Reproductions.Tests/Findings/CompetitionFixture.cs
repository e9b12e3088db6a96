using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;

namespace Reproductions.Tests.Findings;

/// <summary>
/// Base of the gradient-competition fixtures (F05-F08): the finding's profile and the shared experiment's trials (run once
/// per process through the store, see <see cref="FindingContext"/>), the check that the finding's figures are drawn,
/// and, from <see cref="FindingFixture"/>, each check's verdict recorded for the report.
/// </summary>
public abstract class CompetitionFixture : FindingFixture
{
    protected const string GpuReason = "full profile: the blog's 1000 trials per batch size on a GPU; select with --filter Category=Gpu";

    /// <summary>How many figures the finding draws per protocol variant (one, or one per regime).</summary>
    protected abstract bool FigurePerRegime { get; }

    protected (FindingProfile Finding, CompetitionResult Result) Load(string profile)
    {
        var (finding, measured) = FindingContext.Measure(Finding, profile);
        return (finding, ((CompetitionMeasured)measured).Trials);
    }

    /// <summary>Prints a curve's fits and its per-B table to the test output.</summary>
    protected static void Describe(CurveSummary c)
    {
        FindingContext.Measured($"{c.Variant.Name()} {c.Regime}: {CompetitionMeasured.CurveLine(c)}");
        foreach (var b in c.Batches)
            TestContext.Out.WriteLine(FormattableString.Invariant(
                $"  B={b.BatchSize,4}: trials {b.Trials}, diverged {b.Diverged}, mean {b.Mean:G4}, std {b.Std:G4}, normalised std {b.NormalisedStd:G4}, normalised IQR {b.NormalisedIqr:G4}, values >= {c.TailThreshold:G3}: {b.TailCount}"));
    }

    [TestCase("quick", Category = "Quick")]
    [TestCase("full", Category = "Gpu", Explicit = true, Reason = GpuReason)]
    public void Draws_its_figures(string profile)
    {
        var (finding, measured) = FindingContext.Measure(Finding, profile);
        var result = ((CompetitionMeasured)measured).Trials;
        var folder = Path.Combine(Path.GetTempPath(), "repro-figures-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var figures = measured.DrawFigures(finding.Report, new FigureTarget(folder, $"{Finding}-{finding.Dataset}", Finding, profile, false, finding.ReferenceFor));
            figures.Should().HaveCount(result.Variants.Count() * (FigurePerRegime ? result.RegimeNames.Count() : 1))
                .And.OnlyContain(f => f.File != null && f.File.StartsWith($"{Finding}-{finding.Dataset}-", StringComparison.Ordinal));
            foreach (var f in figures) new FileInfo(Path.Combine(folder, f.File!)).Length.Should().BeGreaterThan(10_000, $"{f.File} is a rendered PNG");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
