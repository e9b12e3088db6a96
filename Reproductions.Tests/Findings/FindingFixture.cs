using System.Reflection;
using NUnit.Framework.Interfaces;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Findings;

/// <summary>
/// Base of every finding fixture: gives access to the finding's measurements per profile and records each check's outcome
/// (the test method, per profile) in the verdict store, which the report reads: why it failed, or what it measured.
/// </summary>
public abstract class FindingFixture
{
    protected const string FullReason = "full profile: the paper's setup on a GPU; select with --filter Category=Gpu";

    /// <summary>The finding's id, e.g. "F01", from the fixture's [Finding] attribute.</summary>
    protected string Finding => GetType().GetCustomAttribute<FindingAttribute>()?.Id
                                ?? throw new InvalidOperationException($"{GetType().Name} has no [Finding(\"Fxx\")] attribute.");

    /// <summary>The stored runs of a training finding's profile (trained through the store on first use).</summary>
    protected TrainingRuns Runs(string profile) => ((TrainingMeasured)FindingContext.Measure(Finding, profile).Measured).Runs;

    /// <summary>Checks the metrics <paramref name="addMetrics"/> adds against the finding's baseline for <paramref name="profile"/>.</summary>
    protected void AssertBaseline(string profile, Action<MetricSamples> addMetrics)
    {
        var (p, measured) = FindingContext.Measure(Finding, profile);
        FindingContext.AssertBaseline(p, measured, addMetrics);
    }

    [SetUp]
    public void BeginMeasuring() => FindingContext.BeginMeasuring();

    [TearDown]
    public void RecordVerdict()
    {
        var context = TestContext.CurrentContext;
        if (context.Test.Arguments.FirstOrDefault() is not string profile) return;
        var outcome = context.Result.Outcome.Status switch
        {
            TestStatus.Passed => "passed",
            TestStatus.Skipped => "skipped",
            TestStatus.Inconclusive => "inconclusive",
            _ => "failed",
        };
        // A failure says why; a pass says what it measured (the report shows the first line of either).
        var message = outcome == "passed" ? FindingContext.MeasuredSummary() : context.Result.Message ?? "";
        VerdictStore.Default.Record(profile, Finding, context.Test.MethodName ?? context.Test.Name, outcome, message, ChecksOf(GetType(), profile));
    }

    /// <summary>The fixture's test methods that have a case for <paramref name="profile"/>: the finding's checks in that profile.</summary>
    public static IReadOnlyCollection<string> ChecksOf(Type fixture, string profile) =>
        fixture.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttributes<TestCaseAttribute>().Any(c => c.Arguments.Length > 0 && Equals(c.Arguments[0], profile)))
            .Select(m => m.Name)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Adds the final-epoch value of each metric for each run as "{run}.{metric}" (per seed) to the baseline samples.</summary>
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
                    samples.Add($"{run}.{metric}", runs.Final(run, m => MetricNames.Scalar(m, metric)));
                }
            }
    }
}
