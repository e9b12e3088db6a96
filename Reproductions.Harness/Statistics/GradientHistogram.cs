using static TorchSharp.torch;

namespace Reproductions.Harness.Statistics;

/// <summary>Fixed bins of |value| on a log10 scale, shared by every batch size, regime and variant.</summary>
/// <param name="MinLog10">Lower edge of the first bin, as log10(|value|); smaller values (and zeros) go to the underflow slot.</param>
/// <param name="MaxLog10">Upper edge of the last bin; larger finite values go to the overflow slot.</param>
/// <param name="BinsPerDecade">Bins per factor of ten.</param>
public sealed record LogBins(double MinLog10, double MaxLog10, int BinsPerDecade)
{
    public int Bins => checked((int)Math.Round((MaxLog10 - MinLog10) * BinsPerDecade));

    /// <summary>Slots: underflow, the bins, overflow, non-finite.</summary>
    public int Slots => Bins + 3;

    /// <summary>The lower edge of slot <paramref name="slot"/> (1 .. Bins + 1), in value units.</summary>
    public double LowerEdge(int slot) => Math.Pow(10, MinLog10 + (double)(slot - 1) / BinsPerDecade);

    public void Validate(string where)
    {
        if (BinsPerDecade < 1 || !(MaxLog10 > MinLog10) || Bins < 1 || Bins > 100_000)
            throw new Training.ConfigException($"{where}: histogram needs minLog10 < maxLog10 and binsPerDecade >= 1 (at most 100000 bins).");
    }
}

/// <summary>
/// A streamed histogram of |value| over <see cref="LogBins"/>: values are binned on their device as they come and only
/// the counts are kept. Slot 0 holds zeros and values below the first edge; slot Bins + 1 values at or above the last
/// edge; slot Bins + 2 non-finite values.
/// </summary>
public sealed class GradientHistogram(LogBins bins)
{
    private readonly long[] counts = new long[bins.Slots];

    public LogBins Bins { get; } = bins;
    public IReadOnlyList<long> Counts => counts;
    public long Total => counts.Sum();
    public long NonFinite => counts[^1];
    public long Finite => Total - NonFinite;

    /// <summary>Bins every element of <paramref name="values"/> (any shape, any device); one small copy to the host.</summary>
    public void Add(Tensor values)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var v = values.reshape(-1).to(ScalarType.Float64);
        var finite = v.isfinite();
        // Slot = floor((log10|v| - min) * binsPerDecade) + 1, clamped to [0, Bins + 1]; log10(0) = -inf lands in slot 0.
        var slot = v.abs().log10_().sub_(Bins.MinLog10).mul_(Bins.BinsPerDecade).floor_().add_(1).clamp_(0, Bins.Bins + 1);
        slot = where(finite, slot, full_like(slot, Bins.Bins + 2)).to(ScalarType.Int64);
        var binned = slot.bincount(null, Bins.Slots).cpu().data<long>().ToArray();
        for (var i = 0; i < counts.Length; i++) counts[i] += binned[i];
    }

    public void Add(GradientHistogram other)
    {
        if (other.Bins != Bins) throw new ArgumentException("Histograms over different bins cannot be added.");
        for (var i = 0; i < counts.Length; i++) counts[i] += other.counts[i];
    }

    /// <summary>Finite values with |value| at or above the lower edge of <paramref name="slot"/> (overflow included).</summary>
    public long CountFromSlot(int slot)
    {
        long sum = 0;
        for (var i = Math.Max(0, slot); i <= Bins.Bins + 1; i++) sum += counts[i];
        return sum;
    }

    /// <summary>
    /// The first bin edge above which at most <paramref name="fraction"/> of the finite values lie: the threshold of
    /// "large values", snapped to the shared bins so that counts beyond it are exact. Returns the slot whose lower
    /// edge it is.
    /// </summary>
    public int TailSlot(double fraction)
    {
        var finite = Finite;
        if (finite == 0) return Bins.Bins + 1;
        for (var slot = 1; slot <= Bins.Bins + 1; slot++)
            if (CountFromSlot(slot) <= fraction * finite) return slot;
        return Bins.Bins + 1;
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile of the non-zero finite |values| (those in the bins and the overflow slot; zeros
    /// and values below the first edge are left out), as the geometric middle of the bin it falls in: a resolution of
    /// one bin (1 / binsPerDecade of a decade). NaN when there are none.
    /// </summary>
    public double NonZeroQuantile(double q)
    {
        long total = 0;
        for (var i = 1; i <= Bins.Bins + 1; i++) total += counts[i];
        if (total == 0) return double.NaN;
        var target = q * total;
        long cumulative = 0;
        for (var slot = 1; slot <= Bins.Bins + 1; slot++)
        {
            cumulative += counts[slot];
            if (cumulative >= target) return Bins.LowerEdge(slot) * Math.Pow(10, 0.5 / Bins.BinsPerDecade);
        }
        return Bins.LowerEdge(Bins.Bins + 1);
    }

    public static GradientHistogram FromCounts(LogBins bins, IReadOnlyList<long> counts)
    {
        if (counts.Count != bins.Slots) throw new ArgumentException($"Expected {bins.Slots} counts, got {counts.Count}.");
        var h = new GradientHistogram(bins);
        for (var i = 0; i < counts.Count; i++) h.counts[i] = counts[i];
        return h;
    }
}
