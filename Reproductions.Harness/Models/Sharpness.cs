using System.Diagnostics;
using Reproductions.Harness.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Models;

/// <summary>
/// One sharpness measurement of a trained point x (Keskar et al. 2017): in a space (full, or a random subspace) and for a
/// box size eps, <c>phi = (max over y in C of f(x + A y) - f(x)) / (1 + f(x)) * 100</c>, with the largest loss found
/// (<paramref name="MaxLoss"/>), the loss at x (<paramref name="Loss"/>) and the norm of the loss's gradient at x
/// (<paramref name="GradientNorm"/>: where x is not a minimiser, first-order terms dominate phi).
/// </summary>
public sealed record SharpnessMeasure(
    string Space, int Dimensions, double Epsilon, double Phi, double Loss, double MaxLoss, double GradientNorm,
    int Evaluations, string Method, string Stop, double Seconds);

/// <summary>
/// The training loss of the MLP around a trained point x, over a fixed evaluation set (the whole training set, or a seeded
/// subset), as a function of a displacement: <c>f(x + d)</c> and its gradient, by autograd. Owns a model copy at x and
/// the flattened x; the evaluation set belongs to the caller. Chunks of <paramref name="chunk"/> samples bound the memory.
/// </summary>
public sealed class LossSurface : IDisposable
{
    private readonly Mlp model;
    private readonly Tensor[] parameters;
    private readonly Tensor images;
    private readonly Tensor labels;
    private readonly int chunk;
    // Scalars held for the surface's life: an implicitly converted TorchSharp Scalar (x + y's alpha, t / n) can be
    // finalised by the GC while the native call still reads it (measured: "Expected false to be true" from c10's toDouble
    // in a long run whose 15 MB arrays trigger frequent collections).
    private readonly Scalar one = 1.0.ToScalar();
    private readonly Scalar perSample;

    public LossSurface(RegimeWeights point, Tensor images, Tensor labels, int chunk = 10_000)
    {
        if (images.shape[0] != labels.shape[0] || images.shape[0] == 0)
            throw new ArgumentException($"the evaluation set has {images.shape[0]} images and {labels.shape[0]} labels; expected the same, at least one.");
        model = new Mlp(point.Widths);
        model.to(point.Device);
        using (no_grad())
            for (var l = 0; l < point.Layers; l++)
            {
                model.Layers[l].weight!.copy_(point.Weights[l]);
                model.Layers[l].bias!.copy_(point.Biases[l]);
            }
        parameters = model.Layers.SelectMany(l => new Tensor[] { l.weight!, l.bias! }).ToArray();
        using (no_grad())
        using (NewDisposeScope()) // the flattened views and the float32 concatenation
            X = cat(parameters.Select(p => p.detach().flatten()).ToArray()).to(float64).DetachFromDisposeScope();
        this.images = images;
        this.labels = labels;
        this.chunk = chunk;
        Samples = images.shape[0];
        perSample = (1.0 / Samples).ToScalar();
    }

    /// <summary>x + d, as a new tensor.</summary>
    public Tensor At(Tensor displacement) => X.add(displacement, one);

    /// <summary>The point, flattened (every layer's weight then bias), in double precision.</summary>
    public Tensor X { get; }

    /// <summary>The number of parameters n.</summary>
    public long Dimensions => X.shape[0];

    public long Samples { get; }

    /// <summary>f(x + d) and its gradient (flattened, double, on the point's device), over the whole evaluation set.</summary>
    public (double Loss, Tensor Gradient) Evaluate(Tensor displacement)
    {
        using var scope = NewDisposeScope();
        MoveTo(At(displacement));
        foreach (var p in parameters) p.grad?.zero_();
        var total = 0.0;
        for (long start = 0; start < Samples; start += chunk)
        {
            using var batch = NewDisposeScope();
            var n = Math.Min(chunk, Samples - start);
            var loss = nn.functional.nll_loss(model.forward(images.narrow(0, start, n)), labels.narrow(0, start, n), reduction: nn.Reduction.Sum);
            loss.backward();
            total += loss.to(float64).item<double>();
        }
        total /= Samples;
        var gradient = cat(parameters.Select(p => p.grad!.flatten()).ToArray()).to(float64).mul_(perSample);
        return (total, gradient.MoveToOuterDisposeScope());
    }

    /// <summary>The mean loss and the accuracy of the model at <paramref name="point"/> (flattened parameters) on a set of images, without gradients.</summary>
    public (double Loss, double Accuracy) LossAndAccuracy(Tensor point, Tensor setImages, Tensor setLabels)
    {
        using var scope = NewDisposeScope();
        MoveTo(point);
        using var noGrad = no_grad();
        double loss = 0, correct = 0;
        var n = setImages.shape[0];
        for (long start = 0; start < n; start += chunk)
        {
            using var batch = NewDisposeScope();
            var size = Math.Min(chunk, n - start);
            var logProbs = model.forward(setImages.narrow(0, start, size));
            var labelsChunk = setLabels.narrow(0, start, size);
            loss += nn.functional.nll_loss(logProbs, labelsChunk, reduction: nn.Reduction.Sum).to(float64).item<double>();
            correct += logProbs.argmax(1).eq(labelsChunk).sum().item<long>();
        }
        return (loss / n, correct / n);
    }

    /// <summary>Sets the model's parameters to a flattened point (every layer's weight then bias).</summary>
    private void MoveTo(Tensor point)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var at = point.to(float32);
        long offset = 0;
        foreach (var p in parameters)
        {
            p.copy_(at.narrow(0, offset, p.numel()).view_as(p));
            offset += p.numel();
        }
    }

    public void Dispose()
    {
        X.Dispose();
        model.Dispose();
        one.Dispose();
        perSample.Dispose();
    }
}

/// <summary>
/// Keskar et al.'s sharpness of a trained point, in the full space (A = identity; projected sign-gradient ascent) or a
/// random subspace (p random unit columns; MathNet's bounded BFGS in the p coordinates), under a cap on loss evaluations
/// (each one forward and backward pass over the evaluation set). The box is
/// <c>C = { z : |z_i| &lt;= eps (|(A+ x)_i| + 1) }</c>; <c>A+ x</c> is <c>(A^T A)^-1 A^T x</c>, a p x p solve, never an SVD of A.
/// </summary>
public static class Sharpness
{
    /// <summary>phi in the full space: the box around x is eps (|x_i| + 1) per parameter.</summary>
    public static SharpnessMeasure FullSpace(LossSurface surface, double epsilon, int maxEvaluations)
    {
        var clock = Stopwatch.StartNew();
        var n = (int)surface.Dimensions;
        double[] x;
        using (NewDisposeScope()) x = surface.X.cpu().data<double>().ToArray();
        var half = x.Select(v => epsilon * (Math.Abs(v) + 1)).ToArray();
        var device = surface.X.device;
        double? gradientNorm = null;
        (double, double[]) Objective(double[] y)
        {
            using var scope = NewDisposeScope();
            var (loss, gradient) = surface.Evaluate(tensor(y, float64, device));
            gradientNorm ??= gradient.norm().item<double>(); // the first evaluation is at x
            return (loss, gradient.cpu().data<double>().ToArray());
        }
        var found = BoxMaximiser.ProjectedAscent(Objective, half.Select(h => -h).ToArray(), half, new double[n], maxEvaluations);
        return Measure("full", n, epsilon, found, gradientNorm!.Value, clock);
    }

    /// <summary>
    /// phi in a random subspace of <paramref name="dimensions"/> unit columns drawn with <paramref name="seed"/>: bounded BFGS
    /// by default; <paramref name="projectedAscent"/> maximises with the full space's projected ascent instead (to compare the two).
    /// </summary>
    public static SharpnessMeasure Subspace(LossSurface surface, double epsilon, int dimensions, long seed, int maxEvaluations, int maxIterations, bool projectedAscent = false)
    {
        var clock = Stopwatch.StartNew();
        using var a = RandomColumns(surface.Dimensions, dimensions, seed, surface.X.device);
        var coordinates = PseudoInverseTimes(a, surface.X);
        var half = coordinates.Select(c => epsilon * (Math.Abs(c) + 1)).ToArray();
        double? gradientNorm = null;
        (double, double[]) Objective(double[] y)
        {
            using var scope = NewDisposeScope();
            var (loss, gradient) = surface.Evaluate(a.matmul(tensor(y, float32, a.device)).to(float64));
            gradientNorm ??= gradient.norm().item<double>(); // the first evaluation is at x
            return (loss, a.t().matmul(gradient.to(float32)).to(float64).cpu().data<double>().ToArray());
        }
        var found = projectedAscent
            ? BoxMaximiser.ProjectedAscent(Objective, half.Select(h => -h).ToArray(), half, new double[dimensions], maxEvaluations)
            : BoxMaximiser.BoundedBfgs(Objective, half.Select(h => -h).ToArray(), half, new double[dimensions], maxEvaluations, maxIterations);
        return Measure($"subspace p={dimensions}", dimensions, epsilon, found, gradientNorm!.Value, clock);
    }

    /// <summary>
    /// An n x p matrix (float32: 745 MB for the blog's MLP and p = 100) of independent standard normal columns, each
    /// scaled to unit length, drawn from <paramref name="seed"/> on the CPU, so every device draws the same.
    /// </summary>
    public static Tensor RandomColumns(long n, int p, long seed, Device device)
    {
        using var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        var a = randn([n, p], generator: generator);
        a.div_(a.norm(0, true));
        return a.to(device).MoveToOuterDisposeScope();
    }

    /// <summary><c>A+ x = (A^T A)^-1 A^T x</c> for an n x p matrix of full column rank: a p x p solve (double), never an SVD of A.</summary>
    public static double[] PseudoInverseTimes(Tensor a, Tensor x)
    {
        using var scope = NewDisposeScope();
        var gram = a.t().matmul(a).to(float64);
        var right = a.t().matmul(x.to(a.dtype).unsqueeze(1)).to(float64);
        return linalg.solve(gram, right).squeeze(1).cpu().data<double>().ToArray();
    }

    private static SharpnessMeasure Measure(string space, int dimensions, double epsilon, BoxMaximum found, double gradientNorm, Stopwatch clock)
    {
        var loss = found.StartValue;
        var phi = (found.Value - loss) / (1 + loss) * 100;
        return new SharpnessMeasure(space, dimensions, epsilon, phi, loss, found.Value, gradientNorm, found.Evaluations, found.Method, found.Stop, clock.Elapsed.TotalSeconds);
    }
}
