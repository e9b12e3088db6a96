using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F21 (Keskar et al. 2017): measured at about 10 checkpoints along training, the large-batch run's sharpness rises as
/// its training loss falls, more steeply than the small-batch run's. Claims: configs/F21.json; the experiment:
/// configs/sharp-minima.json.
/// </summary>
[TestFixture, Finding("F21")]
public class LargeBatchSharpnessRisesAsLossFalls : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        var lb = Values(measured, "lb", "sharpnessLossSpearman");
        var sb = Values(measured, "sb", "sharpnessLossSpearman");
        samples.Add("lb.sharpness_loss_spearman", lb);
        samples.Add("sb.sharpness_loss_spearman", sb);
        AddUnlessLeftOut(samples, finding, "spearman_lb_minus_sb", lb.Zip(sb, (l, s) => l - s), claimNull: 0);
        samples.Add("lb.final_sharpness_full_1e-3", Values(measured, "lb", "sharpnessFull1e-3"));
    }
}
