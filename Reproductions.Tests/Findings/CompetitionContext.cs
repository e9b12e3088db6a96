using System.Collections.Concurrent;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.GradientCompetition;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Findings;

/// <summary>
/// What the gradient-competition fixtures (F05-F08) share: the protocol's trials for a profile, run once per process
/// (and stored under artifacts/gradient-competition/, like training runs), the finding's checks, and the baseline check.
/// </summary>
public static class CompetitionContext
{
    public const string GpuReason = "full profile: the blog's 1000 trials per batch size on a GPU; select with --filter Category=Gpu";

    private static readonly ConcurrentDictionary<string, Lazy<CompetitionResult>> Cache = new();

    /// <summary>The finding's config for <paramref name="profile"/>; the full profile needs CUDA (or REPRO_DEVICE=cpu), as for every finding.</summary>
    public static CompetitionFinding Finding(string finding, string profile)
    {
        FindingContext.RequireDeviceFor(profile);
        return CompetitionFinding.Load(finding, profile);
    }

    public static CompetitionResult Result(CompetitionFinding finding) =>
        Cache.GetOrAdd(finding.Profile, profile => new Lazy<CompetitionResult>(() =>
        {
            DataSets.Log = line => TestContext.Progress.WriteLine(line);
            return CompetitionStore.Default.GetOrRun(finding.Protocol, RunStore.Default,
                log: line => TestContext.Progress.WriteLine(line), progress: new ProgressWriter());
        }, LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>Where the fixtures write their figures.</summary>
    public static string ReportFolder => Path.Combine(RepoPaths.Artifacts, "report");

    /// <summary>Checks one number per trial seed against baselines/&lt;profile&gt;/&lt;finding&gt;.json with the finding's band settings.</summary>
    public static void AssertBaseline(CompetitionFinding finding, CompetitionResult result, Action<MetricSamples> addMetrics)
    {
        var samples = new MetricSamples(finding.Finding, finding.Profile, finding.Protocol.Seeds.Select(s => checked((int)s)));
        addMetrics(samples);
        var b = finding.Bands;
        var policy = new BandPolicy { StdMultiplier = b.StdMultiplier, MinAbsolute = b.MinAbsolute, MinRelative = b.MinRelative };
        var verdict = BaselineGate.Check(new BaselineStore(RepoPaths.Baselines), samples, policy, result.Device);
        FindingContext.Measured(verdict.Message);
        if (!verdict.Passed) Assert.Fail(verdict.Message);
    }

    /// <summary>Prints a curve's fits and its per-B table to the test output.</summary>
    public static void Describe(CurveSummary c)
    {
        FindingContext.Measured($"{c.Variant.Name()} {c.Regime}: {CompetitionReport.CurveLine(c)}");
        foreach (var b in c.Batches)
            TestContext.Out.WriteLine(FormattableString.Invariant(
                $"  B={b.BatchSize,4}: trials {b.Trials}, diverged {b.Diverged}, mean {b.Mean:G4}, std {b.Std:G4}, normalised std {b.NormalisedStd:G4}, normalised IQR {b.NormalisedIqr:G4}, values >= {c.TailThreshold:G3}: {b.TailCount}"));
    }

    private sealed class ProgressWriter : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => TestContext.Progress.WriteLine(Harness.Cli.ProgressDisplay.Describe(p));
    }
}
