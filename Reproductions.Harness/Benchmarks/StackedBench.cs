using System.Diagnostics;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Benchmarks;

/// <summary>
/// One batch size: <see cref="Models"/> runs trained one at a time (the harness's lone trainer) against the same runs trained
/// as one stack (<see cref="StackedSession"/>), per model-epoch, with the operations each step issues and the floor those
/// operations set at the per-operation latency measured in the same process.
/// </summary>
/// <param name="LoneOpsPerStep">Tensors a lone run's step creates in TorchSharp (each output of a libtorch call made from C#,
/// views included). Autograd's backward runs inside libtorch and creates none that are counted here, so for an autograd step
/// this leaves out its backward's kernels; <paramref name="LoneCalls"/> is the real count on CUDA.</param>
/// <param name="LoneCalls">The CUDA driver calls the same lone step makes, counted by CUPTI (<see cref="CudaApiCounter"/>): its real
/// kernel launches, copies and host synchronisations; null where they are not counted (the CPU, or no libcupti).</param>
/// <param name="StackedCalls">The same for one step of the stack.</param>
/// <param name="StackedEpochCalls">The driver calls of a whole stacked epoch (seed 1 in a stack of its own, untimed), evaluation
/// included: whether the host waits for the device inside an epoch (synchronisations that grow with the steps) or only at its end.</param>
/// <param name="OpLatencySeconds">The time of one small libtorch call on the device (an in-place add on one element, timed over
/// thousands, synchronised at the end): what each operation costs at least, whatever its size.</param>
/// <param name="SizeFreeDifference">The largest difference between seed 1's weights after its epoch in the stack and in a stack
/// of its own: 0 where a stacked model's numbers do not depend on the rest of its stack (what lets its key leave out the
/// stack's size, <see cref="Protocols.StackWork.SizeFree"/>).</param>
/// <param name="HandFormed">Whether the stack took the hand-formed SGD step (<see cref="FusedSgd"/>) on this device, as runs do.</param>
/// <param name="OtherStepSecondsPerEpoch">The same stacked epoch with the other step kind (autograd's where the hand-formed
/// one is taken, and the reverse), where the config is plain SGD: whether the choice <see cref="FusedSgd.Takes"/> makes pays
/// here (on CUDA, whether the hand-formed step beats autograd's).</param>
public sealed record StackedBenchRow(int BatchSize, int Models, double LoneSecondsPerEpoch, double StackedSecondsPerEpoch,
    double LoneOpsPerStep, double StackedOpsPerStep, double OpLatencySeconds, double MmGflops, double ForwardFlopsPerSample, long Samples,
    double SizeFreeDifference, bool HandFormed, double? OtherStepSecondsPerEpoch,
    CudaApiCounts? LoneCalls = null, CudaApiCounts? StackedCalls = null, CudaApiCounts? StackedEpochCalls = null)
{
    /// <summary>How many times faster the step the stack takes here is than the other kind (hand-formed against autograd's), when both apply.</summary>
    public double? StepChoiceGain => OtherStepSecondsPerEpoch / StackedSecondsPerEpoch;
    public long StepsPerEpoch => (Samples + BatchSize - 1) / BatchSize;
    public double SecondsPerModelEpoch => StackedSecondsPerEpoch / Models;
    /// <summary>How many times faster a model trains in the stack than alone.</summary>
    public double Speedup => LoneSecondsPerEpoch / SecondsPerModelEpoch;
    public double LoneSecondsPerStep => LoneSecondsPerEpoch / StepsPerEpoch;
    public double StackedSecondsPerModelStep => SecondsPerModelEpoch / StepsPerEpoch;
    /// <summary>The launch-bound floor of a lone step: its kernel launches where CUPTI counted them (else the tensors it creates, a
    /// bound on them) at the measured per-operation latency.</summary>
    public double LoneFloorPerStep => (LoneCalls?.Launches ?? LoneOpsPerStep) * OpLatencySeconds;
    public double StackedFloorPerModelStep => (StackedCalls?.Launches ?? StackedOpsPerStep) * OpLatencySeconds / Models;
    /// <summary>The stack's training GFLOP/s (all models) over torch.mm's.</summary>
    public double StackedMmRatio => 3 * ForwardFlopsPerSample * Samples * Models / StackedSecondsPerEpoch / 1e9 / MmGflops;
    public double LoneMmRatio => 3 * ForwardFlopsPerSample * Samples / LoneSecondsPerEpoch / 1e9 / MmGflops;
}

/// <summary>What one training step issues: the tensors it creates (each libtorch call's outputs, views included) and, where CUPTI
/// counts them, its CUDA driver calls (<see cref="CudaApiCounter"/>).</summary>
public sealed record StepIssue(double Tensors, CudaApiCounts? Calls);

/// <summary>Times stacked training against one run at a time on this machine's device.</summary>
public static class StackedBench
{
    /// <summary>Tensors created so far on this thread (in and outside dispose scopes).</summary>
    private static long Created() => DisposeScopeManager.Statistics.CreatedInScopeCount + DisposeScopeManager.Statistics.CreatedOutsideScopeCount;

    /// <summary>The configs of <paramref name="models"/> runs (seeds 1..models) of <paramref name="baseConfig"/> at one batch size for one epoch, stacked.</summary>
    public static List<TrainingConfig> Configs(TrainingConfig baseConfig, int batchSize, int models) =>
        Enumerable.Range(1, models).Select(seed =>
        {
            var config = TrainingBench.Clone(baseConfig, batchSize);
            config.Seed = seed;
            config.Stack = true;
            return config;
        }).ToList();

    /// <summary>What one lone step issues (the harness's autograd step: gradient, then the optimiser's step): the tensors it
    /// creates and, where CUPTI counts them, its CUDA driver calls.</summary>
    public static StepIssue LoneOpsPerStep(TrainingConfig config, TrainingData data)
    {
        var lone = Configs(config, config.Phases[0].BatchSize, 1)[0];
        lone.Stack = false;
        using var session = new TrainingSession(lone, data);
        using var scope = NewDisposeScope();
        var (xs, ys) = session.Shuffled(0);
        var batch = lone.Phases[0].BatchSize;
        return Issued(session.Device, () =>
        {
            session.Gradient(xs.narrow(0, 0, batch), ys.narrow(0, 0, batch), batch);
            session.Optimizer.step();
        });
    }

    /// <summary>What one step of a stack of <paramref name="models"/> issues.</summary>
    public static StepIssue StackedOpsPerStep(TrainingConfig config, TrainingData data, int models)
    {
        var batch = config.Phases[0].BatchSize;
        using var session = new StackedSession(Configs(config, batch, models), data);
        using var scope = NewDisposeScope();
        var (rows, lr) = FirstRows(session, batch);
        return Issued(session.Device, () => session.Step(rows, lr, session.Configs[0].Phases[0]));
    }

    /// <summary>The second of two <paramref name="step"/>s (the first creates the gradients and the optimiser's state), each in its
    /// own dispose scope: the tensors it creates, and its driver calls where a CUPTI counter starts on <paramref name="device"/>.</summary>
    private static StepIssue Issued(Device device, Action step)
    {
        void Scoped()
        {
            using var stepScope = NewDisposeScope();
            step();
        }
        Scoped();
        var before = Created();
        var calls = CudaApiCounter.CountOn(device, Scoped);
        return new StepIssue(Created() - before, calls);
    }

    /// <summary>A step's arguments for <paramref name="session"/>: every model's first <paramref name="batch"/> rows, and its first phase's rate.</summary>
    private static (Tensor Rows, Tensor Lr) FirstRows(StackedSession session, int batch)
    {
        var models = session.Models;
        return (arange(batch, dtype: ScalarType.Int64, device: session.Device).unsqueeze(0).expand(models, batch).contiguous(),
            full([models, 1, 1], (float)session.Configs[0].Phases[0].LearningRate, device: session.Device));
    }

    /// <summary>One untimed step of <paramref name="session"/> on its first <paramref name="batch"/> rows (per model).</summary>
    private static void WarmUp(StackedSession session, int batch)
    {
        using var scope = NewDisposeScope();
        var (rows, lr) = FirstRows(session, batch);
        session.Step(rows, lr, session.Configs[0].Phases[0]);
        TrainingBench.Sync(session.Device);
    }

    /// <summary>Seconds per small libtorch call on <paramref name="device"/>: an in-place add on one element, many times, synchronised at the end.</summary>
    public static double OpLatency(Device device, int calls = 20_000)
    {
        using var scope = NewDisposeScope();
        var t = zeros(1, device: device);
        var one = 1.0.ToScalar();
        for (var i = 0; i < 1000; i++) t.add_(one);
        TrainingBench.Sync(device);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) t.add_(one);
        TrainingBench.Sync(device);
        return clock.Elapsed.TotalSeconds / calls;
    }

    /// <summary>Model <paramref name="m"/>'s parameters, on the host.</summary>
    private static float[][] Parameters(StackedSession session, int m)
    {
        using var mlp = session.Extract(m);
        return mlp.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray();
    }

    /// <summary>For each batch size: one lone epoch (seed 1) and one stacked epoch of <paramref name="models"/> seeds, after an untimed warm-up of each.</summary>
    public static IReadOnlyList<StackedBenchRow> Run(TrainingData data, TrainingConfig baseConfig, IReadOnlyList<int> batchSizes, int models, Action<string>? log = null)
    {
        var device = Devices.Resolve(baseConfig.Device);
        var forward = TrainingBench.ForwardFlopsPerSample(baseConfig.Model.Widths);
        using (CudaApiCounter.TryStart(device, out var counting)) log?.Invoke(counting);
        var rows = new List<StackedBenchRow>();
        foreach (var bs in batchSizes)
        {
            var configs = Configs(baseConfig, bs, models);
            var lone = Configs(baseConfig, bs, 1)[0];
            lone.Stack = false;
            // The operation counts come first: their steps warm up both trainers' kernels before the timed epochs.
            var config = Configs(baseConfig, bs, 1)[0];
            var loneOps = LoneOpsPerStep(config, data);
            var stackedOps = StackedOpsPerStep(config, data, models);
            double loneSeconds, stackedSeconds;
            float[][] inStack, alone;
            using (var session = new TrainingSession(lone, data)) loneSeconds = session.RunEpoch().TrainSeconds;
            bool handFormed;
            using (var stack = new StackedSession(configs, data))
            {
                handFormed = stack.HandFormed(configs[0].Phases[0]);
                stackedSeconds = stack.RunEpoch().Where(m => m is not null).Sum(m => m!.TrainSeconds);
                inStack = Parameters(stack, 0);
            }
            // The other step kind on the same stack (timed), where the config allows both.
            double? other = null;
            if (FusedSgd.Fits(configs[0], configs[0].Phases[0]))
            {
                using var otherKind = new StackedSession(configs, data) { BenchStep = !handFormed };
                WarmUp(otherKind, bs); // its kernels (and the hand-formed step's TorchScript) are first used here
                other = otherKind.RunEpoch().Where(m => m is not null).Sum(m => m!.TrainSeconds);
            }
            // Seed 1 again in a stack of its own (untimed): whether its numbers depend on the rest of its stack on this device, and
            // (where CUPTI counts) the driver calls of a whole epoch.
            CudaApiCounts? epochCalls;
            using (var own = new StackedSession([configs[0]], data))
            {
                epochCalls = CudaApiCounter.CountOn(device, () => own.RunEpoch());
                alone = Parameters(own, 0);
            }
            var difference = inStack.Zip(alone).Max(p => p.First.Zip(p.Second).Max(x => (double)Math.Abs(x.First - x.Second)));
            var row = new StackedBenchRow(bs, models, loneSeconds, stackedSeconds, loneOps.Tensors, stackedOps.Tensors,
                OpLatency(device), TrainingBench.MatmulGflops(device), forward, baseConfig.TrainSamples ?? data.TrainImages.shape[0], difference, handFormed, other,
                loneOps.Calls, stackedOps.Calls, epochCalls);
            log?.Invoke(FormattableString.Invariant($"bs {bs}: {models} runs one at a time {loneSeconds * models:F2} s, stacked {stackedSeconds:F2} s ({row.Speedup:F2}x, {(handFormed ? "hand-formed" : "autograd's")} step)") +
                (other is { } o ? FormattableString.Invariant($"; with {(handFormed ? "autograd's" : "the hand-formed")} step {o:F2} s") : "") +
                FormattableString.Invariant($"; seed 1 in the stack against a stack of its own: max |dw| = {difference:G3}"));
            if (loneOps.Calls is { } lc && stackedOps.Calls is { } sc && epochCalls is { } ec)
                log?.Invoke(FormattableString.Invariant($"bs {bs}, driver calls: a lone step {lc.Describe()}; a stacked step {sc.Describe()}; ") +
                            FormattableString.Invariant($"a stacked epoch ({row.StepsPerEpoch} steps, evaluation included) {ec.Launches} launches, {ec.Copies} copies, {ec.Syncs} host synchronisations ({ec.Describe(12)})"));
            rows.Add(row);
        }
        return rows;
    }
}
