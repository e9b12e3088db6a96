using System.Diagnostics;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Benchmarks;

/// <summary>One batch size's measurement: the harness's epoch, a plain TorchSharp loop's epoch, and the evaluation pass.</summary>
public sealed record BenchRow(int BatchSize, double HarnessTrainSeconds, double PlainTrainSeconds, double EvalSeconds,
    double HarnessGflops, double PlainGflops, double EvalGflops, double MmGflops)
{
    public double HarnessRatio => HarnessGflops / MmGflops;
    public double PlainRatio => PlainGflops / MmGflops;
    public double EvalRatio => EvalGflops / MmGflops;
}

/// <summary>
/// Measures training speed as a ratio to a bound measured in the same process: torch.mm's GFLOP/s on 1024 x 1024 x 1024.
/// FLOPs follow ENVIRONMENT.md's convention: forward = 2 * sum(in * out) per sample; an SGD step = 3 x forward.
/// </summary>
public static class TrainingBench
{
    public static double ForwardFlopsPerSample(IReadOnlyList<int> widths)
    {
        double f = 0;
        for (var i = 0; i + 1 < widths.Count; i++) f += 2.0 * widths[i] * widths[i + 1];
        return f;
    }

    /// <summary>torch.mm GFLOP/s for n x n x n float32 on <paramref name="device"/>, best of several timed batches.</summary>
    public static double MatmulGflops(Device device, int n = 1024, double seconds = 1.0)
    {
        using var scope = NewDisposeScope();
        var a = randn([n, n], device: device);
        var b = randn([n, n], device: device);
        for (var i = 0; i < 3; i++) a.mm(b).Dispose();
        Sync(device);
        var best = 0.0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            const int reps = 5;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < reps; i++) a.mm(b).Dispose();
            Sync(device);
            best = Math.Max(best, reps * 2.0 * n * n * n / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Waits for the device's queued work (CUDA); nothing on the CPU.</summary>
    internal static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>Times one epoch of the harness's trainer and of a plain loop at each batch size, over the full training set.</summary>
    public static IReadOnlyList<BenchRow> Run(TrainingData data, TrainingConfig baseConfig, IReadOnlyList<int> batchSizes, Action<string>? log = null)
    {
        var device = Devices.Resolve(baseConfig.Device);
        var rows = new List<BenchRow>();
        var widths = baseConfig.Model.Widths;
        var forward = ForwardFlopsPerSample(widths);
        // The first epoch in a process runs slower (measured here: +2.7 s at bs 1024, +6 s at bs 64, from first-touch
        // allocations and warm-up of the native kernels), so one untimed epoch comes first.
        using (var warmup = new TrainingSession(Clone(baseConfig, batchSizes[0]), data))
            warmup.RunEpoch();
        PlainLoopEpoch(data, widths, batchSizes[0], baseConfig.Phases[0].LearningRate, device);
        log?.Invoke("warm-up epoch done (untimed)");
        foreach (var bs in batchSizes)
        {
            var mm = MatmulGflops(device);
            var config = Clone(baseConfig, bs);
            double harness, eval;
            using (var session = new TrainingSession(config, data))
            {
                var m = session.RunEpoch();
                harness = m.TrainSeconds;
                eval = m.EvalSeconds;
            }
            var plain = PlainLoopEpoch(data, widths, bs, config.Phases[0].LearningRate, device);
            var n = data.TrainImages.shape[0];
            var evalSamples = n + data.TestImages.shape[0];
            var row = new BenchRow(bs, harness, plain, eval,
                3 * forward * n / harness / 1e9, 3 * forward * n / plain / 1e9, forward * evalSamples / eval / 1e9, mm);
            log?.Invoke($"bs {bs}: harness {harness:F2} s, plain loop {plain:F2} s, eval {eval:F2} s, torch.mm {mm:F0} GFLOP/s");
            rows.Add(row);
        }
        return rows;
    }

    /// <summary><paramref name="c"/> as one epoch at <paramref name="batchSize"/> and its first phase's rate.</summary>
    public static TrainingConfig Clone(TrainingConfig c, int batchSize) => new()
    {
        Dataset = c.Dataset,
        Preprocessing = c.Preprocessing,
        TrainSamples = c.TrainSamples,
        Model = c.Model,
        Optimizer = c.Optimizer,
        LossReduction = c.LossReduction,
        Evaluation = c.Evaluation,
        Seed = c.Seed,
        Device = c.Device,
        Phases = [new PhaseConfig { Epochs = 1, BatchSize = batchSize, LearningRate = c.Phases[0].LearningRate }],
    };

    /// <summary>The reference: the shortest honest TorchSharp training loop (Sequential + optim.SGD), one epoch.</summary>
    public static double PlainLoopEpoch(TrainingData data, IReadOnlyList<int> widths, int batchSize, double lr, Device device)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < widths.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(widths[i], widths[i + 1])));
            if (i + 2 < widths.Count) layers.Add(($"relu{i}", nn.ReLU()));
        }
        layers.Add(("logsoftmax", nn.LogSoftmax(1)));
        using var model = nn.Sequential(layers);
        model.to(device);
        using var sgd = optim.SGD(model.parameters(), lr);
        using var epochScope = NewDisposeScope();
        var x = data.TrainImages.to(device);
        var y = data.TrainLabels.to(device);
        var n = x.shape[0];
        var perm = randperm(n).to(device);
        Sync(device);
        var clock = Stopwatch.StartNew();
        var xs = x.index_select(0, perm);
        var ys = y.index_select(0, perm);
        for (long start = 0; start < n; start += batchSize)
        {
            using var batchScope = NewDisposeScope();
            var size = Math.Min(batchSize, n - start);
            sgd.zero_grad();
            nn.functional.nll_loss(model.forward(xs.narrow(0, start, size)), ys.narrow(0, start, size)).backward();
            sgd.step();
        }
        Sync(device);
        return clock.Elapsed.TotalSeconds;
    }
}
