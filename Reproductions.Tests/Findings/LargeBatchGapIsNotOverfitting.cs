using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F20 (Keskar et al. 2017): the large-batch gap is not over-fitting: the large-batch test curve does not peak and then
/// decay, and its best test accuracy over all epochs stays below the small-batch run's final one. Claims:
/// configs/F20.json; the experiment: configs/sharp-minima.json.
/// </summary>
[TestFixture, Finding("F20")]
public class LargeBatchGapIsNotOverfitting : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var run in new[] { "sb", "lb" })
        {
            samples.Add($"{run}.test_accuracy", Values(measured, run, "testAccuracy"));
            samples.Add($"{run}.best_test_accuracy", Values(measured, run, "bestTestAccuracy"));
            samples.Add($"{run}.epochs_run", Values(measured, run, "epochsRun"));
        }
        AddUnlessLeftOut(samples, finding, "sb_final_minus_lb_best",
            Values(measured, "sb", "testAccuracy").Zip(Values(measured, "lb", "bestTestAccuracy"), (s, l) => s - l), claimNull: 0);
    }
}
