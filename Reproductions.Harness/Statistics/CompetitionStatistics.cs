using Reproductions.Harness.Trials;
using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearRegression;
using MathNet.Numerics.Statistics;
using static TorchSharp.torch;

namespace Reproductions.Harness.Statistics;

/// <summary>Which trials a set of numbers describes: a protocol variant, a regime, a batch size.</summary>
public sealed record CellKey(ProtocolVariant Variant, string Regime, int BatchSize)
{
    public override string ToString() => $"{Variant.Name()} {Regime} B={BatchSize}";
}

/// <summary>
/// What is kept of one cell's trials: the L2 norm of every trial's summed last-layer gradient (one double per trial)
/// and the streamed histogram of the raw gradient values. The gradients themselves are dropped chunk by chunk.
/// </summary>
public sealed class CellData(LogBins bins)
{
    private readonly List<double> norms = [];

    public IReadOnlyList<double> Norms => norms;
    public GradientHistogram Values { get; } = new(bins);
    /// <summary>
    /// Engine time spent on this cell in worker-seconds: each worker's wall time on its chunks, summed over the workers
    /// that ran in parallel (so with 2 workers it can exceed the block's wall time).
    /// </summary>
    public double Seconds { get; set; }

    /// <summary>Takes a chunk's summed gradients [T, ...]: one norm per trial (computed in float64) and the values' histogram.</summary>
    public void Add(Tensor gradients)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var trials = gradients.shape[0];
        var perTrial = gradients.reshape(trials, -1).to(ScalarType.Float64);
        norms.AddRange(perTrial.square().sum(1).sqrt().cpu().data<double>().ToArray());
        Values.Add(gradients);
    }

    public void Add(CellData other)
    {
        norms.AddRange(other.norms);
        Values.Add(other.Values);
        Seconds += other.Seconds;
    }

    public static CellData FromStored(LogBins bins, IEnumerable<double> norms, IReadOnlyList<long> counts, double seconds)
    {
        var cell = new CellData(bins) { Seconds = seconds };
        cell.norms.AddRange(norms);
        cell.Values.Add(GradientHistogram.FromCounts(bins, counts));
        return cell;
    }
}

/// <summary>Summary of one batch size's trials (finite trials only; diverged ones are counted apart).</summary>
public sealed record BatchSummary(
    int BatchSize, int Trials, int Diverged, double Mean, double Std, double MeanSquare,
    double Q25, double Median, double Q75, double NormalisedStd, double NormalisedIqr, long TailCount, double TailFraction,
    double[] NormalisedNorms)
{
    public double RelativeStd => Std / Mean;
}

/// <summary>A straight-line least-squares fit with the slope's 95% confidence interval (Student t, n - 2 degrees of freedom).</summary>
public sealed record LineFit(double Slope, double Intercept, double SlopeLow, double SlopeHigh, double RSquared, int Points)
{
    public bool Defined => Points >= 3 && double.IsFinite(Slope);

    /// <summary>
    /// Fits y = intercept + slope x with MathNet (SimpleRegression.Fit, GoodnessOfFit.RSquared). The slope's standard
    /// error is the textbook sqrt(RSS / (n - 2) / Sxx), written out here because MathNet does not return it.
    /// </summary>
    public static LineFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var n = x.Count;
        if (n < 3) return new LineFit(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, n);
        var xs = x.ToArray();
        var ys = y.ToArray();
        var (intercept, slope) = SimpleRegression.Fit(xs, ys);
        var modelled = xs.Select(v => intercept + slope * v).ToArray();
        var rss = ys.Zip(modelled, (o, m) => (o - m) * (o - m)).Sum();
        var meanX = xs.Mean();
        var sxx = xs.Sum(v => (v - meanX) * (v - meanX));
        var se = Math.Sqrt(rss / (n - 2) / sxx);
        var t = StudentT.InvCDF(0, 1, n - 2, 0.975);
        return new LineFit(slope, intercept, slope - t * se, slope + t * se, GoodnessOfFit.RSquared(modelled, ys), n);
    }
}

/// <summary>
/// The statistics of one protocol variant in one regime across the batch sizes: mean and std of the norm per B, the
/// log-log slope of mean norm against B (95% CI) and of the root-mean-square norm (half the slope of the mean squared
/// norm, free of the small-B bias that the spread puts on the mean norm), the linear fit of mean squared norm against B (R^2), the
/// normalised std and interquartile range (each B scaled by mu_ref / mu_B, as the blog does with mu_1024), the
/// Spearman rank correlations of those and of the count of large raw values with B, and the large-value threshold.
/// </summary>
public sealed record CurveSummary(
    ProtocolVariant Variant, string Regime, int ReferenceBatchSize, IReadOnlyList<BatchSummary> Batches,
    LineFit LogLog, LineFit LogLogRms, LineFit SquaredNorm, double SpearmanNormalisedStd, double SpearmanNormalisedIqr, double SpearmanTailCount,
    double TailThreshold, double TailFractionAtReference, int DivergedTrials, int? FirstDivergedBatchSize)
{
    public BatchSummary? At(int batchSize) => Batches.FirstOrDefault(b => b.BatchSize == batchSize);

    /// <param name="cells">The cells of one variant and regime, any order.</param>
    /// <param name="referenceBatchSize">The batch size whose mean norm every B is normalised to (the blog: 1024).</param>
    /// <param name="tailFraction">The large-value threshold is the bin edge above which this fraction of the reference B's values lie.</param>
    public static CurveSummary Compute(ProtocolVariant variant, string regime, IReadOnlyDictionary<int, CellData> cells,
        int referenceBatchSize, double tailFraction)
    {
        if (!cells.TryGetValue(referenceBatchSize, out var reference))
            throw new ArgumentException($"{variant.Name()} {regime}: no trials at the reference batch size {referenceBatchSize}.");
        var tailSlot = reference.Values.TailSlot(tailFraction);
        var threshold = reference.Values.Bins.LowerEdge(tailSlot);
        var refFinite = reference.Norms.Where(double.IsFinite).ToArray();
        var muRef = refFinite.Length > 0 ? refFinite.Mean() : double.NaN;

        var batches = new List<BatchSummary>();
        foreach (var (b, cell) in cells.OrderBy(kv => kv.Key))
        {
            var finite = cell.Norms.Where(double.IsFinite).ToArray();
            var diverged = cell.Norms.Count - finite.Length;
            double mean = double.NaN, std = double.NaN, meanSquare = double.NaN, q25 = double.NaN, q50 = double.NaN, q75 = double.NaN;
            if (finite.Length > 0)
            {
                mean = finite.Mean();
                std = finite.Length > 1 ? finite.StandardDeviation() : 0;
                meanSquare = finite.Select(v => v * v).Mean();
                q25 = finite.Quantile(0.25);
                q50 = finite.Quantile(0.5);
                q75 = finite.Quantile(0.75);
            }
            var scale = muRef / mean;
            var tail = cell.Values.CountFromSlot(tailSlot);
            batches.Add(new BatchSummary(b, cell.Norms.Count, diverged, mean, std, meanSquare, q25, q50, q75,
                std * scale, (q75 - q25) * scale, tail, cell.Values.Finite > 0 ? (double)tail / cell.Values.Finite : double.NaN,
                finite.Select(v => v * scale).ToArray()));
        }

        // Fits and rank correlations over the batch sizes whose trials all stayed finite.
        var clean = batches.Where(s => s.Diverged == 0 && s.Trials > 0 && s.Mean > 0).ToList();
        var logLog = LineFit.Fit(clean.Select(s => Math.Log(s.BatchSize)).ToList(), clean.Select(s => Math.Log(s.Mean)).ToList());
        var logLogRms = LineFit.Fit(clean.Select(s => Math.Log(s.BatchSize)).ToList(), clean.Select(s => 0.5 * Math.Log(s.MeanSquare)).ToList());
        var squared = LineFit.Fit(clean.Select(s => (double)s.BatchSize).ToList(), clean.Select(s => s.MeanSquare).ToList());
        var bs = clean.Select(s => (double)s.BatchSize).ToArray();
        double Spearman(Func<BatchSummary, double> f) => clean.Count >= 3 ? Correlation.Spearman(bs, clean.Select(f).ToArray()) : double.NaN;
        var firstDiverged = batches.Where(s => s.Diverged > 0).Select(s => (int?)s.BatchSize).FirstOrDefault();
        return new CurveSummary(variant, regime, referenceBatchSize, batches, logLog, logLogRms, squared,
            Spearman(s => s.NormalisedStd), Spearman(s => s.NormalisedIqr), Spearman(s => s.TailFraction),
            threshold, reference.Values.Finite > 0 ? (double)reference.Values.CountFromSlot(tailSlot) / reference.Values.Finite : double.NaN,
            batches.Sum(s => s.Diverged), firstDiverged);
    }
}
