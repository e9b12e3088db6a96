using Reproductions.Harness.Kernels;
namespace Reproductions.Harness.Trials;

/// <summary>
/// How one trial of the gradient-competition protocol forms its last-layer gradient (FINDINGS.md, "Gradient-competition
/// protocol"): the blog's protocol as written, with the loss mean- or sum-reduced, or one step over B samples.
/// </summary>
public enum ProtocolVariant
{
    /// <summary>
    /// The protocol as written: draw 1024 samples, step through them with batch size B (ceil(1024 / B) SGD steps at the
    /// protocol's learning rate, every layer updated), loss mean-reduced over each batch; sum the steps' last-layer
    /// weight gradients.
    /// </summary>
    LiteralMean,

    /// <summary>As <see cref="LiteralMean"/>, with each batch's loss summed (each step's gradient B times larger).</summary>
    LiteralSum,

    /// <summary>
    /// One step over the first B of the trial's samples with the loss summed: the last-layer gradient at the regime's
    /// weights (B times the mean-reduced gradient). No update is needed.
    /// </summary>
    SingleStep,
}

public static class ProtocolVariants
{
    public static readonly ProtocolVariant[] All = [ProtocolVariant.LiteralMean, ProtocolVariant.LiteralSum, ProtocolVariant.SingleStep];

    /// <summary>The name used in configs, metrics and reports.</summary>
    public static string Name(this ProtocolVariant variant) => variant switch
    {
        ProtocolVariant.LiteralMean => "literal-mean",
        ProtocolVariant.LiteralSum => "literal-sum",
        ProtocolVariant.SingleStep => "single-step",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
    };

    /// <summary>A one-line description for reports.</summary>
    public static string Describe(this ProtocolVariant variant) => variant switch
    {
        ProtocolVariant.LiteralMean => "ceil(1024/B) SGD steps through the trial's 1024 samples, loss mean-reduced, last-layer gradients summed",
        ProtocolVariant.LiteralSum => "ceil(1024/B) SGD steps through the trial's 1024 samples, loss summed, last-layer gradients summed",
        ProtocolVariant.SingleStep => "one step over B samples, loss summed: the last-layer gradient at the regime's weights",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
    };

    public static bool TryParse(string name, out ProtocolVariant variant)
    {
        foreach (var v in All)
        {
            if (string.Equals(v.Name(), name, StringComparison.OrdinalIgnoreCase))
            {
                variant = v;
                return true;
            }
        }
        variant = default;
        return false;
    }

    public static bool IsLiteral(this ProtocolVariant variant) => variant != ProtocolVariant.SingleStep;
}

/// <summary>How the literal variants apply each SGD step to the stacked trials' weights.</summary>
public enum UpdateMode
{
    /// <summary>
    /// Per trial, in place: the weight gradient is formed and applied in one call and never materialised (addr_ for one
    /// row, the hand-written <see cref="SmallBatchKernels"/> for 2-8 rows on AVX2 CPUs, else addmm_); the forward and
    /// backward passes are stacked (bmm over the trials), except the forward pass of 2-8 rows on the CPU, which uses the
    /// hand-written one-pass kernel per trial. The CPU default (measured: see docs/gradient-competition.md).
    /// </summary>
    FusedPerTrial,

    /// <summary>
    /// All trials in one call: <c>W = baddbmm(W, d^T, a, 1, -lr)</c> into a fresh stacked tensor each step (fused, not in
    /// place). One kernel per layer however many trials; libtorch copies the weights into the fresh tensor first, so
    /// the update moves them twice.
    /// </summary>
    FusedStacked,

    /// <summary>
    /// All trials in one call, in place: <c>W.baddbmm_(d^T, a, 1, -lr)</c>, through a TorchScript function (TorchSharp
    /// 0.107 exposes no baddbmm_ itself). The update reads and writes each weight once. The CUDA default: on an H100
    /// (a PyTorch 2.11 transcription of the engine, tools/gradient_competition_gpu_proxy.py) it was the fastest mode
    /// at every B and stayed within 2x of the roofline, where the out-of-place baddbmm (an extra copy of the weights
    /// per step) did not at B = 2..32.
    /// </summary>
    FusedStackedInPlace,

    /// <summary>
    /// Gradient and update apart, as autograd plus <c>optimizer.step()</c> do: <c>g = bmm(d^T, a)</c>, then
    /// <c>W.add_(g, -lr)</c>. Kept to measure what fusing saves.
    /// </summary>
    Separate,
}
