using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F11: with SGD the distance from init grows monotonically but sublinearly (better described by a line in log(steps)
/// than in steps), and for a fixed number of steps it is bounded whatever the batch size. Claims: configs/F11.json.
/// </summary>
[TestFixture, Finding("F11")]
public class DistanceGrowsSublinearly : FindingFixture
{
    private static readonly string[] Sgd = ["bs64", "bs256", "bs1024"];

    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        AddFinal(samples, Runs(measured), Sgd, "weightDistance", "biasDistance");
        foreach (var run in Sgd)
        {
            samples.Add($"{run}.r2_log_steps", Values(measured, run, "r2DistanceVsLogSteps"));
            samples.Add($"{run}.r2_steps", Values(measured, run, "r2DistanceVsSteps"));
        }
    }
}
