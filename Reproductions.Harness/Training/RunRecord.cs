namespace Reproductions.Harness.Training;

/// <summary>How a stored run ended.</summary>
public enum RunStatus
{
    /// <summary>Every epoch of its config trained: a result.</summary>
    Finished,
    /// <summary>Stopped when its loss or weights became non-finite or its loss rose past its bound: an outcome, never a result.</summary>
    Diverged,
}

/// <summary>Where and why a run diverged.</summary>
/// <param name="Epoch">The epoch (1-based) after which it was stopped.</param>
/// <param name="LastFiniteLoss">The last finite training loss it measured (NaN when none was).</param>
public sealed record Divergence(int Epoch, string Reason, double LastFiniteLoss);

/// <summary>
/// A run as stored: its config, the device it ran on, its per-epoch metrics, and how it ended (<see cref="Status"/>:
/// finished, or diverged at <see cref="Divergence"/>). Only a finished run is a result; every consumer but one that asks
/// for divergence refuses a diverged one.
/// </summary>
public sealed record RunRecord
{
    public RunStatus Status { get; init; } = RunStatus.Finished;
    public Divergence? Divergence { get; init; }

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

    /// <summary>The epochs whose weights are kept beside the result (<see cref="TrainingConfig.KeepWeights"/>); null: the final weights only.</summary>
    public List<int>? WeightEpochs { get; init; }

    /// <summary>
    /// The SHA-256 of each weights file beside the result, by file name (<see cref="Protocols.TrainingWork.WeightsFile"/>,
    /// the kept epochs'), so that the units reading them (sharpness, the competition's regimes) load only what the run
    /// wrote. Null in results stored before it was recorded: their weights are read unchecked.
    /// </summary>
    public Dictionary<string, string>? WeightsSha256 { get; init; }

    /// <summary>
    /// The path of weights file <paramref name="file"/> in <paramref name="folder"/>, the run's result folder, once its
    /// content is checked against <see cref="WeightsSha256"/> (<see cref="CheckedWeights(IReadOnlyDictionary{string, string}?, string, string, string)"/>).
    /// </summary>
    public string CheckedWeights(string folder, string file) => CheckedWeights(WeightsSha256, folder, file, $"run {Hash}'s result");

    /// <summary>
    /// The path of weights file <paramref name="file"/> in <paramref name="folder"/> once its content is checked against
    /// <paramref name="hashes"/>, the SHA-256 by file name that <paramref name="recorder"/> ("run ...'s result") stores: a file
    /// that changed after it was stored is a corrupt state error naming it (exit 5), never loaded or copied. Unchecked where
    /// no hash is recorded (a result stored before weights were checksummed).
    /// </summary>
    public static string CheckedWeights(IReadOnlyDictionary<string, string>? hashes, string folder, string file, string recorder) =>
        WeightsProblem(hashes, folder, file, recorder) is { } problem
            ? throw new Infrastructure.CorruptStateException(
                $"{problem} Move {Path.Combine(folder, Store.ExperimentStore.ResultFile)} aside (keep it, or delete it): the unit that stored it then runs again and writes its weights anew.")
            : Path.Combine(folder, file);

    /// <summary>
    /// What is wrong with weights file <paramref name="file"/> in <paramref name="folder"/> against the SHA-256 that
    /// <paramref name="recorder"/> records for it in <paramref name="hashes"/> (null: it matches, or none is recorded, or
    /// none is recorded): a recorded file that is not there, or one whose SHA-256 differs from the recorded one.
    /// </summary>
    public static string? WeightsProblem(IReadOnlyDictionary<string, string>? hashes, string folder, string file, string recorder)
    {
        var path = Path.Combine(folder, file);
        if (hashes is null || !hashes.TryGetValue(file, out var expected)) return null;
        if (!File.Exists(path)) return $"{path}: {recorder} records its SHA-256, but the weights file is not there.";
        var actual = Data.Checksums.Sha256Hex(File.ReadAllBytes(path));
        return string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase) ? null
            : $"{path}: its SHA-256 is {actual}, but {recorder} records {expected}: the weights file changed after it was stored.";
    }

    /// <summary>The SHA-256 of each of <paramref name="files"/> in <paramref name="folder"/>, by file name.</summary>
    public static Dictionary<string, string> HashWeights(string folder, IEnumerable<string> files) =>
        files.Distinct(StringComparer.Ordinal).ToDictionary(f => f, f => Data.Checksums.Sha256Hex(File.ReadAllBytes(Path.Combine(folder, f))), StringComparer.Ordinal);

    /// <summary>Whether the run stopped because its training accuracy reached the config's target (rather than running out of epochs). Derived, so not stored (nor in the result's checksum).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ReachedTarget => Config.StopAtTrainAccuracy is { } target && Epochs.Count > 0 && Epochs[^1].TrainAccuracy >= target;

    /// <summary>The file of the weights kept at <paramref name="epoch"/>, beside the result.</summary>
    public static string WeightsFileAt(int epoch) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"weights-epoch-{epoch:D5}.weights");

    public EpochMetrics Final => Epochs.Count > 0 ? Epochs[^1] : throw new InvalidOperationException($"run {Hash} has no epochs.");

    /// <summary>What is wrong with this record as the stored result of <paramref name="config"/> (null: nothing).</summary>
    public string? Problem(TrainingConfig config, string hash)
    {
        if (Hash != hash) return $"it holds run {Hash}, not {hash}";
        if (Epochs.Count == 0) return "it holds no epochs";
        if (Status == RunStatus.Finished && Epochs.Count != config.TotalEpochs && !(Epochs.Count < config.TotalEpochs && ReachedTarget))
            return $"it holds {Epochs.Count} epochs of a finished run, the config has {config.TotalEpochs}" +
                   (config.StopAtTrainAccuracy is { } t ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" and its last training accuracy {Epochs[^1].TrainAccuracy:G4} is below the target {t:G4}") : "");
        if (config.KeepWeights is { } keep && Status == RunStatus.Finished &&
            (WeightEpochs is null || !WeightEpochs.SequenceEqual(TrainingConfig.KeptEpochs(Epochs.Count, keep))))
            return $"it keeps the weights of epochs [{string.Join(", ", WeightEpochs ?? [])}], the config asks for [{string.Join(", ", TrainingConfig.KeptEpochs(Epochs.Count, keep))}]";
        if (Status == RunStatus.Diverged && Divergence is null) return "it is marked diverged without saying where";
        for (var i = 0; i < Epochs.Count; i++)
            if (Epochs[i].Epoch != i + 1) return $"its epoch {i + 1} is numbered {Epochs[i].Epoch}";
        if (!double.IsFinite(InitialWeightNorm) || !double.IsFinite(InitialBiasNorm) || !double.IsFinite(TrainingSeconds))
            return "its initial norms or training time are not finite numbers";
        // A run is stopped at the first epoch whose numbers are not finite (diverged): only that last epoch of a diverged run may hold them.
        var finite = Status == RunStatus.Diverged ? Epochs.Count - 1 : Epochs.Count;
        for (var i = 0; i < finite; i++)
            if (EpochProblem(Epochs[i], config) is { } problem)
                return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"its epoch {i + 1} {problem}");
        return null;
    }

    /// <summary>
    /// What is impossible in a finished epoch's numbers: its geometry and times are finite; an evaluated epoch (every
    /// <see cref="EvaluationConfig.Interval"/>th and the last of the config) has finite losses and accuracies in [0, 1],
    /// another has none (NaN).
    /// </summary>
    private static string? EpochProblem(EpochMetrics e, TrainingConfig config)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        double[] geometry = [e.LearningRate, e.WeightDistance, e.BiasDistance, e.WeightNorm, e.BiasNorm, e.TrainSeconds, e.EvalSeconds, .. e.LayerCosines];
        if (geometry.Any(v => !double.IsFinite(v))) return "holds a learning rate, distance, norm, cosine or time that is not a finite number";
        var evaluated = e.Epoch % Math.Max(1, config.Evaluation.Interval) == 0 || e.Epoch == config.TotalEpochs;
        (string Name, double Value, bool Accuracy)[] measured =
            [("trainLoss", e.TrainLoss, false), ("trainAccuracy", e.TrainAccuracy, true), ("testLoss", e.TestLoss, false), ("testAccuracy", e.TestAccuracy, true)];
        foreach (var (name, value, accuracy) in measured)
        {
            if (!evaluated && double.IsNaN(value)) continue;
            if (!double.IsFinite(value) || value < 0 || (accuracy && value > 1))
                return string.Create(c, $"holds {name} {value:R}; expected {(accuracy ? "an accuracy in [0, 1]" : "a finite loss >= 0")}");
        }
        return null;
    }
}

/// <summary>
/// One report of a long job's progress: <paramref name="Epoch"/> of <paramref name="TotalEpochs"/> units done (epochs of a
/// training run; <paramref name="Unit"/> names other units, e.g. the gradient competition's blocks of trials).
/// </summary>
public sealed record TrainingProgress(string Hash, string Label, int Epoch, int TotalEpochs, EpochMetrics? Last, TimeSpan Elapsed, string Status,
    string Unit = "epoch");
