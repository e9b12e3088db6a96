using System.Globalization;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>
/// Remembers a profile's trial results under <c>artifacts/gradient-competition/&lt;hash&gt;/result.json</c> (the hash of
/// everything that determines the numbers, <see cref="CompetitionProfile.Hash"/>): per seed and cell, the trials'
/// norms and the value histogram's counts. Asked for twice, the trials run once, as with the run store. While the
/// trials run, every finished (seed, batch size) block is kept under <c>&lt;hash&gt;/blocks/</c> (see
/// <see cref="CompetitionCheckpoint"/>), so a run killed part way resumes at the first unfinished block.
/// </summary>
public sealed class CompetitionStore(string root)
{
    public const int FormatVersion = 1;

    public string Root { get; } = Path.GetFullPath(root);

    public static CompetitionStore Default => new(Path.Combine(RepoPaths.Artifacts, "gradient-competition"));

    public string Folder(string hash) => Path.Combine(Root, hash);

    public CompetitionResult GetOrRun(CompetitionProfile profile, RunStore runs, Func<string, TrainingData>? data = null,
        Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var deviceType = Devices.Resolve(profile.RegimeConfig(profile.Regimes[0].Name).Device).type.ToString().ToLowerInvariant();
        var hash = profile.Hash(deviceType);
        if (TryLoad(profile, hash) is { } stored)
        {
            log?.Invoke($"gradient competition ({profile.Profile}): stored results {Folder(hash)} reused");
            return stored;
        }
        var checkpoint = new CompetitionCheckpoint(Path.Combine(Folder(hash), "blocks"), profile, hash);
        var result = CompetitionRunner.Run(profile, runs, data, log, progress, cancel, checkpoint);
        Save(result, hash);
        checkpoint.Delete();
        return result;
    }

    public CompetitionResult? TryLoad(CompetitionProfile profile, string hash)
    {
        var path = Path.Combine(Folder(hash), "result.json");
        if (!File.Exists(path)) return null;
        var stored = ReadJson<StoredResult>(path, "stored gradient-competition result", "Delete the folder to run the trials again.");
        if (stored.FormatVersion != FormatVersion || stored.Hash != hash) return null;
        var perSeed = new Dictionary<long, IReadOnlyDictionary<CellKey, CellData>>();
        foreach (var seed in stored.Seeds)
        {
            var cells = new Dictionary<CellKey, CellData>();
            foreach (var c in seed.Cells)
            {
                var (key, cell) = c.ToCell(profile.Histogram, path);
                cells[key] = cell;
            }
            perSeed[seed.Seed] = cells;
        }
        return new CompetitionResult(profile, stored.Device, stored.DeviceType, stored.Regimes, perSeed, stored.Seconds, stored.UpdateMode);
    }

    /// <summary>Reads a stored JSON file; an unreadable one stops with the file named, what it is and <paramref name="remedy"/>.</summary>
    internal static T ReadJson<T>(string path, string what, string remedy) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), JsonDefaults.Options) ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: {what} is unreadable ({e.Message}). {remedy}", e);
        }
    }

    public string Save(CompetitionResult result, string hash)
    {
        var stored = new StoredResult
        {
            FormatVersion = FormatVersion,
            Hash = hash,
            Profile = result.Profile.Profile,
            Device = result.Device,
            DeviceType = result.DeviceType,
            UpdateMode = result.UpdateMode,
            Seconds = result.Seconds,
            CreatedUtc = DateTime.UtcNow,
            Regimes = result.Regimes.ToList(),
            Seeds = result.PerSeed.Select(s => new StoredSeed
            {
                Seed = s.Key,
                Cells = s.Value.Select(c => StoredCell.From(c.Key, c.Value)).ToList(),
            }).ToList(),
        };
        var path = Path.Combine(Folder(hash), "result.json");
        Directory.CreateDirectory(Folder(hash));
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(stored, JsonDefaults.Options));
        return path;
    }

    private sealed class StoredResult
    {
        public int FormatVersion { get; set; }
        public string Hash { get; set; } = "";
        public string Profile { get; set; } = "";
        public string Device { get; set; } = "";
        public string DeviceType { get; set; } = "";
        public string UpdateMode { get; set; } = "";
        public double Seconds { get; set; }
        public DateTime CreatedUtc { get; set; }
        public List<RegimeInfo> Regimes { get; set; } = [];
        public List<StoredSeed> Seeds { get; set; } = [];
    }

    private sealed class StoredSeed
    {
        public long Seed { get; set; }
        public List<StoredCell> Cells { get; set; } = [];
    }

}

/// <summary>One cell (variant, regime, batch size) as stored: its trials' norms and the value histogram's counts.</summary>
internal sealed class StoredCell
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
/// belong to these trials (another hash), or cannot be read, stops the run with the file named: nothing is thrown away
/// silently.
/// </summary>
public sealed class CompetitionCheckpoint(string folder, CompetitionProfile profile, string hash)
{
    public string Folder { get; } = Path.GetFullPath(folder);
    public string Hash { get; } = hash;

    public string PathOf(long seed, int batchSize) =>
        Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"seed-{seed}-b-{batchSize}.json"));

    /// <summary>The stored block, or null when it has not been finished.</summary>
    public CompetitionBlock? TryLoad(long seed, int batchSize)
    {
        var path = PathOf(seed, batchSize);
        if (!File.Exists(path)) return null;
        var stored = CompetitionStore.ReadJson<StoredBlock>(path, "stored block of gradient-competition trials", "Delete the file to run that block again.");
        if (stored.FormatVersion != CompetitionStore.FormatVersion || stored.Hash != Hash || stored.Seed != seed || stored.BatchSize != batchSize)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: holds format {stored.FormatVersion}, hash {stored.Hash}, seed {stored.Seed}, B={stored.BatchSize}; expected format {CompetitionStore.FormatVersion}, hash {Hash}, seed {seed}, B={batchSize}. Delete the file to run that block again."));
        var cells = new Dictionary<CellKey, CellData>();
        foreach (var c in stored.Cells)
        {
            var (key, cell) = c.ToCell(profile.Histogram, path);
            if (key.BatchSize != batchSize)
                throw new InvalidDataException($"{path}: a cell of B={key.BatchSize} in the block of B={batchSize}.");
            cells[key] = cell;
        }
        return new CompetitionBlock(seed, batchSize, cells, stored.Seconds);
    }

    public void Save(CompetitionBlock block)
    {
        var stored = new StoredBlock
        {
            FormatVersion = CompetitionStore.FormatVersion,
            Hash = Hash,
            Seed = block.Seed,
            BatchSize = block.BatchSize,
            Seconds = block.Seconds,
            Cells = block.Cells.Select(c => StoredCell.From(c.Key, c.Value)).ToList(),
        };
        AtomicFile.WriteAllText(PathOf(block.Seed, block.BatchSize), JsonSerializer.Serialize(stored, JsonDefaults.Options));
    }

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
        public List<StoredCell> Cells { get; set; } = [];
    }
}

/// <summary>The trials of one trial seed and batch size, every variant and regime: a unit of work that is kept when finished.</summary>
/// <param name="Seconds">Wall time of the block's trials.</param>
public sealed record CompetitionBlock(long Seed, int BatchSize, IReadOnlyDictionary<CellKey, CellData> Cells, double Seconds);
