using System.Globalization;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// Training runs (F01-F04, F09-F14): named runs (each a config layered over configs/defaults.json and the profile's
/// <c>base</c>), each trained once per seed. Measures every <see cref="EpochMetrics"/> metric of each run's final epoch;
/// draws curves, heatmaps, per-layer bars and bars.
/// </summary>
public sealed class TrainingProtocol : Protocol
{
    public const string ProtocolName = "training";

    public override string Name => ProtocolName;

    public override IReadOnlySet<string> Keys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "seeds", "base", "runs", "accumulationChecks", "mayDiverge" };

    public override IReadOnlySet<string> FigureKinds { get; } = new HashSet<string>(StringComparer.Ordinal) { "curves", "heatmap", "layers", "bars", "sweep" };

    public override IReadOnlyList<string> DefaultMetrics { get; } = ["trainAccuracy", "testAccuracy", "generalizationGap"];

    public override bool IsMetric(string metric) => MetricNames.IsKnown(metric) || RunMetrics.Known.ContainsKey(metric) || AccumulationMetrics.Known.ContainsKey(metric);

    public override IEnumerable<string> Metrics => MetricNames.All.Concat(RunMetrics.Known.Keys).Concat(AccumulationMetrics.Known.Keys);

    public override MetricDisplay Display(string metric) =>
        RunMetrics.Known.TryGetValue(metric, out var m) ? m.Display
        : AccumulationMetrics.Known.TryGetValue(metric, out var a) ? a.Display : MetricDisplay.For(metric);

    public override Experiment Bind(ProtocolSection section)
    {
        var seeds = section.Seeds();
        var runs = section.Runs("runs", "at least one run");
        var configs = runs.Select(r => r.ForSeed(seeds[0])).ToList(); // validates every run's layers now, with the file named
        var datasets = configs.Select(c => c.Dataset).Distinct().ToList();
        if (datasets.Count > 1)
            throw new ConfigException($"{section.Where}: the runs read different datasets ({string.Join(", ", datasets)}); a finding profile reads one.");
        var devices = configs.Select(c => c.Device).Distinct().ToList();
        if (devices.Count > 1)
            throw new ConfigException($"{section.Where}: the runs ask for different devices ({string.Join(", ", devices)}); a finding profile runs on one.");
        var checks = section.GetSection("accumulationChecks").GetChildren().Select(c => c.Value ?? "").ToList();
        foreach (var (name, i) in checks.Select((n, i) => (n, i)))
        {
            var config = configs.Zip(runs).FirstOrDefault(x => string.Equals(x.Second.Name, name, StringComparison.OrdinalIgnoreCase)).First
                         ?? throw new ConfigException($"{section.Where}:accumulationChecks:{i} = '{name}': not a run of this profile (it has {string.Join(", ", runs.Select(r => r.Name))}).");
            if (config.Phases[0].Accumulation is null or 1)
                throw new ConfigException($"{section.Where}:accumulationChecks:{i} = '{name}': its first phase does not accumulate (phases:0:accumulation above 1 is needed to compare it with whole batches).");
        }
        var mayDiverge = section.GetSection("mayDiverge").GetChildren().ToDictionary(c => c.Key,
            c => string.IsNullOrWhiteSpace(c.Value) ? throw new ConfigException($"{section.Where}:mayDiverge:{c.Key}: give the reason its divergence is an outcome the profile expects.") : c.Value!,
            StringComparer.OrdinalIgnoreCase);
        foreach (var pattern in mayDiverge.Keys)
            if (!runs.Any(r => DivergenceExpected.Matches(pattern, r.Name)))
                throw new ConfigException($"{section.Where}:mayDiverge:{pattern}: names no run of this profile (a run's name, or a prefix ending in '*').");
        return new TrainingExperiment(this, seeds, runs, datasets[0], devices[0], checks, mayDiverge);
    }
}

/// <summary>Runs whose divergence a profile expects (a learning-rate or batch-size sweep that reaches its limit): an outcome to show, not a failure.</summary>
public static class DivergenceExpected
{
    /// <summary>Whether <paramref name="run"/> is <paramref name="pattern"/>, or starts with it when it ends in '*'.</summary>
    public static bool Matches(string pattern, string run) =>
        pattern.EndsWith('*') ? run.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase) : string.Equals(pattern, run, StringComparison.OrdinalIgnoreCase);
}

/// <summary>One named training setting of a finding (e.g. "bs64"), expandable to one config per seed.</summary>
public sealed record RunDefinition(string Name, IReadOnlyList<ConfigLayer> Layers)
{
    public TrainingConfig ForSeed(long seed) =>
        ConfigLoader.Build(Layers.Append(ConfigLayer.FromPairs($"seed {seed}", ("seed", seed))).Append(ConfigLoader.EnvironmentLayer()));
}

/// <summary>A finding profile's training runs: every run, once per seed.</summary>
public sealed class TrainingExperiment(
    TrainingProtocol protocol, IReadOnlyList<long> seeds, IReadOnlyList<RunDefinition> runs, string dataset, DeviceChoice device,
    IReadOnlyList<string>? accumulationChecks = null, IReadOnlyDictionary<string, string>? mayDiverge = null)
    : Experiment
{
    /// <summary>Runs whose accumulated steps are compared with whole-batch steps (<see cref="AccumulationCheck"/>), once per seed.</summary>
    public IReadOnlyList<string> AccumulationChecks { get; } = accumulationChecks ?? [];

    /// <summary>Run names (or prefixes ending in '*') whose divergence is an expected outcome, with why.</summary>
    public IReadOnlyDictionary<string, string> MayDiverge { get; } = mayDiverge ?? new Dictionary<string, string>();

    /// <summary>Why <paramref name="run"/>'s divergence is expected, or null when it is not.</summary>
    public string? DivergenceReason(string run) => MayDiverge.FirstOrDefault(m => DivergenceExpected.Matches(m.Key, run)).Value;

    public override Protocol Protocol => protocol;
    public override string Dataset => dataset;
    public override IReadOnlyList<long> Seeds => seeds;
    public override DeviceChoice Device => device;
    public IReadOnlyList<RunDefinition> Runs => runs;
    public override IReadOnlyList<string> Groups => runs.Select(r => r.Name).ToList();

    /// <summary>The units that train <paramref name="run"/> on <paramref name="deviceType"/>, one per seed in seed order, as the plan forms them (stacked or alone).</summary>
    public IReadOnlyList<TrainingWork> Works(string run, string deviceType) =>
        Plan(deviceType, "").Skip(runs.ToList().FindIndex(r => string.Equals(r.Name, run, StringComparison.OrdinalIgnoreCase)) * seeds.Count)
            .Take(seeds.Count).Cast<TrainingWork>().ToList();

    public RunDefinition Run(string name) =>
        runs.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"no run '{name}' (the runs are {string.Join(", ", runs.Select(r => r.Name))}).");

    /// <summary>
    /// Every (run, seed) in declaration order, seeds inner; then every accumulation check, seeds inner. Runs that ask to be
    /// stacked train in stacks of every run of the profile that shares their schedule (<see cref="StackWork.Group"/>).
    /// </summary>
    public override IReadOnlyList<Work> Plan(string deviceType, string label) => Plan(deviceType, label, StackPool.Empty);

    public override IReadOnlyList<Work> Plan(string deviceType, string label, StackPool stacks) =>
        StackWork.Group(runs.SelectMany(r => seeds.Select(s => (r.ForSeed(s), $"{label} {r.Name} seed {s}"))).ToList(), deviceType, stacks)
            .Concat(AccumulationChecks.SelectMany(c => seeds.Select(s => (Work)new AccumulationCheckWork(Run(c).ForSeed(s), deviceType, $"{label} {c} accumulation check seed {s}"))))
            .ToList();

    public override Measured Measure(IReadOnlyList<Work> plan, IReadOnlyList<object?> results, string trainCommand)
    {
        var stored = new Dictionary<string, IReadOnlyList<RunRecord>>(StringComparer.OrdinalIgnoreCase);
        var missing = new List<MissingRun>();
        for (var r = 0; r < runs.Count; r++)
        {
            var records = Enumerable.Range(0, seeds.Count).Select(s => results[r * seeds.Count + s] as RunRecord).ToList();
            // A diverged run is an outcome, not a result: the run is measured only when every seed finished.
            var diverged = records.Where(x => x is { Status: RunStatus.Diverged })
                .Select(x => string.Create(CultureInfo.InvariantCulture, $"seed {x!.Config.Seed} at epoch {x.Divergence!.Epoch}: {x.Divergence.Reason}")).ToList();
            var count = records.Count(x => x is { Status: RunStatus.Finished });
            if (count == seeds.Count) stored[runs[r].Name] = records.Select(x => x!).ToList();
            else missing.Add(new MissingRun(runs[r].Name, count, seeds.Count, trainCommand, diverged.Count > 0 ? diverged : null,
                diverged.Count > 0 ? DivergenceReason(runs[r].Name) : null));
        }
        var checks = new Dictionary<string, IReadOnlyList<AccumulationDifferences>>(StringComparer.OrdinalIgnoreCase);
        for (var c = 0; c < AccumulationChecks.Count; c++)
        {
            var found = Enumerable.Range(0, seeds.Count).Select(s => results[(runs.Count + c) * seeds.Count + s] as AccumulationDifferences).ToList();
            if (found.All(x => x is not null)) checks[AccumulationChecks[c]] = found!;
            else missing.Add(new MissingRun($"{AccumulationChecks[c]} accumulation check", found.Count(x => x is not null), seeds.Count, trainCommand));
        }
        var outcomes = results.OfType<RunRecord>().Where(x => x.Status == RunStatus.Diverged).ToList();
        return new TrainingMeasured(this, new TrainingRuns(this, stored), missing.OrderBy(m => m.Run, NaturalOrder.Instance).ToList(), outcomes, checks);
    }
}

/// <summary>The stored runs of a training experiment: for each named run stored for every seed, one record per seed (in seed order).</summary>
public sealed record TrainingRuns(TrainingExperiment Experiment, IReadOnlyDictionary<string, IReadOnlyList<RunRecord>> Runs)
{
    public IReadOnlyList<long> Seeds => Experiment.Seeds;

    public IReadOnlyList<RunRecord> this[string run] =>
        Runs.TryGetValue(run, out var records) ? records : throw new KeyNotFoundException($"no stored run '{run}'.");

    /// <summary>The final-epoch value of <paramref name="metric"/> for every seed of <paramref name="run"/>.</summary>
    public double[] Final(string run, Func<EpochMetrics, double> metric) => this[run].Select(r => metric(r.Final)).ToArray();
}

/// <summary>What a training experiment measured: every metric of each stored run's final epoch, per seed.</summary>
public sealed class TrainingMeasured(
    TrainingExperiment experiment, TrainingRuns runs, IReadOnlyList<MissingRun> missing, IReadOnlyList<RunRecord> diverged,
    IReadOnlyDictionary<string, IReadOnlyList<AccumulationDifferences>>? accumulationChecks = null)
    : Measured
{
    public override Experiment Experiment => experiment;

    /// <summary>The runs stored as diverged: outcomes that a finding expecting divergence (a learning-rate sweep) can read.</summary>
    public IReadOnlyList<RunRecord> Diverged => diverged;

    /// <summary>For each seed of <paramref name="run"/> (in seed order), whether its run is stored as diverged.</summary>
    public IReadOnlyList<bool> DivergedSeeds(string run)
    {
        // One plan per device type the diverged runs were made on: a seed diverged when its unit there is one of them.
        var hashes = diverged.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
        var works = diverged.Select(r => r.Device).Distinct().Select(device => experiment.Works(run, device)).ToList();
        return experiment.Seeds.Select((_, i) => works.Any(w => hashes.Contains(w[i].Key.Hash))).ToList();
    }

    /// <summary>The stored runs themselves (per-epoch histories), for what final values do not show.</summary>
    public TrainingRuns Runs => runs;

    public override IReadOnlyList<MeasuredGroup> Groups =>
        experiment.Runs.Select(r => r.Name).Where(runs.Runs.ContainsKey).Order(NaturalOrder.Instance)
            .Select(n => new MeasuredGroup(n, ReportBuilder.Phases(runs[n][0].Config), runs[n].Select(r => r.DeviceDetail).Distinct().ToList()))
            .ToList();

    public override IReadOnlyList<MissingRun> Missing => missing;

    public override string GroupHeading => "run";

    public override string SettingHeading => "phases (epochs x batch @ lr)";

    /// <summary>A final-epoch metric of <see cref="EpochMetrics"/>, or a metric of the whole run (<see cref="RunMetrics"/>), per seed.</summary>
    public override IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric)
    {
        if (AccumulationMetrics.Known.TryGetValue(metric, out var check))
            return accumulationChecks is not null && accumulationChecks.TryGetValue(group, out var found)
                ? found.Select(d => (IReadOnlyList<double>)[check.Read(d)]).ToList() : null;
        if (!runs.Runs.TryGetValue(group, out var records)) return null;
        if (RunMetrics.Known.TryGetValue(metric, out var run)) return records.Select(r => (IReadOnlyList<double>)[run.Read(r)]).ToList();
        if (!MetricNames.IsKnown(metric)) return null;
        return records.Select(r => (IReadOnlyList<double>)(MetricDisplay.IsPerLayer(metric)
            ? MetricNames.Vector(r.Final, metric).ToArray()
            : [MetricNames.Scalar(r.Final, metric)])).ToList();
    }

    /// <summary>A scalar metric of <see cref="EpochMetrics"/> at every epoch, per seed.</summary>
    public override IReadOnlyList<IReadOnlyList<double>>? History(string group, string metric) =>
        runs.Runs.TryGetValue(group, out var records) && MetricNames.IsKnown(metric) && !MetricDisplay.IsPerLayer(metric)
            ? records.Select(r => (IReadOnlyList<double>)r.Epochs.Select(e => MetricNames.Scalar(e, metric)).ToList()).ToList()
            : null;

    public override IReadOnlyList<string> Devices =>
        runs.Runs.Values.SelectMany(r => r).Select(r => r.DeviceDetail).Distinct().Order(StringComparer.Ordinal).ToList();

    public override double Seconds => runs.Runs.Values.SelectMany(r => r).Sum(r => r.TrainingSeconds);

    public override DateTime? Newest
    {
        get
        {
            var records = runs.Runs.Values.SelectMany(r => r).ToList();
            return records.Count > 0 ? records.Max(r => r.CompletedUtc) : null;
        }
    }

    public override IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target) =>
        spec.Figures.Select((f, i) => ReportFigures.Render(f, i + 1, runs, target,
            missing.Where(m => m.Diverged is { Count: > 0 }).Select(m => m.Run).ToList())).ToList();
}

/// <summary>
/// Metrics of a whole training run rather than of one epoch: how the distance from init grows over the run (R^2 of a
/// straight line against epochs, steps or log steps, MathNet's least squares), the weight norm's change from init,
/// and the layers' cosines to init taken together.
/// </summary>
public static class RunMetrics
{
    public sealed record Metric(MetricDisplay Display, Func<RunRecord, double> Read);

    private static double R2(RunRecord r, Func<EpochMetrics, double> x)
    {
        var xs = r.Epochs.Select(x).ToArray();
        var ys = r.Epochs.Select(e => e.WeightDistance).ToArray();
        if (xs.Length < 3) return double.NaN;
        var (a, b) = MathNet.Numerics.Fit.Line(xs, ys);
        return MathNet.Numerics.GoodnessOfFit.RSquared(xs.Select(v => a + b * v), ys);
    }

    public static readonly IReadOnlyDictionary<string, Metric> Known = new Dictionary<string, Metric>(StringComparer.OrdinalIgnoreCase)
    {
        ["r2DistanceVsEpoch"] = new(new("r2DistanceVsEpoch", "R^2 of weight distance against epoch (a straight line)", "", 1), r => R2(r, e => e.Epoch)),
        ["r2DistanceVsSteps"] = new(new("r2DistanceVsSteps", "R^2 of weight distance against steps (a straight line)", "", 1), r => R2(r, e => e.Steps)),
        ["r2DistanceVsLogSteps"] = new(new("r2DistanceVsLogSteps", "R^2 of weight distance against log(steps)", "", 1), r => R2(r, e => Math.Log(e.Steps))),
        ["weightNormChange"] = new(new("weightNormChange", "final / initial weight norm - 1", "", 1), r => r.Final.WeightNorm / r.InitialWeightNorm - 1),
        ["initialWeightNorm"] = new(new("initialWeightNorm", "weight norm at init", "L2 norm to the origin", 1), r => r.InitialWeightNorm),
        ["minLayerCosine"] = new(new("minLayerCosine", "lowest layer cosine of final to initial weights", "unitless", 1), r => r.Final.LayerCosines.Min()),
        ["meanLayerCosine"] = new(new("meanLayerCosine", "mean layer cosine of final to initial weights", "unitless", 1), r => r.Final.LayerCosines.Average()),
    };
}

/// <summary>The differences an accumulation check measures (F17), as metrics of the accumulating run.</summary>
public static class AccumulationMetrics
{
    public sealed record Metric(MetricDisplay Display, Func<AccumulationDifferences, double> Read);

    private const string Unit = "relative L2 difference";

    public static readonly IReadOnlyDictionary<string, Metric> Known = new Dictionary<string, Metric>(StringComparer.OrdinalIgnoreCase)
    {
        ["accumulationGradientDifference"] = new(new("accumulationGradientDifference", "gradient of the first batch, accumulated vs whole", Unit, 1), d => d.GradientDifference),
        ["accumulationPartialGradientDifference"] = new(new("accumulationPartialGradientDifference", "gradient of the partial last batch, accumulated vs whole", Unit, 1), d => d.PartialGradientDifference),
        ["accumulationStepDifference"] = new(new("accumulationStepDifference", "weights after one step, accumulated vs whole", Unit, 1), d => d.StepDifference),
        ["accumulationEpochDifference"] = new(new("accumulationEpochDifference", "weights after one epoch, accumulated vs whole", Unit, 1), d => d.EpochDifference),
    };
}

/// <summary>One accumulation check of one seed (<see cref="AccumulationCheck"/>): a unit of work the store keeps like a run.</summary>
public sealed class AccumulationCheckWork(TrainingConfig config, string deviceType, string label) : Work<AccumulationDifferences>
{
    public const int FormatVersion = 1;
    public const string Kind = "accumulation-check";

    public TrainingConfig Config { get; } = config;
    public override string DeviceType { get; } = deviceType;
    public override string Label { get; } = label;
    public override StoreKey Key { get; } = new(config.Dataset, Kind, ContentHash(new { formatVersion = FormatVersion, device = deviceType, config }));

    public override AccumulationDifferences Run(WorkContext context)
    {
        var data = (context.Options.Data ?? Data.DataSets.Get)(Config.Dataset);
        context.Options.Progress?.Report(new TrainingProgress(Key.Hash, Label, 0, 1, null, TimeSpan.Zero, "checking", "check"));
        var result = AccumulationCheck.Measure(Config, data);
        context.Log(string.Create(CultureInfo.InvariantCulture,
            $"{Label}: gradient {result.GradientDifference:G3}, partial batch {result.PartialGradientDifference:G3}, one step {result.StepDifference:G3}, one epoch {result.EpochDifference:G3} (relative L2)"));
        return result;
    }

    public override string? Problem(object result) =>
        result is AccumulationDifferences d
            ? d.BatchSize == Config.Phases[0].BatchSize && d.MicroBatchSize == Config.Phases[0].MicroBatchSize ? null
              : $"it checks batch {d.BatchSize} as micro-batches of {d.MicroBatchSize}, the config {Config.Phases[0].BatchSize} as {Config.Phases[0].MicroBatchSize}"
            : $"it holds a {result.GetType().Name}, not accumulation differences";
}

/// <summary>
/// One training run of one seed: the unit the store keeps for the training protocol. A run whose config asks to be stacked
/// (<see cref="TrainingConfig.Stack"/>) reads its <see cref="StackWork"/>, which trains it with the rest of its stack, and
/// takes its own record and weights from there; without a stack given, it is a stack of one.
/// </summary>
public sealed class TrainingWork(TrainingConfig config, string deviceType, string label, StackWork? stack = null) : Work<RunRecord>
{
    /// <summary>Bump when the trainer or the metrics change meaning: old runs then no longer match.</summary>
    public const int FormatVersion = 2;

    public const string Kind = TrainingProtocol.ProtocolName;
    public const string WeightsFile = "final.weights";

    public TrainingConfig Config { get; } = config;
    public override string DeviceType { get; } = deviceType;
    public override string Label { get; } = label;
    /// <summary>The stack this run trains in (null: it trains alone).</summary>
    public StackWork? Stack { get; } = stack ?? (config.Stack ? new StackWork([config], deviceType, $"{label} (a stack of one)") : null);
    public override StoreKey Key { get; } = new(config.Dataset, Kind, Hash(config, deviceType, stack?.Configs.Count ?? 1));
    public override IReadOnlyList<Work> Reads => Stack is null ? [] : [Stack];

    /// <summary>A run trained alone: its epochs' sample passes and evaluations; a stacked one costs nothing itself (its stack does).</summary>
    public override double Cost => Stack is null ? Passes(Config, DeviceType) : 1;

    /// <summary>
    /// The sample passes of training <paramref name="config"/> for <paramref name="models"/> models stacked on
    /// <paramref name="deviceType"/>: every phase's epochs (<see cref="Work.Passes(double, int, string, int)"/>), and an
    /// evaluation pass (a third of a step's work) per evaluated epoch and model.
    /// </summary>
    public static double Passes(TrainingConfig config, string deviceType, int models = 1)
    {
        double samples = Data.DatasetSpecs.TrainingSamples(config);
        var training = config.Phases.Sum(p => p.Epochs * Passes(samples, p.MicroBatchSize, deviceType, models));
        var evaluations = (double)config.TotalEpochs / config.Evaluation.Interval * (Math.Min(samples, config.Evaluation.TrainSubset ?? samples) + Data.DatasetSpecs.Get(config.Dataset).TestCount) / 3;
        return training + evaluations * models;
    }

    /// <summary>
    /// The run's content hash: the config, the device type and the format version; for CPU runs with a phase the
    /// hand-formed small-batch SGD step trains, that step's kind (it rounds differently from autograd's); for a stacked run
    /// (<see cref="TrainingConfig.Stack"/>), the stacked trainer's arithmetic, and where a model's numbers depend on the rest of
    /// its stack (<see cref="StackWork.SizeFree"/>: not on the CPU), the number of models in its stack of <paramref name="stackModels"/>.
    /// </summary>
    public static string Hash(TrainingConfig config, string deviceType, int stackModels = 1) =>
        config.Stack
            ? ContentHash(new
            {
                formatVersion = FormatVersion, device = deviceType,
                stack = StackWork.SizeFree(deviceType)
                    ? (object)new { arithmetic = FusedSgd.Arithmetic(config, deviceType) }
                    : new { arithmetic = FusedSgd.Arithmetic(config, deviceType), models = stackModels },
                pixels = Standardization(config), config,
            })
            : (SmallBatchSgd.KindFor(config, deviceType), Standardization(config)) switch
        {
            ({ } step, null) => ContentHash(new { formatVersion = FormatVersion, device = deviceType, step, config }),
            (null, null) => ContentHash(new { formatVersion = FormatVersion, device = deviceType, config }),
            (var step, { } pixels) => ContentHash(new { formatVersion = FormatVersion, device = deviceType, step, pixels, config }),
        };

    /// <summary>
    /// For a standardised dataset other than MNIST, the pixel mean and std it is standardised with (part of the hash: runs
    /// made when every dataset used MNIST's constants no longer match); null for MNIST, whose runs keep their keys.
    /// </summary>
    private static object? Standardization(TrainingConfig config)
    {
        if (config.Preprocessing != Preprocessing.Standardize || config.Dataset == Data.DatasetSpecs.Mnist.Name) return null;
        var spec = Data.DatasetSpecs.Get(config.Dataset);
        return new { mean = spec.PixelMean, std = spec.PixelStd };
    }

    /// <summary>The work of <paramref name="config"/> on the device it resolves to on this machine.</summary>
    public static TrainingWork ForThisMachine(TrainingConfig config, string label) =>
        new(config, Devices.TypeName(Devices.Resolve(config.Device)), label);

    public override RunRecord Run(WorkContext context)
    {
        if (Stack is not null) return FromStack(context, Stack);
        var options = context.Options;
        var data = (options.Data ?? Data.DataSets.Get)(Config.Dataset);
        using var session = new TrainingSession(Config, data);
        if (Devices.TypeName(session.Device) != DeviceType)
            throw new InvalidOperationException($"{Label}: planned for {DeviceType}, but this machine resolves its device to {Devices.TypeName(session.Device)}.");
        var checkpoints = new RunCheckpoints(context.Scratch, Key.Hash, options.Log, context.SetAside);
        var resumedFrom = checkpoints.Restore(session);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var earlier = session.History.Sum(e => e.TrainSeconds + e.EvalSeconds);
        options.Progress?.Report(new TrainingProgress(Key.Hash, Label, session.CompletedEpochs, Config.TotalEpochs, session.History.LastOrDefault(),
            TimeSpan.Zero, resumedFrom > 0 ? $"resumed at epoch {resumedFrom}" : "training"));
        var bound = Config.DivergenceLossFactor ?? TrainingConfig.DefaultDivergenceLossFactor;
        Divergence? diverged = null;
        // Weights kept along the run: every epoch's in the scratch folder while it trains (kept across a kill), the chosen ones beside the result.
        string EpochWeights(int epoch) => Path.Combine(context.Scratch, RunRecord.WeightsFileAt(epoch));
        if (Config.KeepWeights is not null && session.CompletedEpochs == 0)
        {
            Directory.CreateDirectory(context.Scratch);
            session.SaveWeights(EpochWeights(0));
        }
        while (!session.Finished)
        {
            options.Cancel.ThrowIfCancellationRequested();
            var metrics = session.RunEpoch();
            diverged = Diverged(session.History, bound, Config.Model.Widths[^1]);
            if (diverged is not null) break;
            if (Config.KeepWeights is not null) session.SaveWeights(EpochWeights(session.CompletedEpochs));
            checkpoints.Save(session);
            options.Progress?.Report(new TrainingProgress(Key.Hash, Label, metrics.Epoch, Config.TotalEpochs, metrics, clock.Elapsed, "training"));
        }
        List<int>? kept = null;
        if (diverged is null)
        {
            session.SaveWeights(Path.Combine(context.Folder, WeightsFile));
            if (Config.KeepWeights is { } keep)
            {
                kept = TrainingConfig.KeptEpochs(session.CompletedEpochs, keep).ToList();
                foreach (var epoch in kept) Infrastructure.AtomicFile.Copy(EpochWeights(epoch), Path.Combine(context.Folder, RunRecord.WeightsFileAt(epoch)));
            }
            if (session.ReachedTarget)
                options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{Label}: stopped after epoch {session.CompletedEpochs} of {Config.TotalEpochs}: training accuracy {session.History[^1].TrainAccuracy:P2} reached the target {Config.StopAtTrainAccuracy:P2}."));
        }
        else options.Log?.Invoke($"{Label}: diverged at epoch {diverged.Epoch}: {diverged.Reason}. Stored as an outcome, not a result.");
        return new RunRecord
        {
            Status = diverged is null ? RunStatus.Finished : RunStatus.Diverged,
            Divergence = diverged,
            Hash = Key.Hash,
            FormatVersion = FormatVersion,
            Config = Config,
            Device = Devices.TypeName(session.Device),
            DeviceDetail = Devices.Describe(session.Device),
            Epochs = session.History.ToList(),
            InitialWeightNorm = session.InitialWeightNorm,
            InitialBiasNorm = session.InitialBiasNorm,
            CompletedUtc = DateTime.UtcNow,
            TrainingSeconds = earlier + clock.Elapsed.TotalSeconds,
            ResumedFromEpoch = resumedFrom,
            WeightEpochs = kept,
            WeightsSha256 = diverged is null ? RunRecord.HashWeights(context.Folder, [WeightsFile, .. (kept ?? []).Select(RunRecord.WeightsFileAt)]) : null,
        };
    }

    /// <summary>
    /// <paramref name="record"/> when its run finished. A diverged run has no final weights and no result, so a unit that
    /// reads it (<paramref name="reader"/>) cannot run: an error with the divergence (exit 4). The finding runner skips
    /// such a unit before it gets here (<see cref="Findings.FindingRunner.Run"/>); this guards every other way in.
    /// </summary>
    public static RunRecord RequireFinished(RunRecord record, string reader, string what) =>
        record.Status == RunStatus.Finished ? record
            : throw new Infrastructure.RunDivergedException($"{reader}: {what} diverged at epoch {record.Divergence?.Epoch}: {record.Divergence?.Reason}; it needs a finished run.");

    /// <summary>
    /// This run's record from its stack's stored result, and its final weights copied beside it once checked against the
    /// SHA-256 the stack's record holds (<see cref="StackRecord.WeightsSha256"/>): a file that changed after the stack
    /// stored it is a corrupt state error naming it (exit 5), never copied.
    /// </summary>
    private RunRecord FromStack(WorkContext context, StackWork stack)
    {
        var stored = context.Read(stack);
        var index = stack.MemberHashes.ToList().IndexOf(Key.Hash);
        var record = index >= 0 ? stored.Members.FirstOrDefault(r => r.Hash == Key.Hash) : null;
        if (record is null) throw new InvalidOperationException($"{Label}: its stack {stack.Key} holds no run {Key.Hash}.");
        if (record.Status != RunStatus.Finished) return record;
        var weights = RunRecord.CheckedWeights(stored.WeightsSha256, context.FolderOf(stack), StackWork.WeightsFileOf(index), $"stack {stack.Key.Hash}'s result");
        Infrastructure.AtomicFile.Copy(weights, Path.Combine(context.Folder, WeightsFile));
        return record with { WeightsSha256 = RunRecord.HashWeights(context.Folder, [WeightsFile]) };
    }

    /// <summary>
    /// Whether the run has diverged at its last epoch: its weights became non-finite, or (on an evaluated epoch) its training
    /// loss became non-finite or rose above <paramref name="bound"/> times its reference: its first evaluated epoch's loss,
    /// or the loss of a uniform guess over <paramref name="classes"/> classes (ln classes, about a fresh network's loss)
    /// when that is lower. The second reference catches a run that has already blown up in its first epoch, which the
    /// first alone would take as its yardstick.
    /// </summary>
    public static Divergence? Diverged(IReadOnlyList<EpochMetrics> history, double bound, int classes)
    {
        var m = history[^1];
        var lastFinite = history.Select(e => e.TrainLoss).LastOrDefault(double.IsFinite, double.NaN);
        if (!double.IsFinite(m.WeightNorm) || !double.IsFinite(m.BiasNorm))
            return new Divergence(m.Epoch, "its weights became non-finite", lastFinite);
        var evaluated = double.IsFinite(m.TrainAccuracy);
        if (evaluated && !double.IsFinite(m.TrainLoss))
            return new Divergence(m.Epoch, "its training loss became non-finite", lastFinite);
        var first = history.Select(e => e.TrainLoss).FirstOrDefault(double.IsFinite, double.NaN);
        var guess = Math.Log(classes);
        var (reference, what) = first <= guess
            ? (first, "its first epoch's")
            : (guess, string.Create(CultureInfo.InvariantCulture, $"a uniform guess's over {classes} classes (ln {classes}; its first epoch's was {first:G4})"));
        if (evaluated && m.TrainLoss > bound * reference)
            return new Divergence(m.Epoch, string.Create(CultureInfo.InvariantCulture,
                $"its training loss rose to {m.TrainLoss:G4}, more than {bound:G4} times {what} {reference:G4}"), lastFinite);
        return null;
    }

    public override string? Problem(object result) =>
        result is RunRecord record ? RecordProblem(record, Config, Key.Hash) : $"it holds a {result.GetType().Name}, not a run record";

    /// <summary>What is wrong with <paramref name="record"/> as the stored run of <paramref name="config"/>: another record format, or <see cref="RunRecord.Problem"/>.</summary>
    public static string? RecordProblem(RunRecord record, TrainingConfig config, string hash) =>
        record.FormatVersion != FormatVersion
            ? $"it holds a run record of format {record.FormatVersion}; runs of this harness are of format {FormatVersion}"
            : record.Problem(config, hash);
}
