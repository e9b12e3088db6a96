using Reproductions.Harness.Benchmarks;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Training;

namespace Reproductions.Tests.Benchmarks;

/// <summary>The run-set estimate (<c>reproduce --estimate</c>): its arithmetic with a known price list, and the pricer's timing.</summary>
[Unit]
public class RunSetEstimateTests
{
    /// <summary>A price list in closed form: a step costs 1 ms plus 1 us per row of every model; evaluating a sample 2 us per model; a pass 5 us.</summary>
    private sealed class KnownPrices : IStepPricer
    {
        public double StepSeconds(TrainingConfig config, int phase, int models) => 1e-3 + 1e-6 * config.Phases[phase].BatchSize * models;
        public double EvalSecondsPerSample(TrainingConfig config, int models) => 2e-6 * models;
        public double SecondsPerPass => 5e-6;
        public double TrialSecondsPerSample(CompetitionProfile profile, TrainingConfig regime, int batchSize) => 1e-6 * (1 + 1.0 / batchSize);
    }

    [Test]
    public void A_run_costs_its_phases_steps_and_its_evaluated_epochs()
    {
        var config = SyntheticData.Config(epochs: 2, batchSize: 64);
        config.Phases.Add(new PhaseConfig { Epochs = 1, BatchSize = 256, LearningRate = 0.01 });
        config.TrainSamples = 1000;
        config.Evaluation = new EvaluationConfig { Interval = 2, TrainSubset = 500 };
        var (steps, seconds) = RunSetEstimator.Price(config, 3, new KnownPrices());
        steps.Should().Be(2 * 16 + 4, "1,000 samples are 16 batches of 64 and 4 of 256");
        // Epochs 2 (the interval) and 3 (the last) are evaluated, each on 500 training samples and MNIST's 10,000 test samples.
        seconds.Should().BeApproximately(32 * (1e-3 + 64 * 3e-6) + 4 * (1e-3 + 256 * 3e-6) + 2 * 10_500 * 6e-6, 1e-12);
    }

    [Test]
    public void The_full_profiles_on_cuda_add_up_and_no_shard_beats_the_longest_group()
    {
        var findings = FindingProfile.All().Select(id => FindingProfile.Load(id, "full")).ToList();
        var plans = findings.Select(f => (f.Finding, f.Experiment.Plan("cuda", FindingRunner.Label(f)))).ToList();
        var estimate = RunSetEstimator.Estimate(plans, new KnownPrices());

        estimate.Findings.Sum(f => f.Seconds).Should().BeApproximately(estimate.Seconds, 1e-6, "each unit is counted once, for the first finding that brings it in");
        estimate.Findings.Sum(f => f.Units).Should().Be(estimate.Units.Count);
        var f02 = estimate.Findings.Single(f => f.Finding == "F02");
        f02.Steps.Should().Be(30 * 30_000, "F02's full bs-2 runs: 30 epochs of 60,000 samples in batches of 2, its three seeds stacked");
        estimate.Longest.Label.Should().StartWith("F02 full bs2", "the bs-2 stack is the longest chain of steps");
        estimate.Longest.Seconds.Should().BeApproximately(900_000 * (1e-3 + 2 * 3e-6) + 30 * 70_000 * 6e-6, 1e-6);

        estimate.ShardSeconds[1].Should().BeApproximately(estimate.Seconds, 1e-6);
        foreach (var (n, seconds) in estimate.ShardSeconds)
            seconds.Should().BeGreaterThanOrEqualTo(Math.Max(estimate.Seconds / n, estimate.Longest.Seconds) - 1e-6, $"{n} shards");

        estimate.NotEstimated.Should().BeEmpty();
        estimate.Units.Where(u => u.Pricing == Pricing.Passes).Should().NotBeEmpty("the sharpness measurements are priced by their passes");
        var competition = estimate.Units.Should().ContainSingle(u => u.Pricing == Pricing.Engine).Which;
        competition.Unit.Key.Kind.Should().Be("gradient-competition", "its trial engine's passes are not the trainer's");
        // The full profile's literal trials: 2 regimes x 4 seeds x 1,024 samples a trial, per B 250 literal-mean and 250
        // literal-sum trials, except at B = 1, where literal-sum is literal-mean's trials (one sample a batch) and adds none.
        int[] sizes = [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 128, 256, 512, 1024];
        var expected = sizes.Sum(b => 2 * 4 * 1024 * 1e-6 * (1 + 1.0 / b) * (b == 1 ? 250 : 500));
        competition.Seconds.Should().BeApproximately(expected, 1e-9);
    }

    [Test]
    public void The_trial_engine_is_timed_at_each_batch_size_of_the_profile_as_the_protocol_runs_it()
    {
        var profile = ((CompetitionExperiment)FindingProfile.LoadExperiment("gradient-competition", "quick").Experiment).Profile;
        var regime = SyntheticData.Config(batchSize: 50);
        regime.Model.Widths = [784, 32, 10];
        var timings = GradientCompetitionBench.ProfileTimePerSample(profile, regime.Model.Widths, TorchSharp.torch.CPU, maxSteps: 2);
        timings.Select(t => t.BatchSize).Should().Equal(profile.BatchSizes);
        timings.Should().OnlyContain(t => t.SecondsPerSample > 0 && double.IsFinite(t.SecondsPerSample));
        timings.Should().OnlyContain(t => t.Trials == 4, "a chunk holds the quick profile's 4 literal-mean trials, the most of any literal variant");
        timings.Select(t => t.Steps).Should().Equal(profile.BatchSizes.Select(b => Math.Min((1024 + b - 1) / b, 2)));

        var pricer = new MeasuredStepPricer(_ => throw new InvalidOperationException("the trial engine trains on random data"));
        var seconds = pricer.TrialSecondsPerSample(profile, regime, 8);
        seconds.Should().BePositive();
        var shapes = pricer.CalibrationSeconds;
        pricer.TrialSecondsPerSample(profile, regime, 1024).Should().BePositive();
        pricer.CalibrationSeconds.Should().Be(shapes, "every batch size was timed on the first call");
        pricer.Invoking(p => p.TrialSecondsPerSample(profile, regime, 9)).Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>A step as the H100 measured it (docs/measurements/h100-bench.txt): 1.07 ms of per-operation overhead, then 0.31 us per row.</summary>
    private sealed class H100Prices : IStepPricer
    {
        public double StepSeconds(TrainingConfig config, int phase, int models) => 1.07e-3 + 0.31e-6 * config.Phases[phase].MicroBatchSize * models * (config.Phases[phase].Accumulation ?? 1);
        public double EvalSecondsPerSample(TrainingConfig config, int models) => 0.1e-6 * models;
        public double SecondsPerPass => 0.31e-6;
        /// <summary>The H100's 315 s of full-profile trials (docs/measurements/h100-gradient-competition-full.md) spread evenly
        /// over their 59.4 million literal samples.</summary>
        public double TrialSecondsPerSample(CompetitionProfile profile, TrainingConfig regime, int batchSize) => 315.0 / 59_392_000;
    }

    [Test]
    public void On_cuda_the_shards_split_by_steps_so_the_bs2_chain_holds_one_shard_alone()
    {
        var findings = FindingProfile.All().Select(id => FindingProfile.Load(id, "full")).ToList();
        var plans = findings.Select(f => (f.Finding, f.Experiment.Plan("cuda", FindingRunner.Label(f)))).ToList();
        var estimate = RunSetEstimator.Estimate(plans, new H100Prices());
        // With 2 shards the rest, the gradient competition's 315 s included, outweighs the chain.
        foreach (var n in new[] { 4, 8 })
            estimate.ShardSeconds[n].Should().BeApproximately(estimate.Longest.Seconds, 1e-6,
                $"with {n} shards the F02 chain ({estimate.Longest.Seconds:F0} s of {estimate.Seconds:F0}) is the most loaded shard: the rest spread over the others");
    }

    [Test]
    public void The_pricer_times_each_step_shape_once_through_the_harness_trainers()
    {
        using var data = SyntheticData.Create();
        var pricer = new MeasuredStepPricer(_ => data);
        var lone = SyntheticData.Config(batchSize: 50);
        var stacked = SyntheticData.Config(batchSize: 50);
        stacked.Stack = true;
        var step = pricer.StepSeconds(lone, 0, 1);
        step.Should().BePositive();
        pricer.EvalSecondsPerSample(lone, 1).Should().BePositive();
        pricer.StepSeconds(stacked, 0, 3).Should().BePositive();
        pricer.Shapes.Should().Be(2, "a lone shape and a stacked one");
        var otherRate = SyntheticData.Config(batchSize: 50, lr: 0.5, seed: 9);
        pricer.StepSeconds(otherRate, 0, 1).Should().Be(step, "the rate and the seed are not part of a step's shape");
        pricer.Shapes.Should().Be(2);
        var probe = MeasuredStepPricer.Probe(lone, 0, 4, MeasuredStepPricer.StepsTimed);
        (probe.TrainSamples, probe.TotalEpochs, probe.Seed, probe.Evaluation.Interval).Should().Be((50 * MeasuredStepPricer.StepsTimed, 2, 4L, 1));
    }

    [Test]
    public void A_stacked_probe_whose_models_all_blow_up_in_the_first_epoch_is_timed_not_a_crash()
    {
        using var data = SyntheticData.Create();
        var pricer = new MeasuredStepPricer(_ => data);
        var blowsUp = SyntheticData.Config(batchSize: 50, lr: 1e30);
        blowsUp.Stack = true;
        using (var session = new StackedSession([MeasuredStepPricer.Probe(blowsUp, 0, 1, MeasuredStepPricer.StepsTimed)], data))
        {
            session.RunEpoch();
            session.Finished.Should().BeTrue("the case needs a probe that diverges in its first epoch (it threw here before the fix)");
        }
        pricer.StepSeconds(blowsUp, 0, 3).Should().BePositive();
        pricer.StepSeconds(SyntheticData.Config(batchSize: 50, lr: 1e30), 0, 1).Should().BePositive("a lone run's probe, too");

        var warmedUp = SyntheticData.Config(batchSize: 50, lr: 1e30);
        warmedUp.Phases[0].WarmupEpochs = 1;
        warmedUp.Phases[0].WarmupFrom = 0.01;
        MeasuredStepPricer.Probe(warmedUp, 0, 1, MeasuredStepPricer.StepsTimed).Phases[0].LearningRate.Should().Be(0.01, "a warmed-up phase is probed at the rate it starts at");
        MeasuredStepPricer.Probe(blowsUp, 0, 1, MeasuredStepPricer.StepsTimed).Phases[0].LearningRate.Should().Be(1e30);
    }

    [TestCase(1.4, 4, 30000, null, TestName = "A slow step: 4 steps last long enough")]
    [TestCase(0.0625, 4, 30000, null, TestName = "4 steps that fill the target exactly are enough")]
    [TestCase(0.01, 4, 30000, 25, TestName = "A 10 ms step: timed again over 25 steps")]
    [TestCase(0.001, 4, 30000, 250, TestName = "A GPU's 1 ms step: timed again over 250 steps")]
    [TestCase(0.001, 4, 100, 100, TestName = "No more steps than the training set has batches")]
    [TestCase(0.001, 4, 4, null, TestName = "A training set of 4 batches gives no longer probe")]
    [TestCase(0.0, 4, 30000, null, TestName = "A step timed at 0 s is not divided by")]
    [TestCase(double.NaN, 4, 30000, null, TestName = "A step timed as NaN is left as it is")]
    public void A_short_probe_is_timed_again_over_enough_steps_to_fill_the_target(double secondsPerStep, int stepsTimed, long batches, int? expected)
    {
        MeasuredStepPricer.TargetSeconds.Should().Be(0.25, "the cases are worked out for a quarter of a second");
        MeasuredStepPricer.StepsFor(secondsPerStep, stepsTimed, batches).Should().Be(expected);
    }
}
