using Reproductions.Harness.Models;
using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Harness.Trials;

/// <summary>
/// The samples trials draw from, on the engine's device: preprocessed images [N, in] and labels [N], plus the labels as
/// one-hot rows [N, classes]. Owns its tensors.
/// </summary>
public sealed class TrialPool : IDisposable
{
    /// <summary>Takes ownership of <paramref name="images"/> and <paramref name="labels"/> (detached from any dispose scope).</summary>
    public TrialPool(Tensor images, Tensor labels, int classes)
    {
        if (images.dim() != 2 || labels.dim() != 1 || images.shape[0] != labels.shape[0])
            throw new ArgumentException($"A trial pool needs images [N, in] and labels [N]; got [{string.Join(", ", images.shape)}] and [{string.Join(", ", labels.shape)}].");
        Images = images.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        OneHot = nn.functional.one_hot(labels, classes).to(ScalarType.Float32).DetachFromDisposeScope();
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public Tensor OneHot { get; }
    public long Count => Images.shape[0];
    public Device Device => Images.device;

    /// <summary>The training samples of <paramref name="config"/> (its subset, if any), preprocessed as it says, on <paramref name="device"/>.</summary>
    public static TrialPool ForConfig(TrainingConfig config, TrainingData data, int classes, Device device)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = TrainingSession.TrainingSet(config, data);
        var x = TrainingSession.Preprocess(images, config, device).contiguous();
        var y = labels.to(device).clone();
        return new TrialPool(x.DetachFromDisposeScope(), y.DetachFromDisposeScope(), classes);
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        OneHot.Dispose();
    }
}

/// <summary>
/// What a single-step trial needs from a regime, computed once for the whole pool: the last layer's input (the last
/// hidden activations) [N, hidden] and d(summed loss)/d(logits) = softmax - onehot [N, classes], at the regime's weights.
/// </summary>
public sealed class RegimeActivations : IDisposable
{
    private RegimeActivations(Tensor hidden, Tensor delta)
    {
        Hidden = hidden;
        Delta = delta;
    }

    public Tensor Hidden { get; }
    public Tensor Delta { get; }

    public static RegimeActivations Compute(RegimeWeights regime, TrialPool pool, int rowsPerPass = 4096)
    {
        using var noGrad = no_grad();
        // Owned by the returned object, not by any dispose scope of the caller.
        var hidden = empty([pool.Count, regime.Weights[^1].shape[1]], device: pool.Device).DetachFromDisposeScope();
        var delta = empty([pool.Count, regime.Classes], device: pool.Device).DetachFromDisposeScope();
        for (long start = 0; start < pool.Count; start += rowsPerPass)
        {
            using var scope = NewDisposeScope();
            var rows = Math.Min(rowsPerPass, pool.Count - start);
            var a = pool.Images.narrow(0, start, rows);
            for (var l = 0; l < regime.Layers - 1; l++)
                a = nn.functional.linear(a, regime.Weights[l], regime.Biases[l]).relu_();
            var z = nn.functional.linear(a, regime.Weights[^1], regime.Biases[^1]);
            hidden.narrow(0, start, rows).copy_(a);
            delta.narrow(0, start, rows).copy_(z.softmax(1).sub_(pool.OneHot.narrow(0, start, rows)));
        }
        return new RegimeActivations(hidden, delta);
    }

    public void Dispose()
    {
        Hidden.Dispose();
        Delta.Dispose();
    }
}

/// <summary>
/// Runs gradient-competition trials, many at once. A trial is seeded by (seed, batch size, trial index) alone, so the
/// same trial draws the same samples in every regime and protocol variant, and gives the same result whether it runs
/// alone or stacked with others (<see cref="TrialStack"/>).
/// </summary>
public static class TrialEngine
{
    /// <summary>The seed of one trial's sample draw.</summary>
    public static long TrialSeed(long seed, int batchSize, int trial) =>
        Seeds.Derive(seed, Seeds.GradientTrial, ((long)batchSize << 32) | (uint)trial);

    /// <summary>
    /// For each trial seed, the first <paramref name="samples"/> entries of a seeded random permutation of the pool
    /// (distinct samples, in random order): int64 [T, samples], on the CPU (the same on every device).
    /// </summary>
    public static Tensor DrawSamples(IReadOnlyList<long> trialSeeds, long poolSize, int samples)
    {
        if (samples > poolSize)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"a trial draws {samples} distinct samples but the pool has {poolSize}");
        using var scope = NewDisposeScope();
        var rows = new Tensor[trialSeeds.Count];
        for (var t = 0; t < rows.Length; t++)
        {
            using var g = new Generator((ulong)trialSeeds[t]);
            rows[t] = randperm(poolSize, generator: g).narrow(0, 0, samples);
        }
        return stack(rows).DetachFromDisposeScope();
    }

    /// <summary>
    /// Literal protocol for a chunk of trials: each trial starts at <paramref name="regime"/>, steps through its samples
    /// (<paramref name="indices"/> [T, S] into <paramref name="pool"/>) with batch size <paramref name="batchSize"/>
    /// (ceil(S / B) steps; the last batch holds what is left), the loss mean-reduced over each batch or summed, and
    /// returns the summed last-layer weight gradients [T, classes, hidden] (the caller disposes it).
    /// </summary>
    public static Tensor RunLiteral(RegimeWeights regime, TrialPool pool, Tensor indices, int batchSize, bool meanReduction,
        float learningRate, UpdateMode mode)
    {
        var trials = (int)indices.shape[0];
        var samples = indices.shape[1];
        using var scope = NewDisposeScope();
        using var stackOfTrials = new TrialStack(regime, trials, mode);
        var flat = indices.reshape(-1).to(pool.Device);
        var x = pool.Images.index_select(0, flat).view(trials, samples, -1);
        var y = pool.OneHot.index_select(0, flat).view(trials, samples, -1);
        for (long start = 0; start < samples; start += batchSize)
        {
            using var stepScope = NewDisposeScope();
            var b = Math.Min(batchSize, samples - start);
            stackOfTrials.Step(x.narrow(1, start, b), y.narrow(1, start, b), meanReduction ? 1f / b : 1f, learningRate);
        }
        return stackOfTrials.LastLayerGradientSum.clone().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Single-step reading for a chunk of trials: the last-layer gradient of the summed loss over the first
    /// <paramref name="batchSize"/> samples of each trial, at the regime's weights: [T, classes, hidden].
    /// </summary>
    public static Tensor RunSingleStep(RegimeActivations activations, Tensor indices, int batchSize)
    {
        var trials = indices.shape[0];
        using var scope = NewDisposeScope();
        var flat = indices.narrow(1, 0, batchSize).reshape(-1).to(activations.Hidden.device);
        var h = activations.Hidden.index_select(0, flat).view(trials, batchSize, -1);
        var d = activations.Delta.index_select(0, flat).view(trials, batchSize, -1);
        return d.transpose(1, 2).bmm(h).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// An upper estimate of the device memory one literal trial holds during a step: its weights (twice for
    /// <see cref="UpdateMode.FusedStacked"/>, which writes a fresh copy), its samples, the step's activations and deltas.
    /// </summary>
    public static long BytesPerTrial(IReadOnlyList<int> widths, int samples, int batchSize, UpdateMode mode)
    {
        long parameters = 0, units = 0;
        for (var l = 0; l + 1 < widths.Count; l++)
        {
            parameters += (long)widths[l] * widths[l + 1] + widths[l + 1];
            units += widths[l + 1];
        }
        var weightCopies = mode == UpdateMode.FusedStacked ? 2 : 1;
        var sampleBytes = (long)samples * (widths[0] + widths[^1]) * sizeof(float);
        var stepBytes = (long)batchSize * (widths[0] + 5 * units) * sizeof(float); // x, z, relu, mask, delta, product
        var gradient = (long)widths[^1] * widths[^2] * sizeof(float) * 2;
        return weightCopies * parameters * sizeof(float) + sampleBytes + stepBytes + gradient;
    }

    /// <summary>Trials per chunk: as many as fit <paramref name="memoryBudgetBytes"/>, at most <paramref name="maxTrials"/>, at least one.</summary>
    public static int TrialsPerChunk(long bytesPerTrial, long memoryBudgetBytes, int maxTrials) =>
        (int)Math.Clamp(memoryBudgetBytes / Math.Max(1, bytesPerTrial), 1, Math.Max(1, maxTrials));
}
