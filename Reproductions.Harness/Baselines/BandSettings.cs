namespace Reproductions.Harness.Baselines;

/// <summary>
/// How wide the baseline bands of a finding's profile are, as a function of the spread across seeds (a finding's
/// <c>bands</c>), with the rules that replace them for some metrics (<c>bands:overrides</c>), each with its reason.
/// </summary>
/// <remarks>
/// A floor (<see cref="MinAbsolute"/> or <see cref="MinRelative"/> above 0) is a fixed threshold, so a config that sets
/// one gives the reason for its value (<c>bands:reason</c>, kept in <see cref="Reason"/> and printed in the report).
/// </remarks>
public sealed record BandSettings(double StdMultiplier, double MinAbsolute, double MinRelative, IReadOnlyList<BandOverride>? Overrides = null)
{
    /// <summary>Why the floors have their values; null when there are none.</summary>
    public string? Reason { get; init; }

    public BandPolicy ToPolicy()
    {
        var policy = new BandPolicy { StdMultiplier = StdMultiplier, MinAbsolute = MinAbsolute, MinRelative = MinRelative };
        foreach (var o in Overrides ?? [])
            policy = policy.WithOverride(o.Metrics, new BandPolicy { StdMultiplier = o.StdMultiplier, MinAbsolute = o.MinAbsolute, MinRelative = o.MinRelative });
        return policy;
    }
}

/// <summary>
/// The band rule of the metrics <paramref name="Metrics"/> names: a metric name, or a pattern in which <c>*</c> stands for
/// any run of characters (<c>*.logSharpness*</c>). Settings it leaves out are the profile's.
/// </summary>
public sealed record BandOverride(string Metrics, double StdMultiplier, double MinAbsolute, double MinRelative, string Reason);
