using System.Text.Json;
using Reproductions.Harness.Infrastructure;
using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

/// <summary>
/// How far a step formed by gradient accumulation is from the same step on the whole batch (F17), for one seed: relative
/// L2 differences ||accumulated - whole|| / ||whole|| over all parameters concatenated, in double precision.
/// </summary>
/// <param name="GradientDifference">The gradient of the epoch's first batch.</param>
/// <param name="PartialGradientDifference">The gradient of the epoch's last, partial batch (NaN when the batch size divides the set).</param>
/// <param name="StepDifference">The weights after one optimiser step on the first batch.</param>
/// <param name="EpochDifference">The weights after one whole epoch, partial last batch included.</param>
/// <param name="BatchSize">The batch size of the phase checked.</param>
/// <param name="MicroBatchSize">Rows per micro-batch.</param>
/// <param name="PartialRows">Rows of the epoch's last batch when it is partial (0 when it is not).</param>
public sealed record AccumulationDifferences(
    double GradientDifference, double PartialGradientDifference, double StepDifference, double EpochDifference,
    int BatchSize, int MicroBatchSize, long PartialRows);

public static class AccumulationCheck
{
    /// <summary>
    /// Compares the first phase of <paramref name="config"/> (which accumulates) with the same phase taken on whole
    /// batches: two sessions from the same seed (so the same init and data order), compared on the first batch, the
    /// partial last batch, one step and one epoch. Every tensor is disposed by the sessions or the scopes.
    /// </summary>
    public static AccumulationDifferences Measure(TrainingConfig config, TrainingData data)
    {
        var accumulated = OneEpoch(config, config.Phases[0].Accumulation);
        if (accumulated.Phases[0].Accumulation is null or 1)
            throw new ConfigException($"phases:0:accumulation: the accumulation check needs a first phase with accumulation above 1 (it has {accumulated.Phases[0].Accumulation?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}).");
        var whole = OneEpoch(config, null);
        var phase = accumulated.Phases[0];

        using var a = new TrainingSession(whole, data);
        using var b = new TrainingSession(accumulated, data);
        if (Relative(Parameters(b), Parameters(a)) != 0)
            throw new InvalidOperationException("the two sessions of one seed start from different weights.");
        double gradient, partial, step;
        var n = a.TrainSamples;
        var partialRows = n % phase.BatchSize;
        using (var scope = NewDisposeScope())
        {
            var (xs, ys) = a.Shuffled(0);
            var first = (xs.narrow(0, 0, phase.BatchSize), ys.narrow(0, 0, phase.BatchSize));
            if (partialRows > 0)
            {
                var (px, py) = (xs.narrow(0, n - partialRows, partialRows), ys.narrow(0, n - partialRows, partialRows));
                a.Gradient(px, py, phase.BatchSize);
                b.Gradient(px, py, phase.MicroBatchSize);
                partial = Relative(Gradients(b), Gradients(a));
            }
            else
            {
                partial = double.NaN;
            }
            a.Gradient(first.Item1, first.Item2, phase.BatchSize);
            b.Gradient(first.Item1, first.Item2, phase.MicroBatchSize);
            gradient = Relative(Gradients(b), Gradients(a));
            foreach (var s in new[] { a, b })
            {
                s.SetLearningRate(phase.RateAt(0, (n + phase.BatchSize - 1) / phase.BatchSize));
                s.Optimizer.step();
            }
            step = Relative(Parameters(b), Parameters(a));
        }

        using var c = new TrainingSession(whole, data);
        using var d = new TrainingSession(accumulated, data);
        c.RunEpoch();
        d.RunEpoch();
        var epoch = Relative(Parameters(d), Parameters(c));
        return new AccumulationDifferences(gradient, partial, step, epoch, phase.BatchSize, phase.MicroBatchSize, partialRows);
    }

    /// <summary>A copy of <paramref name="config"/> with its first phase alone, for one epoch, with <paramref name="accumulation"/>.</summary>
    private static TrainingConfig OneEpoch(TrainingConfig config, int? accumulation)
    {
        var copy = JsonSerializer.Deserialize<TrainingConfig>(JsonSerializer.Serialize(config, JsonDefaults.Options), JsonDefaults.Options)!;
        var phase = copy.Phases[0];
        phase.Epochs = 1;
        phase.Accumulation = accumulation;
        copy.Phases = [phase];
        return copy;
    }

    private static Tensor[] Parameters(TrainingSession s) => s.Model.parameters().Select(p => p.detach()).ToArray();

    private static Tensor[] Gradients(TrainingSession s) =>
        s.Model.parameters().Select(p => p.grad ?? throw new InvalidOperationException("a parameter has no gradient after a backward pass.")).ToArray();

    /// <summary>||x - y|| / ||y|| over all tensors concatenated, in double precision.</summary>
    public static double Relative(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y)
    {
        using var scope = NewDisposeScope();
        double diff = 0, norm = 0;
        for (var i = 0; i < x.Count; i++)
        {
            var yi = y[i].to(ScalarType.Float64);
            diff += x[i].to(ScalarType.Float64).sub(yi).square().sum().item<double>();
            norm += yi.square().sum().item<double>();
        }
        return Math.Sqrt(diff) / Math.Sqrt(norm);
    }
}
