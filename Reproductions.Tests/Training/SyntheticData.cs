using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Tests.Training;

/// <summary>
/// A small, easily learnable stand-in for MNIST: noise images in [0, 0.5] where the label's own band of 78 pixels is
/// brightened by 0.5, so a model that learns anything reaches high accuracy within a few epochs.
/// </summary>
internal static class SyntheticData
{
    public static TrainingData Create(int train = 1200, int test = 400, long seed = 7)
    {
        using var g = new Generator((ulong)seed);
        (Tensor X, Tensor Y) Make(int n)
        {
            var y = randint(0, 10, [n], generator: g);
            var x = rand([n, 784], generator: g).mul_(0.5);
            var band = arange(784).div(78, rounding_mode: RoundingMode.floor).clamp_max(9);
            x.add_(band.unsqueeze(0).eq(y.unsqueeze(1)).to(ScalarType.Float32).mul_(0.5));
            return (x, y);
        }
        var (trainX, trainY) = Make(train);
        var (testX, testY) = Make(test);
        return new TrainingData("synthetic", trainX, trainY, testX, testY, "synthetic (tests)");
    }

    /// <summary>A small config over the synthetic data: 784-64-10, plain SGD.</summary>
    public static TrainingConfig Config(int epochs = 3, int batchSize = 50, double lr = 0.01, long seed = 1) => new()
    {
        Dataset = "mnist",
        Preprocessing = Preprocessing.Unit,
        Model = new ModelConfig { Widths = [784, 64, 10] },
        Phases = [new PhaseConfig { Epochs = epochs, BatchSize = batchSize, LearningRate = lr }],
        Seed = seed,
        Device = DeviceChoice.Cpu,
    };
}
