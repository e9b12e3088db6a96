using Reproductions.Harness.Infrastructure;
using System.Globalization;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Harness.Trials;

namespace Reproductions.Harness.Protocols;

/// <summary>One protocol variant's share of a profile: how many trials per seed and batch size.</summary>
public sealed record VariantSettings(ProtocolVariant Variant, int TrialsPerSeed);

/// <summary>How the engine chunks trials: at most this many per chunk, and what fits the memory budget.</summary>
public sealed record EngineSettings(int MaxTrialsPerChunk, long MemoryBudgetBytes, UpdateMode? UpdateMode, int? Workers = null, int? MaxTrialsPerChunkCuda = null)
{
    /// <summary>The most trials stacked in one chunk on <paramref name="device"/> (CUDA has its own setting: many more fit and help there).</summary>
    public int MaxTrialsFor(TorchSharp.torch.Device device) =>
        device.type == TorchSharp.DeviceType.CUDA ? MaxTrialsPerChunkCuda ?? MaxTrialsPerChunk : MaxTrialsPerChunk;

    /// <summary>
    /// Workers (threads that each run a chunk of trials) and libtorch threads per worker. On the CPU: one worker per
    /// core, each single-threaded (measured on the 2-core CI machine: as fast as one 2-threaded worker when idle, and
    /// 1.5-2x faster when other processes share the cores, where libtorch's OpenMP barriers stall). On CUDA: one.
    /// </summary>
    public (int Workers, int ThreadsPerWorker) ParallelismFor(TorchSharp.torch.Device device) =>
        device.type == TorchSharp.DeviceType.CUDA ? (1, TorchSharp.torch.get_num_threads()) : (Workers ?? Math.Max(1, Environment.ProcessorCount), 1);

    /// <summary>The update mode on a device type: the configured one, else the measured default for the device type.</summary>
    public UpdateMode ModeFor(string deviceType) =>
        UpdateMode ?? (deviceType == "cuda" ? Trials.UpdateMode.FusedStackedInPlace : Trials.UpdateMode.FusedPerTrial);
}

/// <summary>
/// The gradient-competition protocol shared by F05-F08 (configs/gradient-competition.json): the two regimes (training
/// runs layered over configs/defaults.json, trained with <see cref="RegimeSeed"/>), the batch sizes, samples per trial,
/// learning rate, trials per variant and seed, the shared histogram bins, the large-value rule, and the engine's
/// chunking. Seeds are the trial seeds: each one is an independent replicate of every trial set.
/// </summary>
public sealed record CompetitionProfile(
    string Profile, IReadOnlyList<long> Seeds, long RegimeSeed, IReadOnlyList<RunDefinition> Regimes,
    IReadOnlyList<int> BatchSizes, int SamplesPerTrial, double LearningRate, IReadOnlyList<VariantSettings> Variants,
    LogBins Histogram, double TailFraction, int ReferenceBatchSize, EngineSettings Engine, string Source)
{
    public int TrialsPerSeed(ProtocolVariant variant) =>
        Variants.FirstOrDefault(v => v.Variant == variant)?.TrialsPerSeed ?? 0;

    public TrainingConfig RegimeConfig(string regime) =>
        (Regimes.FirstOrDefault(r => string.Equals(r.Name, regime, StringComparison.OrdinalIgnoreCase))
         ?? throw new ConfigException($"{Source}: profile '{Profile}' has no regime '{regime}'.")).ForSeed(RegimeSeed);
}

/// <summary>
/// The gradient competition (F05-F08): trains (or reuses) its regimes as training runs, then, per trial seed, batch
/// size, regime and protocol variant, runs independent seeded trials and keeps each trial's summed last-layer gradient
/// norm and the histogram of its raw values. Measures, per variant and regime and per trial seed, the fits, rank
/// correlations and large-value counts of F05-F08; draws their figures and per-batch-size tables.
/// </summary>
public sealed class GradientCompetitionProtocol : Protocol
{
    public const string ProtocolName = "gradient-competition";

    public override string Name => ProtocolName;

    public override IReadOnlySet<string> Keys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "seeds", "regimeSeed", "base", "regimes", "batchSizes", "samplesPerTrial", "learningRate", "variants",
        "histogram", "tailFraction", "referenceBatchSize", "engine",
    };

    public override IReadOnlySet<string> FigureKinds { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        CompetitionFigures.NormVersusBatchSize, CompetitionFigures.NormalisedStd, CompetitionFigures.NormalisedHistograms, CompetitionFigures.ValueHistograms,
    };

    public override IReadOnlyList<string> DefaultMetrics { get; } = ["loglogSlope"];

    public override IReadOnlySet<string> TableColumns { get; } = CompetitionMetrics.Columns.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public override bool IsMetric(string metric) => CompetitionMetrics.IsMetric(metric);

    public override IEnumerable<string> Metrics =>
        CompetitionMetrics.Known.Keys.Concat(CompetitionMetrics.AtBatchSize.Keys.Select(k => k + "@B")).Concat(CompetitionMetrics.Pooled.Keys);

    public override MetricDisplay Display(string metric) =>
        CompetitionMetrics.Known.TryGetValue(metric, out var m) ? m.Display
        : CompetitionMetrics.Split(metric) is { } at && CompetitionMetrics.AtBatchSize.TryGetValue(at.Name, out var a)
            ? a.Display with { Metric = metric, Label = $"{a.Display.Label} at B = {at.BatchSize}" }
        : CompetitionMetrics.Pooled.TryGetValue(metric, out var p) ? p.Display : MetricDisplay.For(metric);

    public override Experiment Bind(ProtocolSection section) => new CompetitionExperiment(this, BindProfile(section));

    public static CompetitionProfile BindProfile(ProtocolSection section)
    {
        var where = section.Where;
        var seeds = section.Seeds();
        var regimeSeed = ConfigFiles.Integer(where, "regimeSeed", section["regimeSeed"] ?? "1", 0);
        var regimes = section.Runs("regimes", "at least one regime (e.g. early and late)");
        var configs = regimes.Select(r => r.ForSeed(regimeSeed)).ToList(); // validates every regime now
        var first = configs[0];
        foreach (var (regime, config) in regimes.Zip(configs))
        {
            if (config.Dataset != first.Dataset || config.TrainSamples != first.TrainSamples || config.Preprocessing != first.Preprocessing
                || !config.Model.Widths.SequenceEqual(first.Model.Widths) || config.Device != first.Device)
                throw new ConfigException($"{where}:regimes:{regime.Name}: every regime must share the dataset, training subset, preprocessing, widths and device (trials draw from one pool).");
        }

        var batchSizes = section.GetSection("batchSizes").GetChildren().Select(c => (int)ConfigFiles.Integer(where, "batchSizes", c.Value, 1)).ToList();
        if (batchSizes.Count == 0) throw new ConfigException($"{where}: batchSizes is empty or missing.");
        if (batchSizes.Distinct().Count() != batchSizes.Count) throw new ConfigException($"{where}: batchSizes repeat a value.");
        var samples = (int)ConfigFiles.Integer(where, "samplesPerTrial", section["samplesPerTrial"], 1);
        if (batchSizes.Any(b => b > samples)) throw new ConfigException($"{where}: every batch size must be at most samplesPerTrial ({samples}).");
        var lr = ConfigFiles.Number(where, "learningRate", section["learningRate"]);
        if (!(lr > 0)) throw new ConfigException($"{where}: learningRate = {lr.ToString(CultureInfo.InvariantCulture)}: must be positive.");

        var variants = new List<VariantSettings>();
        foreach (var v in section.GetSection("variants").GetChildren())
        {
            if (!ProtocolVariants.TryParse(v.Key, out var variant))
                throw new ConfigException($"{where}:variants: unknown variant '{v.Key}'. Known: {string.Join(", ", ProtocolVariants.All.Select(p => p.Name()))}.");
            foreach (var k in v.GetChildren())
                if (!string.Equals(k.Key, "trialsPerSeed", StringComparison.OrdinalIgnoreCase))
                    throw new ConfigException($"{where}:variants:{v.Key}: unknown key '{k.Key}'. Known keys: trialsPerSeed.");
            variants.Add(new VariantSettings(variant, (int)ConfigFiles.Integer(where, $"variants:{v.Key}:trialsPerSeed", v["trialsPerSeed"], 1)));
        }
        if (variants.Count == 0) throw new ConfigException($"{where}: variants is empty or missing.");

        var h = section.GetSection("histogram");
        foreach (var k in h.GetChildren())
            if (k.Key is not ("minLog10" or "maxLog10" or "binsPerDecade"))
                throw new ConfigException($"{where}:histogram: unknown key '{k.Key}'. Known keys: minLog10, maxLog10, binsPerDecade.");
        var bins = new LogBins(ConfigFiles.Number(where, "histogram:minLog10", h["minLog10"]), ConfigFiles.Number(where, "histogram:maxLog10", h["maxLog10"]),
            (int)ConfigFiles.Integer(where, "histogram:binsPerDecade", h["binsPerDecade"], 1));
        bins.Validate($"{where}:histogram");

        var tail = ConfigFiles.Number(where, "tailFraction", section["tailFraction"]);
        if (tail is <= 0 or >= 1) throw new ConfigException($"{where}: tailFraction = {tail.ToString(CultureInfo.InvariantCulture)}: must be in (0, 1).");
        var reference = (int)ConfigFiles.Integer(where, "referenceBatchSize", section["referenceBatchSize"], 1);
        if (!batchSizes.Contains(reference)) throw new ConfigException($"{where}: referenceBatchSize {reference} is not one of the batch sizes.");

        var e = section.GetSection("engine");
        foreach (var k in e.GetChildren())
            if (k.Key is not ("maxTrialsPerChunk" or "maxTrialsPerChunkCuda" or "memoryBudgetMiB" or "updateMode" or "workers"))
                throw new ConfigException($"{where}:engine: unknown key '{k.Key}'. Known keys: maxTrialsPerChunk, maxTrialsPerChunkCuda, memoryBudgetMiB, updateMode, workers.");
        UpdateMode? mode = null;
        if (e["updateMode"] is { } m)
        {
            mode = Enum.GetValues<UpdateMode>().Where(u => string.Equals(ConfigFiles.Kebab(u.ToString()), m, StringComparison.OrdinalIgnoreCase))
                       .Select(u => (UpdateMode?)u).FirstOrDefault()
                   ?? throw new ConfigException($"{where}:engine:updateMode = '{m}': expected one of {string.Join(", ", Enum.GetNames<UpdateMode>().Select(ConfigFiles.Kebab))}.");
        }
        var engine = new EngineSettings((int)ConfigFiles.Integer(where, "engine:maxTrialsPerChunk", e["maxTrialsPerChunk"] ?? "16", 1),
            ConfigFiles.Integer(where, "engine:memoryBudgetMiB", e["memoryBudgetMiB"] ?? "1024", 1) << 20, mode,
            e["workers"] is { } workers ? (int)ConfigFiles.Integer(where, "engine:workers", workers, 1) : null,
            e["maxTrialsPerChunkCuda"] is { } cudaTrials ? (int)ConfigFiles.Integer(where, "engine:maxTrialsPerChunkCuda", cudaTrials, 1) : null);

        return new CompetitionProfile(section.Profile, seeds, regimeSeed, regimes, batchSizes, samples, lr, variants, bins, tail, reference, engine, where);
    }
}

/// <summary>A profile of the gradient competition: its regimes' training runs, then the trials that read them.</summary>
public sealed class CompetitionExperiment(GradientCompetitionProtocol protocol, CompetitionProfile profile) : Experiment
{
    public CompetitionProfile Profile => profile;
    public override Protocol Protocol => protocol;
    public override string Dataset => profile.RegimeConfig(profile.Regimes[0].Name).Dataset;
    public override IReadOnlyList<long> Seeds => profile.Seeds;
    public override DeviceChoice Device => profile.RegimeConfig(profile.Regimes[0].Name).Device;

    public override IReadOnlyList<string> Groups =>
        profile.Variants.SelectMany(v => profile.Regimes.Select(r => CompetitionMetrics.Group(v.Variant, r.Name))).ToList();

    /// <summary>Each regime's training run, then the trials, which read them.</summary>
    public override IReadOnlyList<Work> Plan(string deviceType, string label)
    {
        var regimes = profile.Regimes
            .Select(r => new TrainingWork(profile.RegimeConfig(r.Name), deviceType, $"gradient competition ({profile.Profile}) regime {r.Name}"))
            .ToList();
        return [.. regimes, new CompetitionWork(profile, regimes, deviceType, $"gradient competition ({profile.Profile}) trials")];
    }

    public override Measured Measure(IReadOnlyList<Work> plan, IReadOnlyList<object?> results, string trainCommand)
    {
        var missing = new List<MissingRun>();
        for (var i = 0; i < profile.Regimes.Count; i++)
            if (results[i] is RunRecord { Status: RunStatus.Diverged } d)
                missing.Add(new MissingRun($"regime {profile.Regimes[i].Name}", 0, 1, trainCommand,
                    [string.Create(CultureInfo.InvariantCulture, $"seed {d.Config.Seed} at epoch {d.Divergence?.Epoch}: {d.Divergence?.Reason}")]));
            else if (results[i] is null) missing.Add(new MissingRun($"regime {profile.Regimes[i].Name}", 0, 1, trainCommand));
        var stored = results[^1] as CompetitionStored;
        if (stored is null) missing.Add(new MissingRun("trials", 0, 1, trainCommand));
        return new CompetitionMeasured(this, stored?.ToResult(profile), missing);
    }
}
