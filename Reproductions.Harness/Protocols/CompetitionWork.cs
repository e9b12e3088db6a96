using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reproductions.Harness.Data;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Models;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Harness.Trials;
using static TorchSharp.torch;

namespace Reproductions.Harness.Protocols;

/// <summary>A regime as used: its name, the stored run it came from, and that run's final numbers.</summary>
public sealed record RegimeInfo(string Name, string RunHash, int Epochs, double TrainAccuracy, double TestAccuracy, double TrainLoss);

/// <summary>
/// Everything one profile's trials produced: per trial seed and cell (variant, regime, batch size), the trials' norms
/// and value histograms; the regimes used; timings. Summaries are computed on demand (<see cref="Curve"/>).
/// </summary>
public sealed class CompetitionResult(
    CompetitionProfile profile, string device, string deviceType, IReadOnlyList<RegimeInfo> regimes,
    IReadOnlyDictionary<long, IReadOnlyDictionary<CellKey, CellData>> perSeed, double seconds, string arithmetic, DateTime completedUtc)
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
    /// <summary>The update mode and kernels of the literal steps.</summary>
    public string Arithmetic { get; } = arithmetic;
    public DateTime CompletedUtc { get; } = completedUtc;

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

/// <summary>
/// The trials of one gradient-competition profile on one device type: the unit the store keeps for the protocol. It
/// reads its regimes' training runs (their hashes are part of its own, with every setting that changes the numbers:
/// the seeds, batch sizes, samples, learning rate, trials per variant, bins, the large-value rule, the device type and
/// the arithmetic of the literal steps). The engine's chunking and workers are not: stacked and lone trials are equal.
/// While it runs, each finished (trial seed, batch size) block is kept in its scratch folder, so a killed run resumes
/// at the first unfinished block with the same numbers.
/// </summary>
public sealed class CompetitionWork(CompetitionProfile profile, IReadOnlyList<TrainingWork> regimes, string deviceType, string label) : Work<CompetitionStored>
{
    /// <summary>Bump when the trials' numbers change meaning (3: the arithmetic of the literal steps is hashed).</summary>
    public const int FormatVersion = 3;

    public const string Kind = GradientCompetitionProtocol.ProtocolName;

    public CompetitionProfile Profile => profile;
    public override string DeviceType { get; } = deviceType;
    public override string Label { get; } = label;
    public override IReadOnlyList<Work> Reads => regimes;

    /// <summary>The update mode and kernels the literal steps take on this work's device type (part of the hash).</summary>
    public string Arithmetic => TrialStack.Arithmetic(profile.Engine.ModeFor(DeviceType), DeviceType == "cuda" ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU);

    public override StoreKey Key => key ??= new StoreKey(regimes[0].Config.Dataset, Kind, ContentHash(new
    {
        formatVersion = FormatVersion,
        device = DeviceType,
        arithmetic = Arithmetic,
        profile.Seeds,
        regimes = regimes.Select((r, i) => new { profile.Regimes[i].Name, run = r.Key.Hash }),
        profile.BatchSizes,
        profile.SamplesPerTrial,
        profile.LearningRate,
        variants = profile.Variants.Select(v => new { variant = v.Variant.Name(), v.TrialsPerSeed }),
        profile.Histogram,
        profile.TailFraction,
        profile.ReferenceBatchSize,
    }));

    private StoreKey? key;

    /// <summary>The trial engine's passes (stacked trials, fused kernels) cost other than the trainer's: its time is not estimated by them.</summary>
    public override bool CostIsTrainerPasses => false;

    /// <summary>
    /// The trial engine's time per sample pass of its trials (<see cref="Work.Passes(double, int, string, int)"/> at the CPU's
    /// step overhead) over the trainer's time per pass, measured on each device type with the full profile's trials, so that
    /// shards weigh the competition as it runs. CPU: 7,637 s of trials (<c>docs/measurements/cpu-gradient-competition-full.md</c>)
    /// for 3.25e8 passes, which the trainer takes at about 101 us each here (a lone bs-1024 step, <c>reproduce --estimate</c>):
    /// 0.23. CUDA: 315 s of trials on the H100 (<c>docs/measurements/h100-gradient-competition-full.md</c>) for passes the
    /// trainer's cost model prices at 0.31 us a row: 3.1.
    /// </summary>
    public static double EngineRate(string deviceType) => deviceType == "cuda" ? 3.1 : 0.23;

    /// <summary>Every trial's steps at every batch size, at the engine's rate (the regime runs it reads are counted by their own units).</summary>
    public override double Cost => EngineRate(DeviceType) * profile.Variants.Sum(v => (double)v.TrialsPerSeed * profile.Seeds.Count) * profile.BatchSizes.Sum(b => Passes(profile.SamplesPerTrial, b));

    public override CompetitionStored Run(WorkContext context)
    {
        var options = context.Options;
        var data = options.Data ?? DataSets.Get;
        var configs = regimes.Select(r => r.Config).ToList();
        var device = Devices.Resolve(configs[0].Device);
        if (Devices.TypeName(device) != DeviceType)
            throw new InvalidOperationException($"{Label}: planned for {DeviceType}, but this machine resolves the regimes' device to {Devices.TypeName(device)}.");
        var widths = configs[0].Model.Widths;
        var infos = new List<RegimeInfo>();
        var weights = new Dictionary<string, RegimeWeights>();
        var activations = new Dictionary<string, RegimeActivations>();
        try
        {
            for (var i = 0; i < regimes.Count; i++)
            {
                var name = profile.Regimes[i].Name;
                var record = TrainingWork.RequireFinished(context.Read(regimes[i]), Label, $"regime {name} ({regimes[i].Label})");
                infos.Add(new RegimeInfo(name, record.Hash, record.Epochs.Count, record.Final.TrainAccuracy, record.Final.TestAccuracy, record.Final.TrainLoss));
                weights[name] = RegimeWeights.Load(name, record.CheckedWeights(context.FolderOf(regimes[i]), TrainingWork.WeightsFile), widths, device);
            }
            using var pool = TrialPool.ForConfig(configs[0], data(configs[0].Dataset), widths[^1], device);
            if (profile.Variants.Any(v => v.Variant == ProtocolVariant.SingleStep))
                foreach (var name in weights.Keys)
                    activations[name] = RegimeActivations.Compute(weights[name], pool);

            var mode = profile.Engine.ModeFor(DeviceType);
            var (workers, threads) = profile.Engine.ParallelismFor(device);
            var previousThreads = get_num_threads();
            if (threads != previousThreads) set_num_threads(threads);
            var checkpoint = new CompetitionCheckpoint(Path.Combine(context.Scratch, "blocks"), profile, Key.Hash, context.SetAside);
            var blocks = new BlockClock(profile.Seeds.SelectMany(s => profile.BatchSizes.Select(b => (s, b))).ToList());
            var clock = Stopwatch.StartNew();
            var seeds = new List<StoredSeed>();
            try
            {
                foreach (var seed in profile.Seeds)
                {
                    var cells = new Dictionary<CellKey, CellData>();
                    foreach (var b in profile.BatchSizes)
                    {
                        options.Cancel.ThrowIfCancellationRequested();
                        var block = checkpoint.TryLoad(seed, b, options.Log);
                        if (block is not null)
                        {
                            options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                                $"gradient competition ({profile.Profile}) seed {seed} B={b}: finished block reused ({checkpoint.PathOf(seed, b)})"));
                        }
                        else
                        {
                            block = RunBlock(profile, seed, b, pool, weights, activations, widths, mode, workers, options.Cancel);
                            checkpoint.Save(block);
                            options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                                $"gradient competition ({profile.Profile}) seed {seed} B={b}: {block.Seconds:F1} s wall ({string.Join(", ", profile.Variants.Select(v => $"{v.Variant.Name()} {block.Cells.Where(c => c.Key.Variant == v.Variant).Sum(c => c.Value.Seconds):F1}"))} worker-seconds)"));
                        }
                        foreach (var (k, cell) in block.Cells) cells[k] = cell;
                        blocks.Finished(b, block.Seconds);
                        options.Progress?.Report(new TrainingProgress(Key.Hash, Label, blocks.Done, blocks.Total, null, clock.Elapsed,
                            string.Create(CultureInfo.InvariantCulture, $"seed {seed} B={b} done, {blocks.DescribeTimeLeft()}"), Unit: "block"));
                    }
                    seeds.Add(new StoredSeed { Seed = seed, Cells = cells.Select(c => StoredCell.From(c.Key, c.Value)).ToList() });
                }
                if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
            }
            finally
            {
                if (threads != previousThreads) set_num_threads(previousThreads);
            }
            return new CompetitionStored
            {
                Profile = profile.Profile,
                Device = Devices.Describe(device),
                DeviceType = DeviceType,
                Arithmetic = Arithmetic,
                Seconds = blocks.Seconds,
                CompletedUtc = DateTime.UtcNow,
                Regimes = infos,
                Seeds = seeds,
            };
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

/// <summary>What the store keeps of a gradient-competition run: per trial seed and cell, the trials' norms and the value histogram's counts.</summary>
public sealed class CompetitionStored
{
    public string Profile { get; set; } = "";
    public string Device { get; set; } = "";
    public string DeviceType { get; set; } = "";
    /// <summary>The update mode and kernels of the literal steps (<see cref="TrialStack.Arithmetic"/>).</summary>
    public string Arithmetic { get; set; } = "";
    public double Seconds { get; set; }
    public DateTime CompletedUtc { get; set; }
    public List<RegimeInfo> Regimes { get; set; } = [];
    public List<StoredSeed> Seeds { get; set; } = [];

    /// <summary>The result back, each cell checked against <paramref name="profile"/>'s histogram.</summary>
    public CompetitionResult ToResult(CompetitionProfile profile)
    {
        var perSeed = new Dictionary<long, IReadOnlyDictionary<CellKey, CellData>>();
        foreach (var seed in Seeds)
        {
            var cells = new Dictionary<CellKey, CellData>();
            foreach (var c in seed.Cells)
            {
                var (k, cell) = c.ToCell(profile.Histogram, $"stored gradient-competition trials ({Profile})");
                cells[k] = cell;
            }
            perSeed[seed.Seed] = cells;
        }
        return new CompetitionResult(profile, Device, DeviceType, Regimes, perSeed, Seconds, Arithmetic, CompletedUtc);
    }
}

/// <summary>One trial seed's cells as stored.</summary>
public sealed class StoredSeed
{
    public long Seed { get; set; }
    public List<StoredCell> Cells { get; set; } = [];
}

/// <summary>One cell (variant, regime, batch size) as stored: its trials' norms and the value histogram's counts.</summary>
public sealed class StoredCell
{
    public string Variant { get; set; } = "";
    public string Regime { get; set; } = "";
    public int BatchSize { get; set; }
    public double Seconds { get; set; }
    public List<double> Norms { get; set; } = [];
    public List<long> Counts { get; set; } = [];

    public static StoredCell From(CellKey key, CellData cell) => new()
    {
        Variant = key.Variant.Name(),
        Regime = key.Regime,
        BatchSize = key.BatchSize,
        Seconds = cell.Seconds,
        Norms = cell.Norms.ToList(),
        Counts = cell.Values.Counts.ToList(),
    };

    /// <summary>The cell back, checked against the profile's histogram; <paramref name="path"/> names the file in errors.</summary>
    public (CellKey Key, CellData Cell) ToCell(LogBins bins, string path)
    {
        if (!ProtocolVariants.TryParse(Variant, out var variant))
            throw new InvalidDataException($"{path}: unknown variant '{Variant}'.");
        if (Counts.Count != bins.Slots)
            throw new InvalidDataException($"{path}: cell {Variant}/{Regime}/B={BatchSize} has {Counts.Count} histogram counts; the profile's histogram has {bins.Slots} slots.");
        return (new CellKey(variant, Regime, BatchSize), CellData.FromStored(bins, Norms, Counts, Seconds));
    }
}

/// <summary>
/// The finished (seed, batch size) blocks of one set of trials, one file each (<c>seed-&lt;s&gt;-b-&lt;B&gt;.json</c>,
/// written atomically), so that a run killed part way loses at most the block it was in. A block file that does not
/// belong to these trials (another hash), cannot be read or fails its SHA-256 is moved aside with its path logged (never
/// deleted, never used; into <paramref name="setAside"/> when given, else beside it) and the block runs again.
/// </summary>
public sealed class CompetitionCheckpoint(string folder, CompetitionProfile profile, string hash, string? setAside = null)
{
    public string Folder { get; } = Path.GetFullPath(folder);
    public string Hash { get; } = hash;

    public string PathOf(long seed, int batchSize) =>
        Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"seed-{seed}-b-{batchSize}.json"));

    /// <summary>
    /// The stored block, or null when it has not been finished. A block file that cannot be used (unreadable, failing its
    /// SHA-256, or another run's, seed's or batch size's) is moved aside with its path logged, never used, and null is
    /// returned so that the block runs again.
    /// </summary>
    public CompetitionBlock? TryLoad(long seed, int batchSize, Action<string>? log = null)
    {
        var path = PathOf(seed, batchSize);
        return File.Exists(path) ? SetAside.ReadOrMove(path, () => Read(path, seed, batchSize), log, "the block runs again.", setAside) : null;
    }

    /// <summary>Reads one block file, checking it belongs here; a <see cref="CorruptStateException"/> names the file and why not.</summary>
    public CompetitionBlock Read(string path, long seed, int batchSize)
    {
        CorruptStateException Bad(string why, Exception? inner = null) => new($"{path}: not a usable block of gradient-competition trials: {why}.", inner);
        StoredBlock stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredBlock>(File.ReadAllBytes(path), JsonDefaults.Options) ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw Bad($"unreadable ({e.Message})", e);
        }
        if (stored.FormatVersion != CompetitionWork.FormatVersion || stored.Hash != Hash || stored.Seed != seed || stored.BatchSize != batchSize)
            throw Bad(string.Create(CultureInfo.InvariantCulture,
                $"it holds format {stored.FormatVersion}, hash {stored.Hash}, seed {stored.Seed}, B={stored.BatchSize}; expected format {CompetitionWork.FormatVersion}, hash {Hash}, seed {seed}, B={batchSize}"));
        if (stored.Sha256 != Checksum(stored.Cells)) throw Bad("its cells do not match its SHA-256");
        var cells = new Dictionary<CellKey, CellData>();
        foreach (var c in stored.Cells)
        {
            CellKey key;
            CellData cell;
            try
            {
                (key, cell) = c.ToCell(profile.Histogram, path);
            }
            catch (InvalidDataException e)
            {
                throw Bad(e.Message, e);
            }
            if (key.BatchSize != batchSize) throw Bad($"a cell of B={key.BatchSize} in the block of B={batchSize}");
            cells[key] = cell;
        }
        return new CompetitionBlock(seed, batchSize, cells, stored.Seconds);
    }

    public void Save(CompetitionBlock block)
    {
        var cells = block.Cells.Select(c => StoredCell.From(c.Key, c.Value)).ToList();
        var stored = new StoredBlock
        {
            FormatVersion = CompetitionWork.FormatVersion,
            Hash = Hash,
            Seed = block.Seed,
            BatchSize = block.BatchSize,
            Seconds = block.Seconds,
            Sha256 = Checksum(cells),
            Cells = cells,
        };
        AtomicFile.WriteAllText(PathOf(block.Seed, block.BatchSize), JsonSerializer.Serialize(stored, JsonDefaults.Options));
    }

    private static string Checksum(List<StoredCell> cells) => Work.ContentSha256(cells, typeof(List<StoredCell>));

    /// <summary>Removes the block files once the whole result is stored.</summary>
    public void Delete()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }

    private sealed class StoredBlock
    {
        public int FormatVersion { get; set; }
        public string Hash { get; set; } = "";
        public long Seed { get; set; }
        public int BatchSize { get; set; }
        public double Seconds { get; set; }
        public string Sha256 { get; set; } = "";
        public List<StoredCell> Cells { get; set; } = [];
    }
}

/// <summary>The trials of one trial seed and batch size, every variant and regime: a unit of work that is kept when finished.</summary>
/// <param name="Seconds">Wall time of the block's trials.</param>
public sealed record CompetitionBlock(long Seed, int BatchSize, IReadOnlyDictionary<CellKey, CellData> Cells, double Seconds);
