using System.Globalization;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// What the accept step refuses in a fresh baseline: a band that reaches its claim's null value (a flip of the claim
/// would pass the drift check), and a margin claim whose deciding interval, at the baseline's seed spread, is wider
/// than its margin (the claim could never be decided at that many seeds; the refusal says how many it would need).
/// </summary>
public static class BaselineAcceptance
{
    public static IReadOnlyList<string> Problems(Baseline baseline)
    {
        var problems = new List<string>();
        foreach (var (name, metric) in baseline.Metrics)
        {
            if (metric.ClaimNull is not { } n) continue;
            var (low, high) = (metric.Value - metric.HalfWidth, metric.Value + metric.HalfWidth);
            if (low <= n && n <= high)
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: its band [{low:G4}, {high:G4}] contains {n:G4}, the value at which its claim turns, so a flip of the claim would pass the drift check; take more seeds, or leave the metric out of the baseline (the profile's baseline.leftOut, with the reason)"));
        }
        foreach (var claim in baseline.Claims ?? [])
            if (!claim.Decidable)
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"claim {claim.Claim}: at this seed spread its deciding interval is ±{claim.HalfWidth:G4} over {claim.Seeds} seeds, wider than its margin {claim.Margin:G4}, so it could never be decided; it would need about {claim.SeedsNeeded} seeds (or leave the claim to a profile that has them)"));
        return problems;
    }

    /// <summary>Throws, listing every problem, when <paramref name="baseline"/> (read from <paramref name="path"/>) may not be accepted.</summary>
    public static void ThrowIfRefused(Baseline baseline, string path)
    {
        var problems = Problems(baseline);
        if (problems.Count > 0)
            throw new Infrastructure.CheckFailedException(
                $"Refusing to accept '{path}' ({baseline.Finding}, {baseline.Profile}): {problems.Count} problem(s):\n  - " + string.Join("\n  - ", problems));
    }
}
