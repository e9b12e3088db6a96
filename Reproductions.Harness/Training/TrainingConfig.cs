namespace Reproductions.Harness.Training;

public enum Preprocessing
{
    /// <summary>Pixels scaled to [0, 1], then standardised with MNIST's mean 0.1307 and std 0.3081 (PyTorch's MNIST example).</summary>
    Standardize,
    /// <summary>Pixels scaled to [0, 1] only.</summary>
    Unit,
}

public enum InitScheme
{
    /// <summary>Xavier/Glorot uniform weights (variance 2 / (fan_in + fan_out)), zero biases: the blog's init (weight norm about 44).</summary>
    XavierZero,
    /// <summary>PyTorch's default nn.Linear init: weights and biases uniform in +-1/sqrt(fan_in) (weight norm about 26).</summary>
    TorchDefault,
}

public enum OptimizerKind { Sgd, Adam }

public enum LossReduction { Mean, Sum }

public enum DeviceChoice { Auto, Cpu, Cuda }

/// <summary>One training phase: a stretch of epochs at a fixed batch size and learning rate.</summary>
public sealed class PhaseConfig
{
    public int Epochs { get; set; }
    public int BatchSize { get; set; }
    public double LearningRate { get; set; }
    /// <summary>
    /// Gradual warm-up over this many epochs at the start of the phase (0: none), as Goyal et al. (2017) define it: per
    /// step, the rate rises linearly from <see cref="WarmupFrom"/> at the first step to <see cref="LearningRate"/> at the
    /// step after the warm-up.
    /// </summary>
    public double WarmupEpochs { get; set; }

    /// <summary>The rate of the warm-up's first step (Goyal et al.: the small-batch base rate, e.g. 0.01); required with a warm-up.</summary>
    public double? WarmupFrom { get; set; }

    /// <summary>
    /// Gradient accumulation: each batch of <see cref="BatchSize"/> rows is formed as this many micro-batches of
    /// ceil(batchSize / accumulation) rows (the epoch's last, partial batch into as many of that size as it needs), each
    /// micro-batch's loss weighted by its share of the batch's rows, and one optimiser step per batch. Null or 1: none.
    /// </summary>
    public int? Accumulation { get; set; }

    /// <summary>Rows per micro-batch: the batch size without accumulation. Derived, so not part of the config's JSON (nor its hash).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int MicroBatchSize => (BatchSize + (Accumulation ?? 1) - 1) / (Accumulation ?? 1);

    /// <summary>The rate of step <paramref name="stepInPhase"/> (0-based within the phase), warm-up included.</summary>
    public double RateAt(long stepInPhase, long stepsPerEpoch)
    {
        var warmupSteps = (long)Math.Round(WarmupEpochs * stepsPerEpoch);
        if (warmupSteps <= 0 || stepInPhase >= warmupSteps) return LearningRate;
        var from = WarmupFrom ?? throw new InvalidOperationException("a warm-up needs warmupFrom");
        return from + (LearningRate - from) * stepInPhase / warmupSteps;
    }
}

public sealed class ModelConfig
{
    /// <summary>Layer widths, input first: 784, 1024, 1024, 10 is the blog's MLP.</summary>
    public int[] Widths { get; set; } = [];
    public InitScheme Init { get; set; } = InitScheme.XavierZero;
}

public sealed class OptimizerConfig
{
    public OptimizerKind Kind { get; set; } = OptimizerKind.Sgd;
    public double Momentum { get; set; }
    public double Beta1 { get; set; } = 0.9;
    public double Beta2 { get; set; } = 0.999;
    public double Epsilon { get; set; } = 1e-8;
}

public sealed class EvaluationConfig
{
    /// <summary>Rows per forward pass when measuring accuracy and loss.</summary>
    public int ChunkSize { get; set; } = 10000;
    /// <summary>When set, train accuracy and loss are measured on a fixed, seeded subset of this many training samples.</summary>
    public int? TrainSubset { get; set; }
    /// <summary>
    /// Measure accuracy and loss every this many epochs (and always at the last epoch); other epochs record NaN for
    /// them. Weight geometry is measured every epoch. For long runs (F10), where evaluation would dominate.
    /// </summary>
    public int Interval { get; set; } = 1;
}

/// <summary>
/// Everything that determines one training run. Bound from configs/*.json (see <see cref="ConfigLoader"/>);
/// its canonical JSON, hashed, is the run's key in the run store.
/// </summary>
public sealed class TrainingConfig
{
    public string Dataset { get; set; } = "mnist";
    public Preprocessing Preprocessing { get; set; } = Preprocessing.Standardize;
    /// <summary>When set, training uses a fixed, seeded subset of this many training samples.</summary>
    public int? TrainSamples { get; set; }
    public ModelConfig Model { get; set; } = new();
    public OptimizerConfig Optimizer { get; set; } = new();
    public LossReduction LossReduction { get; set; } = LossReduction.Mean;
    public List<PhaseConfig> Phases { get; set; } = [];
    public EvaluationConfig Evaluation { get; set; } = new();
    public long Seed { get; set; }
    public DeviceChoice Device { get; set; } = DeviceChoice.Auto;

    /// <summary>
    /// A run whose evaluated training loss rises above this many times its first evaluated epoch's (or a uniform guess's, ln classes, when lower) is stopped as diverged
    /// (as is one whose loss or weights become non-finite). Null: the default, <see cref="DefaultDivergenceLossFactor"/>
    /// (left out of the run's hash when not set, so runs without it keep theirs).
    /// </summary>
    public double? DivergenceLossFactor { get; set; }

    public const double DefaultDivergenceLossFactor = 10;

    /// <summary>
    /// Stop after the first epoch whose training accuracy reaches this fraction (Keskar et al. trained until 99.5%), or
    /// when the phases' epochs run out, whichever comes first. Null: every epoch trains (left out of the hash when not set).
    /// </summary>
    public double? StopAtTrainAccuracy { get; set; }

    /// <summary>
    /// Keep the weights of about this many points of the run beside its result (<c>weights-epoch-NNNNN.weights</c>): the
    /// init (epoch 0), the last epoch and epochs spread evenly in log(epoch) between (<see cref="KeptEpochs"/>), for
    /// measurements along training. Null: the final weights only (left out of the hash when not set).
    /// </summary>
    public int? KeepWeights { get; set; }

    /// <summary>
    /// Train this run as one model of a stack (<see cref="StackedSession"/>): with every other run of its finding profile that
    /// asks for it and shares its schedule (<see cref="StackSchedule"/>; the seeds of a run, runs that differ only in their
    /// learning rates), on the CPU with those of every finding run together (<see cref="Protocols.StackPool"/>); weights
    /// [models, in, out] stepped by batched products. Stacking changes float rounding, so it is part of the run's hash (on
    /// CUDA with the stack's size, <see cref="Protocols.StackWork.SizeFree"/>). False (the default): the run trains alone
    /// (left out of the hash, so runs that do not stack keep their keys).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Stack { get; set; }

    /// <summary>The epochs whose weights a run of <paramref name="epochs"/> epochs keeps for <paramref name="keep"/> points: every one when they fit, else 0, 1, ..., epochs spread in log(epoch).</summary>
    public static IReadOnlyList<int> KeptEpochs(int epochs, int keep)
    {
        if (epochs + 1 <= keep) return Enumerable.Range(0, epochs + 1).ToList();
        var spread = Enumerable.Range(0, keep - 1).Select(i => (int)Math.Round(Math.Exp(Math.Log(epochs) * i / (keep - 2))));
        return spread.Prepend(0).Append(epochs).Distinct().Order().ToList();
    }

    public int TotalEpochs => Phases.Sum(p => p.Epochs);

    /// <summary>The phase an epoch (0-based over the run) belongs to, and the epoch's index inside that phase.</summary>
    public (int Phase, int EpochInPhase) Locate(int epoch)
    {
        var start = 0;
        for (var p = 0; p < Phases.Count; p++)
        {
            if (epoch < start + Phases[p].Epochs) return (p, epoch - start);
            start += Phases[p].Epochs;
        }
        throw new InvalidOperationException($"Epoch {epoch + 1} is past the run's {TotalEpochs} epochs.");
    }
}
