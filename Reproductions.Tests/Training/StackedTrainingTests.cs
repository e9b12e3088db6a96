using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Store;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Tests.Training;

/// <summary>
/// Runs trained as one stack (<see cref="StackedSession"/>) against the same runs trained one at a time
/// (<see cref="TrainingSession"/>): every optimiser and phase kind, per epoch and per weight, within float tolerance.
/// </summary>
[Unit]
public class StackedTrainingTests
{
    private static TrainingData data = null!;

    [OneTimeSetUp]
    public void CreateData() => data = SyntheticData.Create();

    [OneTimeTearDown]
    public void DisposeData() => data.Dispose();

    /// <summary>A config of the synthetic data that asks to be stacked, in one of the setups the stack must reproduce.</summary>
    private static TrainingConfig Setup(string setup, long seed, double lr)
    {
        var c = SyntheticData.Config(epochs: 3, batchSize: 64, lr: lr, seed: seed);
        c.Stack = true;
        switch (setup)
        {
            case "sgd":
                break;
            case "momentum":
                c.Optimizer.Momentum = 0.9;
                break;
            case "adam":
                c.Optimizer.Kind = OptimizerKind.Adam;
                c.Phases[0].LearningRate = lr / 10;
                break;
            case "phases-with-warm-up":
                c.Phases = [
                    new PhaseConfig { Epochs = 2, BatchSize = 64, LearningRate = lr, WarmupEpochs = 1.5, WarmupFrom = lr / 4 },
                    new PhaseConfig { Epochs = 2, BatchSize = 256, LearningRate = 2 * lr },
                ];
                break;
            case "accumulation-and-sum-loss":
                c.Phases[0].Accumulation = 3;
                c.LossReduction = LossReduction.Sum;
                c.Phases[0].LearningRate = lr / 64;
                break;
            case "subsets-and-interval":
                c.TrainSamples = 900;
                c.Evaluation = new EvaluationConfig { TrainSubset = 300, Interval = 2, ChunkSize = 128 };
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(setup), setup, "unknown setup");
        }
        return c;
    }

    /// <summary>Three runs of a setup: two seeds at one rate, and a third seed at another (a stack carries a rate per model).</summary>
    private static List<TrainingConfig> Runs(string setup) => [Setup(setup, 1, 0.05), Setup(setup, 2, 0.05), Setup(setup, 3, 0.02)];

    private static (List<EpochMetrics> History, float[][] Weights) Alone(TrainingConfig config)
    {
        var lone = Clone(config);
        lone.Stack = false;
        using var session = new TrainingSession(lone, data);
        while (!session.Finished) session.RunEpoch();
        return (session.History.ToList(), session.Model.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray());
    }

    private static (IReadOnlyList<IReadOnlyList<EpochMetrics>> Histories, float[][][] Weights) Stacked(IReadOnlyList<TrainingConfig> configs)
    {
        using var session = new StackedSession(configs, data);
        while (!session.Finished) session.RunEpoch();
        return (session.Histories, Enumerable.Range(0, configs.Count).Select(m =>
        {
            using var mlp = session.Extract(m);
            return mlp.parameters().Select(p => p.detach().data<float>().ToArray()).ToArray();
        }).ToArray());
    }

    private static TrainingConfig Clone(TrainingConfig c) =>
        System.Text.Json.JsonSerializer.Deserialize<TrainingConfig>(System.Text.Json.JsonSerializer.Serialize(c, JsonDefaults.Options), JsonDefaults.Options)!;

    [TestCase("sgd")]
    [TestCase("momentum")]
    [TestCase("adam")]
    [TestCase("phases-with-warm-up")]
    [TestCase("accumulation-and-sum-loss")]
    [TestCase("subsets-and-interval")]
    public void Stacked_runs_equal_the_same_runs_trained_one_at_a_time(string setup)
    {
        var configs = Runs(setup);
        var stacked = Stacked(configs);
        for (var m = 0; m < configs.Count; m++)
        {
            var (history, weights) = Alone(configs[m]);
            var got = stacked.Histories[m];
            got.Should().HaveCount(history.Count);
            for (var e = 0; e < history.Count; e++)
            {
                var (a, b) = (history[e], got[e]);
                var at = $"{setup}, seed {configs[m].Seed}, epoch {e + 1}";
                (b.Epoch, b.Phase, b.BatchSize, b.LearningRate, b.Steps).Should().Be((a.Epoch, a.Phase, a.BatchSize, a.LearningRate, a.Steps), at);
                // Accuracies: at most one of the 400 test (300-1200 train) samples may fall the other way from rounding alone.
                Close(b.TestAccuracy, a.TestAccuracy, 1.0 / 400, at + " test accuracy");
                Close(b.TrainAccuracy, a.TrainAccuracy, 1.0 / 300, at + " train accuracy");
                Close(b.TrainLoss, a.TrainLoss, 1e-4 * Math.Max(1, Math.Abs(a.TrainLoss)), at + " train loss");
                Close(b.TestLoss, a.TestLoss, 1e-4 * Math.Max(1, Math.Abs(a.TestLoss)), at + " test loss");
                Close(b.WeightNorm, a.WeightNorm, 1e-5 * a.WeightNorm, at + " weight norm");
                Close(b.WeightDistance, a.WeightDistance, 1e-4 * Math.Max(1e-3, a.WeightDistance), at + " weight distance");
                // Biases (norm about 0.1 here) as the losses and each weight: 1e-4 absolute below 1, relative above.
                Close(b.BiasNorm, a.BiasNorm, 1e-4 * Math.Max(1, a.BiasNorm), at + " bias norm");
                b.LayerCosines.Zip(a.LayerCosines).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-5, at + " cosines");
            }
            var maxDifference = weights.Zip(stacked.Weights[m]).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
            maxDifference.Should().BeLessThan(1e-4f, $"{setup}, seed {configs[m].Seed}: the final weights differ by rounding alone");
        }
    }

    private static void Close(double actual, double expected, double tolerance, string what)
    {
        if (double.IsNaN(expected)) actual.Should().Be(double.NaN, what);
        else actual.Should().BeApproximately(expected, tolerance, what);
    }

    [Test]
    public void A_model_trains_the_same_whatever_else_is_in_its_stack()
    {
        var configs = Runs("momentum");
        var three = Stacked(configs);
        var one = Stacked([configs[1]]);
        var difference = one.Weights[0].Zip(three.Weights[1]).Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
        difference.Should().BeLessThan(1e-5f, "each model's arithmetic in a stack reads its own slices only");
        one.Histories[0][^1].TestAccuracy.Should().BeApproximately(three.Histories[1][^1].TestAccuracy, 1.0 / 400);
    }

    /// <summary>
    /// The key of a stacked CPU run leaves out what else is in its stack: this pins why. At the blog's widths, one epoch of each
    /// step kind (the hand-formed step at 2 and 64 rows, autograd's at 256 and with momentum and Adam), a model's weights and
    /// numbers are the same bit for bit in stacks of 1, 2, 3, 5 and 8 models of other seeds and rates.
    /// </summary>
    [TestCase("sgd", 2)]
    [TestCase("sgd", 64)]
    [TestCase("sgd", 256)]
    [TestCase("momentum", 64)]
    [TestCase("adam", 64)]
    public void On_the_cpu_a_model_trains_bit_for_bit_the_same_in_stacks_of_any_size(string setup, int batchSize)
    {
        TrainingConfig Blog(long seed, double lr)
        {
            var c = Setup(setup, seed, lr);
            c.Model = new ModelConfig { Widths = [784, 1024, 1024, 10] };
            c.TrainSamples = batchSize == 2 ? 100 : 4 * batchSize;
            foreach (var p in c.Phases) { p.Epochs = 1; p.BatchSize = batchSize; }
            return c;
        }
        var target = Blog(5, 0.03);
        var others = new[] { Blog(1, 0.05), Blog(2, 0.05), Blog(3, 0.02), Blog(4, 0.01), Blog(6, 0.04), Blog(7, 0.05), Blog(8, 0.05) };
        (EpochMetrics Last, float[][] Weights, double InitialWeightNorm, double InitialBiasNorm)? reference = null;
        foreach (var size in new[] { 1, 2, 3, 5, 8 })
        {
            var configs = others.Take(size - 1).Prepend(target).Reverse().ToList(); // the target last: its slice moves with the size
            using var session = new StackedSession(configs, data);
            while (!session.Finished) session.RunEpoch();
            using var mlp = session.Extract(size - 1);
            var got = (Last: session.Histories[^1][^1], Weights: mlp.parameters().Select(p => p.detach().data<float>().ToArray()).ToArray(),
                InitialWeightNorm: session.InitialWeightNorms[^1], InitialBiasNorm: session.InitialBiasNorms[^1]);
            if (reference is not { } first) { reference = got; continue; }
            var at = $"{setup} bs {batchSize}, a stack of {size} against a stack of 1";
            for (var p = 0; p < first.Weights.Length; p++)
                got.Weights[p].Should().Equal(first.Weights[p], at + $", parameter {p}");
            got.Last.Should().BeEquivalentTo(first.Last, o => o.Excluding(e => e.TrainSeconds).Excluding(e => e.EvalSeconds), at);
            (got.InitialWeightNorm, got.InitialBiasNorm).Should().Be((first.InitialWeightNorm, first.InitialBiasNorm), at + ", the initial norms");
        }
    }

    [Test]
    public void A_diverging_model_stops_alone_and_the_others_go_on()
    {
        // Every run: one epoch at its first rate, then two at its second; the last one's second rate sends its loss off.
        TrainingConfig TwoPhases(long seed, double second)
        {
            var c = Setup("sgd", seed, 0.05);
            c.Phases = [new PhaseConfig { Epochs = 1, BatchSize = 64, LearningRate = 0.05 }, new PhaseConfig { Epochs = 2, BatchSize = 64, LearningRate = second }];
            return c;
        }
        List<TrainingConfig> configs = [TwoPhases(1, 0.05), TwoPhases(2, 0.05), TwoPhases(3, 0.05), TwoPhases(4, 500)];
        using var session = new StackedSession(configs, data);
        while (!session.Finished) session.RunEpoch();
        var divergence = session.Diverged[3];
        divergence.Should().NotBeNull("a rate of 500 sends the loss or the weights off");
        session.Histories[3].Should().HaveCount(divergence!.Epoch);
        session.Diverged.Take(3).Should().OnlyContain(d => d == null);
        session.Histories.Take(3).Should().OnlyContain(h => h.Count == 3);
        // As the same run diverges alone: at the same epoch, for the same reason.
        var lone = Clone(configs[3]);
        lone.Stack = false;
        using (var alone = new TrainingSession(lone, data))
        {
            Divergence? d = null;
            while (!alone.Finished && d is null)
            {
                alone.RunEpoch();
                d = TrainingWork.Diverged(alone.History, TrainingConfig.DefaultDivergenceLossFactor, lone.Model.Widths[^1]);
            }
            d.Should().NotBeNull();
            d!.Epoch.Should().Be(divergence.Epoch);
            d.Reason.Split(' ').Take(3).Should().Equal(divergence.Reason.Split(' ').Take(3));
        }
        // The others: as in a stack without it.
        var without = Stacked(configs.Take(3).ToList());
        for (var m = 0; m < 3; m++)
            session.Histories[m][^1].WeightNorm.Should().BeApproximately(without.Histories[m][^1].WeightNorm, 1e-5 * without.Histories[m][^1].WeightNorm);
    }

    [Test]
    public void A_stack_resumed_from_its_checkpoint_continues_exactly()
    {
        var configs = Runs("adam");
        using var whole = new StackedSession(configs, data);
        while (!whole.Finished) whole.RunEpoch();
        var folder = Directory.CreateTempSubdirectory("stack-checkpoint").FullName;
        try
        {
            var path = Path.Combine(folder, "checkpoint.bin");
            using (var before = new StackedSession(configs, data))
            {
                before.RunEpoch();
                before.SaveCheckpoint(path, "abc");
            }
            using var after = new StackedSession(configs, data);
            FluentActions.Invoking(() => after.LoadCheckpoint(path, "other")).Should().Throw<CorruptStateException>().WithMessage("*belongs to run abc*");
            after.LoadCheckpoint(path, "abc");
            after.CompletedEpochs.Should().Be(1);
            while (!after.Finished) after.RunEpoch();
            for (var m = 0; m < configs.Count; m++)
                after.Histories[m].Select(e => (e.TestLoss, e.WeightNorm, e.Steps)).Should().Equal(whole.Histories[m].Select(e => (e.TestLoss, e.WeightNorm, e.Steps)));
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^100]);
            using var torn = new StackedSession(configs, data);
            FluentActions.Invoking(() => torn.LoadCheckpoint(path, "abc")).Should().Throw<CorruptStateException>();
            torn.CompletedEpochs.Should().Be(0, "a checkpoint that fails its checks changes nothing");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Every step kind a stack takes: plain SGD at bs 64 (the hand-formed step on the CPU), momentum (autograd's step),
    /// Adam (its own update), and a stack in which one model diverges (its weights frozen while the others train on).
    /// </summary>
    [TestCase("sgd", false)]
    [TestCase("momentum", false)]
    [TestCase("adam", false)]
    [TestCase("sgd", true)]
    public void Live_tensor_count_stays_flat_across_epochs(string setup, bool oneDiverges)
    {
        var configs = Runs(setup);
        foreach (var c in configs) c.Phases[0].Epochs = 12;
        if (oneDiverges) configs[2].Phases[0].LearningRate = 1e4;
        using var session = new StackedSession(configs, data);
        if (setup == "sgd") session.HandFormed(configs[0].Phases[0]).Should().Be(Devices.TypeName(session.Device) == "cpu", "plain SGD at bs 64 takes the hand-formed step on the CPU");
        var live = new List<long>();
        while (!session.Finished)
        {
            session.RunEpoch();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        live.Skip(1).Should().OnlyContain(n => n == live[1], $"live tensor counts per epoch were {string.Join(" ", live)}");
        if (oneDiverges) session.Diverged.Select(d => d is not null).Should().Equal([false, false, true], "the third model's rate of 10^4 blows it up");
    }

    [Test]
    public void A_stacked_step_issues_as_many_operations_for_eight_models_as_for_one()
    {
        var config = SyntheticData.Config(batchSize: 32);
        var one = Harness.Benchmarks.StackedBench.StackedOpsPerStep(config, data, 1).Tensors;
        var eight = Harness.Benchmarks.StackedBench.StackedOpsPerStep(config, data, 8).Tensors;
        var lone = Harness.Benchmarks.StackedBench.LoneOpsPerStep(config, data).Tensors;
        one.Should().BeGreaterThan(0);
        eight.Should().Be(one, "a stack's step is the same batched operations whatever the number of models");
        lone.Should().BeGreaterThan(0);
        eight.Should().BeLessThan(8 * lone, "eight models in one stack issue fewer operations than eight lone steps");
    }

    [TestCase("sgd", "cpu", true)]
    [TestCase("phases-with-warm-up", "cpu", true)] // its first phase (bs 64) only; the second (bs 256) takes autograd's step
    [TestCase("subsets-and-interval", "cpu", true)]
    [TestCase("sgd", "cuda", false)]
    [TestCase("momentum", "cpu", false)]
    [TestCase("adam", "cpu", false)]
    [TestCase("accumulation-and-sum-loss", "cpu", false)]
    public void Plain_sgd_on_small_whole_batches_on_the_cpu_takes_the_hand_formed_step_and_its_hash_says_so(string setup, string device, bool fused)
    {
        var config = Setup(setup, 1, 0.05);
        FusedSgd.Arithmetic(config, device).Should().Be(fused ? "baddbmm-2; fused-sgd-1" : "baddbmm-2");
        FusedSgd.Takes(config, device, new PhaseConfig { Epochs = 1, BatchSize = FusedSgd.MaxRows + 1, LearningRate = 0.1 }).Should().BeFalse();
        // The equivalence cases above train these very setups, the hand-formed step included, against lone runs.
    }

    [Test]
    public void Runs_of_one_schedule_stack_and_others_do_not()
    {
        var a = Setup("sgd", 1, 0.05);
        var b = Setup("sgd", 2, 0.02);
        var other = Setup("sgd", 3, 0.05);
        other.Phases[0].BatchSize = 32;
        var alone = Setup("sgd", 4, 0.05);
        alone.Stack = false;
        var plan = StackWork.Group([(a, "F99 quick lr5 seed 1"), (b, "F99 quick lr2 seed 2"), (other, "F99 quick bs32 seed 3"), (alone, "F99 quick lone seed 4")], "cpu")
            .Cast<TrainingWork>().ToList();
        plan[0].Stack.Should().BeSameAs(plan[1].Stack, "the same schedule, whatever the seed and rate");
        plan[0].Stack!.Configs.Should().HaveCount(2);
        plan[0].Stack!.Label.Should().Be("F99 quick (2 runs stacked)");
        plan[2].Stack.Should().NotBeSameAs(plan[0].Stack).And.NotBeNull();
        plan[3].Stack.Should().BeNull();
        // A run repeated under another name is one member of its stack, and one unit of the store.
        var twice = StackWork.Group([(a, "F99 quick lr5 seed 1"), (Clone(a), "F99 quick control seed 1"), (b, "F99 quick lr2 seed 2")], "cpu").Cast<TrainingWork>().ToList();
        twice[0].Stack!.Configs.Should().HaveCount(2);
        twice[1].Key.Should().Be(twice[0].Key);
        plan[3].Reads.Should().BeEmpty();
        plan[0].Reads.Should().Equal(plan[0].Stack!);
        // Stacking is part of a run's key; the size of its stack only where it changes the numbers (CUDA, unmeasured), not on the CPU.
        var lone = Clone(a);
        lone.Stack = false;
        plan[0].Key.Hash.Should().NotBe(TrainingWork.Hash(lone, "cpu")).And.Be(TrainingWork.Hash(a, "cpu", 1)).And.Be(TrainingWork.Hash(a, "cpu", 2));
        TrainingWork.Hash(a, "cuda", 1).Should().NotBe(TrainingWork.Hash(a, "cuda", 2));
    }

    [Test]
    public void Each_stacked_run_is_stored_as_its_own_run_with_its_weights()
    {
        var root = Directory.CreateTempSubdirectory("stack-store").FullName;
        try
        {
            var store = new ExperimentStore(root);
            var configs = Runs("sgd");
            var plan = StackWork.Group(configs.Select(c => (c, $"F99 quick seed {c.Seed}")).ToList(), "cpu");
            var options = new RunOptions { Data = _ => data };
            var records = plan.Select(w => (RunRecord)store.GetOrRunUntyped(w, options)).ToList();
            var stack = ((TrainingWork)plan[0]).Stack!;
            stack.Label.Should().Be("F99 quick (3 runs stacked)", "the labels' shared words, without the dangling 'seed'");
            File.Exists(store.ResultPath(stack.Key)).Should().BeTrue();
            for (var m = 0; m < configs.Count; m++)
            {
                records[m].Hash.Should().Be(plan[m].Key.Hash);
                records[m].Config.Seed.Should().Be(configs[m].Seed);
                records[m].Epochs.Should().HaveCount(3);
                File.Exists(Path.Combine(store.Folder(plan[m].Key), TrainingWork.WeightsFile)).Should().BeTrue();
                store.TryLoad((TrainingWork)plan[m]).Should().BeEquivalentTo(records[m]);
            }
            Directory.Exists(Path.Combine(store.Folder(stack.Key), ExperimentStore.ScratchFolder)).Should().BeFalse("the checkpoints go once the stack is stored");
            // The weights file of a stacked run loads as a lone run's does.
            using var reloaded = new Harness.Models.Mlp(configs[1].Model.Widths);
            reloaded.load(Path.Combine(store.Folder(plan[1].Key), TrainingWork.WeightsFile));
            var norm = Math.Sqrt(reloaded.Weights.Sum(w => w.square().sum().item<float>()));
            norm.Should().BeApproximately(records[1].Final.WeightNorm, 1e-4 * norm);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void A_stacks_weights_files_are_checksummed_in_its_record_and_one_that_changed_is_never_copied()
    {
        var root = Directory.CreateTempSubdirectory("stack-weights").FullName;
        try
        {
            var store = new ExperimentStore(root);
            var configs = Runs("sgd");
            var plan = StackWork.Group(configs.Select(c => (c, $"F99 quick seed {c.Seed}")).ToList(), "cpu").Cast<TrainingWork>().ToList();
            var stack = plan[0].Stack!;
            var options = new RunOptions { Data = _ => data };
            var stored = store.GetOrRun(stack, options);
            var folder = store.Folder(stack.Key);
            var files = Directory.GetFiles(folder, "*.weights").Select(Path.GetFileName).ToList();
            files.Should().BeEquivalentTo(configs.Select((_, m) => StackWork.WeightsFileOf(m)));
            stored.WeightsSha256!.Keys.Should().BeEquivalentTo(files, "every weights file the stack keeps is checksummed");
            File.ReadAllText(store.ResultPath(stack.Key)).Should().Contain("\"weightsSha256\"", "inside the stored result, under its SHA-256");
            store.GetOrRun(plan[0], options).WeightsSha256![TrainingWork.WeightsFile].Should().Be(stored.WeightsSha256[StackWork.WeightsFileOf(0)], "a member copies what the stack wrote");

            var path = Path.Combine(folder, StackWork.WeightsFileOf(1));
            Damage.FlipABiasBit(path);
            FluentActions.Invoking(() => store.GetOrRun(plan[1], options)).Should().Throw<CorruptStateException>()
                .WithMessage($"{path}: its SHA-256 is *, but stack {stack.Key.Hash}'s result records {stored.WeightsSha256[StackWork.WeightsFileOf(1)]}: the weights file changed after it was stored.*");
            File.Exists(Path.Combine(store.Folder(plan[1].Key), TrainingWork.WeightsFile)).Should().BeFalse("a changed weights file is never copied");
            store.TryLoad(plan[1]).Should().BeNull();

            // A stack stored before its weights were checksummed (no weightsSha256 in its file) still loads, and its weights are copied unchecked.
            store.Save(stack, stored with { WeightsSha256 = null });
            File.ReadAllText(store.ResultPath(stack.Key)).Should().NotContain("weightsSha256");
            File.SetLastWriteTimeUtc(store.ResultPath(stack.Key), DateTime.UtcNow.AddMinutes(1)); // read from the file, not the store's cache
            store.TryLoad(stack)!.WeightsSha256.Should().BeNull();
            store.GetOrRun(plan[1], options).Status.Should().Be(RunStatus.Finished);
            File.ReadAllBytes(Path.Combine(store.Folder(plan[1].Key), TrainingWork.WeightsFile)).Should().Equal(File.ReadAllBytes(path), "copied as it is, the flipped bit included");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void A_stack_pooled_across_findings_trains_once_and_each_findings_own_plan_reads_its_runs()
    {
        var root = Directory.CreateTempSubdirectory("stack-pool").FullName;
        try
        {
            var store = new ExperimentStore(root);
            // Two findings of one schedule: F98 with seeds 1 and 2, F99 with seed 2 (a run both have) and seed 3 at another rate.
            List<(TrainingConfig, string)> f98 = [(Setup("sgd", 1, 0.05), "F98 quick base seed 1"), (Setup("sgd", 2, 0.05), "F98 quick base seed 2")];
            List<(TrainingConfig, string)> f99 = [(Setup("sgd", 2, 0.05), "F99 quick same seed 2"), (Setup("sgd", 3, 0.02), "F99 quick slow seed 3")];
            var pool = StackPool.Of([StackWork.Group(f98, "cpu"), StackWork.Group(f99, "cpu")], "cpu");
            pool.Stacks.Should().ContainSingle().Which.Label.Should().Be("F98 quick base + F99 quick (3 runs stacked)");
            var options = new RunOptions { Data = _ => data };
            var first = StackWork.Group(f98, "cpu", pool);
            first.Select(w => (RunRecord)store.GetOrRunUntyped(w, options)).Should().OnlyContain(r => r.Status == RunStatus.Finished);
            var stack = ((TrainingWork)first[0]).Stack!;
            stack.Configs.Select(c => c.Seed).Should().Equal(1, 2, 3);
            File.Exists(store.ResultPath(stack.Key)).Should().BeTrue();
            // F99's pooled plan, run next (as reproduce runs the findings it was given), reads the stored stack and trains nothing.
            var written = File.GetLastWriteTimeUtc(store.ResultPath(stack.Key));
            var second = StackWork.Group(f99, "cpu", pool).Cast<TrainingWork>().ToList();
            second.Should().OnlyContain(w => w.Stack == stack);
            var records = second.Select(w => (RunRecord)store.GetOrRunUntyped(w, options)).ToList();
            records.Select(r => r.Config.Seed).Should().Equal(2, 3);
            store.TryLoad(stack)!.Members.Select(m => m.Hash).Should().Contain(records.Select(r => r.Hash));
            File.GetLastWriteTimeUtc(store.ResultPath(stack.Key)).Should().Be(written, "the stack trained once");
            // F99, planned on its own (a stack of its two runs), finds both stored: the pooled stack trained them under the same keys.
            foreach (var work in StackWork.Group(f99, "cpu").Cast<TrainingWork>())
            {
                work.Stack!.Configs.Should().HaveCount(2);
                store.TryLoad(work).Should().NotBeNull($"{work.Label} was trained in the pooled stack under its own key");
                File.Exists(Path.Combine(store.Folder(work.Key), TrainingWork.WeightsFile)).Should().BeTrue();
            }
            // And its numbers are the ones a stack of its own would give, bit for bit (the key's promise).
            var own = Stacked([Setup("sgd", 2, 0.05), Setup("sgd", 3, 0.02)]);
            var stored = store.TryLoad((TrainingWork)StackWork.Group(f99, "cpu")[1])!;
            stored.Epochs.Select(e => (e.TestLoss, e.WeightNorm, e.BiasNorm)).Should().Equal(own.Histories[1].Select(e => (e.TestLoss, e.WeightNorm, e.BiasNorm)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void Stack_cannot_be_combined_with_kept_weights_or_a_stopping_target()
    {
        var layers = new[] { ConfigLayer.FromPairs("test", ("stack", true), ("keepWeights", 5), ("phases:0:epochs", 1), ("phases:0:batchSize", 10), ("phases:0:learningRate", 0.1), ("model:widths:0", 784), ("model:widths:1", 10)) };
        FluentActions.Invoking(() => ConfigLoader.Build(layers)).Should().Throw<ConfigException>().WithMessage("*stack = True*keepWeights*");
    }
}
