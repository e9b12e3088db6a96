using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

/// <summary>Builds small synthetic IDX files, gzip streams and .tgz archives in memory.</summary>
internal static class Idx
{
    public static byte[] Images(int count, int rows = 28, int columns = 28, int magic = IdxReader.ImagesMagic, Func<int, byte>? pixel = null)
    {
        var bytes = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        pixel ??= i => (byte)(i * 7 % 256);
        for (var i = 16; i < bytes.Length; i++) bytes[i] = pixel(i - 16);
        return bytes;
    }

    public static byte[] Labels(params byte[] labels) => Labels(IdxReader.LabelsMagic, labels);

    public static byte[] Labels(int magic, byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>A .tgz holding the given entries (name, content); a null content makes a folder entry.</summary>
    public static byte[] TarGz(params (string Name, byte[]? Content)[] entries) =>
        TarGz(entries.Select(e => e.Content is null
            ? (TarEntry)new PaxTarEntry(TarEntryType.Directory, e.Name)
            : new PaxTarEntry(TarEntryType.RegularFile, e.Name) { DataStream = new MemoryStream(e.Content) }).ToArray());

    public static byte[] TarGz(params TarEntry[] entries)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries) tar.WriteEntry(entry);
        }
        return output.ToArray();
    }
}

/// <summary>A tiny dataset (3 train, 2 test images of 28x28) with real hashes, for chain and loader tests.</summary>
internal sealed class TinyDataset
{
    public TinyDataset(string name = "tiny")
    {
        Raw = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte"] = Idx.Images(3, pixel: i => (byte)(i % 256)),
            ["train-labels-idx1-ubyte"] = Idx.Labels(0, 9, 4),
            ["t10k-images-idx3-ubyte"] = Idx.Images(2, pixel: i => (byte)(255 - i % 256)),
            ["t10k-labels-idx1-ubyte"] = Idx.Labels(7, 7),
        };
        Spec = new DatasetSpec(
            name, "Tiny", "REPRO_TINY_DIR",
            [
                File("train-images-idx3-ubyte", IdxKind.Images, "train", 3),
                File("train-labels-idx1-ubyte", IdxKind.Labels, "train", 3),
                File("t10k-images-idx3-ubyte", IdxKind.Images, "test", 2),
                File("t10k-labels-idx1-ubyte", IdxKind.Labels, "test", 2),
            ],
            [new Uri("https://mirror-a.invalid/tiny/"), new Uri("https://mirror-b.invalid/tiny/")], PixelMean: 0.5, PixelStd: 0.25);
    }

    public Dictionary<string, byte[]> Raw { get; }
    public DatasetSpec Spec { get; }

    public DatasetFile this[string fileName] => Spec.Files.Single(f => f.FileName == fileName);

    public void WriteTo(string folder, bool gzip = false)
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in Raw)
        {
            if (gzip) System.IO.File.WriteAllBytes(Path.Combine(folder, name + ".gz"), Idx.Gzip(bytes));
            else System.IO.File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
    }

    private DatasetFile File(string name, IdxKind kind, string split, int count) =>
        new(name, Checksums.Sha256Hex(Raw[name]), kind, split, count);
}

/// <summary>A source whose answers the test scripts; counts calls.</summary>
internal sealed class FakeSource(string description, Func<DatasetFile, SourceResult> answer) : IDatasetSource
{
    public string Description { get; } = description;
    public List<string> Requested { get; } = [];
    public bool Disposed { get; private set; }

    public SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken)
    {
        Requested.Add(file.FileName);
        return answer(file);
    }

    public void Dispose() => Disposed = true;
}

/// <summary>Serves fixed bytes for fixed URLs (404 otherwise) and records every request. No network.</summary>
internal sealed class FakeHttpHandler : HttpMessageHandler
{
    public Dictionary<string, byte[]> Responses { get; } = new(StringComparer.Ordinal);
    public List<string> Requests { get; } = [];
    public TimeSpan Delay { get; init; } = TimeSpan.Zero;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var url = request.RequestUri!.AbsoluteUri;
        lock (Requests) Requests.Add(url);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
        return Responses.TryGetValue(url, out var body)
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) }
            : new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" };
    }
}

/// <summary>A fresh folder under the test's work directory, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(TestContext.CurrentContext.WorkDirectory, "tmp-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Sets environment variables for one test and restores them afterwards.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new();

    public EnvironmentScope Set(string name, string? value)
    {
        if (!_saved.ContainsKey(name)) _saved[name] = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }
}
