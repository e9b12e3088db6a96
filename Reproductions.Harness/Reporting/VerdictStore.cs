using System.Text.Json;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Reporting;

/// <summary>One check of a finding (one test case) as last run: passed or not, and what it said.</summary>
public sealed record CheckVerdict(string Name, string Outcome, string Message, DateTime Utc);

/// <summary>The last verdicts of a finding's checks for one profile.</summary>
public sealed record FindingVerdicts(string Finding, string Profile, List<CheckVerdict> Checks);

/// <summary>
/// Where finding tests leave their verdicts (artifacts/verdicts/&lt;profile&gt;/&lt;finding&gt;.json), so that the report,
/// rebuilt from stored runs without retraining, can show which claims held when last checked.
/// </summary>
public sealed class VerdictStore(string root)
{
    private static readonly object Gate = new();

    public static VerdictStore Default => new(Path.Combine(RepoPaths.Artifacts, "verdicts"));

    public string Root { get; } = Path.GetFullPath(root);

    public string PathOf(string profile, string finding) => Path.Combine(Root, profile, finding + ".json");

    public FindingVerdicts? Load(string profile, string finding)
    {
        var path = PathOf(profile, finding);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<FindingVerdicts>(File.ReadAllBytes(path), JsonDefaults.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable verdict file ({e.Message}); delete it and re-run the finding's tests.", e);
        }
    }

    /// <summary>
    /// Records (or replaces) one check's verdict; the file is rewritten atomically. <paramref name="current"/>, when given,
    /// names every check the finding has now for this profile: verdicts of checks outside it (renamed or removed tests)
    /// are dropped, so that the report never shows a check that no longer exists.
    /// </summary>
    public void Record(string profile, string finding, string check, string outcome, string message, IReadOnlyCollection<string>? current = null)
    {
        lock (Gate)
        {
            var verdicts = Load(profile, finding) ?? new FindingVerdicts(finding, profile, []);
            verdicts.Checks.RemoveAll(c => c.Name == check || (current is not null && !current.Contains(c.Name)));
            verdicts.Checks.Add(new CheckVerdict(check, outcome, message, DateTime.UtcNow));
            verdicts.Checks.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            AtomicFile.WriteAllText(PathOf(profile, finding), JsonSerializer.Serialize(verdicts, JsonDefaults.Options));
        }
    }
}
