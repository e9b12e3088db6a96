using Reproductions.Harness.Models;
using Reproductions.Harness.Kernels;
using static TorchSharp.torch;

namespace Reproductions.Harness.Trials;

/// <summary>
/// T independent copies of an MLP (one per trial), stacked along a leading trial axis and stepped together with
/// batched matrix products: weights [T, out, in], biases [T, 1, out]. Gradients are formed by hand (ReLU layers,
/// log-softmax and negative log likelihood), not by autograd; <see cref="Step"/> is checked against autograd in the tests.
/// Also accumulates each trial's summed last-layer weight gradient, [T, classes, hidden].
/// </summary>
public sealed class TrialStack : IDisposable
{
    private readonly Tensor[] weights, biases;
    private Tensor lastLayerSum;

    /// <summary>Every trial starts at <paramref name="regime"/>'s weights, on the regime's device.</summary>
    public TrialStack(RegimeWeights regime, int trials, UpdateMode mode)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "at least one trial");
        Trials = trials;
        Mode = mode;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // repeat always copies (expand(...).contiguous() would alias the regime's own tensor when there is one trial,
        // and the in-place updates would then move the regime itself).
        weights = regime.Weights.Select(w => w.unsqueeze(0).repeat(trials, 1, 1).DetachFromDisposeScope()).ToArray();
        biases = regime.Biases.Select(b => b.view(1, 1, -1).repeat(trials, 1, 1).DetachFromDisposeScope()).ToArray();
        lastLayerSum = zeros([trials, regime.Weights[^1].shape[0], regime.Weights[^1].shape[1]], device: regime.Device).DetachFromDisposeScope();
    }

    /// <summary>
    /// Without the tile kernels, batches of at most this many rows are applied as successive rank-1 updates in
    /// <see cref="UpdateMode.FusedPerTrial"/> (a tuning knob, settable for measurements; the results differ only in float rounding).
    /// </summary>
    public static int RankOneRows { get; set; } = 1;

    /// <summary>
    /// Whether <see cref="UpdateMode.FusedPerTrial"/> applies CPU batches of up to <see cref="SmallBatchKernels.MaxRows"/>
    /// rows (beyond <see cref="RankOneRows"/>) with the hand-written one-pass kernel instead of MKL's addmm_
    /// (settable for measurements).
    /// </summary>
    public static bool UseSmallBatchKernels { get; set; } = true;

    /// <summary>
    /// Whether, on CPUs with AVX-512F, <see cref="UpdateMode.FusedPerTrial"/> takes batches of 1 to
    /// <see cref="TileKernels.MaxRows"/> rows through <see cref="TileKernels"/> in every layer (forward pass, update, and
    /// backward pass fused with the update) rather than <see cref="SmallBatchKernels"/>, rank-1 updates and MKL
    /// (settable for measurements; needs <see cref="UseSmallBatchKernels"/>). Every product then runs per trial, so
    /// stacked and lone trials are bitwise equal for any layer widths.
    /// </summary>
    public static bool UseTileKernels { get; set; } = true;

    public int Trials { get; }
    public UpdateMode Mode { get; }

    /// <summary>
    /// Which arithmetic the literal steps take in <paramref name="mode"/> on <paramref name="device"/> on this machine: the
    /// update mode and, on the CPU, the hand-written kernels the static switches and the CPU's instruction sets select.
    /// Every choice here changes float rounding, so it is part of the gradient competition's content hash. Decided from
    /// settings and the instruction sets alone, never from a timing.
    /// </summary>
    public static string Arithmetic(UpdateMode mode, TorchSharp.DeviceType device)
    {
        var name = string.Concat(mode.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
        if (mode != UpdateMode.FusedPerTrial || device != TorchSharp.DeviceType.CPU) return name;
        if (!UseSmallBatchKernels) return $"{name}; rank-1 up to {RankOneRows} row(s), libtorch beyond";
        if (UseTileKernels && TileKernels.Supported) return $"{name}; avx512 tiles up to {TileKernels.MaxRows} rows, libtorch beyond";
        return SmallBatchKernels.Supported
            ? $"{name}; rank-1 up to {RankOneRows} row(s), avx2 kernels up to {SmallBatchKernels.MaxRows} rows, libtorch beyond"
            : $"{name}; rank-1 up to {RankOneRows} row(s), libtorch beyond";
    }

    /// <summary>Each trial's summed last-layer weight gradient so far, [T, classes, hidden] (a live view; copy it to keep it).</summary>
    public Tensor LastLayerGradientSum => lastLayerSum;

    /// <summary>The trials' current weights of layer <paramref name="layer"/>, [T, out, in] (a live view).</summary>
    public Tensor Weight(int layer) => weights[layer];

    /// <summary>The trials' current biases of layer <paramref name="layer"/>, [T, 1, out] (a live view).</summary>
    public Tensor Bias(int layer) => biases[layer];

    /// <summary>
    /// One SGD step of every trial on its own batch: <paramref name="x"/> [T, b, in], <paramref name="targets"/> one-hot
    /// [T, b, classes]. The loss is the negative log likelihood of log-softmax, summed over the batch and multiplied by
    /// <paramref name="lossScale"/> (1 / b: mean reduction; 1: sum). Adds the step's last-layer weight gradient to
    /// <see cref="LastLayerGradientSum"/>, then updates every layer with learning rate <paramref name="learningRate"/>.
    /// </summary>
    public void Step(Tensor x, Tensor targets, float lossScale, float learningRate) => StepCore(x, targets, lossScale, learningRate, update: true);

    /// <summary>As <see cref="Step"/> without the update: only the last-layer gradient is added.</summary>
    public void AccumulateGradient(Tensor x, Tensor targets, float lossScale) => StepCore(x, targets, lossScale, 0, update: false);

    private void StepCore(Tensor x, Tensor targets, float lossScale, float learningRate, bool update)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var layers = weights.Length;
        var inputs = new Tensor[layers]; // the input of each layer: x, then the ReLU outputs
        var a = x;
        Tensor z = x;
        var rows = (int)x.shape[1];
        var kernels = ChooseKernels(rows, x.device_type);
        for (var l = 0; l < layers; l++)
        {
            inputs[l] = a;
            // weights[l] is [T, out, in]. The tiles take every layer; the AVX2 kernels layers of 64 outputs or more.
            if (kernels == Kernels.Tiles || (kernels == Kernels.Avx2 && weights[l].shape[1] >= 64))
            {
                // Per trial, one pass over the weights (see TileKernels / SmallBatchKernels); the inputs made contiguous per trial.
                var input = a.contiguous();
                inputs[l] = input;
                z = empty([Trials, rows, weights[l].shape[1]], device: x.device);
                for (var t = 0; t < Trials; t++)
                {
                    using var wt = weights[l][t];
                    using var bt = biases[l][t];
                    using var xt = input[t];
                    using var zt = z[t];
                    if (kernels == Kernels.Tiles) TileKernels.Linear(wt, bt, xt, zt);
                    else SmallBatchKernels.Linear(wt, bt, xt, zt);
                }
            }
            else
            {
                z = BatchedOps.Baddbmm(biases[l], a, weights[l].transpose(1, 2));
            }
            if (l < layers - 1) a = z.relu();
        }
        // d(loss)/d(logits) of NLL(log_softmax(z)) summed over the batch: softmax(z) - onehot, times the reduction's scale.
        var delta = z.softmax(2).sub_(targets);
        if (lossScale != 1f) delta.mul_(lossScale);
        AddOuterProducts(ref lastLayerSum, delta, inputs[layers - 1], 1f, kernels);
        if (!update) return;

        // From the top layer down: the gradient for the layer below is formed from this layer's weights as they were
        // before this step (the fused kernel forms it block by block just before updating the block), then the update.
        for (var l = layers - 1; l >= 0; l--)
        {
            Tensor? below = null;
            if (l > 0 && kernels == Kernels.Tiles)
            {
                var d = delta.contiguous();
                var input = inputs[l].contiguous();
                below = empty([Trials, rows, weights[l].shape[2]], device: x.device);
                for (var t = 0; t < Trials; t++)
                {
                    using var wt = weights[l][t];
                    using var dt = d[t];
                    using var at = input[t];
                    using var gt = below[t];
                    TileKernels.BackwardAndUpdate(wt, dt, at, -learningRate, gt);
                }
            }
            else
            {
                if (l > 0) below = delta.bmm(weights[l]);
                AddOuterProducts(ref weights[l], delta, inputs[l], -learningRate, kernels);
            }
            biases[l].add_(delta.sum(1, keepdim: true), alpha: -learningRate);
            // Back through the ReLU that produced this layer's input.
            if (below is not null) delta = below.mul_(inputs[l].gt(0));
        }
    }

    private enum Kernels { None, Avx2, Tiles }

    /// <summary>Which hand-written kernels a CPU step over <paramref name="rows"/> rows takes in <see cref="UpdateMode.FusedPerTrial"/>.</summary>
    private Kernels ChooseKernels(int rows, TorchSharp.DeviceType device)
    {
        if (Mode != UpdateMode.FusedPerTrial || !UseSmallBatchKernels || device != TorchSharp.DeviceType.CPU) return Kernels.None;
        if (UseTileKernels && TileKernels.Supported && rows <= TileKernels.MaxRows) return Kernels.Tiles;
        return rows > 1 && rows <= SmallBatchKernels.MaxRows && SmallBatchKernels.Supported ? Kernels.Avx2 : Kernels.None;
    }

    /// <summary>target[t] += alpha * d[t]^T a[t] for every trial t, as <see cref="Mode"/> says.</summary>
    private void AddOuterProducts(ref Tensor target, Tensor d, Tensor a, float alpha, Kernels kernels)
    {
        switch (Mode)
        {
            case UpdateMode.FusedPerTrial:
            {
                var rows = d.shape[1];
                for (var t = 0; t < Trials; t++)
                {
                    using var slot = target[t];
                    using var dt = d[t];
                    using var at = a[t];
                    if (kernels == Kernels.Tiles)
                    {
                        using var dc = dt.contiguous();
                        using var ac = at.contiguous();
                        TileKernels.AddOuterProducts(slot, dc, ac, alpha);
                    }
                    else if (rows <= RankOneRows)
                    {
                        // One row: a rank-1 update (addr_) streams the weights at 50-70 GB/s on this CPU (one thread).
                        // Two to eight rows: the hand-written one-pass kernel below, measured in the whole engine (2 workers)
                        // 8-35% faster than MKL's addmm_ (5-12 GB/s for 2-8 rows) and than successive addr_.
                        for (var r = 0; r < rows; r++)
                        {
                            using var dr = dt[r];
                            using var ar = at[r];
                            slot.addr_(dr, ar, 1, alpha);
                        }
                    }
                    else if (kernels == Kernels.Avx2)
                    {
                        SmallBatchKernels.AddOuterProducts(slot, dt, at, alpha);
                    }
                    else
                    {
                        slot.addmm_(dt.t(), at, 1, alpha);
                    }
                }
                break;
            }
            case UpdateMode.FusedStacked:
            {
                var next = BatchedOps.Baddbmm(target, d.transpose(1, 2), a, 1, alpha).DetachFromDisposeScope();
                target.Dispose();
                target = next;
                break;
            }
            case UpdateMode.FusedStackedInPlace:
                BatchedOps.BaddbmmInPlace(target, d.transpose(1, 2), a, alpha);
                break;
            case UpdateMode.Separate:
            {
                using var g = d.transpose(1, 2).bmm(a);
                target.add_(g, alpha: alpha);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(Mode), Mode, null);
        }
    }

    public void Dispose()
    {
        foreach (var t in weights.Concat(biases)) t.Dispose();
        lastLayerSum.Dispose();
    }
}

/// <summary>Batched matrix products with PyTorch's argument order.</summary>
public static class BatchedOps
{
    /// <summary>
    /// <c>beta * input + alpha * (batch1 @ batch2)</c>, PyTorch's <c>torch.baddbmm(input, batch1, batch2)</c>.
    /// TorchSharp 0.107's <c>Tensor.baddbmm(batch1, batch2)</c> passes its arguments to libtorch in another order: it
    /// computes <c>batch2 + this @ batch1</c> (measured; pinned by a unit test). This wrapper calls it so that the
    /// result is PyTorch's.
    /// </summary>
    public static Tensor Baddbmm(Tensor input, Tensor batch1, Tensor batch2, float beta = 1, float alpha = 1) =>
        batch1.baddbmm(batch2, input, beta, alpha);

    private const string Script = "def baddbmm_(target: Tensor, batch1: Tensor, batch2: Tensor, alpha: float):\n" +
                                  "    target.baddbmm_(batch1, batch2, beta=1.0, alpha=alpha)\n";

    private static readonly Lazy<jit.CompilationUnit> Compiled = new(() => jit.compile(Script), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// <c>target += alpha * (batch1 @ batch2)</c> in place (PyTorch's <c>baddbmm_</c>), through TorchScript: TorchSharp
    /// 0.107 has no in-place baddbmm, and TorchScript's interpreter calls libtorch's.
    /// </summary>
    public static void BaddbmmInPlace(Tensor target, Tensor batch1, Tensor batch2, float alpha) =>
        Compiled.Value.invoke("baddbmm_", target, batch1, batch2, (double)alpha);
}
