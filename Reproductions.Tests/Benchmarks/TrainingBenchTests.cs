using Reproductions.Harness.Benchmarks;
using Reproductions.Harness.Training;
using Reproductions.Tests.Training;
using TorchSharp;

namespace Reproductions.Tests.Benchmarks;

/// <summary>The bench's plain loop does the harness's arithmetic, so the two times compare the code alone.</summary>
[Unit]
public class TrainingBenchTests
{
    [TestCase(50, 0.0)]
    [TestCase(128, 0.9)]
    public void The_plain_loop_ends_its_epoch_with_the_harness_runs_weights(int batchSize, double momentum)
    {
        using var data = SyntheticData.Create();
        var config = SyntheticData.Config(epochs: 1, batchSize: batchSize, lr: 0.05, seed: 3);
        config.Optimizer.Momentum = momentum;
        using var session = new TrainingSession(config, data);
        var harness = session.RunEpoch();
        var (images, labels) = TrainingSession.TrainingSet(config, data);
        using var inputs = TrainingSession.Preprocess(images, config, torch.CPU);
        var (seconds, norm) = TrainingBench.PlainLoopEpoch(inputs, labels, config);
        seconds.Should().BePositive();
        norm.Should().Be(harness.WeightNorm, "the same initial weights, batches and update, bit for bit");
        // Another seed starts elsewhere: the check can fail.
        var other = SyntheticData.Config(epochs: 1, batchSize: batchSize, lr: 0.05, seed: 4);
        other.Optimizer.Momentum = momentum;
        TrainingBench.PlainLoopEpoch(inputs, labels, other).WeightNorm.Should().NotBe(harness.WeightNorm);
    }

    [Test]
    public void The_stacked_bench_times_the_other_step_kind_where_both_apply_and_checks_size_freedom()
    {
        using var data = SyntheticData.Create();
        var sgd = SyntheticData.Config(epochs: 1, batchSize: 32, lr: 0.05);
        var row = StackedBench.Run(data, sgd, [32], 2).Single();
        row.HandFormed.Should().BeTrue("plain SGD at 32 rows on the CPU takes the hand-formed step");
        row.OtherStepSecondsPerEpoch.Should().BePositive("autograd's step is timed beside it");
        row.SizeFreeDifference.Should().Be(0, "on the CPU a model's weights do not depend on the rest of its stack");
        row.LoneCalls.Should().BeNull("the CPU launches no kernels: the floor falls back to the tensors a step creates");
        row.LoneFloorPerStep.Should().Be(row.LoneOpsPerStep * row.OpLatencySeconds);
        var momentum = SyntheticData.Config(epochs: 1, batchSize: 32, lr: 0.05);
        momentum.Optimizer.Momentum = 0.9;
        var other = StackedBench.Run(data, momentum, [32], 2).Single();
        other.HandFormed.Should().BeFalse();
        other.OtherStepSecondsPerEpoch.Should().BeNull("the hand-formed step has no momentum");
        momentum.Stack = true;
        using var session = new StackedSession([momentum], data);
        FluentActions.Invoking(() => session.BenchStep = true).Should().Throw<InvalidOperationException>().WithMessage("*plain SGD*");
    }
}
