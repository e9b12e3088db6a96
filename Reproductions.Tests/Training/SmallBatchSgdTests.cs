using Reproductions.Harness.Kernels;
using Reproductions.Harness.Models;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Tests.Training;

/// <summary>The trainer's hand-formed small-batch SGD step: equal to autograd with optim.SGD, taken only where it applies, leak-free.</summary>
[Unit]
public class SmallBatchSgdTests
{
    // 70 hidden units: not a multiple of the tiles' 4 weight rows, and the last layer's 70 inputs leave vector tails.
    private static readonly int[] Widths = [784, 96, 70, 10];
    private const double Lr = 0.05;

    private static void RequireTiles()
    {
        if (!TileKernels.Supported) Assert.Ignore("this CPU has no AVX-512F; the trainer uses autograd for every batch there");
    }

    [TestCase(1, LossReduction.Mean)]
    [TestCase(2, LossReduction.Mean)]
    [TestCase(5, LossReduction.Sum)]
    [TestCase(16, LossReduction.Mean)]
    public void The_hand_formed_step_equals_autograd_with_optim_SGD(int batchSize, LossReduction reduction)
    {
        RequireTiles();
        using var scope = NewDisposeScope();
        using var reference = new Mlp(Widths);
        using var g = new Generator(5);
        reference.Initialize(InitScheme.TorchDefault, g); // non-zero biases, so the bias path is exercised from the start
        using var mine = new Mlp(Widths);
        using (no_grad())
            foreach (var (to, from) in mine.parameters().Zip(reference.parameters()))
                to.copy_(from);
        using var sgd = optim.SGD(reference.parameters(), Lr);
        var weights = mine.Weights.ToArray();
        var biases = mine.Biases.ToArray();

        for (var step = 0; step < 3; step++)
        {
            var x = randn([batchSize, Widths[0]], generator: g);
            var y = randint(0, Widths[^1], [batchSize], generator: g);
            sgd.zero_grad();
            var loss = nn.functional.nll_loss(reference.forward(x), y,
                reduction: reduction == LossReduction.Sum ? nn.Reduction.Sum : nn.Reduction.Mean);
            loss.backward();
            sgd.step();
            SmallBatchSgd.Step(weights, biases, x, y, reduction == LossReduction.Sum ? 1f : 1f / batchSize, (float)Lr);
        }

        var theirs = reference.parameters().ToArray();
        var ours = mine.parameters().ToArray();
        for (var i = 0; i < ours.Length; i++)
        {
            var difference = ours[i].sub(theirs[i].detach()).abs().max().item<float>();
            var scale = theirs[i].detach().abs().max().item<float>();
            // Float32, different summation orders over at most 784 terms per entry, three steps: 1e-5 of the largest value.
            difference.Should().BeLessThanOrEqualTo(Math.Max(scale, 1e-3f) * 1e-5f, $"parameter {i} after three steps of B = {batchSize}");
        }
        using (no_grad())
        {
            var initial = new Mlp(Widths);
            using var g0 = new Generator(5);
            initial.Initialize(InitScheme.TorchDefault, g0);
            ours.Zip(initial.parameters()).Any(p => p.First.sub(p.Second).abs().max().item<float>() > 0).Should().BeTrue("the steps moved the weights");
            initial.Dispose();
        }
    }

    [Test]
    public void Only_plain_SGD_on_batches_of_at_most_16_rows_on_a_CPU_takes_the_step()
    {
        RequireTiles();
        var cpu = DeviceType.CPU;
        var plain = SyntheticData.Config(batchSize: 2);
        static PhaseConfig Phase(int batchSize, int? accumulation = null) => new() { Epochs = 1, BatchSize = batchSize, LearningRate = 0.01, Accumulation = accumulation };
        SmallBatchSgd.Takes(plain, cpu, Phase(2)).Should().BeTrue();
        SmallBatchSgd.Takes(plain, cpu, Phase(TileKernels.MaxRows)).Should().BeTrue();
        SmallBatchSgd.Takes(plain, cpu, Phase(TileKernels.MaxRows + 1)).Should().BeFalse("beyond 16 rows autograd's matrix products win");
        SmallBatchSgd.Takes(plain, cpu, Phase(8, accumulation: 2)).Should().BeFalse("accumulation forms a step from several micro-batches");
        SmallBatchSgd.Takes(plain, DeviceType.CUDA, Phase(2)).Should().BeFalse("the kernels are CPU code");
        var momentum = SyntheticData.Config(batchSize: 2);
        momentum.Optimizer.Momentum = 0.9;
        SmallBatchSgd.Takes(momentum, cpu, Phase(2)).Should().BeFalse("the step has no momentum buffer");
        var adam = SyntheticData.Config(batchSize: 2);
        adam.Optimizer.Kind = OptimizerKind.Adam;
        SmallBatchSgd.Takes(adam, cpu, Phase(2)).Should().BeFalse();

        // The run hash says which step trained a run: small-batch CPU runs are keyed apart; others keep their keys.
        SmallBatchSgd.KindFor(plain, "cpu").Should().Be(SmallBatchSgd.Kind);
        SmallBatchSgd.KindFor(plain, "cuda").Should().BeNull();
        SmallBatchSgd.KindFor(SyntheticData.Config(batchSize: 64), "cpu").Should().BeNull();
    }

    [Test]
    public void A_small_batch_run_learns_without_leaking_tensors()
    {
        RequireTiles();
        using var data = SyntheticData.Create(train: 400, test: 200);
        var config = SyntheticData.Config(epochs: 6, batchSize: 8, lr: 0.05);
        using var session = new TrainingSession(config, data);
        var live = new List<long>();
        while (!session.Finished)
        {
            session.RunEpoch();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        live.Skip(1).Should().OnlyContain(n => n == live[1], $"live tensor counts per epoch were {string.Join(" ", live)}");
        session.History[^1].Steps.Should().Be(6 * 50);
        session.History[^1].TrainAccuracy.Should().BeGreaterThan(0.5, "the synthetic classes are learnable; chance is 0.1");
        session.History[^1].TrainLoss.Should().BeLessThan(session.History[0].TrainLoss);
        session.History.Select(h => h.WeightDistance).Should().BeInAscendingOrder();
    }
}
