using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Findings;

/// <summary>
/// F16 (Goyal et al. 2017): the learning rate scaled with the batch size, with a gradual warm-up, keeps bs 1024 at the
/// bs-64 accuracy; a sweep over batch sizes 64 ... 8192 finds where the rule breaks (a diverged run there is an outcome).
/// Claims and estimates: configs/F16.json.
/// </summary>
[TestFixture, Finding("F16")]
public class LinearScalingRuleHoldsUpToALimit : FindingFixture
{
    protected override void AddBaselineMetrics(MetricSamples samples, FindingProfile finding, Measured measured)
    {
        var training = (TrainingMeasured)measured;
        var runs = training.Runs;
        AddFinal(samples, runs, ["bs64", "bs1024_lr001", "bs1024_lr016_warmup"], "trainAccuracy", "testAccuracy", "weightDistance");
        // Runs that may diverge: whether each seed diverged is part of the snapshot; the accuracy where every seed finished.
        foreach (var run in training.Experiment.Groups.Where(g => ((TrainingExperiment)training.Experiment).DivergenceReason(g) is not null))
        {
            samples.Add($"{run}.diverged", training.DivergedSeeds(run).Select(d => d ? 1.0 : 0.0).ToArray());
            if (runs.Runs.ContainsKey(run)) AddFinal(samples, runs, [run], "testAccuracy");
        }
    }
}
