using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F14: SGD leaves each layer almost parallel to its init (per-layer cosine above 0.9), the middle layer changing
/// least; Adam does not (blog: SGD bs 64 [0.988 0.993 0.928], Adam [0.124 0.359 0.153]). Claims: configs/F14.json.
/// </summary>
[TestFixture, Finding("F14")]
public class SgdLayersStayParallelToInit : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured) =>
        AddFinal(samples, Runs(measured), ["bs64", "bs1024", "bs1024_lr01", "bs1024_long", "adam_bs64", "bs2"], "layerCosines");
}
