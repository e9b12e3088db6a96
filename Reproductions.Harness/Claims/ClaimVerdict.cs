namespace Reproductions.Harness.Claims;

/// <summary>How a claim came out.</summary>
public enum ClaimOutcome
{
    /// <summary>The measurements establish it (every seed, and the 95% interval, on its side).</summary>
    Holds,
    /// <summary>The 95% interval (or, for a deterministic property, a counter-example) excludes it.</summary>
    DoesNotHold,
    /// <summary>Neither: the test is too weak to decide at this spread and number of seeds. Never shown as a pass.</summary>
    Inconclusive,
    /// <summary>What it needs is not measured (not stored, or not a metric of the protocol).</summary>
    NotMeasured,
    /// <summary>An estimate that was measured: a number shown, not a verdict.</summary>
    Estimated,
}

/// <summary>One comparison of a claim, with the numbers it measured.</summary>
/// <param name="Label">The template variables' values ("regime early, B 64"), "" for a claim of one comparison.</param>
/// <param name="Estimate">The statistic (a mean difference, a slope, a rank correlation, ...), in its own units.</param>
/// <param name="Low">The lower end of its interval (NaN where it has none).</param>
/// <param name="High">The upper end of its interval (NaN where it has none).</param>
/// <param name="PerSeed">The statistic per seed, where it is formed per seed.</param>
/// <param name="Text">What was measured and how it was decided, in one line.</param>
/// <param name="HalfWidth">For reaches and matches: the half-width of the interval that decides (power against the margin).</param>
public sealed record ClaimPart(
    string Label, ClaimOutcome Outcome, double Estimate, double Low, double High, IReadOnlyList<double> PerSeed, string Text, double? HalfWidth = null);

/// <summary>A claim evaluated on one profile's measurements: its outcome, the yardstick, and every part's numbers.</summary>
/// <param name="Yardstick">How it is decided, in words (the kind, margin, threshold and their sources).</param>
/// <param name="Against">Where the claim states a measured disagreement with the paper: what the paper says.</param>
/// <param name="SeedsNeeded">For an underpowered reaches or matches claim: how many seeds its interval would need to be
/// narrower than the margin at this spread (null when it is not underpowered).</param>
public sealed record ClaimVerdict(
    string Id, string Statement, string Kind, ClaimOutcome Outcome, string Yardstick, string Summary, IReadOnlyList<ClaimPart> Parts,
    string? Against, double? Margin, int? SeedsNeeded)
{
    /// <summary>The outcome as the report writes it: "holds", "does not hold", "inconclusive", "not measured".</summary>
    public static string Describe(ClaimOutcome outcome) => outcome switch
    {
        ClaimOutcome.Holds => "holds",
        ClaimOutcome.DoesNotHold => "does not hold",
        ClaimOutcome.Inconclusive => "inconclusive",
        ClaimOutcome.Estimated => "measured",
        _ => "not measured",
    };
}
