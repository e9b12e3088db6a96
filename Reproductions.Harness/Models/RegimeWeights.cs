
using static TorchSharp.torch;

namespace Reproductions.Harness.Models;

/// <summary>
/// A trained point of the MLP that trials reset to (the blog's "early" and "late" regimes): each layer's weight
/// [out, in] and bias [out], detached copies on one device. Owns its tensors.
/// </summary>
public sealed class RegimeWeights : IDisposable
{
    public RegimeWeights(string name, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> biases)
    {
        if (weights.Count == 0 || weights.Count != biases.Count)
            throw new ArgumentException($"Regime '{name}': {weights.Count} weight(s) and {biases.Count} bias(es); expected one of each per layer, at least one layer.");
        for (var l = 0; l < weights.Count; l++)
        {
            if (weights[l].dim() != 2 || biases[l].dim() != 1 || biases[l].shape[0] != weights[l].shape[0])
                throw new ArgumentException($"Regime '{name}' layer {l}: weight {Shape(weights[l])} and bias {Shape(biases[l])} do not form a linear layer.");
            if (l > 0 && weights[l].shape[1] != weights[l - 1].shape[0])
                throw new ArgumentException($"Regime '{name}' layer {l}: takes {weights[l].shape[1]} inputs but layer {l - 1} gives {weights[l - 1].shape[0]}.");
        }
        Name = name;
        Weights = weights.ToArray();
        Biases = biases.ToArray();
    }

    public string Name { get; }
    public IReadOnlyList<Tensor> Weights { get; }
    public IReadOnlyList<Tensor> Biases { get; }
    public int Layers => Weights.Count;
    public Device Device => Weights[0].device;
    public long Inputs => Weights[0].shape[1];
    public long Classes => Weights[^1].shape[0];

    /// <summary>Layer widths, input first (784, 1024, 1024, 10 for the blog's MLP).</summary>
    public int[] Widths => Weights.Select(w => (int)w.shape[1]).Append((int)Weights[^1].shape[0]).ToArray();

    /// <summary>Copies the weights and biases of <paramref name="model"/> (on its device) to <paramref name="device"/>.</summary>
    public static RegimeWeights FromModel(string name, Mlp model, Device device)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // The copies belong to the regime (disposed with it), not to any dispose scope of the caller.
        return new RegimeWeights(name,
            model.Weights.Select(w => w.detach().to(device).clone().DetachFromDisposeScope()).ToArray(),
            model.Biases.Select(b => b.detach().to(device).clone().DetachFromDisposeScope()).ToArray());
    }

    /// <summary>Loads weights saved with <c>Module.save</c> (a run's <c>final.weights</c>) into an MLP of <paramref name="widths"/>.</summary>
    public static RegimeWeights Load(string name, string path, IReadOnlyList<int> widths, Device device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Regime '{name}': no weights file at '{path}'.", path);
        using var model = new Mlp(widths);
        model.load(path);
        return FromModel(name, model, device);
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    public void Dispose()
    {
        foreach (var t in Weights.Concat(Biases)) t.Dispose();
    }
}
