using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Baselines;

/// <summary>A baseline promoted by <see cref="BaselineStore.Accept"/>.</summary>
/// <param name="Profile">Profile folder.</param>
/// <param name="Dataset">Dataset folder.</param>
/// <param name="Finding">Finding id.</param>
/// <param name="Path">The verified file it now is.</param>
/// <param name="Replaced">Whether a verified file existed before and was replaced.</param>
/// <param name="MetricCount">Number of metrics in it.</param>
public sealed record AcceptedBaseline(string Profile, string Dataset, string Finding, string Path, bool Replaced, int MetricCount);

/// <summary>One finding in the store, as <see cref="BaselineStore.List"/> reports it.</summary>
/// <param name="Profile">Profile folder.</param>
/// <param name="Dataset">Dataset folder.</param>
/// <param name="Finding">Finding id.</param>
/// <param name="Path">Path of the verified file (which may not exist yet).</param>
/// <param name="HasVerified">Whether the verified file exists.</param>
/// <param name="ReceivedWaiting">Whether a received file waits to be accepted.</param>
/// <param name="MetricCount">Metrics in the verified file, when it exists and reads.</param>
/// <param name="Seeds">Seeds of the verified file, when it exists and reads.</param>
/// <param name="Error">Why the verified file could not be read, if it could not.</param>
public sealed record BaselineEntry(
    string Profile,
    string Dataset,
    string Finding,
    string Path,
    bool HasVerified,
    bool ReceivedWaiting,
    int? MetricCount,
    IReadOnlyList<int>? Seeds,
    string? Error);

/// <summary>
/// The baseline files under a root folder: <c>&lt;root&gt;/&lt;profile&gt;/&lt;dataset&gt;/&lt;finding&gt;.json</c> (verified, committed) and
/// <c>&lt;finding&gt;.received.json</c> beside it (fresh numbers waiting for review; git-ignored). Every write is atomic.
/// </summary>
public sealed class BaselineStore
{
    public const string VerifiedSuffix = ".json";
    public const string ReceivedSuffix = ".received.json";

    public BaselineStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>The repository's store: <see cref="RepoPaths.Baselines"/>.</summary>
    public static BaselineStore ForRepository() => new(RepoPaths.Baselines);

    public string Root { get; }

    /// <summary>The verified file of a finding: &lt;root&gt;/&lt;profile&gt;/&lt;dataset&gt;/&lt;finding&gt;.json.</summary>
    public string Path(string profile, string dataset, string finding) => File(profile, dataset, finding, VerifiedSuffix);

    /// <summary>The received file beside the verified one: &lt;root&gt;/&lt;profile&gt;/&lt;dataset&gt;/&lt;finding&gt;.received.json.</summary>
    public string ReceivedPath(string profile, string dataset, string finding) => File(profile, dataset, finding, ReceivedSuffix);

    private string File(string profile, string dataset, string finding, string suffix) =>
        System.IO.Path.Combine(Root, Identifiers.Require(profile, nameof(profile), "profile"), Identifiers.Require(dataset, nameof(dataset), "dataset"),
            Identifiers.Require(finding, nameof(finding), "finding id") + suffix);

    public bool Exists(string profile, string dataset, string finding) => System.IO.File.Exists(Path(profile, dataset, finding));

    /// <summary>Loads the verified baseline.</summary>
    /// <exception cref="FileNotFoundException">There is none; the message says how to create it.</exception>
    /// <exception cref="BaselineFormatException">The file is malformed; the message names the file and field.</exception>
    public Baseline Load(string profile, string dataset, string finding) =>
        TryLoad(profile, dataset, finding) ?? throw new FileNotFoundException(
            $"No baseline for {finding} ({profile}, {dataset}) at '{Path(profile, dataset, finding)}'. Run the finding's test to write " +
            $"'{ReceivedPath(profile, dataset, finding)}', review it, then accept it: {BaselineEnvironment.AcceptCommand(profile, dataset, finding)}",
            Path(profile, dataset, finding));

    /// <summary>Loads the verified baseline, or returns null when the file does not exist.</summary>
    /// <exception cref="BaselineFormatException">The file is malformed.</exception>
    public Baseline? TryLoad(string profile, string dataset, string finding)
    {
        var path = Path(profile, dataset, finding);
        return System.IO.File.Exists(path) ? BaselineJson.Read(path, profile, finding) : null;
    }

    /// <summary>Loads the received file waiting for review.</summary>
    public Baseline LoadReceived(string profile, string dataset, string finding) =>
        BaselineJson.Read(ReceivedPath(profile, dataset, finding), profile, finding);

    /// <summary>Writes <paramref name="baseline"/> as the received file beside its verified file; returns its path.</summary>
    public string WriteReceived(Baseline baseline, string dataset)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var path = ReceivedPath(baseline.Profile, dataset, baseline.Finding);
        BaselineJson.Write(path, baseline);
        return path;
    }

    /// <summary>Deletes a stale received file; returns whether there was one.</summary>
    public bool DeleteReceived(string profile, string dataset, string finding)
    {
        var path = ReceivedPath(profile, dataset, finding);
        if (!System.IO.File.Exists(path)) return false;
        System.IO.File.Delete(path);
        return true;
    }

    /// <summary>
    /// Writes <paramref name="baseline"/> as the verified file directly and removes any received file. Only for the
    /// explicit opt-in (REPRO_ACCEPT_BASELINES=1); refused when CI is set.
    /// </summary>
    public string WriteVerified(Baseline baseline, string dataset)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        BaselineEnvironment.ThrowIfCi($"write the baseline of {baseline.Finding} ({baseline.Profile}, {dataset})");
        var path = Path(baseline.Profile, dataset, baseline.Finding);
        BaselineJson.Write(path, baseline);
        DeleteReceived(baseline.Profile, dataset, baseline.Finding);
        return path;
    }

    /// <summary>
    /// Promotes received files over the verified ones: all of them, or those of one profile, dataset and/or finding
    /// (names compared without regard to case). Every selected received file is read and checked before any is promoted.
    /// </summary>
    /// <returns>What was promoted, in profile, dataset, then finding order; empty when nothing waited.</returns>
    /// <exception cref="Infrastructure.BadInputException">CI is set.</exception>
    /// <exception cref="BaselineFormatException">A received file is malformed (nothing is promoted).</exception>
    /// <exception cref="Infrastructure.CheckFailedException">A received file is refused by <see cref="BaselineAcceptance"/> (nothing is promoted).</exception>
    public IReadOnlyList<AcceptedBaseline> Accept(string? profile = null, string? finding = null, string? dataset = null)
    {
        BaselineEnvironment.ThrowIfCi("accept baselines");
        if (profile is not null) Identifiers.Require(profile, nameof(profile), "profile");
        if (dataset is not null) Identifiers.Require(dataset, nameof(dataset), "dataset");
        if (finding is not null) Identifiers.Require(finding, nameof(finding), "finding id");

        var selected = ReceivedFiles()
            .Where(r => profile is null || r.Profile.Equals(profile, StringComparison.OrdinalIgnoreCase))
            .Where(r => dataset is null || r.Dataset.Equals(dataset, StringComparison.OrdinalIgnoreCase))
            .Where(r => finding is null || r.Finding.Equals(finding, StringComparison.OrdinalIgnoreCase))
            .Select(r => (r.Profile, r.Dataset, r.Finding, r.Path, Bytes: System.IO.File.ReadAllBytes(r.Path)))
            .Select(r => (r.Profile, r.Dataset, r.Finding, r.Path, r.Bytes, Baseline: BaselineJson.Parse(Text(r.Bytes), r.Path, r.Profile, r.Finding)))
            .ToList();
        foreach (var r in selected) BaselineAcceptance.ThrowIfRefused(r.Baseline, r.Path);

        var accepted = new List<AcceptedBaseline>();
        foreach (var (p, d, f, receivedPath, bytes, baseline) in selected)
        {
            var verified = Path(p, d, f);
            var replaced = System.IO.File.Exists(verified);
            // The bytes that were checked, not the file read again: a change made since is never promoted unchecked.
            AtomicFile.WriteAllBytes(verified, bytes);
            System.IO.File.Delete(receivedPath);
            accepted.Add(new AcceptedBaseline(p, d, f, verified, replaced, baseline.Metrics.Count));
        }
        return accepted;
    }

    /// <summary>A file's bytes as text, as <see cref="BaselineJson.Read"/> reads it (UTF-8, a byte order mark skipped).</summary>
    private static string Text(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Every finding with a verified or a received file, in profile, dataset, then finding order.</summary>
    public IReadOnlyList<BaselineEntry> List()
    {
        var entries = new List<BaselineEntry>();
        foreach (var (profile, dataset, folder) in Folders())
        {
            var findings = Directory.EnumerateFiles(folder, "*" + VerifiedSuffix)
                .Select(System.IO.Path.GetFileName)
                .OfType<string>()
                .Select(FindingOf)
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal);
            foreach (var finding in findings)
            {
                var path = Path(profile, dataset, finding);
                var hasVerified = System.IO.File.Exists(path);
                var waiting = System.IO.File.Exists(ReceivedPath(profile, dataset, finding));
                int? count = null;
                IReadOnlyList<int>? seeds = null;
                string? error = null;
                if (hasVerified)
                {
                    try
                    {
                        var baseline = BaselineJson.Read(path, profile, finding);
                        count = baseline.Metrics.Count;
                        seeds = baseline.Seeds;
                    }
                    catch (BaselineFormatException e)
                    {
                        error = e.Message;
                    }
                }
                entries.Add(new BaselineEntry(profile, dataset, finding, path, hasVerified, waiting, count, seeds, error));
            }
        }
        return entries;
    }

    /// <summary>The &lt;profile&gt;/&lt;dataset&gt; folders, in order.</summary>
    private IEnumerable<(string Profile, string Dataset, string Folder)> Folders()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var profileDir in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            var profile = System.IO.Path.GetFileName(profileDir);
            if (!Identifiers.IsValid(profile)) continue;
            foreach (var datasetDir in Directory.EnumerateDirectories(profileDir).Order(StringComparer.Ordinal))
            {
                var dataset = System.IO.Path.GetFileName(datasetDir);
                if (Identifiers.IsValid(dataset)) yield return (profile, dataset, datasetDir);
            }
        }
    }

    private IEnumerable<(string Profile, string Dataset, string Finding, string Path)> ReceivedFiles()
    {
        foreach (var (profile, dataset, folder) in Folders())
            foreach (var file in Directory.EnumerateFiles(folder, "*" + ReceivedSuffix).Order(StringComparer.Ordinal))
            {
                var name = System.IO.Path.GetFileName(file);
                var finding = name[..^ReceivedSuffix.Length];
                if (Identifiers.IsValid(finding))
                    yield return (profile, dataset, finding, file);
            }
    }

    /// <summary>The finding of a verified or received file name; null for anything else (e.g. atomic-write temp files).</summary>
    private static string? FindingOf(string fileName)
    {
        var finding = fileName.EndsWith(ReceivedSuffix, StringComparison.Ordinal)
            ? fileName[..^ReceivedSuffix.Length]
            : fileName[..^VerifiedSuffix.Length];
        return Identifiers.IsValid(finding) ? finding : null;
    }
}
