using Reproductions.Harness.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Tests.Sharpness;

/// <summary>
/// Keskar et al.'s sharpness on a small MLP: A+ x by the p x p solve equals the pseudo-inverse's, the loss surface's value
/// and gradient are the model's, and phi is never negative, holds its evaluation cap and is the same for the same seed.
/// </summary>
[Unit]
public sealed class SharpnessTests
{
    private static (RegimeWeights Point, Tensor Images, Tensor Labels) SmallProblem()
    {
        using var generator = new Generator(7);
        using var model = new Mlp([6, 8, 3]);
        model.Initialize(Harness.Training.InitScheme.XavierZero, generator);
        var images = randn([64, 6], generator: generator);
        var labels = randint(0, 3, [64], generator: generator, dtype: int64);
        return (RegimeWeights.FromModel("small", model, CPU), images, labels);
    }

    [Test]
    public void The_pseudo_inverse_comes_from_a_p_by_p_solve_and_equals_pinv()
    {
        using var a = Harness.Models.Sharpness.RandomColumns(50, 5, seed: 3, CPU);
        using var x = randn([50], dtype: float64, generator: new Generator(4));
        var solved = Harness.Models.Sharpness.PseudoInverseTimes(a, x);
        using var pinv = linalg.pinv(a.to(float64)).matmul(x);
        solved.Should().Equal(pinv.data<double>().ToArray(), (s, p) => Math.Abs(s - p) < 1e-5);
        using var norms = a.norm(0);
        norms.data<float>().ToArray().Should().OnlyContain(n => Math.Abs(n - 1) < 1e-5, "each column has unit length");
        using var again = Harness.Models.Sharpness.RandomColumns(50, 5, seed: 3, CPU);
        again.allclose(a, 0, 0).Should().BeTrue("the same seed draws the same subspace");
    }

    [Test]
    public void The_loss_surface_gives_the_models_loss_and_its_gradient()
    {
        var (point, images, labels) = SmallProblem();
        using (point)
        using (images)
        using (labels)
        using (var surface = new LossSurface(point, images, labels, chunk: 20))
        {
            surface.Dimensions.Should().Be(6 * 8 + 8 + 8 * 3 + 3);
            using var zero = zeros_like(surface.X);
            var (loss, gradient) = surface.Evaluate(zero);
            using var model = new Mlp([6, 8, 3]);
            using (no_grad())
                for (var l = 0; l < 2; l++)
                {
                    model.Layers[l].weight!.copy_(point.Weights[l]);
                    model.Layers[l].bias!.copy_(point.Biases[l]);
                }
            using var direct = nn.functional.nll_loss(model.forward(images), labels);
            loss.Should().BeApproximately(direct.item<float>(), 1e-5, "chunks of 20 sum to the mean over all 64");

            // Central differences on a few coordinates agree with the autograd gradient.
            var g = gradient.data<double>().ToArray();
            foreach (var i in new[] { 0, 17, 60, 82 })
            {
                const double h = 1e-3;
                using var plus = zeros_like(surface.X);
                plus[i] = h;
                using var minus = zeros_like(surface.X);
                minus[i] = -h;
                var numeric = (surface.Evaluate(plus).Loss - surface.Evaluate(minus).Loss) / (2 * h);
                numeric.Should().BeApproximately(g[i], 2e-3, $"coordinate {i}");
            }
            gradient.Dispose();
        }
    }

    [Test]
    public void Phi_is_never_negative_holds_its_cap_and_repeats_for_the_same_seed()
    {
        var (point, images, labels) = SmallProblem();
        using (point)
        using (images)
        using (labels)
        using (var surface = new LossSurface(point, images, labels))
        {
            var full = Harness.Models.Sharpness.FullSpace(surface, 1e-3, maxEvaluations: 12);
            full.Phi.Should().BeGreaterThanOrEqualTo(0);
            full.MaxLoss.Should().BeGreaterThanOrEqualTo(full.Loss);
            full.Evaluations.Should().BeLessThanOrEqualTo(12);
            full.GradientNorm.Should().BeGreaterThan(0);
            var sub = Harness.Models.Sharpness.Subspace(surface, 1e-3, dimensions: 10, seed: 5, maxEvaluations: 12, maxIterations: 10);
            sub.Phi.Should().BeGreaterThanOrEqualTo(0);
            sub.Evaluations.Should().BeLessThanOrEqualTo(12);
            sub.Loss.Should().Be(full.Loss, "both start at x");
            Harness.Models.Sharpness.Subspace(surface, 1e-3, 10, 5, 12, 10).Phi.Should().Be(sub.Phi, "the same seed, the same subspace and search");
            Harness.Models.Sharpness.FullSpace(surface, 5e-4, 12).Phi.Should().BeLessThanOrEqualTo(full.Phi * 1.0001, "a smaller box reaches no higher (at this cap, sign steps scale with the box)");
        }
    }

    [Test]
    public void Measuring_sharpness_leaves_no_tensor_behind()
    {
        var (point, images, labels) = SmallProblem();
        using (point)
        using (images)
        using (labels)
        {
            long Live()
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            }
            void Measure()
            {
                using var surface = new LossSurface(point, images, labels, chunk: 20);
                Harness.Models.Sharpness.FullSpace(surface, 1e-3, maxEvaluations: 6);
                Harness.Models.Sharpness.Subspace(surface, 1e-3, dimensions: 5, seed: 5, maxEvaluations: 6, maxIterations: 4);
                Harness.Models.Sharpness.Subspace(surface, 1e-3, dimensions: 5, seed: 5, maxEvaluations: 6, maxIterations: 4, projectedAscent: true);
            }
            Measure(); // the first measure may set up what later ones reuse
            var before = Live();
            for (var i = 0; i < 3; i++) Measure();
            Live().Should().Be(before, "a surface and its measures (full space, subspace, projected ascent) dispose of what they create");
        }
    }
}
