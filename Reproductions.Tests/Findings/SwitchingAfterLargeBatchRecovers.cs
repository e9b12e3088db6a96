using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F04: a large batch does not get the model stuck. (a) 1024 for 1 epoch then 64, (b) 1024 then 64, (c) 1024 then the
/// learning rate x10 all end above the bs-1024 control trained as long, and reach the bs-64 accuracy (blog: all 98%).
/// Claims: configs/F04.json.
/// </summary>
[TestFixture, Finding("F04")]
public class SwitchingAfterLargeBatchRecovers : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["a_1024x1_then_64", "b_1024_then_64", "c_1024_then_lr_x10", "control_1024", "bs64"],
            "trainAccuracy", "testAccuracy");
}
