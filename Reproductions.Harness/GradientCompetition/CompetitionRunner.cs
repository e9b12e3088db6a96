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
    /// <summary>
    /// Trains (or reuses) the regimes, then runs every (trial seed, batch size) block in order. With a
    /// <paramref name="checkpoint"/>, finished blocks are taken from it and each new block is saved to it as soon as it
    /// is done, so a killed run resumes where it stopped; progress is reported per block with an estimate of the time left.
    /// </summary>
    public static CompetitionResult Run(CompetitionProfile profile, RunStore store, Func<string, TrainingData>? data = null,
        Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default,
        CompetitionCheckpoint? checkpoint = null)
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
            var hash = checkpoint?.Hash ?? profile.Hash(device.type.ToString().ToLowerInvariant());
            var label = $"gradient competition ({profile.Profile}) trials";
            var blocks = new BlockClock(profile.Seeds.SelectMany(s => profile.BatchSizes.Select(b => (s, b))).ToList());
            var clock = Stopwatch.StartNew();
            var perSeed = new Dictionary<long, IReadOnlyDictionary<CellKey, CellData>>();
            foreach (var seed in profile.Seeds)
            {
                var cells = new Dictionary<CellKey, CellData>();
                foreach (var b in profile.BatchSizes)
                {
                    cancel.ThrowIfCancellationRequested();
                    var block = checkpoint?.TryLoad(seed, b);
                    if (block is not null)
                    {
                        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                            $"gradient competition ({profile.Profile}) seed {seed} B={b}: finished block reused ({checkpoint!.PathOf(seed, b)})"));
                    }
                    else
                    {
                        block = RunBlock(profile, seed, b, pool, weights, activations, widths, mode, workers, cancel);
                        checkpoint?.Save(block);
                        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                            $"gradient competition ({profile.Profile}) seed {seed} B={b}: {block.Seconds:F1} s wall ({string.Join(", ", profile.Variants.Select(v => $"{v.Variant.Name()} {block.Cells.Where(c => c.Key.Variant == v.Variant).Sum(c => c.Value.Seconds):F1}"))} worker-seconds)"));
                    }
                    foreach (var (key, cell) in block.Cells) cells[key] = cell;
                    blocks.Finished(b, block.Seconds);
                    progress?.Report(new TrainingProgress(hash, label, blocks.Done, blocks.Total, null, clock.Elapsed,
                        string.Create(CultureInfo.InvariantCulture, $"seed {seed} B={b} done, {blocks.DescribeTimeLeft()}"), Unit: "block"));
                }
                perSeed[seed] = cells;
            }
            if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
            if (threads != previousThreads) set_num_threads(previousThreads);
            return new CompetitionResult(profile, Devices.Describe(device), device.type.ToString().ToLowerInvariant(), regimes, perSeed,
                blocks.Seconds, CompetitionProfile.Kebab(mode.ToString()));
        }
        finally
        {
            foreach (var w in weights.Values) w.Dispose();
            foreach (var a in activations.Values) a.Dispose();
        }
    }

    /// <summary>Every variant's and regime's trials for one trial seed and batch size.</summary>
    private static CompetitionBlock RunBlock(CompetitionProfile profile, long seed, int batchSize, TrialPool pool,
        IReadOnlyDictionary<string, RegimeWeights> weights, IReadOnlyDictionary<string, RegimeActivations> activations,
        int[] widths, UpdateMode mode, int workers, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var cells = new Dictionary<CellKey, CellData>();
        CellData Cell(ProtocolVariant v, string regime, int b)
        {
            var key = new CellKey(v, regime, b);
            if (!cells.TryGetValue(key, out var cell)) cells[key] = cell = new CellData(profile.Histogram);
            return cell;
        }
        RunLiteral(profile, seed, batchSize, pool, weights, widths, mode, workers, Cell, cancel);
        RunSingleStep(profile, seed, batchSize, pool, activations, Cell);
        return new CompetitionBlock(seed, batchSize, cells, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Counts finished blocks and estimates the time left: a block's batch size costs what it cost for an earlier seed;
    /// a batch size not yet timed costs what the nearest smaller timed one did (an upper bound: the time per block falls as B grows).
    /// </summary>
    public sealed class BlockClock(IReadOnlyList<(long Seed, int BatchSize)> order)
    {
        private readonly Dictionary<int, List<double>> timed = new();

        public int Total => order.Count;
        public int Done { get; private set; }
        /// <summary>Wall seconds of the finished blocks, including those finished by an earlier, interrupted run.</summary>
        public double Seconds { get; private set; }

        public void Finished(int batchSize, double seconds)
        {
            if (!timed.TryGetValue(batchSize, out var list)) timed[batchSize] = list = [];
            list.Add(seconds);
            Seconds += seconds;
            Done++;
        }

        /// <summary>Seconds the blocks not yet finished should take, or null before any block has been timed.</summary>
        public double? SecondsLeft()
        {
            if (timed.Count == 0) return Done == Total ? 0 : null;
            double left = 0;
            foreach (var (_, b) in order.Skip(Done))
            {
                var estimate = timed.TryGetValue(b, out var same) ? same.Average()
                    : timed.Where(t => t.Key < b).OrderByDescending(t => t.Key).Select(t => (double?)t.Value.Average()).FirstOrDefault()
                      ?? timed.Values.SelectMany(v => v).Average();
                left += estimate;
            }
            return left;
        }

        public string DescribeTimeLeft() => SecondsLeft() is { } s
            ? Done == Total ? "all blocks done" : string.Create(CultureInfo.InvariantCulture, $"about {FormatDuration(s)} left")
            : "time left unknown yet";

        public static string FormatDuration(double seconds) => seconds switch
        {
            < 90 => string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s"),
            < 5400 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F0} min"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h"),
        };
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
