namespace Reproductions.Harness.Training;

/// <summary>What one epoch left behind, as plain numbers. Accuracies are fractions in [0, 1].</summary>
public sealed record EpochMetrics
{
    /// <summary>1-based epoch index over the whole run (all phases).</summary>
    public required int Epoch { get; init; }
    /// <summary>0-based index of the phase this epoch belongs to.</summary>
    public required int Phase { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>The phase's learning rate (after any warm-up).</summary>
    public required double LearningRate { get; init; }
    /// <summary>Optimiser steps taken since the start of the run.</summary>
    public required long Steps { get; init; }
    public required double TrainLoss { get; init; }
    public required double TrainAccuracy { get; init; }
    public required double TestLoss { get; init; }
    public required double TestAccuracy { get; init; }
    /// <summary>L2 distance of all weight matrices (concatenated) from their initial values.</summary>
    public required double WeightDistance { get; init; }
    /// <summary>L2 distance of all biases (concatenated) from their initial values.</summary>
    public required double BiasDistance { get; init; }
    /// <summary>L2 norm of all weight matrices (concatenated) to the origin.</summary>
    public required double WeightNorm { get; init; }
    public required double BiasNorm { get; init; }
    /// <summary>Cosine similarity between each layer's current and initial weight matrix, input layer first.</summary>
    public required double[] LayerCosines { get; init; }
    public required double TrainSeconds { get; init; }
    public required double EvalSeconds { get; init; }

    /// <summary>Train accuracy minus test accuracy.</summary>
    public double GeneralizationGap => TrainAccuracy - TestAccuracy;
}
