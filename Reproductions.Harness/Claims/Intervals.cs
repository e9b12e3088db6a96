using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace Reproductions.Harness.Claims;

/// <summary>The statistics claims are decided with: Student-t intervals of a mean over seeds, rank-correlation critical values.</summary>
public static class Intervals
{
    /// <summary>The mean of <paramref name="values"/> and its two-sided interval at <paramref name="level"/> (Student t, n - 1
    /// degrees of freedom); a single value has no interval (NaN ends).</summary>
    public static (double Mean, double Low, double High, double HalfWidth) Mean(IReadOnlyList<double> values, double level = 0.95)
    {
        var mean = values.Mean();
        if (values.Count < 2) return (mean, double.NaN, double.NaN, double.NaN);
        var half = StudentT.InvCDF(0, 1, values.Count - 1, 0.5 + level / 2) * values.StandardDeviation() / Math.Sqrt(values.Count);
        return (mean, mean - half, mean + half, half);
    }

    /// <summary>
    /// The fewest seeds whose interval at <paramref name="level"/> would be at most <paramref name="margin"/> wide on each
    /// side at the spread <paramref name="sd"/> (sample std of the per-seed differences); at most 1000.
    /// </summary>
    /// <summary>
    /// Equivalence of paired differences <paramref name="d"/> within ±<paramref name="margin"/>: two one-sided tests at 95%
    /// (the 90% interval inside ±margin: equivalent), or the 95% interval wholly outside it (not equivalent); neither with
    /// fewer than two values.
    /// </summary>
    public static (double Mean, double Low90, double High90, double HalfWidth90, bool Equivalent, bool Outside) Equivalence(IReadOnlyList<double> d, double margin)
    {
        var (mean, low90, high90, half90) = Mean(d, 0.90);
        var (_, low95, high95, _) = Mean(d);
        return (mean, low90, high90, half90,
            d.Count >= 2 && low90 > -margin && high90 < margin,
            d.Count >= 2 && (low95 > margin || high95 < -margin));
    }

    public static int SeedsNeeded(double sd, double margin, double level)
    {
        if (!(sd > 0)) return 2;
        for (var n = 2; n <= 1000; n++)
            if (StudentT.InvCDF(0, 1, n - 1, 0.5 + level / 2) * sd / Math.Sqrt(n) <= margin) return n;
        return 1000;
    }

    /// <summary>
    /// The smallest Spearman rank correlation over <paramref name="points"/> pairs that is positive beyond chance at
    /// one-sided level <paramref name="alpha"/> (the usual t approximation: t = rho sqrt((n - 2) / (1 - rho^2)), n - 2
    /// degrees of freedom). For 15 batch sizes: 0.441 at alpha 0.05, 0.592 at 0.01.
    /// </summary>
    public static double SpearmanCritical(int points, double alpha)
    {
        if (points < 4) throw new ArgumentOutOfRangeException(nameof(points), points, "at least 4 points");
        var t = StudentT.InvCDF(0, 1, points - 2, 1 - alpha);
        return t / Math.Sqrt(points - 2 + t * t);
    }
}
