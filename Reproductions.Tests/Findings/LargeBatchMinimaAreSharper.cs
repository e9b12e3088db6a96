using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F19 (Keskar et al. 2017): the large-batch minimiser is sharper than the small-batch one, in the full space and a random
/// subspace, for eps 1e-3 and 5e-4 (Adam, SB 256 against LB 10% of the training set); the blog's SGD runs measured beside
/// them. Claims and estimates: configs/F19.json; the experiment: configs/sharp-minima.json.
/// </summary>
[TestFixture, Finding("F19")]
public class LargeBatchMinimaAreSharper : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        foreach (var run in new[] { "sb", "lb", "sgd_bs64", "sgd_bs1024" })
        {
            samples.Add($"{run}.test_accuracy", Values(measured, run, "testAccuracy"));
            samples.Add($"{run}.gradient_norm", Values(measured, run, "gradientNorm"));
        }
        foreach (var space in new[] { "Full", "Subspace" })
            foreach (var eps in new[] { "1e-3", "5e-4" })
            {
                var metric = $"logSharpness{space}{eps}";
                samples.Add($"lb.{metric}", Values(measured, "lb", metric));
                samples.Add($"sb.{metric}", Values(measured, "sb", metric));
                AddUnlessLeftOut(samples, finding, $"log_ratio_lb_over_sb.{space}{eps}",
                    Values(measured, "lb", metric).Zip(Values(measured, "sb", metric), (l, s) => l - s), claimNull: 0);
            }
    }
}
