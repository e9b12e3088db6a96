using static TorchSharp.torch;

namespace Reproductions.Harness.Training;

/// <summary>
/// A dataset's splits as CPU tensors: images float32 [N, 784] with pixels in [0, 1], labels int64 [N].
/// The trainer copies what it needs to its device; these stay untouched.
/// </summary>
public sealed class TrainingData(string name, Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels, string origin) : IDisposable
{
    public string Name { get; } = name;
    public Tensor TrainImages { get; } = trainImages;
    public Tensor TrainLabels { get; } = trainLabels;
    public Tensor TestImages { get; } = testImages;
    public Tensor TestLabels { get; } = testLabels;
    /// <summary>Where the data came from (source and verification), for reports.</summary>
    public string Origin { get; } = origin;

    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
    }
}
