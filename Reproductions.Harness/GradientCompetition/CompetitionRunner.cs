using System.Diagnostics;
using System.Globalization;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>A regime as used: its name, the stored run it came from, and that run's final numbers.</summary>
public sealed record RegimeInfo(string Name, string RunHash, int Epochs, double TrainAccuracy, double TestAccuracy, double TrainLoss);

/// <summary>
/// Everything one profile's trials produced: per trial seed and cell (variant, regime, batch size), the trials' norms
/// and value histograms; the regimes used; timings. Summaries are computed on demand (<see cref="Curve"/>).
/// </summary>
public sealed class CompetitionResult(
    CompetitionProfile profile, string device, string deviceType, IReadOnlyList<RegimeInfo> regimes,
    IReadOnlyDictionary<long, IReadOnlyDictionary<CellKey, CellData>> perSeed, double seconds, string updateMode)
{
    private readonly Dictionary<(ProtocolVariant, string, long?), CurveSummary> curves = new();
    private IReadOnlyDictionary<CellKey, CellData>? pooled;

    public CompetitionProfile Profile { get; } = profile;
    public string Device { get; } = device;
    public string DeviceType { get; } = deviceType;
    public IReadOnlyList<RegimeInfo> Regimes { get; } = regimes;
    public IReadOnlyDictionary<long, IReadOnlyDictionary<CellKey, CellData>> PerSeed { get; } = perSeed;
    /// <summary>Wall time of the trials (regime training and data loading excluded), seconds.</summary>
    public double Seconds { get; } = seconds;
    public string UpdateMode { get; } = updateMode;

    public IEnumerable<ProtocolVariant> Variants => Profile.Variants.Select(v => v.Variant);
    public IEnumerable<string> RegimeNames => Regimes.Select(r => r.Name);

    /// <summary>All seeds' trials of each cell together.</summary>
    public IReadOnlyDictionary<CellKey, CellData> Pooled => pooled ??= Pool();

    /// <summary>The summary of one variant in one regime: over all seeds' trials (seed null) or one seed's.</summary>
    public CurveSummary Curve(ProtocolVariant variant, string regime, long? seed = null)
    {
        lock (curves)
        {
            if (curves.TryGetValue((variant, regime, seed), out var c)) return c;
            var cells = seed is { } s ? PerSeed[s] : Pooled;
            var mine = cells.Where(kv => kv.Key.Variant == variant && kv.Key.Regime == regime).ToDictionary(kv => kv.Key.BatchSize, kv => kv.Value);
            c = CurveSummary.Compute(variant, regime, mine, Profile.ReferenceBatchSize, Profile.TailFraction);
            curves[(variant, regime, seed)] = c;
            return c;
        }
    }

    /// <summary>One number per seed, in the profile's seed order (for baselines and spread).</summary>
    public double[] PerSeedValues(ProtocolVariant variant, string regime, Func<CurveSummary, double> metric) =>
        Profile.Seeds.Select(s => metric(Curve(variant, regime, s))).ToArray();

    private Dictionary<CellKey, CellData> Pool()
    {
        var result = new Dictionary<CellKey, CellData>();
        foreach (var seed in Profile.Seeds)
            foreach (var (key, cell) in PerSeed[seed])
            {
                if (!result.TryGetValue(key, out var pooledCell)) result[key] = pooledCell = new CellData(Profile.Histogram);
                pooledCell.Add(cell);
            }
        return result;
    }
}

/// <summary>Runs a <see cref="CompetitionProfile"/>: trains (or reuses) the regimes through the run store, then every trial.</summary>
public static class CompetitionRunner
{
    public static CompetitionResult Run(CompetitionProfile profile, RunStore store, Func<string, TrainingData>? data = null,
        Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        data ??= DataSets.Get;
        var configs = profile.Regimes.Select(r => (r.Name, Config: r.ForSeed(profile.RegimeSeed))).ToList();
        var device = Devices.Resolve(configs[0].Config.Device);
        var widths = configs[0].Config.Model.Widths;
        var regimes = new List<RegimeInfo>();
        var weights = new Dictionary<string, RegimeWeights>();
        var activations = new Dictionary<string, RegimeActivations>();
        try
        {
            foreach (var (name, config) in configs)
            {
                var record = store.GetOrTrain(config, data, $"gradient competition ({profile.Profile}) regime {name}", progress, cancel);
                regimes.Add(new RegimeInfo(name, record.Hash, record.Epochs.Count, record.Final.TrainAccuracy, record.Final.TestAccuracy, record.Final.TrainLoss));
                weights[name] = RegimeWeights.Load(name, Path.Combine(store.Folder(record.Hash), "final.weights"), widths, device);
            }
            using var pool = TrialPool.ForConfig(configs[0].Config, data(configs[0].Config.Dataset), widths[^1], device);
            if (profile.Variants.Any(v => v.Variant == ProtocolVariant.SingleStep))
                foreach (var (name, _) in configs)
                    activations[name] = RegimeActivations.Compute(weights[name], pool);

            var mode = profile.Engine.ModeFor(device);
            var (workers, threads) = profile.Engine.ParallelismFor(device);
            var previousThreads = get_num_threads();
            if (threads != previousThreads) set_num_threads(threads);
            var clock = Stopwatch.StartNew();
            var perSeed = new Dictionary<long, IReadOnlyDictionary<CellKey, CellData>>();
            foreach (var seed in profile.Seeds)
            {
                var cells = new Dictionary<CellKey, CellData>();
                CellData Cell(ProtocolVariant v, string regime, int b)
                {
                    var key = new CellKey(v, regime, b);
                    if (!cells.TryGetValue(key, out var cell)) cells[key] = cell = new CellData(profile.Histogram);
                    return cell;
                }
                foreach (var b in profile.BatchSizes)
                {
                    cancel.ThrowIfCancellationRequested();
                    var batchClock = Stopwatch.StartNew();
                    RunLiteral(profile, seed, b, pool, weights, widths, mode, workers, Cell, cancel);
                    RunSingleStep(profile, seed, b, pool, activations, Cell);
                    log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                        $"gradient competition ({profile.Profile}) seed {seed} B={b}: {batchClock.Elapsed.TotalSeconds:F1} s ({string.Join(", ", profile.Variants.Select(v => $"{v.Variant.Name()} {configs.Sum(c => Cell(v.Variant, c.Name, b).Seconds):F1} s"))})"));
                }
                perSeed[seed] = cells;
            }
            if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
            if (threads != previousThreads) set_num_threads(previousThreads);
            return new CompetitionResult(profile, Devices.Describe(device), device.type.ToString().ToLowerInvariant(), regimes, perSeed,
                clock.Elapsed.TotalSeconds, CompetitionProfile.Kebab(mode.ToString()));
        }
        finally
        {
            foreach (var w in weights.Values) w.Dispose();
            foreach (var a in activations.Values) a.Dispose();
        }
    }

    private sealed record LiteralWork(string Regime, VariantSettings Variant, Tensor Indices);

    private static void RunLiteral(CompetitionProfile profile, long seed, int batchSize, TrialPool pool,
        IReadOnlyDictionary<string, RegimeWeights> weights, int[] widths, UpdateMode mode, int workers,
        Func<ProtocolVariant, string, int, CellData> cell, CancellationToken cancel)
    {
        var literal = profile.Variants.Where(v => v.Variant.IsLiteral()).OrderBy(v => v.Variant).ToList(); // mean before sum
        if (literal.Count == 0) return;
        var trials = literal.Max(v => v.TrialsPerSeed);
        var budget = profile.Engine.MemoryBudgetBytes / workers;
        var chunk = TrialEngine.TrialsPerChunk(TrialEngine.BytesPerTrial(widths, profile.SamplesPerTrial, batchSize, mode),
            budget, profile.Engine.MaxTrialsFor(pool.Device));
        var lr = (float)profile.LearningRate;
        var mean = literal.FirstOrDefault(v => v.Variant == ProtocolVariant.LiteralMean);
        using var scope = NewDisposeScope();

        // The work: every (chunk of trials, regime, variant), in a fixed order. With one sample per batch the mean and
        // the sum of the loss are the same number, so at B = 1 literal-sum reuses literal-mean's trials (same seeds,
        // same samples, the same computation) where literal-mean ran them.
        var work = new List<LiteralWork>();
        for (var t0 = 0; t0 < trials; t0 += chunk)
        {
            var t1 = Math.Min(t0 + chunk, trials);
            var indices = TrialEngine.DrawSamples(Enumerable.Range(t0, t1 - t0).Select(t => TrialEngine.TrialSeed(seed, batchSize, t)).ToList(),
                pool.Count, profile.SamplesPerTrial);
            foreach (var regime in weights.Keys)
                foreach (var v in literal)
                {
                    if (t0 >= v.TrialsPerSeed) continue;
                    var count = Math.Min(t1, v.TrialsPerSeed) - t0;
                    if (v.Variant == ProtocolVariant.LiteralSum && batchSize == 1 && mean is not null && mean.TrialsPerSeed >= t0 + count) continue;
                    work.Add(new LiteralWork(regime, v, indices.narrow(0, 0, count)));
                }
        }
        var results = new Tensor[work.Count];
        var seconds = new double[work.Count];
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, i =>
        {
            var clock = Stopwatch.StartNew();
            var w = work[i];
            using var itemScope = NewDisposeScope();
            results[i] = TrialEngine.RunLiteral(weights[w.Regime], pool, w.Indices, batchSize,
                meanReduction: w.Variant.Variant == ProtocolVariant.LiteralMean, lr, mode).DetachFromDisposeScope();
            seconds[i] = clock.Elapsed.TotalSeconds;
        });
        try
        {
            for (var i = 0; i < work.Count; i++)
            {
                var w = work[i];
                var target = cell(w.Variant.Variant, w.Regime, batchSize);
                target.Add(results[i]);
                target.Seconds += seconds[i];
                if (w.Variant.Variant == ProtocolVariant.LiteralMean && batchSize == 1)
                {
                    var sum = literal.FirstOrDefault(v => v.Variant == ProtocolVariant.LiteralSum);
                    var t0 = work.Take(i).Count(x => x.Regime == w.Regime && x.Variant == w.Variant) * chunk;
                    if (sum is not null && t0 < sum.TrialsPerSeed)
                        cell(ProtocolVariant.LiteralSum, w.Regime, batchSize).Add(results[i].narrow(0, 0, Math.Min(results[i].shape[0], sum.TrialsPerSeed - t0)));
                }
            }
        }
        finally
        {
            foreach (var r in results) r?.Dispose();
        }
    }

    private static void RunSingleStep(CompetitionProfile profile, long seed, int batchSize, TrialPool pool,
        IReadOnlyDictionary<string, RegimeActivations> activations, Func<ProtocolVariant, string, int, CellData> cell)
    {
        var trials = profile.TrialsPerSeed(ProtocolVariant.SingleStep);
        if (trials == 0) return;
        var hidden = activations.Values.First().Hidden.shape[1];
        var classes = activations.Values.First().Delta.shape[1];
        var perTrial = ((long)batchSize * (hidden + classes) + hidden * classes) * sizeof(float) * 2;
        var chunk = TrialEngine.TrialsPerChunk(perTrial, profile.Engine.MemoryBudgetBytes, 256);
        for (var t0 = 0; t0 < trials; t0 += chunk)
        {
            var t1 = Math.Min(t0 + chunk, trials);
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var indices = TrialEngine.DrawSamples(Enumerable.Range(t0, t1 - t0).Select(t => TrialEngine.TrialSeed(seed, batchSize, t)).ToList(),
                pool.Count, profile.SamplesPerTrial);
            var drawSeconds = clock.Elapsed.TotalSeconds / activations.Count;
            foreach (var (regime, a) in activations)
            {
                clock.Restart();
                var target = cell(ProtocolVariant.SingleStep, regime, batchSize);
                target.Add(TrialEngine.RunSingleStep(a, indices, batchSize));
                target.Seconds += clock.Elapsed.TotalSeconds + drawSeconds;
            }
        }
    }
}
