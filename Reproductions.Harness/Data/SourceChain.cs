using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Data;

/// <summary>A dataset file whose uncompressed content matched its pinned SHA-256.</summary>
public sealed record VerifiedFile(DatasetFile File, byte[] RawBytes, string Source, string SourcePath, string? CachePath);

/// <summary>What one source said about one file.</summary>
public sealed record SourceAttempt(string Source, string Outcome);

/// <summary>No source yielded a verified copy of a file; <see cref="Attempts"/> says what each one said.</summary>
public sealed class DatasetUnavailableException(DatasetFile file, IReadOnlyList<SourceAttempt> attempts)
    : UserError($"No source yielded a verified {file.FileName}:" + string.Concat(attempts.Select(a => $"{Environment.NewLine}  - {a.Source}: {a.Outcome}")))
{
    public override int ExitCode => ExitCodes.DataUnavailable;

    public DatasetFile File { get; } = file;
    public IReadOnlyList<SourceAttempt> Attempts { get; } = attempts;
}

/// <summary>
/// A folder the user named for a dataset failed verification: every bad file, with what is wrong with it. The user asked
/// for that folder, so no other source stands in (unless they allow a fallback).
/// </summary>
public sealed class NamedSourceException(DatasetSpec spec, string folder, IReadOnlyList<SourceAttempt> problems)
    : UserError($"{spec.DisplayName}: the {folder} you named failed verification ({problems.Count} of {spec.Files.Count} files):" +
                string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p.Source}: {p.Outcome}")) +
                $"{Environment.NewLine}Fix the files, point at another folder, or allow the other sources with --allow-fallback.")
{
    public override int ExitCode => ExitCodes.DataUnavailable;
}

/// <summary>
/// Tries the sources in order for each file; the first whose candidate hashes (after decompression) to the pinned
/// SHA-256 wins, and its raw bytes are copied atomically into the cache folder. A bad candidate is handled by its
/// origin: moved aside in the cache (<c>&lt;name&gt;.corrupt-&lt;UTC timestamp&gt;</c>), left untouched in a user's
/// folder, deleted if temporary; then the next source is tried, so a corrupt cache is repaired in the same run.
/// </summary>
public sealed class SourceChain(IReadOnlyList<IDatasetSource> sources, string? cacheFolder, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    public IReadOnlyList<IDatasetSource> Sources { get; } = sources;
    public string? CacheFolder { get; } = cacheFolder is null ? null : Path.GetFullPath(cacheFolder);

    /// <summary>Injectable clock for the names of moved-aside cache files.</summary>
    public Func<DateTime> UtcNow { get; init; } = () => DateTime.UtcNow;

    public VerifiedFile Fetch(DatasetFile file, CancellationToken cancellationToken = default)
    {
        var attempts = new List<SourceAttempt>();
        foreach (var source in Sources)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SourceResult result;
            try
            {
                result = source.Locate(file, _log, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Record(attempts, source, $"failed: {ex.Message}");
                continue;
            }
            if (result.Candidate is not { } candidate)
            {
                Record(attempts, source, result.Reason ?? "no file");
                continue;
            }

            byte[] raw;
            try
            {
                raw = IdxReader.ReadRawBytes(candidate.Path);
                Checksums.Verify(raw, file, candidate.Path);
            }
            catch (Exception ex) when (ex is ChecksumMismatchException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Record(attempts, source, $"rejected: {ex.Message} {Reject(candidate)}");
                continue;
            }

            _log($"{source.Description}: {file.FileName} verified (SHA-256 {file.Sha256[..12]}...)");
            var cachePath = candidate.Origin == CandidateOrigin.Cache ? candidate.Path : Store(file, raw);
            if (candidate.Origin == CandidateOrigin.Temporary) TryDelete(candidate.Path);
            return new VerifiedFile(file, raw, source.Description, candidate.Path, cachePath);
        }
        throw new DatasetUnavailableException(file, attempts);
    }

    private void Record(List<SourceAttempt> attempts, IDatasetSource source, string outcome)
    {
        attempts.Add(new SourceAttempt(source.Description, outcome));
        _log($"{source.Description}: {outcome}");
    }

    /// <summary>Deals with a candidate that failed verification; returns what was done, for the report.</summary>
    private string Reject(SourceCandidate candidate)
    {
        switch (candidate.Origin)
        {
            case CandidateOrigin.Cache:
                try
                {
                    var aside = SetAside.Move(candidate.Path, UtcNow());
                    return $"The cached file was moved aside to '{aside}'; trying the next source.";
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return $"Moving the cached file aside failed ({ex.Message}); it is not used.";
                }
            case CandidateOrigin.UserFolder:
                return "The file was left untouched and skipped.";
            default:
                TryDelete(candidate.Path);
                return "The temporary copy was deleted.";
        }
    }

    /// <summary>Copies verified raw bytes into the cache (atomically); a cache that cannot be written only warns.</summary>
    private string? Store(DatasetFile file, byte[] raw)
    {
        if (CacheFolder is null) return null;
        var path = Path.Combine(CacheFolder, file.FileName);
        try
        {
            if (File.Exists(path) && new FileInfo(path).Length == raw.Length &&
                string.Equals(Checksums.Sha256Hex(File.ReadAllBytes(path)), file.Sha256, StringComparison.OrdinalIgnoreCase))
                return path;
            AtomicFile.Write(path, stream => stream.Write(raw));
            _log($"cache: stored {file.FileName} in '{CacheFolder}'");
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log($"cache: could not store {file.FileName} in '{CacheFolder}' ({ex.Message}); using it uncached");
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
