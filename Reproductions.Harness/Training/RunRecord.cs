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
