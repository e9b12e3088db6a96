using Reproductions.Harness.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reproductions.Harness.Models;

/// <summary>The blog's MLP: fully connected layers with ReLU between them and log-softmax at the end.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers = new();

    public Mlp(IReadOnlyList<int> widths) : base("mlp")
    {
        for (var i = 0; i + 1 < widths.Count; i++)
            layers.Add(nn.Linear(widths[i], widths[i + 1]));
        RegisterComponents();
    }

    public IReadOnlyList<Linear> Layers => layers.ToList();

    /// <summary>Returns log-probabilities, shape [batch, classes].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        for (var i = 0; i < layers.Count; i++)
        {
            x = layers[i].forward(x);
            if (i < layers.Count - 1) x = nn.functional.relu(x);
        }
        return nn.functional.log_softmax(x, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>The MLP of <paramref name="config"/> with its seed's initial weights (<see cref="Seeds.Init"/>): where every trainer of the run starts.</summary>
    public static Mlp Initialized(TrainingConfig config)
    {
        var model = new Mlp(config.Model.Widths);
        using var g = new Generator((ulong)Seeds.Derive(config.Seed, Seeds.Init));
        model.Initialize(config.Model.Init, g);
        return model;
    }

    /// <summary>
    /// Initialises every layer from <paramref name="generator"/>, so the same seed gives the same weights on any device.
    /// Uses Tensor.uniform_ with the generator: TorchSharp 0.107's nn.init.uniform_ ignores its generator argument
    /// (measured: two calls with equally seeded generators gave different values).
    /// </summary>
    public void Initialize(InitScheme scheme, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var layer in layers)
        {
            var fanIn = layer.in_features;
            var fanOut = layer.out_features;
            switch (scheme)
            {
                case InitScheme.XavierZero:
                    var a = Math.Sqrt(6.0 / (fanIn + fanOut));
                    layer.weight.uniform_(-a, a, generator);
                    nn.init.zeros_(layer.bias!);
                    break;
                case InitScheme.TorchDefault:
                    // kaiming_uniform_(a = sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound.
                    var bound = 1.0 / Math.Sqrt(fanIn);
                    layer.weight.uniform_(-bound, bound, generator);
                    layer.bias!.uniform_(-bound, bound, generator);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "unknown init scheme");
            }
        }
    }

    public IEnumerable<Tensor> Weights => layers.Select(l => (Tensor)l.weight);
    public IEnumerable<Tensor> Biases => layers.Select(l => (Tensor)l.bias!);
}
