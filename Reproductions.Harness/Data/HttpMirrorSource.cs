using static System.FormattableString;

namespace Reproductions.Harness.Data;

/// <summary>
/// A public HTTP mirror serving the gzip files (<c>BASE/&lt;name&gt;.gz</c>). Each file is downloaded to a
/// temporary file, with a time limit per file; the chain verifies its decompressed content.
/// </summary>
public sealed class HttpMirrorSource(Uri baseUri, HttpClient client, TimeSpan timeout) : IDatasetSource
{
    /// <summary>Larger responses are refused: the biggest MNIST-like gzip file is about 26 MB.</summary>
    public const long MaxDownloadBytes = 200L * 1024 * 1024;

    private readonly string _tempRoot = Path.Combine(Path.GetTempPath(), $"reproductions-http-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public Uri BaseUri { get; } = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
    public string Description => $"mirror {BaseUri}";

    public SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken)
    {
        var url = new Uri(BaseUri, file.GzipFileName);
        Directory.CreateDirectory(_tempRoot);
        var temp = Path.Combine(_tempRoot, $"{file.GzipFileName}.{Guid.NewGuid():N}.part");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        log($"{Description}: downloading {url}");
        try
        {
            Download(url, temp, deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            TryDelete(temp);
            throw new TimeoutException(Invariant($"downloading {url} did not finish within {timeout.TotalSeconds:0.#} s"));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return SourceResult.Found(temp, CandidateOrigin.Temporary);
    }

    private async Task Download(Uri url, string destination, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(Invariant($"GET {url} answered {(int)response.StatusCode} {response.ReasonPhrase}"),
                null, response.StatusCode);
        if (response.Content.Headers.ContentLength > MaxDownloadBytes)
            throw new InvalidDataException(Invariant($"GET {url} announces {response.Content.Headers.ContentLength} bytes, more than the {MaxDownloadBytes} allowed"));
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > MaxDownloadBytes)
                throw new InvalidDataException(Invariant($"GET {url} sent more than the {MaxDownloadBytes} bytes allowed"));
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_tempRoot)) Directory.Delete(_tempRoot, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
