using System.Diagnostics;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

/// <summary>
/// One training run in progress: the model on its device, its optimiser, the data on the device, and the history.
/// <see cref="RunEpoch"/> trains and measures one epoch. Every random choice (init, subsets, each epoch's
/// shuffle) comes from a generator seeded from the config's seed, so a run resumed from a checkpoint continues
/// exactly as an uninterrupted one.
/// </summary>
public sealed class TrainingSession : ICheckpointed, IDisposable
{
    private const int CheckpointMagic = 0x52504332; // "RPC2": with the run's hash and the payload's SHA-256

    private readonly TrainingConfig config;
    private readonly Tensor trainX, trainY, testX, testY, evalTrainX, evalTrainY;
    private readonly Tensor[] initWeights, initBiases;
    private readonly List<EpochMetrics> history = [];
    private readonly optim.ILearningRateController[] lrGroups;
    private double currentLr = double.NaN;
    private long steps;

    public TrainingSession(TrainingConfig config, TrainingData data)
    {
        this.config = config;
        Device = Devices.Resolve(config.Device);

        using (var scope = NewDisposeScope())
        {
            var (x, y) = TrainingSet(config, data);
            trainX = Prepare(x).MoveToOuterDisposeScope();
            trainY = y.to(Device).MoveToOuterDisposeScope();
            testX = Prepare(data.TestImages).MoveToOuterDisposeScope();
            testY = data.TestLabels.to(Device).MoveToOuterDisposeScope();
            if (DrawRows(trainX.shape[0], config.Evaluation.TrainSubset, config.Seed, Seeds.EvalSubset) is { } drawn)
            {
                var idx = drawn.to(Device);
                evalTrainX = trainX.index_select(0, idx).MoveToOuterDisposeScope();
                evalTrainY = trainY.index_select(0, idx).MoveToOuterDisposeScope();
            }
            else
            {
                evalTrainX = trainX.alias().MoveToOuterDisposeScope();
                evalTrainY = trainY.alias().MoveToOuterDisposeScope();
            }
        }

        Model = Mlp.Initialized(config);
        Model.to(Device);
        using (no_grad())
        {
            initWeights = Model.Weights.Select(w => w.detach().clone()).ToArray();
            initBiases = Model.Biases.Select(b => b.detach().clone()).ToArray();
            using var norms = NewDisposeScope(); // the norms' temporaries; the copies above are the session's
            InitialWeightNorm = Math.Sqrt(initWeights.Sum(w => w.to(ScalarType.Float64).square().sum().item<double>()));
            InitialBiasNorm = Math.Sqrt(initBiases.Sum(b => b.to(ScalarType.Float64).square().sum().item<double>()));
        }

        var first = config.Phases[0];
        var o = config.Optimizer;
        Optimizer = o.Kind switch
        {
            OptimizerKind.Sgd => optim.SGD(Model.parameters(), first.LearningRate, momentum: o.Momentum),
            OptimizerKind.Adam => optim.Adam(Model.parameters(), first.LearningRate, o.Beta1, o.Beta2, o.Epsilon),
            _ => throw new ConfigException($"optimizer:kind = {o.Kind}: expected sgd or adam."),
        };
        lrGroups = Optimizer.ParamGroups.ToArray();
    }

    public Device Device { get; }
    /// <summary>L2 norm of all weight matrices at init (about 43.95 for the blog's MLP with xavier-zero).</summary>
    public double InitialWeightNorm { get; }
    public double InitialBiasNorm { get; }
    public Mlp Model { get; }
    public OptimizerHelper Optimizer { get; }
    public TrainingConfig Config => config;
    public IReadOnlyList<EpochMetrics> History => history;
    public int CompletedEpochs => history.Count;
    public bool Finished => CompletedEpochs >= config.TotalEpochs || ReachedTarget;

    /// <summary>Whether the last epoch's training accuracy reached the config's <see cref="TrainingConfig.StopAtTrainAccuracy"/>.</summary>
    public bool ReachedTarget => config.StopAtTrainAccuracy is { } target && history.Count > 0 && history[^1].TrainAccuracy >= target;
    public long TrainSamples => trainX.shape[0];

    private Tensor Prepare(Tensor images) => Preprocess(images, config, Device);

    /// <summary>
    /// Moves images (pixels in [0, 1]) to <paramref name="device"/> and applies the config's preprocessing: under
    /// <c>standardize</c>, the config's dataset's own pixel mean and std (<see cref="Data.DatasetSpec.PixelMean"/>).
    /// </summary>
    public static Tensor Preprocess(Tensor images, TrainingConfig config, Device device)
    {
        var x = images.to(device);
        if (config.Preprocessing != Preprocessing.Standardize) return x;
        var spec = Data.DatasetSpecs.Get(config.Dataset);
        return x.sub(spec.PixelMean).div_(spec.PixelStd);
    }

    /// <summary>
    /// The training samples a run with <paramref name="config"/> trains on (CPU, unprocessed): the whole training split,
    /// or the config's fixed, seeded subset of <see cref="TrainingConfig.TrainSamples"/> samples.
    /// </summary>
    public static (Tensor Images, Tensor Labels) TrainingSet(TrainingConfig config, TrainingData data) =>
        DrawRows(data.TrainImages.shape[0], config.TrainSamples, config.Seed, Seeds.TrainSubset) is { } idx
            ? (data.TrainImages.index_select(0, idx), data.TrainLabels.index_select(0, idx))
            : (data.TrainImages, data.TrainLabels);

    /// <summary>
    /// A run's fixed, seeded choice of <paramref name="count"/> of <paramref name="from"/> rows (CPU indices) from its seed's
    /// <paramref name="stream"/>, or null when it takes them all (no count, or a count of at least <paramref name="from"/>).
    /// </summary>
    internal static Tensor? DrawRows(long from, int? count, long seed, long stream)
    {
        if (count is not { } n || n >= from) return null;
        using var g = new Generator((ulong)Seeds.Derive(seed, stream));
        return randperm(from, generator: g).narrow(0, 0, n);
    }

    /// <summary>Trains the next epoch, then measures it. No host synchronisation inside the step loop.</summary>
    public EpochMetrics RunEpoch()
    {
        if (Finished) throw new InvalidOperationException("The run has already finished all its epochs.");
        var epoch = CompletedEpochs;
        var (phaseIndex, epochInPhase) = config.Locate(epoch);
        var phase = config.Phases[phaseIndex];
        var n = trainX.shape[0];
        var stepsPerEpoch = (n + phase.BatchSize - 1) / phase.BatchSize;

        // Plain SGD on batches of at most 16 rows on an AVX-512 CPU: the hand-formed step (same update, 5-10x faster).
        var smallBatchStep = SmallBatchSgd.Takes(config, Device.type, phase);
        var weights = Model.Weights.ToArray();
        var biases = Model.Biases.ToArray();

        var clock = Stopwatch.StartNew();
        Model.train();
        using (var epochScope = NewDisposeScope())
        {
            var (xs, ys) = Shuffled(epoch);
            for (long start = 0, step = 0; start < n; start += phase.BatchSize, step++)
            {
                using var batchScope = NewDisposeScope();
                var size = Math.Min(phase.BatchSize, n - start);
                SetLearningRate(phase.RateAt(epochInPhase * stepsPerEpoch + step, stepsPerEpoch));
                if (smallBatchStep)
                {
                    SmallBatchSgd.Step(weights, biases, xs.narrow(0, start, size), ys.narrow(0, start, size),
                        config.LossReduction == LossReduction.Sum ? 1f : 1f / size, (float)currentLr);
                }
                else
                {
                    Gradient(xs.narrow(0, start, size), ys.narrow(0, start, size), phase.MicroBatchSize);
                    Optimizer.step();
                }
                steps++;
            }
        }
        if (Device.type == DeviceType.CUDA) cuda.synchronize();
        var trainSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var evaluate = (epoch + 1) % config.Evaluation.Interval == 0 || epoch + 1 == config.TotalEpochs;
        var (trainLoss, trainAcc) = evaluate ? Evaluate(evalTrainX, evalTrainY) : (double.NaN, double.NaN);
        var (testLoss, testAcc) = evaluate ? Evaluate(testX, testY) : (double.NaN, double.NaN);
        var geometry = Geometry();
        var metrics = new EpochMetrics
        {
            Epoch = epoch + 1,
            Phase = phaseIndex,
            BatchSize = phase.BatchSize,
            LearningRate = phase.LearningRate,
            Steps = steps,
            TrainLoss = trainLoss,
            TrainAccuracy = trainAcc,
            TestLoss = testLoss,
            TestAccuracy = testAcc,
            WeightDistance = geometry.WeightDistance,
            BiasDistance = geometry.BiasDistance,
            WeightNorm = geometry.WeightNorm,
            BiasNorm = geometry.BiasNorm,
            LayerCosines = geometry.Cosines,
            TrainSeconds = trainSeconds,
            EvalSeconds = clock.Elapsed.TotalSeconds,
        };
        history.Add(metrics);
        return metrics;
    }

    /// <summary>Sets every parameter group's learning rate (for the next optimiser step).</summary>
    public void SetLearningRate(double lr)
    {
        if (lr == currentLr) return;
        foreach (var group in lrGroups) group.LearningRate = lr;
        currentLr = lr;
    }

    /// <summary>The training set in epoch <paramref name="epoch"/>'s (0-based) seeded order: the order its batches are cut from.</summary>
    public (Tensor X, Tensor Y) Shuffled(int epoch)
    {
        using var g = new Generator((ulong)Seeds.Derive(config.Seed, Seeds.Shuffle, epoch));
        var perm = randperm(trainX.shape[0], generator: g).to(Device);
        return (trainX.index_select(0, perm), trainY.index_select(0, perm));
    }

    /// <summary>
    /// Sets every parameter's gradient to the loss gradient of the batch (<paramref name="x"/>, <paramref name="y"/>), formed
    /// from micro-batches of at most <paramref name="microBatchSize"/> rows, one backward pass each: with mean reduction each
    /// micro-batch's mean loss is weighted by its share of the batch's rows, so that the accumulated gradient is the
    /// batch's mean-loss gradient (with sum reduction the micro-batches' sums add up).
    /// </summary>
    public void Gradient(Tensor x, Tensor y, int microBatchSize)
    {
        Optimizer.zero_grad();
        var rows = x.shape[0];
        var micro = Math.Max(1, microBatchSize);
        var mean = config.LossReduction == LossReduction.Mean;
        for (long start = 0; start < rows; start += micro)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(micro, rows - start);
            var logProbs = Model.forward(x.narrow(0, start, size));
            var loss = nn.functional.nll_loss(logProbs, y.narrow(0, start, size), reduction: mean ? nn.Reduction.Mean : nn.Reduction.Sum);
            if (mean && size != rows) loss = loss.mul((double)size / rows);
            loss.backward();
        }
    }

    /// <summary>Mean NLL and accuracy over (x, y), by forward passes of ChunkSize rows; one host read at the end.</summary>
    public (double Loss, double Accuracy) Evaluate(Tensor x, Tensor y)
    {
        Model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var lossSum = zeros(1, ScalarType.Float64, Device);
        var correct = zeros(1, ScalarType.Int64, Device);
        var n = x.shape[0];
        for (long start = 0; start < n; start += config.Evaluation.ChunkSize)
        {
            using var chunkScope = NewDisposeScope();
            var size = Math.Min(config.Evaluation.ChunkSize, n - start);
            var logProbs = Model.forward(x.narrow(0, start, size));
            var labels = y.narrow(0, start, size);
            lossSum.add_(nn.functional.nll_loss(logProbs, labels, reduction: nn.Reduction.Sum).to(ScalarType.Float64));
            correct.add_(logProbs.argmax(1).eq(labels).sum());
        }
        return (lossSum.item<double>() / n, (double)correct.item<long>() / n);
    }

    private sealed record GeometryValues(double WeightDistance, double BiasDistance, double WeightNorm, double BiasNorm, double[] Cosines);

    private GeometryValues Geometry()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var weights = Model.Weights.ToArray();
        var biases = Model.Biases.ToArray();
        // Per layer: |W - W0|^2, |W|^2, <W, W0>, |W0|^2, then the same sums for biases; one read to the host.
        var parts = new List<Tensor>();
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i].to(ScalarType.Float64);
            var w0 = initWeights[i].to(ScalarType.Float64);
            parts.Add(w.sub(w0).square().sum());
            parts.Add(w.square().sum());
            parts.Add(w.mul(w0).sum());
            parts.Add(w0.square().sum());
        }
        for (var i = 0; i < biases.Length; i++)
        {
            var b = biases[i].to(ScalarType.Float64);
            parts.Add(b.sub(initBiases[i].to(ScalarType.Float64)).square().sum());
            parts.Add(b.square().sum());
        }
        var v = stack(parts).cpu().data<double>().ToArray();
        double wd = 0, wn = 0, bd = 0, bn = 0;
        var cos = new double[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            wd += v[4 * i];
            wn += v[4 * i + 1];
            cos[i] = v[4 * i + 2] / Math.Sqrt(v[4 * i + 1] * v[4 * i + 3]);
        }
        var o = 4 * weights.Length;
        for (var i = 0; i < biases.Length; i++)
        {
            bd += v[o + 2 * i];
            bn += v[o + 2 * i + 1];
        }
        return new GeometryValues(Math.Sqrt(wd), Math.Sqrt(bd), Math.Sqrt(wn), Math.Sqrt(bn), cos);
    }

    /// <summary>Writes the model, optimiser state and history so far as one checkpoint file (<see cref="CheckpointFile"/>), atomically.</summary>
    public void SaveCheckpoint(string path, string runHash)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var historyJson = JsonSerializer.SerializeToUtf8Bytes(history, JsonDefaults.Options);
            writer.Write(historyJson.Length);
            writer.Write(historyJson);
            Model.save(writer);
            Optimizer.save_state_dict(writer);
        }
        CheckpointFile.Write(path, CheckpointMagic, runHash, CompletedEpochs, steps, payload.ToArray());
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="SaveCheckpoint"/> for run <paramref name="runHash"/>. The whole file is
    /// checked first (<see cref="CheckpointFile.Read"/>); a file that fails is a <see cref="CorruptStateException"/> naming
    /// it and why, and leaves this session untouched.
    /// </summary>
    public void LoadCheckpoint(string path, string runHash)
    {
        var (completed, savedSteps, payload) = CheckpointFile.Read(path, CheckpointMagic, runHash, config.TotalEpochs);
        using var payloadStream = new MemoryStream(payload);
        using var payloadReader = new BinaryReader(payloadStream);
        var saved = ReadHistory<List<EpochMetrics>>(payloadReader, path, runHash);
        if (saved.Count != completed) throw CheckpointFile.Bad(path, runHash, $"its history has {saved.Count} epochs, its header {completed}");
        Model.load(payloadReader);
        Optimizer.load_state_dict(payloadReader);
        history.Clear();
        history.AddRange(saved);
        steps = savedSteps;
    }

    /// <summary>The JSON block (length, then UTF-8) at the start of a checkpoint's payload.</summary>
    internal static T ReadHistory<T>(BinaryReader reader, string path, string runHash) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(reader.ReadBytes(reader.ReadInt32()), JsonDefaults.Options)
                   ?? throw CheckpointFile.Bad(path, runHash, "it holds no history");
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException)
        {
            throw CheckpointFile.Bad(path, runHash, $"its history is unreadable ({e.Message})");
        }
    }

    /// <summary>Saves the model's weights alone (TorchSharp's format), atomically.</summary>
    public void SaveWeights(string path) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            Model.save(writer);
        });

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
        foreach (var t in initWeights.Concat(initBiases)) t.Dispose();
        foreach (var t in new[] { trainX, trainY, testX, testY, evalTrainX, evalTrainY }) t.Dispose();
    }
}
