using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>
/// Remembers a profile's trial results under <c>artifacts/gradient-competition/&lt;hash&gt;/result.json</c> (the hash of
/// everything that determines the numbers, <see cref="CompetitionProfile.Hash"/>): per seed and cell, the trials'
/// norms and the value histogram's counts. Asked for twice, the trials run once, as with the run store.
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
        var result = CompetitionRunner.Run(profile, runs, data, log, progress, cancel);
        Save(result, hash);
        return result;
    }

    public CompetitionResult? TryLoad(CompetitionProfile profile, string hash)
    {
        var path = Path.Combine(Folder(hash), "result.json");
        if (!File.Exists(path)) return null;
        StoredResult stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredResult>(File.ReadAllBytes(path), JsonDefaults.Options)
                     ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: stored gradient-competition result is unreadable ({e.Message}). Delete the folder to run the trials again.", e);
        }
        if (stored.FormatVersion != FormatVersion || stored.Hash != hash) return null;
        var perSeed = new Dictionary<long, IReadOnlyDictionary<CellKey, CellData>>();
        foreach (var seed in stored.Seeds)
        {
            var cells = new Dictionary<CellKey, CellData>();
            foreach (var c in seed.Cells)
            {
                if (!ProtocolVariants.TryParse(c.Variant, out var variant))
                    throw new InvalidDataException($"{path}: unknown variant '{c.Variant}'.");
                cells[new CellKey(variant, c.Regime, c.BatchSize)] = CellData.FromStored(profile.Histogram, c.Norms, c.Counts, c.Seconds);
            }
            perSeed[seed.Seed] = cells;
        }
        return new CompetitionResult(profile, stored.Device, stored.DeviceType, stored.Regimes, perSeed, stored.Seconds, stored.UpdateMode);
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
                Cells = s.Value.Select(c => new StoredCell
                {
                    Variant = c.Key.Variant.Name(),
                    Regime = c.Key.Regime,
                    BatchSize = c.Key.BatchSize,
                    Seconds = c.Value.Seconds,
                    Norms = c.Value.Norms.ToList(),
                    Counts = c.Value.Values.Counts.ToList(),
                }).ToList(),
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

    private sealed class StoredCell
    {
        public string Variant { get; set; } = "";
        public string Regime { get; set; } = "";
        public int BatchSize { get; set; }
        public double Seconds { get; set; }
        public List<double> Norms { get; set; } = [];
        public List<long> Counts { get; set; } = [];
    }
}
