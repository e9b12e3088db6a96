using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F17: gradient accumulation over 16 micro-batches of 64 is one step of batch 1024: the same gradient (partial last
/// batch included), step and epoch up to float rounding, and the same accuracy over a run. Claims: configs/F17.json.
/// The differences themselves (about 1e-7) are claims against fixed tolerances, not baseline values.
/// </summary>
[TestFixture, Finding("F17")]
public class AccumulatedMicroBatchesEqualOneLargeBatch : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["bs1024", "bs1024_as_16x64"], "trainAccuracy", "testAccuracy", "weightDistance", "steps");
}
