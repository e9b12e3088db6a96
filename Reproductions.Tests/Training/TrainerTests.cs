using Reproductions.Harness.Models;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Tests.Training;

[Unit]
public class TrainerTests
{
    private static TrainingData data = null!;

    [OneTimeSetUp]
    public void CreateData() => data = SyntheticData.Create();

    [OneTimeTearDown]
    public void DisposeData() => data.Dispose();

    private static List<EpochMetrics> Train(TrainingConfig config)
    {
        using var session = new TrainingSession(config, data);
        while (!session.Finished) session.RunEpoch();
        return session.History.ToList();
    }

    private static object Numbers(EpochMetrics m) => new
    {
        m.Epoch, m.Phase, m.BatchSize, m.LearningRate, m.Steps, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy,
        m.WeightDistance, m.BiasDistance, m.WeightNorm, m.BiasNorm, Cosines = string.Join(",", m.LayerCosines),
    };

    [Test]
    public void Same_seed_gives_identical_metrics()
    {
        var a = Train(SyntheticData.Config(seed: 3)).Select(Numbers);
        var b = Train(SyntheticData.Config(seed: 3)).Select(Numbers);
        a.Should().Equal(b);
    }

    [Test]
    public void Different_seeds_give_different_runs()
    {
        var a = Train(SyntheticData.Config(seed: 3))[^1];
        var b = Train(SyntheticData.Config(seed: 4))[^1];
        a.WeightNorm.Should().NotBe(b.WeightNorm);
    }

    [Test]
    public void Training_learns_and_moves_away_from_init()
    {
        var history = Train(SyntheticData.Config(epochs: 4));
        history[^1].TrainLoss.Should().BeLessThan(history[0].TrainLoss);
        history[^1].TrainAccuracy.Should().BeGreaterThan(0.5, "a linear teacher is learnable; chance is 0.1");
        history.Select(h => h.WeightDistance).Should().BeInAscendingOrder().And.OnlyContain(d => d > 0);
        history[^1].LayerCosines.Should().HaveCount(2).And.OnlyContain(c => c > 0 && c < 1);
        history[^1].GeneralizationGap.Should().Be(history[^1].TrainAccuracy - history[^1].TestAccuracy);
    }

    [Test]
    public void Phases_switch_batch_size_and_learning_rate_and_count_steps()
    {
        var config = SyntheticData.Config();
        config.Phases = [new PhaseConfig { Epochs = 1, BatchSize = 500, LearningRate = 0.01 }, new PhaseConfig { Epochs = 2, BatchSize = 100, LearningRate = 0.1 }];
        var history = Train(config);
        history.Select(h => (h.Phase, h.BatchSize, h.LearningRate)).Should().Equal((0, 500, 0.01), (1, 100, 0.1), (1, 100, 0.1));
        // 1200 samples: ceil(1200 / 500) = 3 steps, then 12 per epoch.
        history.Select(h => h.Steps).Should().Equal(3L, 15L, 27L);
    }

    [Test]
    public void Evaluation_interval_measures_accuracy_every_k_epochs_and_at_the_end()
    {
        var config = SyntheticData.Config(epochs: 5);
        config.Evaluation.Interval = 2;
        var history = Train(config);
        history.Select(h => double.IsNaN(h.TestAccuracy)).Should().Equal(true, false, true, false, false);
        history.Should().OnlyContain(h => h.WeightDistance > 0, "geometry is measured every epoch");
    }

    [Test]
    public void Geometry_metrics_match_a_direct_computation()
    {
        using var session = new TrainingSession(SyntheticData.Config(), data);
        var initial = session.Model.Weights.Select(w => w.detach().clone()).ToArray();
        var m = session.RunEpoch();
        var now = session.Model.Weights.ToArray();
        double dist = 0, norm = 0;
        for (var i = 0; i < now.Length; i++)
        {
            dist += (now[i] - initial[i]).square().sum().item<float>();
            norm += now[i].square().sum().item<float>();
        }
        m.WeightDistance.Should().BeApproximately(Math.Sqrt(dist), 1e-4 * Math.Sqrt(dist));
        m.WeightNorm.Should().BeApproximately(Math.Sqrt(norm), 1e-4 * Math.Sqrt(norm));
        var cos0 = (now[0] * initial[0]).sum().item<float>() / (now[0].norm().item<float>() * initial[0].norm().item<float>());
        m.LayerCosines[0].Should().BeApproximately(cos0, 1e-5);
        foreach (var t in initial) t.Dispose();
    }

    [TestCase(InitScheme.XavierZero, 43.95, true)]
    [TestCase(InitScheme.TorchDefault, 26.1, false)]
    public void Init_schemes_give_the_expected_weight_norm(InitScheme scheme, double expected, bool zeroBias)
    {
        // Xavier: sum over layers of fan_in * fan_out * 2 / (fan_in + fan_out) = 1931.8, so the norm is sqrt(1931.8) = 43.95.
        // Torch default: U(+-1/sqrt(fan_in)) has variance 1/(3 fan_in): sum of fan_out / 3 = (1024 + 1024 + 10) / 3, norm 26.2.
        using var model = new Mlp([784, 1024, 1024, 10]);
        using var g = new Generator(11);
        model.Initialize(scheme, g);
        var norm = Math.Sqrt(model.Weights.Sum(w => w.square().sum().item<float>()));
        norm.Should().BeApproximately(expected, 0.15);
        model.Biases.All(b => b.abs().max().item<float>() == 0).Should().Be(zeroBias);
    }

    [TestCase(null, 0.0, 0.0, TestName = "Live_tensor_count_and_memory_stay_flat_across_30_epochs")]
    [TestCase(4, 0.9, 2.0, TestName = "Live_tensor_count_and_memory_stay_flat_across_30_epochs_with_accumulation_momentum_and_warm_up")]
    public void Live_tensor_count_and_memory_stay_flat(int? accumulation, double momentum, double warmupEpochs)
    {
        var config = SyntheticData.Config(epochs: 30, batchSize: 100);
        config.Phases[0].Accumulation = accumulation;
        config.Optimizer.Momentum = momentum;
        if (warmupEpochs > 0) (config.Phases[0].WarmupEpochs, config.Phases[0].WarmupFrom) = (warmupEpochs, 0.001);
        using var session = new TrainingSession(config, data);
        var live = new List<long>();
        var memory = new List<long>();
        while (!session.Finished)
        {
            session.RunEpoch();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            memory.Add(Environment.WorkingSet);
        }
        live.Skip(1).Should().OnlyContain(n => n == live[1], $"live tensor counts per epoch were {string.Join(" ", live)}");
        (memory[^1] - memory[2]).Should().BeLessThan(32L << 20, $"working set per epoch (MB): {string.Join(" ", memory.Select(b => b >> 20))}");
    }
}
