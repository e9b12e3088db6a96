using System.Diagnostics;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Benchmarks;

/// <summary>
/// One batch size's measurement: the harness's epoch, a plain TorchSharp loop's epoch, and the evaluation pass, each the
/// median over the interleaved repeats; <see cref="PairRatios"/> is plain / harness within each repeat
/// (above 1: the harness was faster), whose spread is this machine's noise. <see cref="SameArithmetic"/>: both ended every
/// repeat with the same weight norm bit for bit (they start from the same weights and take the same batches), so the
/// times compare the code alone.
/// </summary>
public sealed record BenchRow(int BatchSize, double HarnessTrainSeconds, double PlainTrainSeconds, double EvalSeconds,
    double HarnessGflops, double PlainGflops, double EvalGflops, double MmGflops, IReadOnlyList<double> PairRatios, bool SameArithmetic)
{
    public double HarnessRatio => HarnessGflops / MmGflops;
    public double PlainRatio => PlainGflops / MmGflops;
    public double EvalRatio => EvalGflops / MmGflops;
    /// <summary>The plain loop's median epoch over the harness's: above 1 the harness is faster.</summary>
    public double HarnessOverPlain => PlainTrainSeconds / HarnessTrainSeconds;
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

    /// <summary>
    /// Times one epoch of the harness's trainer and of a plain loop at each batch size, over the config's training samples,
    /// <paramref name="repeats"/> times each, interleaved (harness first in odd repeats, the plain loop first in even ones, so
    /// neither always runs on the warmer machine); each figure is the median of its repeats.
    /// </summary>
    public static IReadOnlyList<BenchRow> Run(TrainingData data, TrainingConfig baseConfig, IReadOnlyList<int> batchSizes, Action<string>? log = null, int repeats = 3)
    {
        var device = Devices.Resolve(baseConfig.Device);
        var rows = new List<BenchRow>();
        var forward = ForwardFlopsPerSample(baseConfig.Model.Widths);
        // The first epoch in a process runs slower (measured here: +2.7 s at bs 1024, +6 s at bs 64, from first-touch
        // allocations and warm-up of the native kernels), so one untimed epoch comes first.
        using (var warmup = new TrainingSession(Clone(baseConfig, batchSizes[0]), data))
            warmup.RunEpoch();
        // The plain loop trains on the samples the harness trains on (the config's subset when it has one, with its
        // preprocessing), prepared before any timing.
        var (images, labels) = TrainingSession.TrainingSet(baseConfig, data);
        using var inputs = TrainingSession.Preprocess(images, baseConfig, device);
        PlainLoopEpoch(inputs, labels, Clone(baseConfig, batchSizes[0]));
        log?.Invoke("warm-up epoch done (untimed)");
        foreach (var bs in batchSizes)
        {
            var mm = MatmulGflops(device);
            var config = Clone(baseConfig, bs);
            var harness = new List<double>();
            var plain = new List<double>();
            var eval = new List<double>();
            var same = true;
            double harnessNorm = double.NaN;
            for (var r = 0; r < repeats; r++)
            {
                void Harness()
                {
                    using var session = new TrainingSession(config, data);
                    var m = session.RunEpoch();
                    harness.Add(m.TrainSeconds);
                    eval.Add(m.EvalSeconds);
                    harnessNorm = m.WeightNorm;
                }
                double plainNorm = double.NaN;
                void Plain()
                {
                    var (seconds, norm) = PlainLoopEpoch(inputs, labels, config);
                    plain.Add(seconds);
                    plainNorm = norm;
                }
                if (r % 2 == 0) { Harness(); Plain(); }
                else { Plain(); Harness(); }
                same &= plainNorm == harnessNorm;
                log?.Invoke(FormattableString.Invariant($"bs {bs}, repeat {r + 1} of {repeats}: harness {harness[^1]:F2} s, plain loop {plain[^1]:F2} s ({(r % 2 == 0 ? "harness" : "plain loop")} first)"));
            }
            var n = inputs.shape[0];
            var evalSamples = Math.Min(n, config.Evaluation.TrainSubset ?? n) + data.TestImages.shape[0];
            var (h, p, e) = (harness.Median(), plain.Median(), eval.Median());
            var row = new BenchRow(bs, h, p, e, 3 * forward * n / h / 1e9, 3 * forward * n / p / 1e9, forward * evalSamples / e / 1e9, mm,
                plain.Zip(harness, (a, b) => a / b).ToList(), same);
            log?.Invoke(FormattableString.Invariant($"bs {bs}: harness {h:F2} s, plain loop {p:F2} s, eval {e:F2} s (medians of {repeats}), torch.mm {mm:F0} GFLOP/s"));
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

    /// <summary>
    /// The reference: the shortest honest TorchSharp training loop (Sequential + optim.SGD), one epoch over
    /// (<paramref name="images"/>, <paramref name="labels"/>, prepared as the harness prepares them) at
    /// <paramref name="config"/>'s first batch size and rate. It starts from the weights the harness's run starts from (the
    /// config's init and seed) and takes the batches in the harness's first epoch's order, so both do the same arithmetic
    /// and their times differ by the code alone. Returns the epoch's seconds and the weights' L2 norm after it (the
    /// harness's epoch ends with the same norm, bit for bit, when the arithmetic is the same).
    /// </summary>
    public static (double Seconds, double WeightNorm) PlainLoopEpoch(Tensor images, Tensor labels, TrainingConfig config)
    {
        var device = Devices.Resolve(config.Device);
        IReadOnlyList<int> widths = config.Model.Widths;
        var phase = config.Phases[0];
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < widths.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(widths[i], widths[i + 1])));
            if (i + 2 < widths.Count) layers.Add(($"relu{i}", nn.ReLU()));
        }
        layers.Add(("logsoftmax", nn.LogSoftmax(1)));
        using var model = nn.Sequential(layers);
        using (var init = Models.Mlp.Initialized(config))
        using (no_grad())
        {
            var linears = model.children().OfType<TorchSharp.Modules.Linear>().ToList();
            for (var i = 0; i < linears.Count; i++)
            {
                linears[i].weight!.copy_(init.Layers[i].weight!);
                linears[i].bias!.copy_(init.Layers[i].bias!);
            }
        }
        model.to(device);
        using var sgd = optim.SGD(model.parameters(), phase.LearningRate, momentum: config.Optimizer.Momentum);
        using var epochScope = NewDisposeScope();
        var x = images.to(device);
        var y = labels.to(device);
        var n = x.shape[0];
        using var order = new Generator((ulong)Seeds.Derive(config.Seed, Seeds.Shuffle, 0));
        var perm = randperm(n, generator: order).to(device);
        Sync(device);
        var clock = Stopwatch.StartNew();
        var xs = x.index_select(0, perm);
        var ys = y.index_select(0, perm);
        for (long start = 0; start < n; start += phase.BatchSize)
        {
            using var batchScope = NewDisposeScope();
            var size = Math.Min(phase.BatchSize, n - start);
            sgd.zero_grad();
            nn.functional.nll_loss(model.forward(xs.narrow(0, start, size)), ys.narrow(0, start, size)).backward();
            sgd.step();
        }
        Sync(device);
        var seconds = clock.Elapsed.TotalSeconds;
        using var noGrad = no_grad();
        var norm = Math.Sqrt(model.children().OfType<TorchSharp.Modules.Linear>().Sum(l => l.weight!.to(ScalarType.Float64).square().sum().item<double>()));
        return (seconds, norm);
    }
}
