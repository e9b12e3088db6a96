using System.Globalization;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Models;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Protocols;

/// <summary>The sharpness measured at one point of a run: its epoch (the last, for the final point), the loss there, and each measure (space, eps).</summary>
public sealed record SharpnessPoint(int Epoch, double Loss, IReadOnlyList<SharpnessMeasure> Measures);

/// <summary>A sharpness unit's result: the points measured (the final one, or every kept checkpoint) over an evaluation set of <paramref name="EvaluationSamples"/>.</summary>
public sealed record SharpnessResult(string Mode, int EvaluationSamples, IReadOnlyList<SharpnessPoint> Points, double Seconds);

/// <summary>The loss and accuracy, train (the evaluation set) and test, at x(a) = a x_large + (1 - a) x_small for each a.</summary>
public sealed record ParametricLine(
    IReadOnlyList<double> Alphas, IReadOnlyList<double> TrainLoss, IReadOnlyList<double> TrainAccuracy,
    IReadOnlyList<double> TestLoss, IReadOnlyList<double> TestAccuracy, int EvaluationSamples, double Seconds);

/// <summary>A unit's data: the dataset, the device it runs on and the evaluation set on it (owned).</summary>
public sealed class EvaluationData(TrainingData data, Device device, Tensor images, Tensor labels) : IDisposable
{
    public TrainingData Data { get; } = data;
    public Device Device { get; } = device;
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;

    /// <summary>The dataset of <paramref name="config"/>, its device, and the evaluation set of <paramref name="samples"/> (<see cref="SharpnessData.EvaluationSet"/>).</summary>
    public static EvaluationData Open(WorkContext context, TrainingConfig config, int? samples)
    {
        var data = (context.Options.Data ?? Harness.Data.DataSets.Get)(config.Dataset);
        var device = Devices.Resolve(config.Device);
        var (images, labels) = SharpnessData.EvaluationSet(config, data, samples, device);
        return new EvaluationData(data, device, images, labels);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>The evaluation set of the sharpness protocol, shared by its units.</summary>
public static class SharpnessData
{
    /// <summary>The size of the evaluation set of <paramref name="config"/>'s run with <paramref name="samples"/> asked for (<see cref="EvaluationSet"/>).</summary>
    public static int Samples(TrainingConfig config, int? samples)
    {
        var training = Data.DatasetSpecs.TrainingSamples(config);
        return samples is { } n ? Math.Min(n, training) : training;
    }

    /// <summary>
    /// The training (sub)set <paramref name="config"/> trains on, preprocessed on <paramref name="device"/>; with
    /// <paramref name="samples"/>, a fixed subset of that many drawn with the run's seed (the same for every run of a seed).
    /// </summary>
    public static (Tensor Images, Tensor Labels) EvaluationSet(TrainingConfig config, TrainingData data, int? samples, Device device)
    {
        using var scope = NewDisposeScope();
        var (x, y) = TrainingSession.TrainingSet(config, data);
        if (samples is { } n && n < x.shape[0])
        {
            using var g = new Generator((ulong)Seeds.Derive(config.Seed, Seeds.SharpnessSubset));
            var idx = randperm(x.shape[0], generator: g).narrow(0, 0, n);
            (x, y) = (x.index_select(0, idx), y.index_select(0, idx));
        }
        return (TrainingSession.Preprocess(x, config, device).MoveToOuterDisposeScope(), y.to(device).MoveToOuterDisposeScope());
    }

    /// <summary>The run's stored weights at <paramref name="epoch"/> (its final weights for the last epoch when it keeps none along the way).</summary>
    public static string WeightsPath(WorkContext context, TrainingWork run, RunRecord record, int epoch) =>
        record.CheckedWeights(context.FolderOf(run), record.WeightEpochs?.Contains(epoch) == true ? RunRecord.WeightsFileAt(epoch) : TrainingWork.WeightsFile);

    /// <summary>Writes a finished piece of a unit to its scratch folder (kept across a kill) and reads it back on resume.</summary>
    public static T Resumable<T>(WorkContext context, string name, Func<T> compute) where T : class
    {
        var path = Path.Combine(context.Scratch, name);
        if (File.Exists(path))
        {
            var done = SetAside.ReadOrMove(path, () =>
            {
                try
                {
                    return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), JsonDefaults.Options) ?? throw new CorruptStateException($"'{path}' is empty");
                }
                catch (JsonException e)
                {
                    throw new CorruptStateException($"'{path}' is not a readable {typeof(T).Name}: {e.Message}", e);
                }
            }, context.Log, "measuring it again.", context.SetAside);
            if (done is not null) return done;
        }
        var result = compute();
        Directory.CreateDirectory(context.Scratch);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result, JsonDefaults.Options));
        return result;
    }
}

/// <summary>
/// Keskar et al.'s sharpness of one run and seed: at its final point, every eps in the full space and in the random
/// subspace (and, to compare the maximisers, projected ascent in the subspace at the first eps); or at every kept
/// checkpoint, one space and eps. Reads the run's stored weights; its hash covers the run's and every setting.
/// </summary>
public sealed class SharpnessWork(TrainingWork run, SharpnessSettings settings, string mode, string deviceType, string label) : Work<SharpnessResult>
{
    public const int FormatVersion = 1;
    public const string Kind = "sharpness";
    public const string FinalPoint = "final", AlongTraining = "along-training";

    /// <summary>The training run whose weights are measured.</summary>
    public TrainingWork Measured { get; } = run;
    public string Mode { get; } = mode;
    public override string DeviceType { get; } = deviceType;
    public override string Label { get; } = label;
    public override IReadOnlyList<Work> Reads => [Measured];

    public override StoreKey Key { get; } = new(run.Config.Dataset, Kind, ContentHash(new
    {
        formatVersion = FormatVersion, device = deviceType, run = run.Key.Hash, mode,
        epsilons = mode == FinalPoint ? settings.Epsilons : [settings.AlongTraining!.Epsilon],
        space = mode == FinalPoint ? "full+subspace" : settings.AlongTraining!.Space,
        settings.SubspaceDimensions, settings.Evaluations, settings.BfgsIterations, settings.EvaluationSamples,
    }));

    /// <summary>
    /// Estimated sample passes: each point's measures (per eps a full-space and a subspace one, and the projected-ascent
    /// comparison; along training one), each of at most <see cref="SharpnessSettings.Evaluations"/> loss-and-gradient
    /// evaluations over the evaluation set, one such evaluation about two thirds of a training pass.
    /// </summary>
    public override double Cost
    {
        get
        {
            var config = Measured.Config;
            var points = Mode == FinalPoint ? 1 : config.KeepWeights is { } keep ? TrainingConfig.KeptEpochs(config.TotalEpochs, keep).Count : 1;
            var measures = Mode == FinalPoint ? 2 * settings.Epsilons.Count + 1 : 1;
            return points * measures * settings.Evaluations * SharpnessData.Samples(config, settings.EvaluationSamples) * 2.0 / 3;
        }
    }

    public override SharpnessResult Run(WorkContext context)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var record = TrainingWork.RequireFinished(context.Read(Measured), Label, Measured.Label);
        var config = Measured.Config;
        using var set = EvaluationData.Open(context, config, settings.EvaluationSamples);
        var (device, images, labels) = (set.Device, set.Images, set.Labels);
        var epochs = Mode == FinalPoint ? [record.Epochs.Count] : record.WeightEpochs ?? throw new InvalidOperationException($"{Measured.Label} kept no weights along training.");
        var subspaceSeed = Seeds.Derive(config.Seed, Seeds.SharpnessSubspace);
        var points = new List<SharpnessPoint>();
        foreach (var (epoch, i) in epochs.Select((e, i) => (e, i)))
        {
            context.Options.Cancel.ThrowIfCancellationRequested();
            context.Options.Progress?.Report(new TrainingProgress(Key.Hash, Label, i, epochs.Count, null, clock.Elapsed, $"measuring epoch {epoch}", "point"));
            points.Add(SharpnessData.Resumable(context, string.Create(CultureInfo.InvariantCulture, $"point-{epoch:D5}.json"), () =>
            {
                using var weights = RegimeWeights.Load(Measured.Label, SharpnessData.WeightsPath(context, Measured, record, epoch), config.Model.Widths, device);
                using var surface = new LossSurface(weights, images, labels, config.Evaluation.ChunkSize);
                var measures = new List<SharpnessMeasure>();
                if (Mode == FinalPoint)
                {
                    foreach (var eps in settings.Epsilons)
                    {
                        measures.Add(Sharpness.FullSpace(surface, eps, settings.Evaluations));
                        measures.Add(Sharpness.Subspace(surface, eps, settings.SubspaceDimensions, subspaceSeed, settings.Evaluations, settings.BfgsIterations));
                    }
                    var compare = Sharpness.Subspace(surface, settings.Epsilons[0], settings.SubspaceDimensions, subspaceSeed, settings.Evaluations, settings.BfgsIterations, projectedAscent: true);
                    measures.Add(compare with { Space = compare.Space + " (projected ascent)" });
                }
                else
                {
                    var along = settings.AlongTraining!;
                    measures.Add(along.Space == "full"
                        ? Sharpness.FullSpace(surface, along.Epsilon, settings.Evaluations)
                        : Sharpness.Subspace(surface, along.Epsilon, settings.SubspaceDimensions, subspaceSeed, settings.Evaluations, settings.BfgsIterations));
                }
                foreach (var m in measures)
                    context.Log(string.Create(CultureInfo.InvariantCulture,
                        $"{Label} epoch {epoch}: {m.Space}, eps {m.Epsilon:G3}: phi {m.Phi:G4} (loss {m.Loss:G4} -> {m.MaxLoss:G4}, gradient norm {m.GradientNorm:G3}, {m.Evaluations} evaluations, {m.Stop}, {m.Seconds:F1} s)"));
                return new SharpnessPoint(epoch, measures[0].Loss, measures);
            }));
        }
        return new SharpnessResult(Mode, (int)images.shape[0], points, clock.Elapsed.TotalSeconds);
    }

    public override string? Problem(object result) =>
        result is SharpnessResult r
            ? r.Mode != Mode ? $"it holds a {r.Mode} measurement, not {Mode}" : r.Points.Count == 0 ? "it holds no points" : null
            : $"it holds a {result.GetType().Name}, not a sharpness result";
}

/// <summary>The paper's 1-D parametric plot for one seed: the line through the small- and the large-batch run's final points, both trained from the seed's initial point.</summary>
public sealed class ParametricWork(TrainingWork small, TrainingWork large, SharpnessSettings settings, string deviceType, string label) : Work<ParametricLine>
{
    public const int FormatVersion = 1;
    public const string Kind = "sharpness-parametric";

    public override string DeviceType { get; } = deviceType;
    public override string Label { get; } = label;
    public override IReadOnlyList<Work> Reads => [small, large];

    public override StoreKey Key { get; } = new(small.Config.Dataset, Kind, ContentHash(new
    {
        formatVersion = FormatVersion, device = deviceType, small = small.Key.Hash, large = large.Key.Hash,
        alphas = settings.Parametric!.Alphas, settings.EvaluationSamples,
    }));

    /// <summary>Estimated sample passes: a forward pass (a third of a training pass) over the evaluation and test sets at each point of the line.</summary>
    public override double Cost =>
        settings.Parametric!.Points * (SharpnessData.Samples(small.Config, settings.EvaluationSamples) + Data.DatasetSpecs.Get(small.Config.Dataset).TestCount) / 3.0;

    public override ParametricLine Run(WorkContext context)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var config = small.Config;
        var smallRecord = TrainingWork.RequireFinished(context.Read(small), Label, small.Label);
        var largeRecord = TrainingWork.RequireFinished(context.Read(large), Label, large.Label);
        using var set = EvaluationData.Open(context, config, settings.EvaluationSamples);
        var (data, device, images, labels) = (set.Data, set.Device, set.Images, set.Labels);
        using var testImages = TrainingSession.Preprocess(data.TestImages, config, device);
        using var testLabels = data.TestLabels.to(device);
        using var xs = RegimeWeights.Load(small.Label, smallRecord.CheckedWeights(context.FolderOf(small), TrainingWork.WeightsFile), config.Model.Widths, device);
        using var xl = RegimeWeights.Load(large.Label, largeRecord.CheckedWeights(context.FolderOf(large), TrainingWork.WeightsFile), large.Config.Model.Widths, device);
        using var surface = new LossSurface(xs, images, labels, config.Evaluation.ChunkSize);
        using var largeSurface = new LossSurface(xl, images, labels, config.Evaluation.ChunkSize);
        var alphas = settings.Parametric!.Alphas;
        var (trainLoss, trainAcc, testLoss, testAcc) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        foreach (var a in alphas)
        {
            using var scope = NewDisposeScope();
            using var towardLarge = tensor(a, float64, surface.X.device);
            var point = surface.X.lerp(largeSurface.X, towardLarge); // x_small + a (x_large - x_small)
            var (l, acc) = surface.LossAndAccuracy(point, images, labels);
            var (tl, tacc) = surface.LossAndAccuracy(point, testImages, testLabels);
            trainLoss.Add(l);
            trainAcc.Add(acc);
            testLoss.Add(tl);
            testAcc.Add(tacc);
        }
        context.Log(string.Create(CultureInfo.InvariantCulture, $"{Label}: {alphas.Count} points in {clock.Elapsed.TotalSeconds:F1} s"));
        return new ParametricLine(alphas, trainLoss, trainAcc, testLoss, testAcc, (int)images.shape[0], clock.Elapsed.TotalSeconds);
    }

    public override string? Problem(object result) =>
        result is ParametricLine line ? line.Alphas.Count == settings.Parametric!.Points ? null : $"it holds {line.Alphas.Count} points, the config asks for {settings.Parametric.Points}"
            : $"it holds a {result.GetType().Name}, not a parametric line";
}
