using Reproductions.Harness.Baselines;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Tests.Baselines;

/// <summary>
/// The committed baselines, read as they are: every stored band is the one its per-seed samples and its profile's
/// <c>bands</c> give. A band widened by hand (or left behind by a change of the profile's bands) loads without error, and
/// the drift check would then compare against it; this names it, with the band that accept would have written.
/// </summary>
[Unit]
public sealed class StoredBaselinesTests
{
    private static IEnumerable<TestCaseData> Files() =>
        Directory.EnumerateFiles(RepoPaths.Baselines, "F*.json", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".received.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetRelativePath(RepoPaths.Baselines, f).Replace('\\', '/')).SetName($"Bands_are_derived_from_the_samples({Path.GetRelativePath(RepoPaths.Baselines, f).Replace('\\', '/')})"));

    [TestCaseSource(nameof(Files))]
    public void Bands_are_derived_from_the_samples(string file)
    {
        var parts = file.Split('/');
        var (profile, dataset, finding) = (parts[0], parts[1], Path.GetFileNameWithoutExtension(parts[2]));
        var baseline = BaselineJson.Read(Path.Combine(RepoPaths.Baselines, file), profile, finding);
        var policy = FindingProfile.Load(finding, profile, dataset: dataset).Bands.ToPolicy();
        var wrong = new List<string>();
        foreach (var (name, stored) in baseline.Metrics)
        {
            var derived = policy.Derive(name, stored.Samples);
            var relative = derived.RelativeBand is { } r && r > 0 ? r : (double?)null;
            var storedRelative = stored.RelativeBand is { } s && s > 0 ? s : (double?)null;
            if (!Close(stored.AbsoluteBand, derived.AbsoluteBand) || !Close(storedRelative ?? 0, relative ?? 0))
                wrong.Add($"{name}: stored ±{stored.AbsoluteBand:G6}{(storedRelative is { } x ? $" or {x:P1}" : "")}, derived ±{derived.AbsoluteBand:G6}{(relative is { } y ? $" or {y:P1}" : "")} ({derived.Rule})");
        }
        wrong.Should().BeEmpty($"{file}'s bands should be what its samples and the {profile} profile's bands give (re-accept it if the bands changed on purpose)");
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));
}
