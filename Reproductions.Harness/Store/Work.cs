using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Store;

/// <summary>Where a unit of work is stored: <c>&lt;store&gt;/&lt;dataset&gt;/&lt;kind&gt;/&lt;hash&gt;/</c>.</summary>
/// <param name="Dataset">The dataset the work reads (mnist, fashion-mnist).</param>
/// <param name="Kind">The protocol kind that formed it (training, gradient-competition, ...).</param>
/// <param name="Hash">The content hash of everything that determines its numbers.</param>
public sealed record StoreKey(string Dataset, string Kind, string Hash)
{
    public override string ToString() => $"{Dataset}/{Kind}/{Hash}";
}

/// <summary>
/// One unit of work of a protocol: a training run, a set of gradient-competition trials, ... Its <see cref="Key"/> is a
/// content hash of everything that changes its numbers (config, device type, every arithmetic choice, and the hashes of
/// what it reads), so a unit asked for twice runs once. <see cref="Reads"/> are the units whose stored results it
/// uses; the store runs them first.
/// </summary>
public abstract class Work
{
    public abstract StoreKey Key { get; }

    /// <summary>The device type the work runs on ("cpu", "cuda"); part of <see cref="Key"/>.</summary>
    public abstract string DeviceType { get; }

    /// <summary>A short human name for progress lines and messages, e.g. "F01 quick bs64 seed 1".</summary>
    public abstract string Label { get; }

    /// <summary>The units whose stored results this one reads (their hashes are part of its own).</summary>
    public virtual IReadOnlyList<Work> Reads => [];

    /// <summary>The type of the stored result (serialised with <see cref="JsonDefaults"/>).</summary>
    public abstract Type ResultType { get; }

    /// <summary>Runs the work (resuming from <see cref="WorkContext.Scratch"/> when an earlier run was stopped) and returns its result.</summary>
    public abstract object RunUntyped(WorkContext context);

    /// <summary>
    /// The unit's estimated work in sample passes (a forward and backward pass of one sample; <see cref="Passes"/>), at least
    /// 1: what <see cref="RunSet.Split"/> balances shards by. An estimate from the settings alone, never a timing.
    /// </summary>
    public virtual double Cost => 1;

    /// <summary>
    /// Whether <see cref="Cost"/> prices the unit's time as passes of the trainer's own steps (forward and backward at a large
    /// batch): true where the work is such passes (the sharpness measurements, the parametric line); false where an engine of
    /// its own does it, whose passes cost something else (the gradient competition's stacked trials). The run-set estimate
    /// (<c>reproduce --estimate</c>) prices the first by passes and names the second as not estimated.
    /// </summary>
    public virtual bool CostIsTrainerPasses => true;

    /// <summary>
    /// What a step costs on <paramref name="deviceType"/> beyond its rows, in samples' worth of a pass (an estimate from
    /// measurements, for balancing shards). On the CPU about 32: a sample at batch 2 costs about 14 times one at 1024. On CUDA
    /// about 3,450: the H100's step at bs 64 took 1.07 ms, bound by per-operation overhead
    /// (<c>docs/measurements/h100-bench.txt</c>), while a row's forward and backward pass (3 x 3.72 MFLOP for the blog's MLP)
    /// takes 0.31 us at torch.mm's 36 TFLOP/s there: a step's overhead is worth about 3,450 rows.
    /// </summary>
    public static double StepOverhead(string deviceType) => deviceType == "cuda" ? 3450 : 32;

    /// <summary>
    /// The sample passes of <paramref name="samples"/> samples in batches of <paramref name="batchSize"/> for
    /// <paramref name="models"/> models stacked (one step trains a batch of each) on <paramref name="deviceType"/>: each step
    /// costs its rows plus <see cref="StepOverhead"/>, which a stack shares.
    /// </summary>
    public static double Passes(double samples, int batchSize, string deviceType = "cpu", int models = 1) =>
        samples / Math.Max(1, batchSize) * (StepOverhead(deviceType) + (double)Math.Max(1, batchSize) * models);

    /// <summary>What is wrong with <paramref name="result"/> as this unit's stored result (another unit's, incomplete), or null.</summary>
    public virtual string? Problem(object result) => null;

    /// <summary>The first 16 hex digits of the SHA-256 of <paramref name="canonical"/> as JSON: the content hash of a unit.</summary>
    public static string ContentHash(object canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(canonical, JsonDefaults.Options))))[..16];

    /// <summary>The full SHA-256 (hex) of <paramref name="value"/> serialised as <paramref name="type"/>: the checksum a stored file carries of its content.</summary>
    public static string ContentSha256(object value, Type type) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value, type, JsonDefaults.Options)));
}

/// <summary>A unit of work whose stored result is a <typeparamref name="T"/>.</summary>
public abstract class Work<T> : Work where T : class
{
    public sealed override Type ResultType => typeof(T);

    public abstract T Run(WorkContext context);

    public sealed override object RunUntyped(WorkContext context) => Run(context);
}

/// <summary>How a run is carried out: where data comes from, where progress and log lines go, and how it is stopped.</summary>
public sealed record RunOptions
{
    public static readonly RunOptions Default = new();

    /// <summary>Loads a dataset by name; default: the process-wide, verified cache.</summary>
    public Func<string, TrainingData>? Data { get; init; }
    public IProgress<TrainingProgress>? Progress { get; init; }
    public Action<string>? Log { get; init; }
    public CancellationToken Cancel { get; init; }
}

/// <summary>What a running unit of work is given: its folders, the store (to read what it reads) and the run options.</summary>
public sealed class WorkContext(ExperimentStore store, Work work, RunOptions options)
{
    public ExperimentStore Store { get; } = store;
    public RunOptions Options { get; } = options;

    /// <summary>The unit's folder: its result and any files it keeps beside it (a training run's final weights).</summary>
    public string Folder { get; } = store.Folder(work.Key);

    /// <summary>Resumable state (checkpoints, finished blocks), kept across a kill and deleted once the result is stored.</summary>
    public string Scratch => Path.Combine(Folder, ExperimentStore.ScratchFolder);

    /// <summary>Where scratch files that fail their checks are moved aside: beside <see cref="Scratch"/>, so they outlive it.</summary>
    public string SetAside => Path.Combine(Folder, ExperimentStore.SetAsideFolder);

    /// <summary>The stored result of a unit this one reads.</summary>
    public T Read<T>(Work<T> read) where T : class =>
        Store.TryLoad(read) ?? throw new InvalidOperationException($"{read.Label}: read before it was stored ({read.Key}).");

    /// <summary>Where the running unit's log lines go.</summary>
    public void Log(string line) => Options.Log?.Invoke(line);

    /// <summary>The folder of a unit this one reads (for files kept beside its result).</summary>
    public string FolderOf(Work read) => Store.Folder(read.Key);
}
