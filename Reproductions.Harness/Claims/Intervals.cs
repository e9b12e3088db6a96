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
    /// The smallest Spearman rank correlation over <paramref name="points"/> pairs (no ties) that is positive beyond chance
    /// at one-sided level <paramref name="alpha"/>: a correlation at or above it rejects independence. Up to
    /// <see cref="ExactSpearmanPoints"/> points it is exact, from the permutation distribution of rho (every ordering of
    /// one ranking equally likely): the smallest attainable rho whose upper tail P(rho' >= rho) is at most alpha (6 points:
    /// 0.829 at alpha 0.05, where the t approximation would give 0.729, passing rho = 0.771 at p = 0.051). Above that, the usual t
    /// approximation, t = rho sqrt((n - 2) / (1 - rho^2)) with n - 2 degrees of freedom (15 points: 0.441 at alpha 0.05,
    /// 0.592 at 0.01).
    /// </summary>
    public static double SpearmanCritical(int points, double alpha)
    {
        if (points < 4) throw new ArgumentOutOfRangeException(nameof(points), points, "at least 4 points");
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "a level in (0, 1)");
        if (points <= ExactSpearmanPoints) return ExactSpearmanCritical(points, alpha);
        var t = StudentT.InvCDF(0, 1, points - 2, 1 - alpha);
        return t / Math.Sqrt(points - 2 + t * t);
    }

    /// <summary>Up to this many points <see cref="SpearmanCritical"/> is exact (the permutation distribution is counted, not sampled).</summary>
    public const int ExactSpearmanPoints = 12;

    /// <summary>
    /// The exact one-sided critical value: the number of orderings of n ranks by their sum of squared rank differences
    /// D = sum (i - p(i))^2, counted by a dynamic programme over the set of ranks used so far (2^n states, each a count per
    /// D; rho = 1 - 6 D / (n (n^2 - 1))). MathNet has the statistic but not its small-sample distribution, hence this count.
    /// </summary>
    private static double ExactSpearmanCritical(int n, double alpha)
    {
        var maxD = n * (n * n - 1) / 3;
        var counts = new double[1 << n][];
        counts[0] = new double[maxD + 1];
        counts[0][0] = 1;
        for (var mask = 0; mask < 1 << n; mask++)
        {
            if (counts[mask] is not { } from) continue;
            var position = System.Numerics.BitOperations.PopCount((uint)mask);
            for (var rank = 0; rank < n; rank++)
            {
                if ((mask & (1 << rank)) != 0) continue;
                var next = mask | (1 << rank);
                var to = counts[next] ??= new double[maxD + 1];
                var add = (position - rank) * (position - rank);
                for (var d = 0; d + add <= maxD; d++) to[d + add] += from[d];
            }
            if (mask != 0 && mask != (1 << n) - 1) counts[mask] = null!; // each state is read once, in increasing order of its masks
        }
        var all = counts[(1 << n) - 1];
        var total = all.Sum();
        // rho falls as D grows: the upper tail of rho is the lower tail of D. The critical D is the largest whose lower tail is at most alpha.
        double tail = 0;
        var critical = -1;
        for (var d = 0; d <= maxD; d++)
        {
            if (all[d] == 0) continue;
            if ((tail + all[d]) / total > alpha) break;
            tail += all[d];
            critical = d;
        }
        // No ordering is rare enough (too few points for this alpha): nothing is significant.
        return critical < 0 ? double.PositiveInfinity : 1 - 6.0 * critical / (n * (n * n - 1.0));
    }
}
