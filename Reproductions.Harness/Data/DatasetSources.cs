namespace Reproductions.Harness.Data;

/// <summary>What the chain may do with a candidate file that fails verification.</summary>
public enum CandidateOrigin
{
    /// <summary>A folder the user (or the system) owns: a bad file there is reported and left untouched.</summary>
    UserFolder,
    /// <summary>The harness's own cache: a bad file there is moved aside, renamed <c>&lt;name&gt;.corrupt-&lt;UTC timestamp&gt;</c>.</summary>
    Cache,
    /// <summary>A temporary copy the source made (download, extracted archive): deleted once used or rejected.</summary>
    Temporary,
}

/// <summary>A local file (raw or gzip) that a source offers for one dataset file; not yet verified.</summary>
public sealed record SourceCandidate(string Path, CandidateOrigin Origin);

/// <summary>What a source answered for one file: a candidate, or why it has none.</summary>
public sealed record SourceResult(SourceCandidate? Candidate, string? Reason)
{
    public static SourceResult Found(string path, CandidateOrigin origin) => new(new SourceCandidate(path, origin), null);
    public static SourceResult Missing(string reason) => new(null, reason);
}

/// <summary>
/// One place dataset files can come from. A source only locates (and if need be fetches) a candidate file; the
/// <see cref="SourceChain"/> verifies it, caches it and decides what to do with a bad one. A source may throw: the
/// chain records the message and moves on.
/// </summary>
public interface IDatasetSource : IDisposable
{
    /// <summary>Says what the source is, for logs and metadata (e.g. "cache /home/u/.cache/...").</summary>
    string Description { get; }

    SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken);
}

/// <summary>
/// A folder holding the files under their canonical names, raw or with .gz appended: the user's explicit folder,
/// or a system folder such as Debian's /usr/share/datasets/fashion-mnist. Never writes to it.
/// </summary>
public sealed class FolderSource(string folder, string description) : IDatasetSource
{
    public string Folder { get; } = Path.GetFullPath(folder);
    public string Description { get; } = description;

    public SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Folder))
            return SourceResult.Missing($"folder '{Folder}' does not exist");
        foreach (var name in new[] { file.FileName, file.GzipFileName })
        {
            var path = Path.Combine(Folder, name);
            if (File.Exists(path)) return SourceResult.Found(path, CandidateOrigin.UserFolder);
        }
        return SourceResult.Missing($"neither {file.FileName} nor {file.GzipFileName} is in '{Folder}'");
    }

    public void Dispose() { }
}

/// <summary>The local cache folder of one dataset: raw, verified files under their canonical names.</summary>
public sealed class CacheSource(string folder) : IDatasetSource
{
    public string Folder { get; } = Path.GetFullPath(folder);
    public string Description => $"cache {Folder}";

    public SourceResult Locate(DatasetFile file, Action<string> log, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, file.FileName);
        return File.Exists(path)
            ? SourceResult.Found(path, CandidateOrigin.Cache)
            : SourceResult.Missing($"{file.FileName} is not in the cache '{Folder}'");
    }

    public void Dispose() { }
}

/// <summary>Where the verified files are cached.</summary>
public static class DatasetCache
{
    public const string CacheVariable = "REPRO_DATA_CACHE";

    /// <summary>
    /// The cache root: $REPRO_DATA_CACHE, else $XDG_CACHE_HOME/reproductions/datasets, else
    /// ~/.cache/reproductions/datasets. Each dataset has its own folder below it (the datasets share file names).
    /// </summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } explicitRoot)
            return Path.GetFullPath(explicitRoot);
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
            return Path.Combine(xdg, "reproductions", "datasets");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(home))
            throw new Infrastructure.BadInputException(
                $"No home folder to put the dataset cache in; set {CacheVariable} (or XDG_CACHE_HOME) to a writable folder.");
        return Path.Combine(home, ".cache", "reproductions", "datasets");
    }

    public static string FolderFor(DatasetSpec spec, string? root = null) =>
        Path.Combine(root is null ? DefaultRoot() : Path.GetFullPath(root), spec.Name);
}
