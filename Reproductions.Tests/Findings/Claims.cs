using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace Reproductions.Tests.Findings;

/// <summary>
/// The statistical forms the findings' claims take. Every band is the 95% confidence interval of a per-seed quantity
/// (Student t over the seeds), so its width comes from the measured spread across seeds, not from a chosen tolerance.
/// </summary>
public static class Claims
{
    public static (double Mean, double Low, double High) Interval(IReadOnlyList<double> values)
    {
        var mean = values.Mean();
        if (values.Count < 2) return (mean, mean, mean);
        var half = StudentT.InvCDF(0, 1, values.Count - 1, 0.975) * values.StandardDeviation() / Math.Sqrt(values.Count);
        return (mean, mean - half, mean + half);
    }

    public static double[] Differences(IReadOnlyList<double> a, IReadOnlyList<double> b) => a.Zip(b, (x, y) => x - y).ToArray();

    /// <summary>a exceeds b for every seed, and the 95% interval of the per-seed difference lies above zero.</summary>
    public static void Exceeds(IReadOnlyList<double> a, IReadOnlyList<double> b, string what)
    {
        var d = Differences(a, b);
        var (mean, low, high) = Interval(d);
        FindingContext.Measured($"{what}: per-seed differences {FindingContext.Describe(d)}; mean {mean:F4}, 95% CI [{low:F4}, {high:F4}]");
        d.Should().OnlyContain(x => x > 0, $"{what} should hold for every seed");
        low.Should().BeGreaterThan(0, $"{what} should exceed the seed-to-seed noise");
    }

    /// <summary>
    /// a is not worse than b beyond seed noise: the 95% interval of the per-seed difference a - b reaches zero or above
    /// ("recovers", "matches", "within a band of").
    /// </summary>
    public static void Matches(IReadOnlyList<double> a, IReadOnlyList<double> b, string what)
    {
        var d = Differences(a, b);
        var (mean, low, high) = Interval(d);
        FindingContext.Measured($"{what}: per-seed differences {FindingContext.Describe(d)}; mean {mean:F4}, 95% CI [{low:F4}, {high:F4}]");
        high.Should().BeGreaterThanOrEqualTo(0, $"{what}: the shortfall should lie within the seed-to-seed noise");
    }

    /// <summary>
    /// a reaches b: the difference of their means is smaller than what re-running b with a new seed is expected to give,
    /// i.e. it lies inside the 95% prediction interval of one seed of b (Student t, sd of b across seeds x sqrt(1 + 1/n)).
    /// For "reaches the same value" claims where the seeds are paired so tightly that a paired test would flag
    /// differences far below the seed-to-seed variation of the quantity itself.
    /// </summary>
    public static void WithinSeedSpread(IReadOnlyList<double> a, IReadOnlyList<double> b, string what)
    {
        var n = b.Count;
        var band = StudentT.InvCDF(0, 1, n - 1, 0.975) * b.StandardDeviation() * Math.Sqrt(1 + 1.0 / n);
        var difference = a.Mean() - b.Mean();
        FindingContext.Measured($"{what}: mean difference {difference:F4}; one-seed 95% prediction band of the reference ±{band:F4} " +
                                  $"(values {FindingContext.Describe(a)} vs {FindingContext.Describe(b)})");
        Math.Abs(difference).Should().BeLessThanOrEqualTo(band, $"{what}: the difference should lie within the seed-to-seed spread");
    }

    /// <summary>Each array (one per setting, values per seed) is strictly ordered, descending, for every seed.</summary>
    public static void DescendingForEverySeed(IReadOnlyList<string> names, IReadOnlyList<double[]> perSetting, IReadOnlyList<long> seeds, string what)
    {
        for (var s = 0; s < seeds.Count; s++)
        {
            var values = perSetting.Select(v => v[s]).ToArray();
            FindingContext.Measured($"seed {seeds[s]}: {what} {string.Join(" > ", names.Zip(values, (n, v) => $"{n} {v:F4}"))}");
            values.Should().BeInDescendingOrder($"{what} should fall in this order (seed {seeds[s]})");
            values.Should().OnlyHaveUniqueItems($"the ordering must be strict (seed {seeds[s]})");
        }
    }

    /// <summary>R^2 of the least-squares line y = a + b x (MathNet).</summary>
    public static double LineR2(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (a, b) = MathNet.Numerics.Fit.Line(x.ToArray(), y.ToArray());
        return MathNet.Numerics.GoodnessOfFit.RSquared(x.Select(v => a + b * v), y);
    }
}
