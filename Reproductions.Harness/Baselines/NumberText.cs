using System.Globalization;

namespace Reproductions.Harness.Baselines;

/// <summary>Number formatting for baseline messages and rules: always the invariant culture.</summary>
internal static class NumberText
{
    /// <summary>Up to <paramref name="significant"/> significant digits, e.g. 0.001234, 0.9712, 1.5E-05.</summary>
    public static string Format(double value, int significant = 4) =>
        value == 0 ? "0" : value.ToString("G" + significant.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Like <see cref="Format"/> with an explicit sign: +0.0012, -0.0048, 0.</summary>
    public static string Signed(double value, int significant = 4) =>
        value > 0 ? "+" + Format(value, significant) : Format(value, significant);

    /// <summary>A fraction as a percentage: 0.01 -> "1%".</summary>
    public static string Percent(double fraction) => Format(fraction * 100, 4) + "%";

    public static string Seeds(IEnumerable<int> seeds) =>
        string.Join(",", seeds.Select(s => s.ToString(CultureInfo.InvariantCulture)));
}
