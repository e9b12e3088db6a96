using Reproductions.Harness.Kernels;
using Reproductions.Harness.Models;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Tests.GradientCompetition;

/// <summary>
/// The trial engine on a small MLP (12-16-8-5, random data): stacked trials equal trials run one at a time, and the
/// hand-formed gradients and updates equal autograd's (nll_loss of log_softmax, backward, optim.SGD) for every update
/// mode and both loss reductions.
/// </summary>
[Unit]
public class TrialEngineTests
{
    private static readonly int[] Widths = [12, 16, 8, 5];
    private const int PoolSize = 40, Samples = 8;
    private const float Lr = 0.05f;

    private static RegimeWeights Regime(long seed = 11, int[]? widths = null)
    {
        using var model = new Mlp(widths ?? Widths);
        using var g = new Generator((ulong)seed);
        model.Initialize(Harness.Training.InitScheme.TorchDefault, g);
        return RegimeWeights.FromModel("test", model, CPU);
    }

    private static TrialPool Pool(long seed = 12, int[]? widths = null)
    {
        var w = widths ?? Widths;
        using var g = new Generator((ulong)seed);
        return new TrialPool(randn([PoolSize, w[0]], generator: g), randint(0, w[^1], [PoolSize], generator: g), w[^1]);
    }

    private static Tensor Indices(int trials, int batchSize = 0) =>
        TrialEngine.DrawSamples(Enumerable.Range(0, trials).Select(t => TrialEngine.TrialSeed(5, batchSize, t)).ToList(), PoolSize, Samples);

    [TestCase(1, true, UpdateMode.FusedPerTrial)]
    [TestCase(3, true, UpdateMode.FusedPerTrial)]
    [TestCase(4, false, UpdateMode.FusedPerTrial)]
    [TestCase(8, true, UpdateMode.FusedPerTrial)]
    [TestCase(3, false, UpdateMode.FusedStacked)]
    [TestCase(2, true, UpdateMode.FusedStackedInPlace)]
    [TestCase(3, true, UpdateMode.Separate)]
    public void Stacked_trials_equal_trials_run_one_at_a_time(int batchSize, bool mean, UpdateMode mode)
    {
        using var regime = Regime();
        using var pool = Pool();
        using var scope = NewDisposeScope();
        var indices = Indices(5, batchSize);
        var stacked = TrialEngine.RunLiteral(regime, pool, indices, batchSize, mean, Lr, mode);
        for (var t = 0; t < 5; t++)
        {
            var alone = TrialEngine.RunLiteral(regime, pool, indices.narrow(0, t, 1), batchSize, mean, Lr, mode);
            var difference = alone[0].sub(stacked[t]).abs().max().item<float>();
            var scale = alone.abs().max().item<float>();
            TestContext.Out.WriteLine($"trial {t}: max |alone - stacked| = {difference:E3} (max |value| {scale:E3})");
            // Measured bitwise equal on CPU (each trial's products have the same shapes and order, stacked or not).
            difference.Should().Be(0f, $"trial {t} must not depend on which trials it is stacked with (max |value| {scale:E3})");
        }
    }

    [Test]
    public void A_trial_never_moves_the_regime_it_starts_from([Values(1, 3)] int trials)
    {
        using var regime = Regime();
        using var pool = Pool();
        using var scope = NewDisposeScope();
        var before = regime.Weights.Concat(regime.Biases).Select(t => t.clone()).ToList();
        TrialEngine.RunLiteral(regime, pool, Indices(trials, 2), 2, true, Lr, UpdateMode.FusedPerTrial);
        regime.Weights.Concat(regime.Biases).Zip(before, (now, then) => now.eq(then).all().item<bool>())
            .Should().AllSatisfy(same => same.Should().BeTrue("trials update copies of the regime's weights"));
    }

    [TestCase(1, true)]
    [TestCase(3, true)]
    [TestCase(3, false)]
    [TestCase(8, false)]
    public void Hand_formed_gradients_and_updates_equal_autograd(int batchSize, bool mean)
    {
        foreach (var mode in Enum.GetValues<UpdateMode>())
            StepThroughAndCompareWithAutograd(Widths, mode, batchSize, mean, $"{mode}: ");
    }

    /// <summary>
    /// Steps 3 stacked trials of a regime of <paramref name="widths"/> through their samples in batches of
    /// <paramref name="batchSize"/>, then checks each trial's summed last-layer gradient, weights and biases against
    /// autograd and optim.SGD on the same samples.
    /// </summary>
    private static void StepThroughAndCompareWithAutograd(int[] widths, UpdateMode mode, int batchSize, bool mean, string label)
    {
        using var regime = Regime(widths: widths);
        using var pool = Pool(widths: widths);
        using var scope = NewDisposeScope();
        var indices = Indices(3, batchSize);
        using var stack = new TrialStack(regime, 3, mode);
        var x = pool.Images.index_select(0, indices.reshape(-1)).view(3, Samples, -1);
        var y = pool.OneHot.index_select(0, indices.reshape(-1)).view(3, Samples, -1);
        for (var start = 0; start < Samples; start += batchSize)
        {
            var b = Math.Min(batchSize, Samples - start);
            stack.Step(x.narrow(1, start, b), y.narrow(1, start, b), mean ? 1f / b : 1f, Lr);
        }
        for (var t = 0; t < 3; t++)
        {
            var (gradientSum, model) = Autograd(regime, pool, indices[t], batchSize, mean);
            using (model)
            {
                AssertClose(stack.LastLayerGradientSum[t], gradientSum, $"{label}summed last-layer gradient of trial {t}");
                var layers = model.Layers;
                for (var l = 0; l < layers.Count; l++)
                {
                    AssertClose(stack.Weight(l)[t], layers[l].weight!, $"{label}trial {t} layer {l} weight after the steps");
                    AssertClose(stack.Bias(l)[t][0], layers[l].bias!, $"{label}trial {t} layer {l} bias after the steps");
                }
            }
        }
    }

    public enum KernelFamily { Avx2, Avx512Tiles }

    /// <summary>
    /// Switches the engine to one family of hand-written kernels for the duration of a test (or ignores the test where
    /// this CPU lacks it). Layers of 64 outputs or more take them; <c>Regime(widths: Wide)</c> has two such layers, one
    /// of them (70) not a multiple of the tiles' 4 rows, and an input width (70) that leaves vector tails.
    /// </summary>
    private sealed class KernelChoice : IDisposable
    {
        private readonly bool tiles = TrialStack.UseTileKernels, small = TrialStack.UseSmallBatchKernels;

        public KernelChoice(KernelFamily family)
        {
            if (family == KernelFamily.Avx2 && !SmallBatchKernels.Supported) Assert.Ignore("this CPU has no AVX2 + FMA; the engine uses MKL there");
            if (family == KernelFamily.Avx512Tiles && !TileKernels.Supported) Assert.Ignore("this CPU has no AVX-512F; the engine uses the AVX2 kernels or MKL there");
            TrialStack.UseSmallBatchKernels = true;
            TrialStack.UseTileKernels = family == KernelFamily.Avx512Tiles;
        }

        public void Dispose()
        {
            TrialStack.UseTileKernels = tiles;
            TrialStack.UseSmallBatchKernels = small;
        }
    }

    private static readonly int[] Wide = [48, 96, 70, 8];

    /// <summary>
    /// Widths shaped like the blog's MLP (hidden widths multiples of 16, 10 classes), for the bitwise stacked-equals-alone
    /// check: with a width of 70, MKL's stacked product through the output layer rounds trial 1 differently from the
    /// same product run alone (measured; its rows then start off the 64-byte boundaries its kernels align to). With the
    /// blog's widths (784-1024-1024-10) stacked and alone are bitwise equal for every kernel family (measured at B = 1,
    /// 3, 7, 32).
    /// </summary>
    private static readonly int[] BlogShaped = [64, 128, 128, 10];

    /// <summary>The hand-written kernels in the engine (forward, backward fused with the update, update) equal autograd.</summary>
    [NonParallelizable] // switches the engine's kernels (static settings)
    [TestCase(KernelFamily.Avx2, 2)]
    [TestCase(KernelFamily.Avx2, 3)]
    [TestCase(KernelFamily.Avx2, 5)]
    [TestCase(KernelFamily.Avx2, 8)]
    [TestCase(KernelFamily.Avx512Tiles, 2)]
    [TestCase(KernelFamily.Avx512Tiles, 3)]
    [TestCase(KernelFamily.Avx512Tiles, 4)]
    [TestCase(KernelFamily.Avx512Tiles, 5)]
    [TestCase(KernelFamily.Avx512Tiles, 8)]
    public void Hand_written_kernels_in_the_engine_equal_autograd(KernelFamily family, int batchSize)
    {
        using var choice = new KernelChoice(family);
        StepThroughAndCompareWithAutograd(Wide, UpdateMode.FusedPerTrial, batchSize, mean: true, $"{family}: ");
    }

    /// <summary>With the kernels in use, stacked trials still equal trials run one at a time, bitwise (the kernels work per trial).</summary>
    [NonParallelizable] // switches the engine's kernels (static settings)
    [TestCase(KernelFamily.Avx2, 3)]
    [TestCase(KernelFamily.Avx512Tiles, 2)]
    [TestCase(KernelFamily.Avx512Tiles, 7)]
    public void Stacked_trials_equal_trials_run_one_at_a_time_with_the_kernels(KernelFamily family, int batchSize)
    {
        using var choice = new KernelChoice(family);
        using var regime = Regime(widths: BlogShaped);
        using var pool = Pool(widths: BlogShaped);
        using var scope = NewDisposeScope();
        var indices = Indices(4, batchSize);
        var stacked = TrialEngine.RunLiteral(regime, pool, indices, batchSize, true, Lr, UpdateMode.FusedPerTrial);
        for (var t = 0; t < 4; t++)
        {
            var alone = TrialEngine.RunLiteral(regime, pool, indices.narrow(0, t, 1), batchSize, true, Lr, UpdateMode.FusedPerTrial);
            alone[0].eq(stacked[t]).all().item<bool>().Should().BeTrue($"trial {t} alone and stacked ({family}, B = {batchSize})");
        }
    }

    /// <summary>Each AVX-512 tile kernel against libtorch, for every row count it takes and shapes that leave partial tiles and vector tails.</summary>
    [Test]
    public void Tile_kernels_equal_libtorch([Range(1, TileKernels.MaxRows)] int rows)
    {
        if (!TileKernels.Supported) Assert.Ignore("this CPU has no AVX-512F");
        foreach (var (outputs, inputs) in new[] { (37, 100), (64, 1024), (70, 784), (3, 77), (9, 15), (4, 16), (1024, 1024) })
        {
            using var scope = NewDisposeScope();
            using var g = new Generator((ulong)(rows * 1000 + inputs + outputs));
            var w = randn([outputs, inputs], generator: g);
            var bias = randn([outputs], generator: g);
            var x = randn([rows, inputs], generator: g);
            var d = randn([rows, outputs], generator: g);
            var what = $"[{outputs}, {inputs}] with {rows} rows";

            var z = empty([rows, outputs]);
            TileKernels.Linear(w, bias, x, z);
            ExpectClose(z, nn.functional.linear(x, w, bias), "forward " + what);

            var updated = w.clone();
            TileKernels.AddOuterProducts(updated, d, x, -0.37f);
            ExpectClose(updated, w.clone().addmm_(d.t(), x, 1, -0.37f), "update " + what);

            var fused = w.clone();
            var inputGradient = empty([rows, inputs]);
            TileKernels.BackwardAndUpdate(fused, d, x, -0.37f, inputGradient);
            ExpectClose(inputGradient, d.mm(w), "input gradient (from the weights before the update) " + what);
            ExpectClose(fused, w.clone().addmm_(d.t(), x, 1, -0.37f), "fused update " + what);
        }
    }

    [Test]
    public void Tile_kernels_reject_what_they_cannot_take()
    {
        if (!TileKernels.Supported) Assert.Ignore("this CPU has no AVX-512F");
        using var scope = NewDisposeScope();
        var w = randn(8, 16);
        var act = () => TileKernels.AddOuterProducts(w, randn(TileKernels.MaxRows + 1, 8), randn(TileKernels.MaxRows + 1, 16), 1f);
        act.Should().Throw<ArgumentException>().WithMessage("*AddOuterProducts*[17, 16]*1 <= b <= 16*");
        act = () => TileKernels.AddOuterProducts(w, randn(2, 9), randn(2, 16), 1f);
        act.Should().Throw<ArgumentException>().WithMessage("*d [2, 9]; expected [2, 8]*");
        act = () => TileKernels.Linear(w, randn(8), randn(2, 16).t().contiguous().t(), empty(2, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*contiguous float32 CPU*");
        act = () => TileKernels.BackwardAndUpdate(w, randn(2, 8), randn(2, 16), 1f, empty(2, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*input gradient [2, 8]*");
    }

    private static void ExpectClose(Tensor actual, Tensor expected, string what)
    {
        var difference = actual.sub(expected).abs().max().item<float>();
        difference.Should().BeLessThanOrEqualTo(expected.abs().max().item<float>() * 1e-5f, what);
    }

    [Test]
    public void Hand_written_linear_forward_equals_libtorch([Range(1, 8)] int rows)
    {
        if (!SmallBatchKernels.Supported) Assert.Ignore("this CPU has no AVX2 + FMA; the engine uses MKL there");
        foreach (var (outputs, inputs) in new[] { (37, 100), (64, 1024), (70, 784), (3, 77), (9, 15) })
        {
            using var scope = NewDisposeScope();
            using var g = new Generator((ulong)(rows * 1000 + inputs));
            var w = randn([outputs, inputs], generator: g);
            var bias = randn([outputs], generator: g);
            var x = randn([rows, inputs], generator: g);
            var z = empty([rows, outputs]);
            SmallBatchKernels.Linear(w, bias, x, z);
            var expected = nn.functional.linear(x, w, bias);
            z.sub(expected).abs().max().item<float>().Should().BeLessThanOrEqualTo(expected.abs().max().item<float>() * 1e-5f, $"[{outputs}, {inputs}] with {rows} rows");
        }
    }

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(8)]
    public void Single_step_gradient_equals_autograd(int batchSize)
    {
        using var regime = Regime();
        using var pool = Pool();
        using var activations = RegimeActivations.Compute(regime, pool, rowsPerPass: 7);
        using var scope = NewDisposeScope();
        var indices = Indices(4, batchSize);
        var gradients = TrialEngine.RunSingleStep(activations, indices, batchSize);
        for (var t = 0; t < 4; t++)
        {
            using var model = Model(regime);
            var idx = indices[t].narrow(0, 0, batchSize);
            var loss = nn.functional.nll_loss(model.forward(pool.Images.index_select(0, idx)), pool.Labels.index_select(0, idx), reduction: nn.Reduction.Sum);
            loss.backward();
            AssertClose(gradients[t], model.Layers[^1].weight!.grad!, $"single-step gradient of trial {t}");
        }
    }

    [Test]
    public void Hand_written_small_batch_update_equals_addmm([Range(1, 8)] int rows)
    {
        if (!SmallBatchKernels.Supported) Assert.Ignore("this CPU has no AVX2 + FMA; the engine uses addmm_ there");
        foreach (var (outputs, inputs) in new[] { (37, 100), (5, 1024), (3, 77), (2, 784) })
        {
            using var scope = NewDisposeScope();
            using var g = new Generator((ulong)(rows * 1000 + inputs));
            var target = randn([outputs, inputs], generator: g);
            var d = randn([rows, outputs], generator: g);
            var a = randn([rows, inputs], generator: g);
            var expected = target.clone().addmm_(d.t(), a, 1, -0.37f);
            SmallBatchKernels.AddOuterProducts(target, d, a, -0.37f);
            var difference = target.sub(expected).abs().max().item<float>();
            difference.Should().BeLessThanOrEqualTo(expected.abs().max().item<float>() * 1e-5f, $"[{outputs}, {inputs}] with {rows} rows");
        }
    }

    [Test]
    public void Batched_product_wrapper_has_PyTorchs_argument_order()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var input = randn([2, 1, 4], generator: g);
        var b1 = randn([2, 3, 5], generator: g);
        var b2 = randn([2, 5, 4], generator: g);
        var result = BatchedOps.Baddbmm(input, b1, b2, beta: 0.5f, alpha: -2f);
        var expected = input.mul(0.5).add(b1.bmm(b2).mul(-2));
        result.shape.Should().Equal(2, 3, 4);
        result.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue("baddbmm(input, b1, b2) = beta input + alpha b1 @ b2, input broadcast over rows");
    }

    [Test]
    public void Trial_samples_are_distinct_seeded_and_independent_of_the_chunk()
    {
        using var scope = NewDisposeScope();
        var seeds = Enumerable.Range(0, 6).Select(t => TrialEngine.TrialSeed(9, 4, t)).ToList();
        var all = TrialEngine.DrawSamples(seeds, 1000, 64);
        var again = TrialEngine.DrawSamples(seeds.Skip(2).Take(3).ToList(), 1000, 64);
        all.narrow(0, 2, 3).eq(again).all().item<bool>().Should().BeTrue("a trial's samples depend on its own seed only");
        for (var t = 0; t < 6; t++)
        {
            var row = all[t].data<long>().ToArray();
            row.Should().OnlyHaveUniqueItems().And.OnlyContain(i => i >= 0 && i < 1000);
        }
        all[0].eq(all[1]).all().item<bool>().Should().BeFalse();
        TrialEngine.TrialSeed(9, 4, 0).Should().NotBe(TrialEngine.TrialSeed(9, 5, 0)).And.NotBe(TrialEngine.TrialSeed(10, 4, 0));
    }

    [Test]
    public void Running_trials_leaves_no_tensor_behind()
    {
        using var regime = Regime();
        using var pool = Pool();
        using var activations = RegimeActivations.Compute(regime, pool, rowsPerPass: 9);
        var cell = new CellData(new LogBins(-8, 2, 5));
        void RunEverything()
        {
            using var indices = Indices(4, 3);
            foreach (var mode in Enum.GetValues<UpdateMode>())
            {
                using var literal = TrialEngine.RunLiteral(regime, pool, indices, 3, true, Lr, mode);
                cell.Add(literal);
            }
            using var single = TrialEngine.RunSingleStep(activations, indices, 3);
            cell.Add(single);
        }
        RunEverything(); // first use: lazily created state (the TorchScript unit) is not a leak
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Tensor.TotalCount;
        RunEverything();
        var after = Tensor.TotalCount;
        TestContext.Out.WriteLine($"live tensors before {before}, after {after}");
        after.Should().BeLessThanOrEqualTo(before, "every tensor a chunk of trials creates is disposed by its dispose scope");
        cell.Norms.Should().HaveCount(2 * 4 * (Enum.GetValues<UpdateMode>().Length + 1));
    }

    [Test]
    public void Chunks_are_sized_to_the_memory_budget()
    {
        int[] blog = [784, 1024, 1024, 10];
        var perTrial = TrialEngine.BytesPerTrial(blog, 1024, 1, UpdateMode.FusedPerTrial);
        perTrial.Should().BeGreaterThan(7_450_000L, "the blog's MLP has 1.86 M float32 parameters per trial");
        TrialEngine.BytesPerTrial(blog, 1024, 1, UpdateMode.FusedStacked).Should().BeGreaterThan(perTrial + 7_000_000L);
        TrialEngine.BytesPerTrial(blog, 1024, 1024, UpdateMode.FusedPerTrial).Should().BeGreaterThan(perTrial);
        TrialEngine.TrialsPerChunk(perTrial, 10 * perTrial + 1, 64).Should().Be(10);
        TrialEngine.TrialsPerChunk(perTrial, 1, 64).Should().Be(1);
        TrialEngine.TrialsPerChunk(perTrial, 1000 * perTrial, 16).Should().Be(16);
    }

    private static Mlp Model(RegimeWeights regime)
    {
        var model = new Mlp(regime.Widths);
        using var noGrad = no_grad();
        for (var l = 0; l < regime.Layers; l++)
        {
            model.Layers[l].weight!.copy_(regime.Weights[l]);
            model.Layers[l].bias!.copy_(regime.Biases[l]);
        }
        return model;
    }

    /// <summary>The reference: the trial with an ordinary module, autograd and optim.SGD.</summary>
    private static (Tensor GradientSum, Mlp Model) Autograd(RegimeWeights regime, TrialPool pool, Tensor indices, int batchSize, bool mean)
    {
        var model = Model(regime);
        using var sgd = optim.SGD(model.parameters(), Lr);
        var sum = zeros_like(model.Layers[^1].weight!);
        for (var start = 0; start < Samples; start += batchSize)
        {
            using var step = NewDisposeScope();
            var b = Math.Min(batchSize, Samples - start);
            var idx = indices.narrow(0, start, b);
            sgd.zero_grad();
            var loss = nn.functional.nll_loss(model.forward(pool.Images.index_select(0, idx)), pool.Labels.index_select(0, idx),
                reduction: mean ? nn.Reduction.Mean : nn.Reduction.Sum);
            loss.backward();
            sum.add_(model.Layers[^1].weight!.grad!);
            sgd.step();
        }
        return (sum, model);
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        using var scope = NewDisposeScope();
        var difference = actual.sub(expected.detach()).abs().max().item<float>();
        var scale = expected.detach().abs().max().item<float>();
        // Float32 with different summation orders over at most 16 terms per entry: 1e-5 of the largest value.
        difference.Should().BeLessThanOrEqualTo(Math.Max(scale, 1e-3f) * 1e-5f, what);
    }
}
