namespace Reproductions.Harness.Baselines;

/// <summary>How wide the baseline bands of a finding's profile are, as a function of the spread across seeds (a finding's <c>bands</c>).</summary>
public sealed record BandSettings(double StdMultiplier, double MinAbsolute, double MinRelative)
{
    public BandPolicy ToPolicy() => new() { StdMultiplier = StdMultiplier, MinAbsolute = MinAbsolute, MinRelative = MinRelative };
}
