using Reproductions.Harness.Protocols;
using static Reproductions.Harness.Claims.ClaimEvaluator;

namespace Reproductions.Harness.Claims;

/// <summary>
/// Measures a finding's estimates (<c>estimates</c> in its config): the numbers the report gives beside the claims (a
/// difference with its interval, update counts, the largest gap between two learning curves, how far a rule holds in a
/// sweep). They come out <see cref="ClaimOutcome.Estimated"/> or not measured, never as a verdict.
/// </summary>
internal static class EstimateEvaluator
{
    public static ClaimPart Evaluate(ClaimSpec claim, ClaimPartSpec part, Measured measured) => claim.Kind switch
    {
        ClaimKind.Difference => Difference(part, measured),
        ClaimKind.Value => Value(part, measured),
        ClaimKind.CurveGap => CurveGap(part, measured),
        ClaimKind.LargestEquivalent => LargestEquivalent(claim, part, measured),
        _ => throw new InvalidOperationException($"{claim.Source}: {claim.Kind} is not an estimate."),
    };

    private static ClaimPart Difference(ClaimPartSpec part, Measured measured)
    {
        var (a, b) = (PerSeed(measured, part.Refs[0]), PerSeed(measured, part.Refs[1]));
        if (a is null || b is null) return NotMeasured(part, part.Refs.Where(r => PerSeed(measured, r) is null));
        var d = a.Zip(b, (x, y) => x - y).ToList();
        var (mean, low, high, _) = Intervals.Mean(d);
        var sign = d.Count < 2 ? "one seed: no interval" : low > 0 ? "positive (the interval lies above 0)" : high < 0 ? "negative (the interval lies below 0)" : "undetermined (the interval spans 0)";
        return new ClaimPart(part.Label, ClaimOutcome.Estimated, mean, low, high, d,
            $"{part.Refs[0]} - {part.Refs[1]} per seed {List(d)}; mean {F(mean)}, {Ci(low, high)}; sign {sign}");
    }

    private static ClaimPart Value(ClaimPartSpec part, Measured measured)
    {
        if (PerSeed(measured, part.Refs[0]) is not { } v) return NotMeasured(part, part.Refs);
        var (mean, low, high, _) = Intervals.Mean(v);
        var text = v.Distinct().Count() == 1
            ? $"{part.Refs[0]} {(v[0] == Math.Round(v[0]) && Math.Abs(v[0]) < 1e15 ? v[0].ToString("0", System.Globalization.CultureInfo.InvariantCulture) : F(v[0]))} for every seed"
            : $"{part.Refs[0]} per seed {List(v)}; mean {F(mean)}, {Ci(low, high)}";
        return new ClaimPart(part.Label, ClaimOutcome.Estimated, mean, low, high, v, text);
    }

    private static ClaimPart CurveGap(ClaimPartSpec part, Measured measured)
    {
        var (ra, rb) = (part.Refs[0], part.Refs[1]);
        var (a, b) = (measured.History(ra.Group, ra.Metric), measured.History(rb.Group, rb.Metric));
        if (a is null || b is null) return NotMeasured(part, new[] { (ra, a), (rb, b) }.Where(x => x.Item2 is null).Select(x => x.Item1));
        var epochs = Math.Min(a.Min(h => h.Count), b.Min(h => h.Count));
        double Mean(IReadOnlyList<IReadOnlyList<double>> h, int e) => h.Average(s => s[e]);
        var gaps = Enumerable.Range(0, epochs).Select(e => (Epoch: e + 1, Gap: Mean(a, e) - Mean(b, e))).Where(g => double.IsFinite(g.Gap)).ToList();
        if (gaps.Count == 0) return NotMeasured(part, part.Refs);
        var largest = gaps.MaxBy(g => Math.Abs(g.Gap));
        var last = gaps[^1];
        return new ClaimPart(part.Label, ClaimOutcome.Estimated, largest.Gap, double.NaN, double.NaN, gaps.Select(g => g.Gap).ToList(),
            $"mean {ra} - mean {rb} per epoch: largest gap {F(largest.Gap)} at epoch {largest.Epoch} of {epochs}; at the last epoch {F(last.Gap)}");
    }

    /// <summary>Each value in order against b: equivalent, not equivalent, inconclusive, or not a result (diverged, not stored); then the largest that is equivalent.</summary>
    private static ClaimPart LargestEquivalent(ClaimSpec claim, ClaimPartSpec part, Measured measured)
    {
        var margin = claim.Yardstick.Margin!.Value;
        var reference = part.Refs[^1];
        if (PerSeed(measured, reference) is not { } b) return NotMeasured(part, [reference]);
        var lines = new List<string>();
        string? largest = null, largestUnbroken = null;
        var unbroken = true;
        foreach (var r in part.Refs.Take(part.Refs.Count - 1))
        {
            string line;
            var equivalent = false;
            if (PerSeed(measured, r) is { } a)
            {
                var d = a.Zip(b, (x, y) => x - y).ToList();
                (var mean, var low90, var high90, _, equivalent, var outside) = Intervals.Equivalence(d, margin);
                line = $"{r.Group} {(equivalent ? "equivalent" : outside ? "not equivalent" : "inconclusive")} (mean {F(mean)}, {Ci(low90, high90, "90%")})";
            }
            else
            {
                var missing = measured.Missing.FirstOrDefault(m => string.Equals(m.Run, r.Group, StringComparison.OrdinalIgnoreCase));
                line = missing?.Diverged is { Count: > 0 } diverged ? $"{r.Group} diverged ({diverged.Count} of {missing.Seeds} seeds)" : $"{r.Group} not measured";
            }
            lines.Add(line);
            if (equivalent)
            {
                largest = r.Group;
                if (unbroken) largestUnbroken = r.Group;
            }
            else
            {
                unbroken = false;
            }
        }
        var summary = largest is null ? "none is equivalent"
            : largest == largestUnbroken ? $"the largest equivalent: {largest} (every one before it too)"
            : $"the largest equivalent: {largest}; the last of an unbroken run from the first: {largestUnbroken ?? "none"}";
        return new ClaimPart(part.Label, ClaimOutcome.Estimated, double.NaN, double.NaN, double.NaN, [],
            $"against {reference} within ±{F(margin)}: {string.Join("; ", lines)}. {summary}");
    }
}
