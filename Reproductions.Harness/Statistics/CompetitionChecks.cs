using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace Reproductions.Harness.Statistics;

/// <summary>The statistical yardsticks the F05-F08 tests and the report use, from MathNet's distributions.</summary>
public static class CompetitionChecks
{
    /// <summary>
    /// Welch's one-sided lower confidence bound (level 1 - <paramref name="alpha"/>) on mean(a) - mean(b): above zero,
    /// a's mean exceeds b's beyond the trial-to-trial spread.
    /// </summary>
    public static double WelchLowerBound(IReadOnlyList<double> a, IReadOnlyList<double> b, double alpha)
    {
        if (a.Count < 2 || b.Count < 2) return double.NaN;
        var va = a.Variance() / a.Count;
        var vb = b.Variance() / b.Count;
        var se = Math.Sqrt(va + vb);
        var df = (va + vb) * (va + vb) / (va * va / (a.Count - 1) + vb * vb / (b.Count - 1));
        var t = StudentT.InvCDF(0, 1, double.IsFinite(df) && df > 0 ? df : a.Count + b.Count - 2, 1 - alpha);
        return a.Mean() - b.Mean() - t * se;
    }

    /// <summary>The Student-t confidence interval (level 1 - 2 alpha... two-sided 95% by default) of a mean over seeds.</summary>
    public static (double Low, double High) MeanInterval(IReadOnlyList<double> values, double level = 0.95)
    {
        var mean = values.Mean();
        if (values.Count < 2) return (mean, mean);
        var half = StudentT.InvCDF(0, 1, values.Count - 1, 0.5 + level / 2) * values.StandardDeviation() / Math.Sqrt(values.Count);
        return (mean - half, mean + half);
    }

    /// <summary>Whether <paramref name="values"/> never decrease (ties allowed).</summary>
    public static bool NonDecreasing(IReadOnlyList<double> values)
    {
        for (var i = 1; i < values.Count; i++)
            if (values[i] < values[i - 1]) return false;
        return true;
    }
}
