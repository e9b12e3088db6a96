using System.Globalization;
using System.Text.RegularExpressions;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// One component of a paper's number, in the metric's own units (accuracies as fractions): the interval it states
/// (a point has Low == High) and the precision it is stated to (half a unit of its last digit: "98%" is ±0.5%,
/// "6.71" is ±0.005).
/// </summary>
public sealed record ReferenceInterval(double Low, double High, double Precision);

/// <summary>
/// A reference text of the paper or blog read as numbers, when it is one: "98%", "95-96%", "6.71", "44.9",
/// "[0.988 0.993 0.928]" (one component per layer), "1e5", optionally led by "about" or "~". Anything else
/// ("between bs64 and bs1024", "concave curve") is not numeric and is shown, never compared.
/// </summary>
/// <param name="Approximate">Led by "about", "~" or similar: the paper gives no precision, so it is drawn but never compared.</param>
public sealed partial record ReferenceValue(IReadOnlyList<ReferenceInterval> Components, bool IsList, bool Approximate)
{
    private const string Number = @"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?";
    private const string Unsigned = @"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?";

    [GeneratedRegex($@"^(?<n>{Number})\s*(?<p>%)?$")]
    private static partial Regex Single();

    [GeneratedRegex($@"^(?<a>{Number})\s*(?<pa>%)?\s*(?:-|–|—|to)\s*(?<b>{Unsigned})\s*(?<pb>%)?$")]
    private static partial Regex Range();

    [GeneratedRegex(@"^(?:about|approx\.?|approximately|~|≈)\s*", RegexOptions.IgnoreCase)]
    private static partial Regex Approximately();

    public static bool TryParse(string? text, out ReferenceValue value)
    {
        value = null!;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var trimmed = text.Trim();
        var t = Approximately().Replace(trimmed, "").Trim();
        var approximate = t.Length != trimmed.Length;
        if (t.StartsWith('[') && t.EndsWith(']'))
        {
            var parts = t[1..^1].Split([' ', ',', ';', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var components = new List<ReferenceInterval>();
            foreach (var part in parts)
            {
                if (!TryScalar(part, out var c)) return false;
                components.Add(c);
            }
            if (components.Count == 0) return false;
            value = new ReferenceValue(components, IsList: true, approximate);
            return true;
        }
        if (TryScalar(t, out var single))
        {
            value = new ReferenceValue([single], IsList: false, approximate);
            return true;
        }
        return false;
    }

    private static bool TryScalar(string text, out ReferenceInterval interval)
    {
        interval = null!;
        var single = Single().Match(text);
        if (single.Success)
        {
            var percent = single.Groups["p"].Success;
            var (v, p) = Parse(single.Groups["n"].Value, percent);
            interval = new ReferenceInterval(v, v, p);
            return true;
        }
        var range = Range().Match(text);
        if (range.Success)
        {
            var percent = range.Groups["pa"].Success || range.Groups["pb"].Success;
            var (a, pa) = Parse(range.Groups["a"].Value, percent);
            var (b, pb) = Parse(range.Groups["b"].Value, percent);
            interval = new ReferenceInterval(Math.Min(a, b), Math.Max(a, b), Math.Max(pa, pb));
            return true;
        }
        return false;
    }

    /// <summary>The value and half a unit of its last stated digit; a percentage becomes a fraction.</summary>
    private static (double Value, double Precision) Parse(string literal, bool percent)
    {
        var value = double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture);
        var mantissa = literal;
        var exponent = 0;
        var e = literal.IndexOfAny(['e', 'E']);
        if (e >= 0)
        {
            mantissa = literal[..e];
            exponent = int.Parse(literal[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        var dot = mantissa.IndexOf('.');
        var decimals = dot < 0 ? 0 : mantissa.Length - dot - 1;
        var precision = 0.5 * Math.Pow(10, exponent - decimals);
        return percent ? (value / 100, precision / 100) : (value, precision);
    }
}

/// <summary>How a run's metric compares with the paper's number.</summary>
public enum Agreement
{
    /// <summary>The paper gives no number for this run and metric.</summary>
    NoReference,
    /// <summary>The paper's text is not a number or range ("between bs64 and bs1024"): shown, not compared.</summary>
    NotNumeric,
    /// <summary>The paper's number is approximate ("about 6"): it states no precision to compare within.</summary>
    Approximate,
    /// <summary>The scaled-down (quick) profile: the paper's numbers are shown beside ours, never compared.</summary>
    NotCompared,
    /// <summary>The paper gives a different number of components (a list for a scalar metric, or the wrong length).</summary>
    ShapeMismatch,
    /// <summary>Our value is missing (not a finite number), so nothing is compared.</summary>
    NoValue,
    Agrees,
    Disagrees,
}

/// <summary>One component of a comparison, in the metric's own units.</summary>
/// <param name="Tolerance">max(2 std over seeds, the reference's stated precision).</param>
/// <param name="Outside">How far the paper's interval lies outside our mean ± tolerance (0 when inside).</param>
public sealed record ComparedComponent(double ReferenceLow, double ReferenceHigh, double Precision, double Mean, double Std, double Tolerance, double Outside)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Disagrees => Outside > 0;
}

/// <summary>The verdict of one run/metric against the paper, with the numbers it rests on.</summary>
public sealed record ReferenceCheck(Agreement Agreement, IReadOnlyList<ComparedComponent> Components, string Detail)
{
    /// <summary>
    /// Compares our per-component mean and std (over seeds) with the paper's text. The paper disagrees with us when
    /// its interval lies outside our mean ± max(2 std, the stated precision of its number).
    /// </summary>
    public static ReferenceCheck Compare(string? reference, IReadOnlyList<double> mean, IReadOnlyList<double> std, bool compare)
    {
        if (string.IsNullOrWhiteSpace(reference)) return new(Agreement.NoReference, [], "");
        if (!ReferenceValue.TryParse(reference, out var parsed)) return new(Agreement.NotNumeric, [], "not a number or range: shown, not compared");
        if (parsed.Approximate) return new(Agreement.Approximate, [], "an approximate value (\"about\"): shown, not compared");
        if (!compare) return new(Agreement.NotCompared, [], "scaled-down profile: not compared");
        if (parsed.Components.Count != mean.Count)
            return new(Agreement.ShapeMismatch, [],
                $"the paper gives {parsed.Components.Count} value(s), the metric has {mean.Count}: not compared");
        if (mean.Any(m => !double.IsFinite(m))) return new(Agreement.NoValue, [], "our value is not a finite number: not compared");
        var components = new List<ComparedComponent>();
        for (var i = 0; i < mean.Count; i++)
        {
            var r = parsed.Components[i];
            var s = double.IsFinite(std[i]) ? std[i] : 0;
            var tolerance = Math.Max(2 * s, r.Precision);
            var outside = Math.Max(0, Math.Max(r.Low - (mean[i] + tolerance), (mean[i] - tolerance) - r.High));
            components.Add(new ComparedComponent(r.Low, r.High, r.Precision, mean[i], s, tolerance, outside));
        }
        var disagrees = components.Any(c => c.Disagrees);
        return new(disagrees ? Agreement.Disagrees : Agreement.Agrees, components,
            disagrees ? "the paper's value lies outside our mean ± max(2 std, its precision)" : "within our mean ± max(2 std, its precision)");
    }
}
