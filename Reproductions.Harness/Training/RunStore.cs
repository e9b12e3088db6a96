using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Training;

/// <summary>A finished run as stored: its config, the device it ran on, and its per-epoch metrics.</summary>
public sealed record RunRecord
{
    public required string Hash { get; init; }
    public required int FormatVersion { get; init; }
    public required TrainingConfig Config { get; init; }
    public required string Device { get; init; }
    public required string DeviceDetail { get; init; }
    public required List<EpochMetrics> Epochs { get; init; }
    /// <summary>L2 norm of all weights and of all biases at init, before the first step.</summary>
    public required double InitialWeightNorm { get; init; }
    public required double InitialBiasNorm { get; init; }
    public required DateTime CompletedUtc { get; init; }
    /// <summary>Wall time of the training that produced this record, across resumptions (checkpoint I/O excluded).</summary>
    public required double TrainingSeconds { get; init; }
    /// <summary>Epochs that were restored from a checkpoint rather than trained in the final session.</summary>
    public required int ResumedFromEpoch { get; init; }

    public EpochMetrics Final => Epochs[^1];
}

/// <summary>
/// One report of a long job's progress: <paramref name="Epoch"/> of <paramref name="TotalEpochs"/> units done (epochs of a
/// training run; <paramref name="Unit"/> names other units, e.g. the gradient competition's blocks of trials).
/// </summary>
public sealed record TrainingProgress(string Hash, string Label, int Epoch, int TotalEpochs, EpochMetrics? Last, TimeSpan Elapsed, string Status,
    string Unit = "epoch");

/// <summary>
/// Remembers every run under <c>artifacts/runs/&lt;hash&gt;/</c>, keyed by the hash of its full config, the device it
/// runs on and <see cref="FormatVersion"/>. A run asked for twice is trained once. While training, a checkpoint is
/// written after every epoch; a run killed part way resumes from its last finished epoch.
/// </summary>
public sealed class RunStore(string root)
{
    /// <summary>Bump when the trainer or the metrics change meaning: old runs then no longer match.</summary>
    public const int FormatVersion = 2;

    private static readonly ConcurrentDictionary<string, object> InProcessLocks = new();

    public string Root { get; } = Path.GetFullPath(root);

    public static RunStore Default => new(Path.Combine(RepoPaths.Artifacts, "runs"));

    public string Folder(string hash) => Path.Combine(Root, hash);

    /// <summary>The run's key: SHA-256 over the canonical JSON of the config (device resolved) and the format version.</summary>
    public static string Hash(TrainingConfig config) => Hash(config, Devices.Resolve(config.Device).type.ToString().ToLowerInvariant());

    /// <summary>
    /// The key the run has when trained on <paramref name="device"/> ("cpu", "cuda"), whether or not this machine has
    /// that device: the report looks runs up under every device type (runs trained on a GPU, read on a CPU machine).
    /// </summary>
    public static string Hash(TrainingConfig config, string device)
    {
        // Runs that the hand-formed small-batch step trains (SmallBatchSgd) round differently from autograd's: keyed apart.
        var canonical = SmallBatchSgd.KindFor(config, device) is { } step
            ? JsonSerializer.Serialize(new { formatVersion = FormatVersion, device, step, config }, JsonDefaults.Options)
            : JsonSerializer.Serialize(new { formatVersion = FormatVersion, device, config }, JsonDefaults.Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    public bool TryLoad(string hash, out RunRecord record)
    {
        var path = Path.Combine(Folder(hash), "result.json");
        record = null!;
        if (!File.Exists(path)) return false;
        try
        {
            record = JsonSerializer.Deserialize<RunRecord>(File.ReadAllBytes(path), JsonDefaults.Options)
                     ?? throw new InvalidDataException("empty");
            return record.FormatVersion == FormatVersion;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: stored run is unreadable ({e.Message}). Delete the folder to train it again.", e);
        }
    }

    /// <summary>Returns the stored run for <paramref name="config"/>, training (or resuming) it first if needed.</summary>
    public RunRecord GetOrTrain(TrainingConfig config, Func<string, TrainingData> data, string label = "",
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var hash = Hash(config);
        lock (InProcessLocks.GetOrAdd(hash, _ => new object()))
        {
            if (TryLoad(hash, out var stored))
            {
                progress?.Report(new TrainingProgress(hash, label, stored.Epochs.Count, stored.Epochs.Count, stored.Final, TimeSpan.Zero, "stored"));
                return stored;
            }
            var folder = Folder(hash);
            Directory.CreateDirectory(folder);
            using var fileLock = AcquireFileLock(Path.Combine(folder, ".lock"), cancel);
            if (TryLoad(hash, out stored)) return stored; // another process finished it while we waited
            return Train(hash, folder, config, data(config.Dataset), label, progress, cancel);
        }
    }

    private RunRecord Train(string hash, string folder, TrainingConfig config, TrainingData data, string label,
        IProgress<TrainingProgress>? progress, CancellationToken cancel)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config, JsonDefaults.Options));
        var checkpoint = Path.Combine(folder, "checkpoint.bin");
        using var session = new TrainingSession(config, data);
        var resumedFrom = 0;
        if (File.Exists(checkpoint))
        {
            session.LoadCheckpoint(checkpoint);
            resumedFrom = session.CompletedEpochs;
        }
        var clock = Stopwatch.StartNew();
        var earlier = session.History.Sum(e => e.TrainSeconds + e.EvalSeconds);
        progress?.Report(new TrainingProgress(hash, label, session.CompletedEpochs, config.TotalEpochs, session.History.LastOrDefault(),
            TimeSpan.Zero, resumedFrom > 0 ? $"resumed at epoch {resumedFrom}" : "training"));
        while (!session.Finished)
        {
            cancel.ThrowIfCancellationRequested();
            var metrics = session.RunEpoch();
            session.SaveCheckpoint(checkpoint);
            progress?.Report(new TrainingProgress(hash, label, metrics.Epoch, config.TotalEpochs, metrics, clock.Elapsed, "training"));
        }
        session.SaveWeights(Path.Combine(folder, "final.weights"));
        var record = new RunRecord
        {
            Hash = hash,
            FormatVersion = FormatVersion,
            Config = config,
            Device = session.Device.type.ToString().ToLowerInvariant(),
            DeviceDetail = Devices.Describe(session.Device),
            Epochs = session.History.ToList(),
            InitialWeightNorm = session.InitialWeightNorm,
            InitialBiasNorm = session.InitialBiasNorm,
            CompletedUtc = DateTime.UtcNow,
            TrainingSeconds = earlier + clock.Elapsed.TotalSeconds,
            ResumedFromEpoch = resumedFrom,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "result.json"), JsonSerializer.Serialize(record, JsonDefaults.Options));
        File.Delete(checkpoint);
        return record;
    }

    private static FileStream AcquireFileLock(string path, CancellationToken cancel)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                cancel.ThrowIfCancellationRequested();
                Thread.Sleep(500); // another process is training this run; wait for it
            }
        }
    }
}
