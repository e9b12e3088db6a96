using System.Collections.Immutable;
using System.Globalization;
using MathNet.Numerics.Statistics;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// How the tolerance band of a metric is derived from its per-seed values:
/// <c>half-width = max(StdMultiplier * sample std, MinAbsolute, MinRelative * |mean|)</c>.
/// A measured mean passes when it lies within the half-width of the baseline mean.
/// </summary>
/// <remarks>
/// The std is the sample standard deviation (n - 1) over seeds, so the band reflects the spread the finding
/// actually shows. With a single seed no spread is measured and only the floors apply. The absolute part is rounded
/// up to 4 significant digits so stored files stay readable (never narrower than derived). Per-metric overrides
/// replace the whole rule for that metric (their own overrides are ignored).
/// </remarks>
/// <example>
/// <code>
/// var policy = BandPolicy.Default with { MinAbsolute = 0.002 };
/// policy = policy.WithOverride("final_loss", policy with { MinRelative = 0.05 });
/// </code>
/// </example>
public sealed record BandPolicy
{
    /// <summary>4 x std, no floors.</summary>
    public static BandPolicy Default { get; } = new();

    /// <summary>How many sample standard deviations (over seeds) the band spans on each side. Default 4.</summary>
    public double StdMultiplier { get; init => field = NonNegative(value, nameof(StdMultiplier)); } = 4;

    /// <summary>Smallest half-width, in the metric's own units. Default 0.</summary>
    public double MinAbsolute { get; init => field = NonNegative(value, nameof(MinAbsolute)); }

    /// <summary>Smallest half-width as a fraction of |mean| (0.01 = 1%). Default 0.</summary>
    public double MinRelative { get; init => field = NonNegative(value, nameof(MinRelative)); }

    /// <summary>Rules for particular metrics, by metric name; they replace this policy for that metric.</summary>
    public ImmutableDictionary<string, BandPolicy> Overrides
    {
        get;
        init => field = (value ?? throw new ArgumentNullException(nameof(Overrides)))
            .ToImmutableDictionary(kv => kv.Key, kv => kv.Value.WithoutOverrides(), StringComparer.Ordinal);
    } = ImmutableDictionary.Create<string, BandPolicy>(StringComparer.Ordinal);

    /// <summary>A copy of this policy in which <paramref name="metric"/> uses <paramref name="rule"/>.</summary>
    public BandPolicy WithOverride(string metric, BandPolicy rule)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        ArgumentNullException.ThrowIfNull(rule);
        return this with { Overrides = Overrides.SetItem(metric, rule.WithoutOverrides()) };
    }

    /// <summary>The rule that applies to <paramref name="metric"/>: its override, or this policy.</summary>
    public BandPolicy For(string metric) => OverrideFor(metric)?.Rule ?? WithoutOverrides();

    /// <summary>
    /// The override that applies to <paramref name="metric"/>, and the key it is stored under: an exact name first, else
    /// the longest pattern (<c>*</c> for any run of characters) that matches the whole name.
    /// </summary>
    private (string Key, BandPolicy Rule)? OverrideFor(string metric)
    {
        if (Overrides.TryGetValue(metric, out var exact)) return (metric, exact);
        return Overrides.Where(kv => kv.Key.Contains('*', StringComparison.Ordinal) && Matches(kv.Key, metric))
            .OrderByDescending(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => ((string, BandPolicy)?)(kv.Key, kv.Value)).FirstOrDefault();
    }

    private static bool Matches(string pattern, string metric) =>
        System.Text.RegularExpressions.Regex.IsMatch(metric,
            "^" + string.Join(".*", pattern.Split('*').Select(System.Text.RegularExpressions.Regex.Escape)) + "$",
            System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Derives the band of one metric from its per-seed values, with the rule written out in words.</summary>
    public MetricBand Derive(string metric, IReadOnlyList<double> perSeed)
    {
        ArgumentNullException.ThrowIfNull(perSeed);
        if (perSeed.Count == 0)
            throw new ArgumentException($"Metric '{metric}': no values to derive a band from.", nameof(perSeed));
        if (perSeed.Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"Metric '{metric}': values must be finite to derive a band.", nameof(perSeed));

        var overridden = OverrideFor(metric);
        var rule = overridden?.Rule ?? WithoutOverrides();
        var n = perSeed.Count;
        var mean = MathNet.Numerics.Statistics.Statistics.Mean(perSeed);
        var std = n >= 2 ? MathNet.Numerics.Statistics.Statistics.StandardDeviation(perSeed) : 0.0;
        var fromStd = rule.StdMultiplier * std;
        var absolute = RoundUp(Math.Max(fromStd, rule.MinAbsolute));
        var fromRelative = rule.MinRelative * Math.Abs(mean);
        var halfWidth = Math.Max(absolute, fromRelative);

        var parts = new List<string>();
        if (n < 2)
            parts.Add("1 seed, so no spread measured (std taken as 0)");
        else if (rule.StdMultiplier == 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"std not used (multiplier 0; std over {n} seeds {NumberText.Format(std)})"));
        else
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"{NumberText.Format(rule.StdMultiplier)} x std over {n} seeds ({NumberText.Format(std)}) = {NumberText.Format(fromStd)}"));
        if (rule.MinAbsolute > 0)
            parts.Add($"floor {NumberText.Format(rule.MinAbsolute)} abs");
        if (rule.MinRelative > 0)
            parts.Add($"floor {NumberText.Percent(rule.MinRelative)} of |mean| = {NumberText.Format(fromRelative)}");

        string decidedBy;
        if (halfWidth == 0)
            decidedBy = "half-width 0: the mean must be reproduced exactly";
        else if (n >= 2 && fromStd >= rule.MinAbsolute && fromStd >= fromRelative)
            decidedBy = $"half-width {NumberText.Format(halfWidth)} from the spread";
        else if (rule.MinAbsolute >= fromRelative)
            decidedBy = $"half-width {NumberText.Format(halfWidth)} from the absolute floor";
        else
            decidedBy = $"half-width {NumberText.Format(halfWidth)} from the relative floor";
        parts.Add(decidedBy);

        var text = (overridden is { } o ? (o.Key == metric ? "per-metric rule: " : $"per-metric rule ({o.Key}): ") : "") + string.Join(", ", parts);
        return new MetricBand(metric, mean, std, absolute, rule.MinRelative > 0 ? rule.MinRelative : null, halfWidth, text);
    }

    /// <summary>
    /// Rounds a half-width up to <see cref="StoredSignificantDigits"/> significant digits, so stored bands read as
    /// 0.008 rather than 0.007999999999999785; the result is never narrower than the input.
    /// </summary>
    public static double RoundUp(double halfWidth)
    {
        if (halfWidth <= 0 || !double.IsFinite(halfWidth)) return halfWidth;
        var format = "G" + StoredSignificantDigits.ToString(CultureInfo.InvariantCulture);
        var rounded = double.Parse(halfWidth.ToString(format, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (rounded >= halfWidth) return rounded;
        var step = Math.Pow(10, Math.Floor(Math.Log10(rounded)) - (StoredSignificantDigits - 1));
        return double.Parse((rounded + step).ToString(format, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>Significant digits kept in a stored absolute band (rounded up).</summary>
    public const int StoredSignificantDigits = 4;

    /// <summary>Value equality, overrides included (compared by content, not by dictionary reference).</summary>
    public bool Equals(BandPolicy? other) =>
        other is not null &&
        StdMultiplier.Equals(other.StdMultiplier) &&
        MinAbsolute.Equals(other.MinAbsolute) &&
        MinRelative.Equals(other.MinRelative) &&
        Overrides.Count == other.Overrides.Count &&
        Overrides.All(kv => other.Overrides.TryGetValue(kv.Key, out var rule) && kv.Value.Equals(rule));

    public override int GetHashCode() => HashCode.Combine(StdMultiplier, MinAbsolute, MinRelative, Overrides.Count);

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(string.Create(CultureInfo.InvariantCulture,
            $"StdMultiplier = {StdMultiplier}, MinAbsolute = {MinAbsolute}, MinRelative = {MinRelative}"));
        if (!Overrides.IsEmpty)
            builder.Append(", Overrides = { ")
                .Append(string.Join(", ", Overrides.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} = {kv.Value}")))
                .Append(" }");
        return true;
    }

    private BandPolicy WithoutOverrides() =>
        Overrides.IsEmpty ? this : this with { Overrides = ImmutableDictionary.Create<string, BandPolicy>(StringComparer.Ordinal) };

    private static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"BandPolicy.{name} must be a finite number >= 0.");
}

/// <summary>
/// The band derived for one metric. A measured mean m passes against baseline mean v when
/// <c>|m - v| &lt;= max(AbsoluteBand, (RelativeBand ?? 0) * |v|)</c>, which equals <see cref="HalfWidth"/>.
/// </summary>
/// <param name="Metric">Metric name.</param>
/// <param name="Mean">Mean over seeds: the baseline value.</param>
/// <param name="Std">Sample std over seeds (0 with one seed).</param>
/// <param name="AbsoluteBand">max(StdMultiplier * std, MinAbsolute), rounded up to 4 significant digits.</param>
/// <param name="RelativeBand">MinRelative when it is above 0, else null.</param>
/// <param name="HalfWidth">The effective half-width: max(AbsoluteBand, RelativeBand * |Mean|).</param>
/// <param name="Rule">How the band was derived, in words.</param>
public sealed record MetricBand(string Metric, double Mean, double Std, double AbsoluteBand, double? RelativeBand, double HalfWidth, string Rule);
