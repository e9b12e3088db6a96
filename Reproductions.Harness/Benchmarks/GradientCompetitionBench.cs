using System.Diagnostics;
using Reproductions.Harness.Models;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Trials;
using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Harness.Benchmarks;

/// <summary>One batch size of the roofline: the engine's time per sample beside the compute and memory bounds.</summary>
public sealed record RooflineRow(int BatchSize, int Trials, int Workers, int StepsTimed, double SecondsPerSample,
    double ComputeBoundSeconds, double MemoryBoundSeconds, double FlopsPerSample, double BytesPerSample)
{
    public double Bound => Math.Max(ComputeBoundSeconds, MemoryBoundSeconds);
    public string BoundKind => ComputeBoundSeconds >= MemoryBoundSeconds ? "compute" : "memory";
    public double Ratio => SecondsPerSample / Bound;
}

/// <summary>One engine configuration timed at one batch size (stacking and fusing compared).</summary>
public sealed record EngineVariantRow(int BatchSize, string Engine, double SecondsPerSample);

/// <summary>The roofline measurement: the bounds, measured in this process, and the rows.</summary>
public sealed record RooflineReport(string Device, double MatmulGflops, double CopyGBps, IReadOnlyList<RooflineRow> Rows,
    IReadOnlyList<EngineVariantRow> Engines, UpdateMode Mode, int Workers, int ThreadsPerWorker);

/// <summary>
/// Times the gradient-competition engine (literal protocol: a step over B samples for many stacked trials) against a
/// roofline measured in the same process: the compute bound is the step's FLOPs at torch.mm's GFLOP/s (1024^3); the
/// memory bound is the bytes a step must move (each trial's weights read for the forward pass, read again for the
/// backward pass through layers 2.., and read and written by the update) at the bandwidth of a large tensor copy.
/// </summary>
public static class GradientCompetitionBench
{
    /// <summary>
    /// FLOPs of one literal step per sample: forward 2 sum(in x out), the backward pass's input gradients of layers 2..
    /// 2 sum(in x out), and the weight gradients (formed inside the update) 2 sum(in x out). Element-wise work is left out.
    /// </summary>
    public static double FlopsPerSample(IReadOnlyList<int> widths)
    {
        double all = 0, fromSecond = 0;
        for (var l = 0; l + 1 < widths.Count; l++)
        {
            var mac = (double)widths[l] * widths[l + 1];
            all += mac;
            if (l > 0) fromSecond += mac;
        }
        return 2 * all + 2 * fromSecond + 2 * all;
    }

    /// <summary>
    /// Bytes one trial's step must move, whatever B: weights and biases read for the forward pass, the weights of layers
    /// 2.. read for the backward pass, and every weight and bias read and written by the update (float32).
    /// </summary>
    public static double BytesPerStep(IReadOnlyList<int> widths)
    {
        double parameters = 0, backward = 0;
        for (var l = 0; l + 1 < widths.Count; l++)
        {
            parameters += (double)widths[l] * widths[l + 1] + widths[l + 1];
            if (l > 0) backward += (double)widths[l] * widths[l + 1];
        }
        return sizeof(float) * (parameters + backward + 2 * parameters);
    }

    /// <summary>Bandwidth of copying a large float32 tensor (bytes read plus bytes written, per second), best of several.</summary>
    public static double CopyBandwidth(Device device, long elements = 64L << 20, double seconds = 1.0)
    {
        using var scope = NewDisposeScope();
        var src = randn(elements, device: device);
        var dst = empty_like(src);
        dst.copy_(src);
        Sync(device);
        var best = 0.0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            var clock = Stopwatch.StartNew();
            dst.copy_(src);
            Sync(device);
            best = Math.Max(best, 2.0 * elements * sizeof(float) / clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static void Sync(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>
    /// Times the engine at each batch size: <paramref name="workers"/> workers each step <paramref name="trials"/> stacked
    /// trials through min(ceil(1024 / B), <paramref name="maxSteps"/>) steps (the time of a step does not depend on how
    /// many follow), on random data with the blog's widths; best of <paramref name="repeats"/>.
    /// </summary>
    public static RooflineReport Run(Device device, IReadOnlyList<int> batchSizes, int trials, int maxSteps = 32, int repeats = 2,
        UpdateMode? mode = null, int? workers = null, bool compareEngines = true, Action<string>? log = null)
    {
        int[] widths = [784, 1024, 1024, 10];
        var engineMode = mode ?? new EngineSettings(16, 1L << 30, null).ModeFor(Devices.TypeName(device));
        var (defaultWorkers, threads) = new EngineSettings(16, 1L << 30, null, workers).ParallelismFor(device);
        var previousThreads = get_num_threads();
        using var regime = RandomRegime(widths, device);
        using var pool = RandomPool(widths, device);
        try
        {
            var mm = TrainingBench.MatmulGflops(device);
            var copy = CopyBandwidth(device);
            log?.Invoke($"torch.mm {mm:F1} GFLOP/s, tensor copy {copy / 1e9:F1} GB/s ({Devices.Describe(device)})");
            set_num_threads(threads);
            var flops = FlopsPerSample(widths);
            var bytes = BytesPerStep(widths);
            var rows = new List<RooflineRow>();
            TimePerSample(regime, pool, batchSizes, _ => trials, maxSteps, repeats, engineMode, defaultWorkers, timed =>
            {
                var row = new RooflineRow(timed.BatchSize, trials, defaultWorkers, timed.Steps, timed.SecondsPerSample, flops / (mm * 1e9), bytes / timed.BatchSize / copy, flops, bytes / timed.BatchSize);
                log?.Invoke($"B={row.BatchSize}: {row.SecondsPerSample * 1e6:F1} us/sample, bound {row.Bound * 1e6:F1} us ({row.BoundKind}), ratio {row.Ratio:F2}");
                rows.Add(row);
            });
            var engines = new List<EngineVariantRow>();
            if (compareEngines)
            {
                foreach (var b in batchSizes.Where(b => b is 1 or 8 or 64 or 1024))
                {
                    var steps = Math.Min((1024 + b - 1) / b, maxSteps);
                    void Time(string name, int t, int w, UpdateMode m, int threadsPerWorker)
                    {
                        set_num_threads(threadsPerWorker);
                        var s = TimeEngine(regime, pool, b, steps, t, w, m, repeats);
                        engines.Add(new EngineVariantRow(b, name, s / ((double)w * t * steps * b)));
                        log?.Invoke($"B={b} {name}: {engines[^1].SecondsPerSample * 1e6:F1} us/sample");
                    }
                    Time($"stacked x{trials}, {defaultWorkers} worker(s), fused per trial", trials, defaultWorkers, UpdateMode.FusedPerTrial, threads);
                    Time($"stacked x{trials}, {defaultWorkers} worker(s), fused stacked (baddbmm)", trials, defaultWorkers, UpdateMode.FusedStacked, threads);
                    Time($"stacked x{trials}, {defaultWorkers} worker(s), fused stacked in place (baddbmm_)", trials, defaultWorkers, UpdateMode.FusedStackedInPlace, threads);
                    Time($"stacked x{trials}, {defaultWorkers} worker(s), gradient then update", trials, defaultWorkers, UpdateMode.Separate, threads);
                    Time($"one trial at a time, 1 worker x {previousThreads} threads, fused per trial", 1, 1, UpdateMode.FusedPerTrial, previousThreads);
                }
            }
            return new RooflineReport(Devices.Describe(device), mm, copy, rows, engines, engineMode, defaultWorkers, threads);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    /// <summary>One batch size timed: the steps each trial took and the engine's seconds per sample.</summary>
    public readonly record struct EngineTiming(int BatchSize, int Trials, int Steps, double SecondsPerSample);

    /// <summary>
    /// The engine's seconds per sample at each of <paramref name="batchSizes"/>: <paramref name="workers"/> workers each step
    /// <paramref name="trialsAt"/>(B) stacked trials through min(ceil(1024 / B), <paramref name="maxSteps"/>) steps; best of
    /// <paramref name="repeats"/>. Each batch size is handed to <paramref name="each"/> as it is timed.
    /// </summary>
    private static List<EngineTiming> TimePerSample(RegimeWeights regime, TrialPool pool, IReadOnlyList<int> batchSizes, Func<int, int> trialsAt,
        int maxSteps, int repeats, UpdateMode mode, int workers, Action<EngineTiming>? each = null)
    {
        var timings = new List<EngineTiming>();
        foreach (var b in batchSizes)
        {
            var steps = Math.Min((1024 + b - 1) / b, maxSteps);
            var trials = trialsAt(b);
            var seconds = TimeEngine(regime, pool, b, steps, trials, workers, mode, repeats);
            timings.Add(new EngineTiming(b, trials, steps, seconds / ((double)workers * trials * steps * b)));
            each?.Invoke(timings[^1]);
        }
        return timings;
    }

    /// <summary>
    /// The engine's seconds per sample at each batch size of <paramref name="profile"/>'s literal trials on
    /// <paramref name="device"/>, timed as its protocol runs them: the profile's update mode and workers, each worker
    /// stacking as many trials as a chunk of the profile holds at that B (<see cref="TrialEngine.TrialsPerChunk"/>, at most
    /// the literal trials per seed), the MLP of <paramref name="widths"/>, on random data; <paramref name="maxSteps"/> steps
    /// per trial, best of two.
    /// </summary>
    public static IReadOnlyList<EngineTiming> ProfileTimePerSample(CompetitionProfile profile, IReadOnlyList<int> widths, Device device,
        int maxSteps = 8, Action<EngineTiming>? each = null)
    {
        var deviceType = Devices.TypeName(device);
        var mode = profile.Engine.ModeFor(deviceType);
        var (workers, threads) = profile.Engine.ParallelismFor(device);
        var literal = profile.Variants.Where(v => v.Variant.IsLiteral()).Select(v => v.TrialsPerSeed).DefaultIfEmpty(0).Max();
        if (literal == 0) return [];
        int TrialsAt(int b) => Math.Min(literal, TrialEngine.TrialsPerChunk(TrialEngine.BytesPerTrial(widths, profile.SamplesPerTrial, b, mode),
            profile.Engine.MemoryBudgetBytes / workers, profile.Engine.MaxTrialsFor(device)));
        var previousThreads = get_num_threads();
        using var regime = RandomRegime(widths.ToArray(), device);
        using var pool = RandomPool(widths.ToArray(), device);
        try
        {
            set_num_threads(threads);
            return TimePerSample(regime, pool, profile.BatchSizes, TrialsAt, maxSteps, repeats: 2, mode, workers, each);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    private static double TimeEngine(RegimeWeights regime, TrialPool pool, int batchSize, int steps, int trials, int workers,
        UpdateMode mode, int repeats)
    {
        var samples = steps * batchSize;
        var best = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(0, workers)
                .Select(w => TrialEngine.DrawSamples(Enumerable.Range(0, trials).Select(t => TrialEngine.TrialSeed(r, batchSize, w * trials + t)).ToList(), pool.Count, samples))
                .ToArray();
            Sync(pool.Device);
            var clock = Stopwatch.StartNew();
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                using var itemScope = NewDisposeScope();
                TrialEngine.RunLiteral(regime, pool, indices[w], batchSize, meanReduction: true, 0.01f, mode);
            });
            Sync(pool.Device);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static RegimeWeights RandomRegime(int[] widths, Device device)
    {
        using var model = new Models.Mlp(widths);
        using var g = new Generator(1);
        model.Initialize(InitScheme.XavierZero, g);
        return RegimeWeights.FromModel("bench", model, device);
    }

    private static TrialPool RandomPool(int[] widths, Device device)
    {
        using var g = new Generator(2);
        using var scope = NewDisposeScope();
        var x = randn([8192, widths[0]], generator: g).to(device);
        var y = randint(0, widths[^1], [8192], generator: g).to(device);
        return new TrialPool(x.DetachFromDisposeScope(), y.DetachFromDisposeScope(), widths[^1]);
    }

    /// <summary>
    /// The literal trials of a profile on this device, estimated from the measured time per sample at each B: trials per
    /// seed x seeds x regimes x 1024 samples x time per sample, for each literal variant (literal-sum reuses literal-mean
    /// at B = 1). Batch sizes not measured take the time per sample of the nearest measured one below (or above) them.
    /// </summary>
    public static double EstimateLiteralSeconds(CompetitionProfile profile, IReadOnlyList<RooflineRow> rows)
    {
        var measured = rows.OrderBy(r => r.BatchSize).ToList();
        return EstimateLiteralSeconds(profile, b => (measured.LastOrDefault(r => r.BatchSize <= b) ?? measured.First()).SecondsPerSample);
    }

    /// <summary>The literal trials of a profile at <paramref name="secondsPerSample"/>(B) each sample (the same sum as above).</summary>
    public static double EstimateLiteralSeconds(CompetitionProfile profile, Func<int, double> secondsPerSample)
    {
        double total = 0;
        foreach (var b in profile.BatchSizes)
        {
            var perTrial = secondsPerSample(b) * profile.SamplesPerTrial;
            foreach (var v in profile.Variants.Where(v => v.Variant.IsLiteral()))
            {
                var trials = v.TrialsPerSeed;
                if (v.Variant == ProtocolVariant.LiteralSum && b == 1) trials = Math.Max(0, trials - profile.TrialsPerSeed(ProtocolVariant.LiteralMean));
                total += perTrial * trials * profile.Seeds.Count * profile.Regimes.Count;
            }
        }
        return total;
    }
}
