using System.Diagnostics;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

/// <summary>
/// Several training runs that share a schedule (<see cref="StackSchedule"/>: the same phases' batch sizes and epochs, the
/// same model, optimiser kind and data) trained as one stacked model on the device: weights [models, in, out] (each model's
/// matrix transposed, so that the products read them as they lie), biases
/// [models, 1, out], every layer one batched product for all models. Each model keeps what makes it its own run: its seed
/// (its init, its training subset, its evaluation subset and each epoch's data order), its learning rates and warm-up,
/// its divergence bound, its history. The loss is the sum of the models' losses, so autograd gives each model exactly its
/// own gradient; the update (SGD with momentum, or Adam) is applied to the stacked tensors with a learning rate per model.
/// A model that diverges stops there (its history ends; its learning rate is zero from then on) while the others go on.
/// <para>
/// The arithmetic differs from <see cref="TrainingSession"/>'s only in float rounding (batched products instead of one
/// product per layer, the update formed from the same formulas on stacked tensors): the tests train every optimiser and
/// phase kind both ways and compare. Runs trained here carry their stacking in their hash.
/// </para>
/// </summary>
public sealed class StackedSession : ICheckpointed, IDisposable
{
    private const int CheckpointMagic = 0x52505331; // "RPS1"

    private readonly IReadOnlyList<TrainingConfig> configs;
    private readonly TrainingConfig first;
    private readonly Tensor trainX, trainY, testX, testY;
    /// <summary>
    /// Each training row's label as a one-hot row ([rows, classes], float), formed once: the hand-formed step reads its
    /// batch's rows in one gather. Forming them per step took a label gather, a zero fill, a scatter and a cast (and on the
    /// CPU two host reads, libtorch's range checks of the labels) for the same values. Null where no phase can take that
    /// step (<see cref="FusedSgd.Fits"/>): autograd's step reads the labels themselves.
    /// </summary>
    private readonly Tensor? trainOneHot;
    /// <summary>Per model, the rows of <see cref="trainX"/> it trains on ([n]) and measures its training accuracy on ([m]).</summary>
    private readonly Tensor[] trainRows, evalRows;
    private readonly Tensor[] weights, biases, initWeights, initBiases;
    private readonly Tensor[] firstMoments, secondMoments; // SGD momentum buffers (first only), or Adam's moments
    private readonly List<EpochMetrics>[] histories;
    private readonly Divergence?[] diverged;
    private long steps;
    private long adamSteps;

    public StackedSession(IReadOnlyList<TrainingConfig> configs, TrainingData data)
    {
        if (configs.Count == 0) throw new ArgumentException("a stack needs at least one run", nameof(configs));
        StackSchedule.Check(configs);
        this.configs = configs;
        first = configs[0];
        Device = Devices.Resolve(first.Device);
        var models = configs.Count;

        using (var scope = NewDisposeScope())
        {
            trainX = TrainingSession.Preprocess(data.TrainImages, first, Device).MoveToOuterDisposeScope();
            trainY = data.TrainLabels.to(Device).MoveToOuterDisposeScope();
            if (first.Phases.Any(p => FusedSgd.Fits(first, p)))
                trainOneHot = nn.functional.one_hot(trainY, first.Model.Widths[^1]).to(ScalarType.Float32).MoveToOuterDisposeScope();
            testX = TrainingSession.Preprocess(data.TestImages, first, Device).MoveToOuterDisposeScope();
            testY = data.TestLabels.to(Device).MoveToOuterDisposeScope();
            var all = trainX.shape[0];
            trainRows = new Tensor[models];
            evalRows = new Tensor[models];
            for (var m = 0; m < models; m++)
            {
                // The same seeded draws as a run trained alone: its training subset, then its evaluation subset of that.
                var rows = TrainingSession.DrawRows(all, configs[m].TrainSamples, configs[m].Seed, Seeds.TrainSubset) ?? arange(all, dtype: ScalarType.Int64);
                var n = rows.shape[0];
                var evalPick = TrainingSession.DrawRows(n, configs[m].Evaluation.TrainSubset, configs[m].Seed, Seeds.EvalSubset);
                trainRows[m] = rows.to(Device).MoveToOuterDisposeScope();
                evalRows[m] = (evalPick is null ? rows : rows.index_select(0, evalPick)).to(Device).MoveToOuterDisposeScope();
            }
        }
        TrainSamples = trainRows[0].shape[0];
        if (trainRows.Any(r => r.shape[0] != TrainSamples) || evalRows.Any(r => r.shape[0] != evalRows[0].shape[0]))
            throw new InvalidOperationException("the stacked runs draw training or evaluation sets of different sizes");

        var layers = first.Model.Widths.Length - 1;
        var inits = new List<(Tensor W, Tensor B)[]>();
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            foreach (var config in configs)
            {
                // Each model's init exactly as a run trained alone draws it (the same module, the same seeded generator).
                using var model = Mlp.Initialized(config);
                inits.Add(model.Weights.Zip(model.Biases, (w, b) => (w.detach().clone(), b.detach().clone())).ToArray());
            }
            // Stored transposed, [models, in, out]: the forward product reads them as they lie, and their gradients come out
            // contiguous (a transposed view's gradient would make every update stride across the matrix).
            initWeights = Enumerable.Range(0, layers).Select(l => stack(inits.Select(i => i[l].W.t())).contiguous().to(Device).DetachFromDisposeScope()).ToArray();
            initBiases = Enumerable.Range(0, layers).Select(l => stack(inits.Select(i => i[l].B)).unsqueeze(1).to(Device).DetachFromDisposeScope()).ToArray();
            weights = initWeights.Select(w => w.clone().requires_grad_(true).DetachFromDisposeScope()).ToArray();
            biases = initBiases.Select(b => b.clone().requires_grad_(true).DetachFromDisposeScope()).ToArray();
            var parameters = weights.Concat(biases).ToArray();
            var momentum = first.Optimizer.Kind == OptimizerKind.Adam || first.Optimizer.Momentum != 0;
            firstMoments = momentum ? parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray() : [];
            secondMoments = first.Optimizer.Kind == OptimizerKind.Adam ? parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray() : [];
            InitialWeightNorms = Norms(initWeights);
            InitialBiasNorms = Norms(initBiases);
        }
        histories = configs.Select(_ => new List<EpochMetrics>()).ToArray();
        diverged = new Divergence?[models];
    }

    public Device Device { get; }
    public int Models => configs.Count;
    public IReadOnlyList<TrainingConfig> Configs => configs;
    public long TrainSamples { get; }
    /// <summary>Each model's L2 norm of all weights (and of all biases) at init.</summary>
    public IReadOnlyList<double> InitialWeightNorms { get; }
    public IReadOnlyList<double> InitialBiasNorms { get; }
    public IReadOnlyList<IReadOnlyList<EpochMetrics>> Histories => histories;
    /// <summary>Where each model diverged (null: it has not).</summary>
    public IReadOnlyList<Divergence?> Diverged => diverged;
    /// <summary>The epochs the stack has trained (a diverged model's history ends earlier).</summary>
    public int CompletedEpochs { get; private set; }
    public bool Finished => CompletedEpochs >= first.TotalEpochs || diverged.All(d => d is not null);
    public long Steps => steps;

    /// <summary>
    /// The sum of each model's slice of <paramref name="stacked"/> ([models, ...] to [models]), one reduction per model: the
    /// same bit for bit whatever the stack's size (a reduction over the stacked dimensions orders its additions, or splits
    /// them between threads, by the stack's size).
    /// </summary>
    private static Tensor SumPerModel(Tensor stacked) =>
        stack(Enumerable.Range(0, (int)stacked.shape[0]).Select(m => stacked[m].sum()).ToArray());

    /// <summary>Each model's L2 norm over <paramref name="stacked"/>.</summary>
    private static double[] Norms(Tensor[] stacked)
    {
        using var scope = NewDisposeScope();
        var sums = stacked.Select(t => SumPerModel(t.to(ScalarType.Float64).square())).Aggregate((a, b) => a.add(b));
        return sums.sqrt().cpu().data<double>().ToArray();
    }

    /// <summary>Trains the next epoch of every model that has not diverged, then measures each. No host read inside the step loop.</summary>
    public IReadOnlyList<EpochMetrics?> RunEpoch()
    {
        if (Finished) throw new InvalidOperationException("The stack has already finished all its epochs.");
        var epoch = CompletedEpochs;
        var (phaseIndex, epochInPhase) = first.Locate(epoch);
        var phase = first.Phases[phaseIndex];
        var n = TrainSamples;
        var batch = phase.BatchSize;
        var stepsPerEpoch = (n + batch - 1) / batch;
        var models = Models;

        var clock = Stopwatch.StartNew();
        using (var epochScope = NewDisposeScope())
        {
            // Each model's rows in its own seeded order for this epoch, as rows of the shared training set: [models, n].
            var order = stack(Enumerable.Range(0, models).Select(m =>
            {
                using var g = new Generator((ulong)Seeds.Derive(configs[m].Seed, Seeds.Shuffle, epoch));
                return trainRows[m].index_select(0, randperm(n, generator: g).to(Device));
            }));
            // Every step's learning rate per model, formed on the host once per epoch and moved in one copy: [steps, models, 1, 1].
            var rates = new float[stepsPerEpoch * models];
            for (var s = 0; s < stepsPerEpoch; s++)
                for (var m = 0; m < models; m++)
                    rates[s * models + m] = diverged[m] is null
                        ? (float)configs[m].Phases[phaseIndex].RateAt(epochInPhase * stepsPerEpoch + s, stepsPerEpoch) : 0f;
            var lrs = tensor(rates).view(stepsPerEpoch, models, 1, 1).to(Device);
            // The whole steps' rows laid out step by step ([steps, models, batch]) in one copy, so that each step's rows are
            // contiguous: a slice of [models, n] is not, and the step's gather would copy it first, once per step.
            var whole = n / batch;
            var blocks = order.narrow(1, 0, whole * batch).view(models, whole, batch).transpose(0, 1).contiguous();
            for (long step = 0; step < stepsPerEpoch; step++)
            {
                using var batchScope = NewDisposeScope();
                Step(step < whole ? blocks[step] : order.narrow(1, whole * batch, n - whole * batch), lrs[step], phase);
            }
        }
        if (Device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
        var trainSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var evaluate = (epoch + 1) % first.Evaluation.Interval == 0 || epoch + 1 == first.TotalEpochs;
        var train = evaluate ? Evaluate(trainX, trainY, evalRows) : null;
        var test = evaluate ? Evaluate(testX, testY, null) : null;
        var geometry = Geometry();
        CompletedEpochs++;
        var measured = new EpochMetrics?[models];
        for (var m = 0; m < models; m++)
        {
            if (diverged[m] is not null) continue;
            var g = geometry[m];
            var metrics = new EpochMetrics
            {
                Epoch = epoch + 1,
                Phase = phaseIndex,
                BatchSize = batch,
                LearningRate = configs[m].Phases[phaseIndex].LearningRate,
                Steps = steps,
                TrainLoss = train?.Loss[m] ?? double.NaN,
                TrainAccuracy = train?.Accuracy[m] ?? double.NaN,
                TestLoss = test?.Loss[m] ?? double.NaN,
                TestAccuracy = test?.Accuracy[m] ?? double.NaN,
                WeightDistance = g.WeightDistance,
                BiasDistance = g.BiasDistance,
                WeightNorm = g.WeightNorm,
                BiasNorm = g.BiasNorm,
                LayerCosines = g.Cosines,
                // The stack's time, shared evenly: the models trained together, so each took a share of it.
                TrainSeconds = trainSeconds / models,
                EvalSeconds = clock.Elapsed.TotalSeconds / models,
            };
            histories[m].Add(metrics);
            measured[m] = metrics;
            diverged[m] = Protocols.TrainingWork.Diverged(histories[m], configs[m].DivergenceLossFactor ?? TrainingConfig.DefaultDivergenceLossFactor, configs[m].Model.Widths[^1]);
        }
        return measured;
    }

    /// <summary>
    /// One optimiser step of every model: model m's batch is rows <paramref name="rows"/>[m] of the training set ([models, b]),
    /// its learning rate <paramref name="lr"/>[m] ([models, 1, 1]). No host read. Public for the bench, which counts its operations.
    /// </summary>
    public void Step(Tensor rows, Tensor lr, PhaseConfig phase)
    {
        var size = rows.shape[1];
        var flat = rows.reshape(-1);
        var x = trainX.index_select(0, flat).view(Models, size, -1);
        if (HandFormed(phase)) FusedStep(x, trainOneHot!.index_select(0, flat).view(Models, size, -1), lr); // formed: the phase fits the step
        else Update(Gradient(x, trainY.index_select(0, flat).view(Models, size), phase.MicroBatchSize), lr);
        steps++;
    }

    /// <summary>
    /// For the bench alone: take the hand-formed step (true) or autograd's (false) whatever <see cref="FusedSgd.Takes"/> says,
    /// to time the step not chosen on this device. Null (every run): the choice is <see cref="FusedSgd.Takes"/>', from the
    /// config and the device type, as the run's hash records it.
    /// </summary>
    public bool? BenchStep
    {
        get => benchStep;
        set
        {
            if (value == true && !first.Phases.All(p => FusedSgd.Fits(first, p)))
                throw new InvalidOperationException("the hand-formed step is plain SGD without accumulation; this stack's config is not");
            benchStep = value;
        }
    }
    private bool? benchStep;

    /// <summary>Whether this stack's step in <paramref name="phase"/> is the hand-formed one.</summary>
    public bool HandFormed(PhaseConfig phase) => benchStep ?? FusedSgd.Takes(first, Devices.TypeName(Device), phase);

    /// <summary>
    /// One step of plain SGD formed by hand (<see cref="FusedSgd"/>): the forward pass, then from the top layer down the
    /// gradient for the layer below (from the weights before their update), then the update in place as one batched
    /// product, <c>W -= a^T (lr * delta)</c>, so each weight matrix is read once forward and read once and read and
    /// written once backward, with no gradient tensor of the weights' size. The same formulas as autograd's step.
    /// </summary>
    private void FusedStep(Tensor x, Tensor oneHot, Tensor lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var layers = weights.Length;
        var rows = x.shape[1];
        var inputs = new Tensor[layers];
        var a = x;
        var z = x;
        for (var l = 0; l < layers; l++)
        {
            inputs[l] = a;
            z = Trials.BatchedOps.Baddbmm(biases[l], a, weights[l]);
            if (l < layers - 1) a = z.relu();
        }
        // d(loss)/d(logits): softmax - onehot, divided by the batch's rows under mean reduction.
        var delta = z.softmax(2).sub_(oneHot);
        if (first.LossReduction == LossReduction.Mean) delta.div_(rows);
        for (var l = layers - 1; l >= 0; l--)
        {
            var below = l > 0 ? delta.bmm(weights[l].transpose(1, 2)) : null;
            var scaled = delta.mul(lr);
            Trials.BatchedOps.BaddbmmInPlace(weights[l], inputs[l].transpose(1, 2), scaled, -1f);
            biases[l].sub_(scaled.sum(1, keepdim: true));
            if (below is not null) delta = below.mul_(inputs[l].gt(0)); // back through the ReLU that made this layer's input
        }
    }

    /// <summary>The stacked log-probabilities [models, rows, classes] of <paramref name="x"/> [models, rows, in].</summary>
    private Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var l = 0; l < weights.Length; l++)
        {
            h = Trials.BatchedOps.Baddbmm(biases[l], h, weights[l]); // one kernel: bias + h @ W^T
            if (l < weights.Length - 1) h = h.relu();
        }
        return h.log_softmax(2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Every stacked parameter's gradient (weights, then biases): each model's loss gradient on its batch ([models, rows, in]
    /// and [models, rows]), from micro-batches of at most <paramref name="microBatchSize"/> rows as <see cref="TrainingSession.Gradient"/>
    /// forms them. Formed by autograd into fresh tensors (not accumulated into the parameters' .grad, which would read and
    /// write every gradient once more per step), in the caller's dispose scope.
    /// </summary>
    private Tensor[] Gradient(Tensor x, Tensor y, int microBatchSize)
    {
        var parameters = weights.Concat(biases).ToArray();
        Tensor[]? sum = null;
        var rows = x.shape[1];
        var micro = Math.Max(1, microBatchSize);
        var models = Models;
        for (long start = 0; start < rows; start += micro)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(micro, rows - start);
            var logProbs = Forward(x.narrow(1, start, size));
            // The sum of every model's summed NLL: each model's parameters get their own model's gradient alone.
            var loss = nn.functional.nll_loss(logProbs.reshape(models * size, -1), y.narrow(1, start, size).reshape(-1), reduction: nn.Reduction.Sum);
            if (first.LossReduction == LossReduction.Mean) loss = loss.div(rows);
            var grads = torch.autograd.grad([loss], parameters);
            if (sum is null) sum = grads.Select(g => g.MoveToOuterDisposeScope()).ToArray();
            else for (var i = 0; i < sum.Length; i++) sum[i].add_(grads[i]);
        }
        return sum!;
    }

    /// <summary>One optimiser step of every model with its learning rate (<paramref name="lr"/>: [models, 1, 1]), the optimiser's formulas as TorchSharp's.</summary>
    private void Update(Tensor[] gradients, Tensor lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var o = first.Optimizer;
        var parameters = weights.Concat(biases).ToArray();
        if (o.Kind == OptimizerKind.Adam) adamSteps++;
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var g = gradients[i];
            switch (o.Kind)
            {
                case OptimizerKind.Sgd when o.Momentum == 0:
                    p.addcmul_(g, lr, value: -1); // in place, no temporary: p -= lr * g
                    break;
                case OptimizerKind.Sgd:
                    // The buffer starts at zero, so the first step's buffer is the gradient itself, as torch's.
                    firstMoments[i].mul_(o.Momentum).add_(g);
                    p.addcmul_(firstMoments[i], lr, value: -1);
                    break;
                case OptimizerKind.Adam:
                    var correction1 = 1 - Math.Pow(o.Beta1, adamSteps);
                    var correction2 = 1 - Math.Pow(o.Beta2, adamSteps);
                    firstMoments[i].mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
                    secondMoments[i].mul_(o.Beta2).addcmul_(g, g, value: 1 - o.Beta2);
                    var denominator = secondMoments[i].sqrt().div_(Math.Sqrt(correction2)).add_(o.Epsilon);
                    p.sub_(firstMoments[i].div(denominator).mul_(lr).div_(correction1));
                    break;
            }
        }
    }

    private sealed record Measures(double[] Loss, double[] Accuracy);

    /// <summary>
    /// Each model's mean NLL and accuracy over the rows <paramref name="rows"/>[m] of (x, y) (null: all of x, the same for
    /// every model), by forward passes of the config's chunk size; one host read at the end.
    /// </summary>
    private Measures Evaluate(Tensor x, Tensor y, Tensor[]? rows)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var models = Models;
        var n = rows?[0].shape[0] ?? x.shape[0];
        var lossSum = zeros(models, ScalarType.Float64, Device);
        var correct = zeros(models, ScalarType.Int64, Device);
        var chunk = first.Evaluation.ChunkSize;
        var picks = rows is null ? null : stack(rows);
        for (long start = 0; start < n; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            var size = Math.Min(chunk, n - start);
            Tensor xs, ys;
            if (picks is null)
            {
                xs = x.narrow(0, start, size).unsqueeze(0).expand(models, size, x.shape[1]);
                ys = y.narrow(0, start, size).unsqueeze(0).expand(models, size);
            }
            else
            {
                var pick = picks.narrow(1, start, size).reshape(-1);
                xs = x.index_select(0, pick).view(models, size, -1);
                ys = y.index_select(0, pick).view(models, size);
            }
            var logProbs = Forward(xs);
            lossSum.sub_(SumPerModel(logProbs.gather(2, ys.unsqueeze(2))).to(ScalarType.Float64));
            correct.add_(logProbs.argmax(2).eq(ys).sum(1));
        }
        var loss = lossSum.div(n).cpu().data<double>().ToArray();
        var accuracy = correct.to(ScalarType.Float64).div(n).cpu().data<double>().ToArray();
        return new Measures(loss, accuracy);
    }

    private sealed record GeometryValues(double WeightDistance, double BiasDistance, double WeightNorm, double BiasNorm, double[] Cosines);

    /// <summary>
    /// Each model's weight geometry (as <see cref="TrainingSession"/> measures it), each model's sums over its own slice
    /// (<see cref="SumPerModel"/>); one host read for all.
    /// </summary>
    private GeometryValues[] Geometry()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i].to(ScalarType.Float64);
            var w0 = initWeights[i].to(ScalarType.Float64);
            parts.Add(SumPerModel(w.sub(w0).square()));
            parts.Add(SumPerModel(w.square()));
            parts.Add(SumPerModel(w.mul(w0)));
            parts.Add(SumPerModel(w0.square()));
        }
        for (var i = 0; i < biases.Length; i++)
        {
            var b = biases[i].to(ScalarType.Float64);
            parts.Add(SumPerModel(b.sub(initBiases[i].to(ScalarType.Float64)).square()));
            parts.Add(SumPerModel(b.square()));
        }
        var v = stack(parts).cpu().data<double>().ToArray(); // [part, model]
        var models = Models;
        double At(int part, int m) => v[part * models + m];
        return Enumerable.Range(0, models).Select(m =>
        {
            double wd = 0, wn = 0, bd = 0, bn = 0;
            var cos = new double[weights.Length];
            for (var i = 0; i < weights.Length; i++)
            {
                wd += At(4 * i, m);
                wn += At(4 * i + 1, m);
                cos[i] = At(4 * i + 2, m) / Math.Sqrt(At(4 * i + 1, m) * At(4 * i + 3, m));
            }
            var o = 4 * weights.Length;
            for (var i = 0; i < biases.Length; i++)
            {
                bd += At(o + 2 * i, m);
                bn += At(o + 2 * i + 1, m);
            }
            return new GeometryValues(Math.Sqrt(wd), Math.Sqrt(bd), Math.Sqrt(wn), Math.Sqrt(bn), cos);
        }).ToArray();
    }

    /// <summary>Model <paramref name="model"/>'s current weights as a lone <see cref="Mlp"/> on the CPU (for its weights file, and the tests).</summary>
    public Mlp Extract(int model)
    {
        var mlp = new Mlp(configs[model].Model.Widths);
        using var noGrad = no_grad();
        using var views = NewDisposeScope(); // the member's slices; the lone model's parameters were made before it
        for (var l = 0; l < weights.Length; l++)
        {
            mlp.Layers[l].weight!.copy_(weights[l][model].t());
            mlp.Layers[l].bias!.copy_(biases[l][model].squeeze(0));
        }
        return mlp;
    }

    /// <summary>Saves model <paramref name="model"/>'s weights alone in a lone run's format (<see cref="TrainingSession.SaveWeights"/>), atomically.</summary>
    public void SaveWeights(int model, string path)
    {
        using var mlp = Extract(model);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            mlp.save(writer);
        });
    }

    private sealed record CheckpointState(List<List<EpochMetrics>> Histories, List<Divergence?> Diverged, long AdamSteps);

    /// <summary>Writes the stacked weights, the optimiser's state and every model's history as one checkpoint file (<see cref="CheckpointFile"/>), atomically.</summary>
    public void SaveCheckpoint(string path, string runHash)
    {
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var state = JsonSerializer.SerializeToUtf8Bytes(new CheckpointState(histories.ToList(), diverged.ToList(), adamSteps), JsonDefaults.Options);
            writer.Write(state.Length);
            writer.Write(state);
            foreach (var t in State()) t.Save(writer);
        }
        CheckpointFile.Write(path, CheckpointMagic, runHash, CompletedEpochs, steps, payload.ToArray());
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/>; a file that fails its checks is a <see cref="CorruptStateException"/> and changes nothing.</summary>
    public void LoadCheckpoint(string path, string runHash)
    {
        var (completed, savedSteps, payload) = CheckpointFile.Read(path, CheckpointMagic, runHash, first.TotalEpochs);
        using var stream = new MemoryStream(payload);
        using var reader = new BinaryReader(stream);
        var state = TrainingSession.ReadHistory<CheckpointState>(reader, path, runHash);
        if (state.Histories.Count != Models || state.Diverged.Count != Models)
            throw CheckpointFile.Bad(path, runHash, $"it holds {state.Histories.Count} models, the stack has {Models}");
        for (var m = 0; m < Models; m++)
            if (state.Histories[m].Count != (state.Diverged[m]?.Epoch ?? completed))
                throw CheckpointFile.Bad(path, runHash, $"model {m}'s history has {state.Histories[m].Count} epochs, its header {completed}");
        using (var noGrad = no_grad())
        {
            var loaded = State().Select(t => (Target: t, Saved: Tensor.Load(reader))).ToList(); // all read before any is changed
            foreach (var (target, saved) in loaded)
            {
                target.copy_(saved);
                saved.Dispose();
            }
        }
        for (var m = 0; m < Models; m++)
        {
            histories[m].Clear();
            histories[m].AddRange(state.Histories[m]);
            diverged[m] = state.Diverged[m];
        }
        adamSteps = state.AdamSteps;
        steps = savedSteps;
        CompletedEpochs = completed;
    }

    private IEnumerable<Tensor> State() => weights.Concat(biases).Concat(firstMoments).Concat(secondMoments);

    public void Dispose()
    {
        foreach (var t in weights.Concat(biases).Concat(initWeights).Concat(initBiases).Concat(firstMoments).Concat(secondMoments)
                     .Concat(trainRows).Concat(evalRows).Concat([trainX, trainY, testX, testY]))
            t.Dispose();
        trainOneHot?.Dispose();
    }
}

/// <summary>
/// The stack's hand-formed step (<see cref="StackedSession"/>'s FusedStep) for plain SGD (no momentum) on whole batches
/// (no accumulation) of at most <see cref="MaxRows"/> rows on the CPU. Decided from the config and the device type alone,
/// and part of every stacked run's hash (<see cref="Arithmetic"/>).
/// </summary>
public static class FusedSgd
{
    public const string Kind = "fused-sgd-1";

    /// <summary>
    /// The largest batch that takes the hand-formed step. Measured with <c>bench --stacked 4 --samples 8192</c> on the CI
    /// machine's CPU (docs/measurements/cpu-bench-stacked.txt): against four lone runs the stack took 2.58x at batch size 2
    /// (autograd's stack: 1.55x), 1.54x at 64 (1.44x) and 1.66x at 128, but only 1.08x at 256 and 0.84x at 1024 (autograd's
    /// stack: 1.12x), where the hand-formed products lose to autograd's. Not on CUDA until measured there (the bench's
    /// <c>step's gain</c> on CUDA decides it): a GPU step is bound by the kernels it launches, and which step launches fewer is
    /// not known from the CPU. The bench's tensor count (26 hand-formed against autograd's 23) cannot say: it leaves out
    /// autograd's backward, which runs inside libtorch.
    /// </summary>
    public const int MaxRows = 128;

    /// <summary>Whether a stack on <paramref name="deviceType"/> ("cpu", "cuda") takes the hand-formed step in <paramref name="phase"/>.</summary>
    public static bool Takes(TrainingConfig config, string deviceType, PhaseConfig phase) =>
        deviceType == "cpu" && Fits(config, phase) && phase.BatchSize <= MaxRows;

    /// <summary>Whether the hand-formed step computes <paramref name="config"/>'s update in <paramref name="phase"/> at all: plain SGD (no momentum), no accumulation.</summary>
    public static bool Fits(TrainingConfig config, PhaseConfig phase) =>
        config.Optimizer.Kind == OptimizerKind.Sgd && config.Optimizer.Momentum == 0 && phase.Accumulation is null or 1;

    /// <summary>The stacked trainer's arithmetic for <paramref name="config"/> on <paramref name="deviceType"/>: part of a stacked run's hash.</summary>
    public static string Arithmetic(TrainingConfig config, string deviceType) =>
        config.Phases.Any(p => Takes(config, deviceType, p)) ? $"{Protocols.StackWork.Arithmetic}; {Kind}" : Protocols.StackWork.Arithmetic;
}

/// <summary>Which runs may train as one stack: the same schedule, whatever their seeds and learning rates.</summary>
public static class StackSchedule
{
    /// <summary>
    /// The part of <paramref name="config"/> that a stack shares: everything but the seed, each phase's learning rate and
    /// warm-up start, and the divergence bound (all kept per model). Runs with equal signatures stack.
    /// </summary>
    public static string Signature(TrainingConfig config)
    {
        var copy = JsonSerializer.Deserialize<TrainingConfig>(JsonSerializer.Serialize(config, JsonDefaults.Options), JsonDefaults.Options)!;
        copy.Seed = 0;
        copy.DivergenceLossFactor = null;
        foreach (var p in copy.Phases)
        {
            p.LearningRate = 0;
            p.WarmupFrom = p.WarmupFrom is null ? null : 0;
        }
        return JsonSerializer.Serialize(copy, JsonDefaults.Options);
    }

    /// <summary>Throws unless every config asks to be stacked and all share one schedule.</summary>
    public static void Check(IReadOnlyList<TrainingConfig> configs)
    {
        if (configs.FirstOrDefault(c => !c.Stack) is { } lone)
            throw new ArgumentException($"run seed {lone.Seed} does not ask to be stacked (stack: true)");
        var signature = Signature(configs[0]);
        if (configs.Skip(1).FirstOrDefault(c => Signature(c) != signature) is { } other)
            throw new ArgumentException($"run seed {other.Seed} does not share the schedule of seed {configs[0].Seed}: they cannot train as one stack");
    }
}
