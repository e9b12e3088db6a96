using System.Reflection;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;

namespace Reproductions.Tests.Findings;

/// <summary>
/// Base of every finding fixture. Its claims are the finding's config's: one test case per claim and profile
/// (<see cref="ClaimCasesAttribute"/>), each decided by the harness's <see cref="ClaimEvaluator"/>, the same evaluation
/// the report shows; a claim that holds passes, one that does not hold fails, an inconclusive one is reported as
/// inconclusive. The fixture adds its baseline metrics (the drift check of the same seeds) and the figures check.
/// </summary>
public abstract class FindingFixture
{

    /// <summary>The finding's id, e.g. "F01", from the fixture's [Finding] attribute.</summary>
    protected string Finding => GetType().GetCustomAttribute<FindingAttribute>()?.Id
                                ?? throw new InvalidOperationException($"{GetType().Name} has no [Finding(\"Fxx\")] attribute.");

    /// <summary>
    /// On the paper's dataset, the claim itself: holds passes, does not hold fails, inconclusive is inconclusive (and fails
    /// where its baseline stores that it held). On another dataset a claim that does not hold is a result: the case asserts
    /// that the verdict is the one its baseline stores.
    /// </summary>
    [ClaimCases]
    public void Claim(string profile, string claim, string dataset)
    {
        var (finding, measured) = FindingContext.Measure(Finding, profile, dataset);
        var spec = finding.Claims.SingleOrDefault(c => c.Id == claim)
                   ?? throw new InvalidOperationException($"{Finding} ({profile}) has no claim '{claim}'.");
        var verdict = ClaimEvaluator.Evaluate(spec, measured);
        TestContext.Out.WriteLine($"{verdict.Statement}\nDecided by: {verdict.Yardstick}");
        foreach (var part in verdict.Parts)
            TestContext.Out.WriteLine($"  {(part.Label.Length > 0 ? part.Label + ": " : "")}{ClaimVerdict.Describe(part.Outcome)}: {part.Text}");
        var message = $"{ClaimVerdict.Describe(verdict.Outcome)}: {verdict.Summary}" +
                      (verdict.SeedsNeeded is { } n ? $" (its interval would need about {n} seeds to be narrower than the margin)" : "");
        if (!finding.OnPaperDataset)
        {
            var snapshot = FindingContext.Snapshot(finding, verdict);
            TestContext.Out.WriteLine($"On {dataset} (not the paper's {finding.PaperDataset}): {snapshot.Describe()}.");
            if (!snapshot.Unchanged) Assert.Fail($"{snapshot.Describe()}. Measured: {message}");
            return;
        }
        switch (verdict.Outcome)
        {
            case ClaimOutcome.Holds:
                return;
            case ClaimOutcome.Inconclusive:
                // Inconclusive is a skip, never a pass; but a claim that held when its baseline was accepted and no longer
                // decides on the same seeds has regressed, and a skip would hide that.
                var snapshot = FindingContext.Snapshot(finding, verdict);
                if (snapshot.Stored == ClaimOutcome.Holds)
                    Assert.Fail($"{message}. It held when its baseline was accepted ({snapshot.BaselinePath}): a claim that held and no longer decides is a regression.");
                Assert.Inconclusive(message);
                return;
            default:
                Assert.Fail(message);
                return;
        }
    }

    [ProfileCases]
    public void Matches_its_baseline(string profile, string dataset)
    {
        var (finding, measured) = FindingContext.Measure(Finding, profile, dataset);
        FindingContext.AssertBaseline(finding, measured, samples => AddBaselineMetrics(samples, finding, measured));
    }

    /// <summary>Every figure of the finding's report is drawn from the measurements (a PNG of real size, named by the finding).</summary>
    [ProfileCases]
    public void Draws_its_figures(string profile, string dataset)
    {
        var (finding, measured) = FindingContext.Measure(Finding, profile, dataset);
        var folder = Path.Combine(Path.GetTempPath(), "repro-figures-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var figures = measured.DrawFigures(finding.Report, new FigureTarget(folder, $"{Finding}-{finding.Dataset}", Finding, profile, false, finding.ReferenceFor));
            figures.Should().HaveCountGreaterThanOrEqualTo(finding.Report.Figures.Count);
            foreach (var f in figures)
            {
                f.File.Should().NotBeNull($"figure {f.Index} ({f.Title}) is drawn: {f.Note}").And.StartWith($"{Finding}-{finding.Dataset}-");
                new FileInfo(Path.Combine(folder, f.File!)).Length.Should().BeGreaterThan(10_000, $"{f.File} is a rendered PNG");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The numbers the baseline keeps for this finding, one value per seed each.</summary>
    protected abstract void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured);

    /// <summary>The final-epoch value of each metric for each run as "{run}.{metric}" (per seed); layer cosines as "{run}.layer{i}_cosine".</summary>
    protected static void AddFinal(MetricSamples samples, TrainingRuns runs, IEnumerable<string> runNames, params string[] metrics)
    {
        foreach (var run in runNames)
            foreach (var metric in metrics)
            {
                if (metric == "layerCosines")
                {
                    var layers = runs[run][0].Final.LayerCosines.Length;
                    for (var i = 0; i < layers; i++)
                    {
                        var layer = i;
                        samples.Add($"{run}.layer{layer + 1}_cosine", runs.Final(run, m => m.LayerCosines[layer]));
                    }
                }
                else
                {
                    samples.Add($"{run}.{metric}", runs.Final(run, m => Harness.Training.MetricNames.Scalar(m, metric)));
                }
            }
    }

    /// <summary>
    /// Adds a metric unless the profile's config leaves it out of the baseline (baseline.leftOut, with the reason the report
    /// shows: e.g. a band that would reach its claim's null value).
    /// </summary>
    protected static void AddUnlessLeftOut(MetricSamples samples, FindingProfile finding, string metric, IEnumerable<double> values, double? claimNull = null)
    {
        if (finding.BaselineLeftOut.TryGetValue(metric, out var why))
        {
            TestContext.Out.WriteLine($"{metric}: left out of the baseline ({why})");
            return;
        }
        samples.Add(metric, values, claimNull);
    }

    /// <summary>The stored runs of a training finding.</summary>
    protected static TrainingRuns Runs(Measured measured) => ((TrainingMeasured)measured).Runs;

    /// <summary>A measured metric of a group, one value per seed (the first component).</summary>
    protected static double[] Values(Measured measured, string group, string metric) =>
        (measured.Values(group, metric) ?? throw new InvalidOperationException($"{group}.{metric} is not measured.")).Select(v => v[0]).ToArray();
}
