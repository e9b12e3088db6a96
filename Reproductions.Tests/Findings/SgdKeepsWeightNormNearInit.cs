using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F13: SGD keeps the weight norm near its init radius (about 44 with the blog's xavier-zero init): the blog's SGD runs
/// end within a few percent of it (44.9, 44.1, 44.7, 44.9); Adam ends far above it (258). Claims: configs/F13.json.
/// </summary>
[TestFixture, Finding("F13")]
public class SgdKeepsWeightNormNearInit : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        AddFinal(samples, Runs(measured), ["bs64", "bs1024", "bs1024_lr01", "bs1024_long", "adam_bs64", "bs2"], "weightNorm");
        samples.Add("init.weight_norm", Values(measured, "bs64", "initialWeightNorm"));
    }
}
