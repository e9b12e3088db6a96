using Reproductions.Harness.Training;

namespace Reproductions.Harness.Experiments;

/// <summary>The stored runs of one finding's profile: for each named run, one record per seed (in seed order).</summary>
public sealed record FindingRuns(FindingProfile Profile, IReadOnlyDictionary<string, IReadOnlyList<RunRecord>> Runs)
{
    public IReadOnlyList<RunRecord> this[string run] =>
        Runs.TryGetValue(run, out var records) ? records
            : throw new KeyNotFoundException($"{Profile.Finding} ({Profile.Profile}) has no run '{run}'.");

    /// <summary>The final-epoch value of <paramref name="metric"/> for every seed of <paramref name="run"/>.</summary>
    public double[] Final(string run, Func<EpochMetrics, double> metric) => this[run].Select(r => metric(r.Final)).ToArray();
}

/// <summary>Runs every (run, seed) of a finding's profile through the run store; stored runs are not trained again.</summary>
public static class FindingRunner
{
    public static FindingRuns Run(FindingProfile profile, RunStore store, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancel = default, Func<string, TrainingData>? data = null)
    {
        var runs = new Dictionary<string, IReadOnlyList<RunRecord>>(StringComparer.OrdinalIgnoreCase);
        foreach (var run in profile.Runs)
        {
            var records = new List<RunRecord>();
            foreach (var seed in profile.Seeds)
            {
                var label = $"{profile.Finding} {profile.Profile} {run.Name} seed {seed}";
                records.Add(store.GetOrTrain(run.ForSeed(seed), data ?? DataSets.Get, label, progress, cancel));
            }
            runs[run.Name] = records;
        }
        return new FindingRuns(profile, runs);
    }

    /// <summary>
    /// The profile's runs as far as the store holds them, training nothing (the report is rebuilt this way).
    /// A run appears only when every seed of it is stored; <paramref name="missing"/> names the rest.
    /// <paramref name="device"/> ("cpu", "cuda") reads the runs trained on that device type; default: this machine's.
    /// </summary>
    public static FindingRuns Stored(FindingProfile profile, RunStore store, out IReadOnlyList<string> missing, string? device = null)
    {
        var runs = new Dictionary<string, IReadOnlyList<RunRecord>>(StringComparer.OrdinalIgnoreCase);
        var absent = new List<string>();
        foreach (var run in profile.Runs)
        {
            var records = new List<RunRecord>();
            foreach (var seed in profile.Seeds)
            {
                var config = run.ForSeed(seed);
                var hash = device is null ? RunStore.Hash(config) : RunStore.Hash(config, device);
                if (store.TryLoad(hash, out var record)) records.Add(record);
            }
            if (records.Count == profile.Seeds.Count) runs[run.Name] = records;
            else absent.Add(run.Name);
        }
        missing = absent;
        return new FindingRuns(profile, runs);
    }
}
