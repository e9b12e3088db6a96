using Reproductions.Harness.Claims;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// A claim's verdict beside the one its baseline stores (<see cref="Baseline.Verdicts"/>). On a dataset other than the
/// paper's, a claim that does not hold (or is inconclusive) is a result, not a failure; what the tests and the report
/// assert there is that the verdict does not change: a flip in either direction fails.
/// </summary>
/// <param name="Stored">The baseline's verdict; null when no baseline, or none for this claim, is stored.</param>
public sealed record VerdictSnapshot(string Claim, ClaimOutcome Outcome, ClaimOutcome? Stored, string BaselinePath)
{
    /// <summary>Whether the verdict is the stored one.</summary>
    public bool Unchanged => Stored == Outcome;

    public static VerdictSnapshot Of(ClaimVerdict verdict, Baseline? baseline, string baselinePath) =>
        new(verdict.Id, verdict.Outcome, baseline?.Verdicts?.TryGetValue(verdict.Id, out var stored) == true ? stored : null, baselinePath);

    /// <summary>One line: the verdict and the stored one, and what to do when none is stored.</summary>
    public string Describe() => Stored switch
    {
        null => $"{ClaimVerdict.Describe(Outcome)}, and no verdict of '{Claim}' is stored in '{BaselinePath}': run the finding's baseline test to write the received file, review it, and accept it",
        var s when s == Outcome => $"{ClaimVerdict.Describe(Outcome)}, as stored in '{BaselinePath}'",
        var s => $"the verdict changed: {ClaimVerdict.Describe(Outcome)} now, {ClaimVerdict.Describe(s.Value)} as stored in '{BaselinePath}'",
    };
}
