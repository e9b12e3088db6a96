using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Store;

/// <summary>
/// The one store of every protocol's results: <c>&lt;root&gt;/&lt;dataset&gt;/&lt;kind&gt;/&lt;hash&gt;/result.json</c>, keyed by
/// the unit's content hash. A unit asked for twice runs once (a file lock keeps two processes from running it at once);
/// what it reads is run first; the result is written atomically, with its key, so a torn or misplaced file is never
/// taken for a result: each result carries its unit's key and the SHA-256 of its content, and a file that fails either
/// check (or the unit's own, <see cref="Work.Problem"/>) is moved aside, never used; <see cref="GetOrRun{T}"/> then runs
/// the unit again, <see cref="TryLoadUntyped"/> reports it (<see cref="CorruptStateException"/>). While a unit runs, its
/// resumable state lives in <c>&lt;hash&gt;/work/</c> (a training run's checkpoints, the gradient competition's finished
/// blocks): a killed run resumes from there, and the folder is removed once the result is stored (or, when the run was
/// killed in between, the next time its stored result is found).
/// </summary>
public sealed class ExperimentStore(string root)
{
    /// <summary>Bump when the stored envelope changes shape.</summary>
    public const int FormatVersion = 2;
    /// <summary>The oldest store format still read: format 1 results (no checksum) stay usable, so no run is repeated.</summary>
    public const int OldestReadableFormat = 1;

    public const string ResultFile = "result.json";
    public const string ScratchFolder = "work";
    /// <summary>
    /// Where files of the scratch folder that failed their checks (a torn checkpoint, a damaged block) are moved aside: beside
    /// it, so that they outlive its removal (never deleted; <c>merge</c> does not copy it).
    /// </summary>
    public const string SetAsideFolder = "set-aside";

    private static readonly ConcurrentDictionary<string, object> InProcessLocks = new();
    private static readonly ConcurrentDictionary<string, (DateTime Written, object Result)> Cache = new();

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>artifacts/runs/ (REPRO_ARTIFACTS moves artifacts/).</summary>
    public static ExperimentStore Default => new(Path.Combine(RepoPaths.Artifacts, "runs"));

    public string Folder(StoreKey key) => Path.Combine(Root, key.Dataset, key.Kind, key.Hash);

    public string ResultPath(StoreKey key) => Path.Combine(Folder(key), ResultFile);

    public bool Contains(Work work) => TryLoadUntyped(work) is not null;

    public T? TryLoad<T>(Work<T> work) where T : class => (T?)TryLoadUntyped(work);

    /// <summary>
    /// The stored result of <paramref name="work"/>, or null when none is stored. A file that cannot be read, fails its
    /// checksum, belongs to another unit, or that the unit finds wrong is a <see cref="CorruptStateException"/> naming the
    /// file: it is never used, and never silently replaced.
    /// </summary>
    public object? TryLoadUntyped(Work work)
    {
        var path = ResultPath(work.Key);
        if (!File.Exists(path)) return null;
        var written = File.GetLastWriteTimeUtc(path);
        if (Cache.TryGetValue(path, out var cached) && cached.Written == written && work.ResultType.IsInstanceOfType(cached.Result))
            return cached.Result;
        CorruptStateException Corrupt(string why, Exception? inner = null) =>
            new($"{path}: the stored result of {work.Label} {why}; it is not used.", inner);
        Envelope envelope;
        object result;
        try
        {
            envelope = JsonSerializer.Deserialize<Envelope>(File.ReadAllBytes(path), JsonDefaults.Options)
                       ?? throw new InvalidDataException("the file holds null");
            if (FormatProblem(envelope.FormatVersion, envelope.Sha256 is not null) is { } formatProblem) throw Corrupt(formatProblem);
            result = envelope.Result.Deserialize(work.ResultType, JsonDefaults.Options) ?? throw new InvalidDataException("its result is null");
            if (StoredShape.FirstNullMember(result) is { } hole) throw new InvalidDataException($"its result is incomplete: {hole} is null");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            throw Corrupt($"is unreadable ({e.Message})", e);
        }
        if (envelope.Kind != work.Key.Kind || envelope.Hash != work.Key.Hash || envelope.Dataset != work.Key.Dataset)
            throw Corrupt($"holds {envelope.Dataset}/{envelope.Kind}/{envelope.Hash}, not {work.Key}: a result of another unit is never used");
        // The unit's own checks come first: a result they refuse may not even serialise back for its checksum.
        if (work.Problem(result) is { } problem) throw Corrupt($"is not its result: {problem}");
        // Format 1 (before checksums) is read as it was: its key and the unit's own checks (whole, finite, its own format) still apply.
        if (envelope.FormatVersion >= 2 && !string.Equals(Work.ContentSha256(result, work.ResultType), envelope.Sha256, StringComparison.Ordinal))
            throw Corrupt("does not match its SHA-256 (its content changed after it was written)");
        Cache[path] = (written, result);
        return result;
    }

    /// <summary>Returns the stored result of <paramref name="work"/>, running it (and what it reads) first if needed.</summary>
    public T GetOrRun<T>(Work<T> work, RunOptions? options = null) where T : class => (T)GetOrRunUntyped(work, options);

    /// <summary>
    /// Returns the stored result of <paramref name="work"/>, running it (and what it reads) first if needed. A stored result
    /// that cannot be used is moved aside (its path logged) and the unit runs again.
    /// </summary>
    public object GetOrRunUntyped(Work work, RunOptions? options = null)
    {
        options ??= RunOptions.Default;
        var folder = Folder(work.Key);
        lock (InProcessLocks.GetOrAdd(folder, _ => new object()))
        {
            if (TryLoadUsable(work, options) is { } stored)
            {
                RemoveScratch(folder); // left by a run killed between storing its result and removing it
                options.Progress?.Report(new Training.TrainingProgress(work.Key.Hash, work.Label, 1, 1, null, TimeSpan.Zero, "stored", "unit"));
                return stored;
            }
            foreach (var read in work.Reads) GetOrRunUntyped(read, options);
            var existed = Directory.Exists(folder);
            Directory.CreateDirectory(folder);
            try
            {
                object result;
                using (AcquireFileLock(Path.Combine(folder, ".lock"), options.Cancel))
                {
                    if (TryLoadUsable(work, options) is { } finished) return finished; // another process stored it while we waited
                    result = work.RunUntyped(new WorkContext(this, work, options));
                    Save(work, result);
                }
                RemoveScratch(folder);
                return result;
            }
            finally
            {
                // A unit that failed before writing anything (its data could not be loaded, say) leaves no empty folder behind.
                if (!existed && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
                    Directory.Delete(folder);
            }
        }
    }

    /// <summary>
    /// What is wrong with a result file's store format (null: nothing): one this harness does not read, or format 1 (written
    /// before checksums) carrying a SHA-256, whose format was changed after it was written. The store and merge both ask.
    /// </summary>
    public static string? FormatProblem(int format, bool hasChecksum) =>
        format is < OldestReadableFormat or > FormatVersion
            ? $"was written in store format {format}; this harness reads formats {OldestReadableFormat} to {FormatVersion}"
            : format < 2 && hasChecksum
                ? $"is marked store format {format}, written before results carried a SHA-256, yet it holds one: its format was changed after it was written"
                : null;

    /// <summary>Removes the unit's scratch folder (its checkpoints), needed no more once its result is stored.</summary>
    private static void RemoveScratch(string folder)
    {
        var scratch = Path.Combine(folder, ScratchFolder);
        try
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        catch (IOException)
        {
            // another process that stored the same result is removing it too; whatever is left goes the next time
        }
    }

    /// <summary>The stored result, or null when none is stored or the stored one cannot be used (then it is moved aside).</summary>
    private object? TryLoadUsable(Work work, RunOptions options) =>
        SetAside.ReadOrMove<object>(ResultPath(work.Key), () => TryLoadUntyped(work), options.Log, $"{work.Label} runs again.");

    /// <summary>Writes the result of <paramref name="work"/> atomically, with its key and the keys of what it read.</summary>
    public string Save(Work work, object result)
    {
        var envelope = new Envelope
        {
            FormatVersion = FormatVersion,
            Kind = work.Key.Kind,
            Hash = work.Key.Hash,
            Dataset = work.Key.Dataset,
            DeviceType = work.DeviceType,
            Label = work.Label,
            Reads = work.Reads.Select(r => r.Key.ToString()).ToList(),
            CreatedUtc = DateTime.UtcNow,
            Sha256 = Work.ContentSha256(result, work.ResultType),
            Result = JsonSerializer.SerializeToElement(result, work.ResultType, JsonDefaults.Options),
        };
        var path = ResultPath(work.Key);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(envelope, JsonDefaults.Options));
        Cache[path] = (File.GetLastWriteTimeUtc(path), result);
        return path;
    }

    private static FileStream AcquireFileLock(string path, CancellationToken cancel)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                cancel.ThrowIfCancellationRequested();
                Thread.Sleep(500); // another process is running this unit; wait for it
            }
        }
    }

    /// <summary>The stored file: the unit's key, what it read, and its result.</summary>
    private sealed class Envelope
    {
        public int FormatVersion { get; set; }
        public string Kind { get; set; } = "";
        public string Hash { get; set; } = "";
        public string Dataset { get; set; } = "";
        public string DeviceType { get; set; } = "";
        public string Label { get; set; } = "";
        public List<string> Reads { get; set; } = [];
        public DateTime CreatedUtc { get; set; }
        /// <summary>SHA-256 of the result's canonical JSON (as the harness serialises it); absent in format 1.</summary>
        public string? Sha256 { get; set; }
        [JsonRequired]
        public JsonElement Result { get; set; }
    }
}
