using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;

namespace Reproductions.Tests.Training;

/// <summary>The profiles' stacking choice, as configs/Fxx.json declare it: full stacks each run's seeds, quick trains runs alone.</summary>
[Unit]
public class StackedProfilesTests
{
    private static readonly string[] TrainingFindings = ["F01", "F02", "F03", "F04", "F09", "F10", "F11", "F12", "F13", "F14", "F15", "F16", "F17", "F18"];

    [TestCaseSource(nameof(TrainingFindings))]
    public void The_full_profile_stacks_every_runs_seeds_and_quick_trains_them_alone(string id)
    {
        var full = FindingProfile.Load(id, "full");
        var runs = full.Experiment.Plan("cuda", $"{id} full").OfType<TrainingWork>().ToList();
        runs.Should().NotBeEmpty();
        runs.Should().OnlyContain(w => w.Stack != null, "every full run of a training finding trains in a stack");
        foreach (var run in runs)
            run.Stack!.Configs.Select(c => c.Seed).Distinct().Should().BeEquivalentTo(full.Seeds, $"{run.Label}: its stack holds every seed of its run");
        FindingProfile.Load(id, "quick").Experiment.Plan("cpu", $"{id} quick").OfType<TrainingWork>()
            .Should().OnlyContain(w => w.Stack == null, "quick takes stacking out and trains as its baselines were made");
    }
}
