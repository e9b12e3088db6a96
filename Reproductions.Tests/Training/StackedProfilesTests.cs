using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Training;

/// <summary>
/// The profiles' stacking choice, as configs/Fxx.json declare it: full stacks each run's seeds, quick trains runs alone; and
/// the stacks a run set of several findings forms.
/// </summary>
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

    /// <summary>
    /// Measured with every finding's full profile on each device type: on the CPU the run set's stacked runs train in 23
    /// stacks that span findings (29 when each finding stacks its own), each distinct run once, every run under the key its
    /// finding's own plan gives it; on CUDA, where a stacked run's key holds its stack's size, each finding keeps its own stacks.
    /// </summary>
    [Test]
    public void On_the_cpu_the_full_profiles_stacks_span_findings_and_every_run_keeps_its_key()
    {
        var findings = FindingProfile.All().Select(id => FindingProfile.Load(id, "full")).ToList();
        var own = findings.Select(f => f.Experiment.Plan("cpu", FindingRunner.Label(f))).ToList();
        var pool = StackPool.Of(own, "cpu");
        var pooled = findings.Select(f => f.Experiment.Plan("cpu", FindingRunner.Label(f), pool)).ToList();
        for (var i = 0; i < findings.Count; i++)
            pooled[i].Select(w => w.Key).Should().Equal(own[i].Select(w => w.Key), $"{findings[i].Finding}: a run's key does not depend on its stack on the cpu");
        var stacked = pooled.SelectMany(p => p).OfType<TrainingWork>().Where(w => w.Stack != null).ToList();
        stacked.Should().OnlyContain(w => pool.Stacks.Contains(w.Stack!), "every stacked run trains in its pooled stack");
        stacked.GroupBy(w => w.Key).Should().OnlyContain(g => g.Select(w => w.Stack).Distinct().Count() == 1, "a run two findings share trains once");
        pool.Stacks.SelectMany(s => s.MemberHashes).Should().OnlyHaveUniqueItems();
        pool.Stacks.Select(s => StackSchedule.Signature(s.Configs[0])).Should().OnlyHaveUniqueItems("one stack per schedule");
        var ownStacks = own.SelectMany(p => p).OfType<TrainingWork>().Where(w => w.Stack != null).Select(w => w.Stack!.Key).Distinct().Count();
        (pool.Stacks.Count, ownStacks).Should().Be((24, 30));
        stacked.Select(w => w.Key).Distinct().Count().Should().Be(88, "README: 88 distinct stacked runs");
        var bs64 = stacked.First(w => w.Label == "F01 full bs64 seed 1").Stack!;
        bs64.Label.Should().StartWith("F01 full bs64 + F02 full bs64 + F03 full bs64", "its runs come from several findings");
        stacked.First(w => w.Label.StartsWith("F12 full sgd_bs64 seed", StringComparison.Ordinal)).Stack.Should().BeSameAs(bs64);

        var cudaPlans = findings.Select(f => f.Experiment.Plan("cuda", FindingRunner.Label(f))).ToList();
        var cudaPool = StackPool.Of(cudaPlans, "cuda");
        cudaPool.Stacks.Should().BeEmpty("on CUDA a stacked run's key holds its stack's size: stacks stay within a finding until measured there");
        cudaPlans.SelectMany(p => p).OfType<TrainingWork>().Where(w => w.Stack != null).Select(w => w.Key).Distinct().Count().Should().Be(103, "README: 103 keys on CUDA");
        findings[0].Experiment.Plan("cuda", "F01 full", cudaPool).Select(w => w.Key).Should().Equal(cudaPlans[0].Select(w => w.Key));
    }
}

