using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F01: higher batch size gives lower asymptotic test (and train) accuracy: bs 64 > 256 > 1024 at lr 0.01 (blog: test
/// 98% at bs 64, 95-96% at bs 1024; train 100% at bs 64). Claims: configs/F01.json.
/// </summary>
[TestFixture, Finding("F01")]
public class TestAccuracyFallsAsBatchSizeGrows : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        var runs = Runs(measured);
        foreach (var run in new[] { "bs64", "bs256", "bs1024" })
        {
            samples.Add($"{run}.train_accuracy", runs.Final(run, m => m.TrainAccuracy));
            samples.Add($"{run}.test_accuracy", runs.Final(run, m => m.TestAccuracy));
            samples.Add($"{run}.generalization_gap", runs.Final(run, m => m.GeneralizationGap));
        }
        samples.Add("test_gap_bs64_vs_bs1024",
            runs.Final("bs64", m => m.TestAccuracy).Zip(runs.Final("bs1024", m => m.TestAccuracy), (a, b) => a - b).ToArray(), claimNull: 0);
    }
}
