using Reproductions.Harness.Kernels;
using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

/// <summary>
/// The trainer's step for plain SGD (no momentum) on batches of at most <see cref="TileKernels.MaxRows"/> rows on a CPU
/// with AVX-512F: the MLP's forward pass, the gradients (ReLU layers, log-softmax and negative log likelihood) and the
/// update formed by hand through <see cref="TileKernels"/>, the backward pass fused with the update so that each weight
/// matrix is read once forward and read and written once backward.
/// <para>
/// Why by hand: autograd's step at batch size 2 costs about 2.4 ms on the CI machine's CPU, 13x batch size 64's cost per
/// sample: it reads the weights, writes their gradients, zeroes them, then reads and writes both again in the update,
/// through matrix products that stream 1-2 rows slowly. The step is checked against autograd's in the tests; the two
/// differ only in float rounding. Runs trained with it carry <see cref="Kind"/> in their hash.
/// </para>
/// </summary>
public static class SmallBatchSgd
{
    /// <summary>Part of the run hash of every run this step trains; change it when the step's arithmetic changes.</summary>
    public const string Kind = "tile-sgd-1";

    /// <summary>Whether <paramref name="phase"/> of a run with <paramref name="config"/> on <paramref name="device"/> takes this step.
    /// A phase with gradient accumulation never does: it forms each step from several micro-batches.</summary>
    public static bool Takes(TrainingConfig config, TorchSharp.DeviceType device, PhaseConfig phase) =>
        device == TorchSharp.DeviceType.CPU && TileKernels.Supported && phase.BatchSize <= TileKernels.MaxRows && phase.Accumulation is null or 1
        && config.Optimizer.Kind == OptimizerKind.Sgd && config.Optimizer.Momentum == 0;

    /// <summary>
    /// <see cref="Kind"/> when any phase of a run with <paramref name="config"/> trained on <paramref name="device"/> ("cpu",
    /// "cuda") on this machine takes this step, else null: runs trained with it are keyed apart from autograd's.
    /// </summary>
    public static string? KindFor(TrainingConfig config, string device) =>
        device == "cpu" && config.Phases.Any(p => Takes(config, TorchSharp.DeviceType.CPU, p)) ? Kind : null;

    /// <summary>
    /// One SGD step of the MLP with <paramref name="weights"/> [out, in] and <paramref name="biases"/> [out] (updated in
    /// place) on <paramref name="x"/> [b, in] with class <paramref name="labels"/> [b]: the loss is the negative log
    /// likelihood of log-softmax summed over the batch and multiplied by <paramref name="lossScale"/> (1 / b: mean; 1: sum).
    /// </summary>
    public static void Step(IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> biases, Tensor x, Tensor labels, float lossScale, float learningRate)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var layers = weights.Count;
        var rows = x.shape[0];
        var inputs = new Tensor[layers]; // the input of each layer: x, then the ReLU outputs
        var a = x.contiguous();
        var z = a;
        for (var l = 0; l < layers; l++)
        {
            inputs[l] = a;
            z = empty([rows, weights[l].shape[0]], device: x.device);
            TileKernels.Linear(weights[l], biases[l], a, z);
            if (l < layers - 1) a = z.relu();
        }
        // d(loss)/d(logits): softmax(z) - onehot(labels), times the reduction's scale.
        var delta = z.softmax(1).sub_(nn.functional.one_hot(labels, z.shape[1]).to(ScalarType.Float32));
        if (lossScale != 1f) delta.mul_(lossScale);

        // From the top layer down: the gradient for the layer below comes from this layer's weights as they were before
        // the step (formed block by block just before the block is updated), then the update.
        for (var l = layers - 1; l >= 0; l--)
        {
            Tensor? below = null;
            if (l > 0)
            {
                below = empty([rows, weights[l].shape[1]], device: x.device);
                TileKernels.BackwardAndUpdate(weights[l], delta, inputs[l], -learningRate, below);
            }
            else
            {
                TileKernels.AddOuterProducts(weights[l], delta, inputs[l], -learningRate);
            }
            // keepdim named: a bare sum(0) binds to sum(ScalarType) (the literal 0 converts to any enum) and sums everything.
            biases[l].add_(delta.sum(0, keepdim: false), alpha: -learningRate);
            if (below is not null) delta = below.mul_(inputs[l].gt(0)); // back through the ReLU that produced this layer's input
        }
    }
}
