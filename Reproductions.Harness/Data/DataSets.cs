using System.Collections.Concurrent;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Data;

/// <summary>
/// The process-wide cache of loaded datasets: each is fetched, verified and parsed once per process, then shared
/// (read-only) by every training run. <see cref="Log"/> receives what the source chain reports.
/// </summary>
public static class DataSets
{
    private static readonly ConcurrentDictionary<string, Lazy<TrainingData>> Cache = new(StringComparer.OrdinalIgnoreCase);

    public static Action<string>? Log { get; set; }

    /// <summary>Whether the other sources may stand in for a folder the user named (REPRO_MNIST_DIR, ...) that fails verification.</summary>
    public static bool AllowFallback { get; set; }

    public static TrainingData Get(string name) =>
        Cache.GetOrAdd(name, n => new Lazy<TrainingData>(() => Load(n), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static TrainingData Load(string name)
    {
        // The splits' tensors are handed to TrainingData, which lives as long as the process.
        var loaded = DatasetLoader.Load(name, new DatasetLoadOptions { Log = Log, AllowFallback = AllowFallback });
        var origin = $"{loaded.Name}: train from {loaded.Train.ImagesSource}, test from {loaded.Test.ImagesSource} (SHA-256 verified)";
        return new TrainingData(loaded.Name, loaded.Train.Images, loaded.Train.Labels, loaded.Test.Images, loaded.Test.Labels, origin);
    }
}
