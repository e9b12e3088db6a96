using System.Globalization;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Protocols;

namespace Reproductions.Harness.Claims;

/// <summary>
/// Decides claims on a profile's measurements, whatever the protocol: the one evaluation the NUnit fixtures assert and
/// the report shows. Every claim comes out holds, does not hold (its 95% interval excludes it, or a counter-example for
/// a deterministic property), inconclusive (too weak to decide) or not measured; a claim of several parts (a template
/// over regimes, batch sizes, runs) holds when every part holds and does not hold when any part does not.
/// </summary>
public static class ClaimEvaluator
{
    public static IReadOnlyList<ClaimVerdict> EvaluateAll(IEnumerable<ClaimSpec> claims, Measured measured) =>
        claims.Select(c => Evaluate(c, measured)).ToList();

    public static ClaimVerdict Evaluate(ClaimSpec claim, Measured measured)
    {
        var parts = claim.Parts.Select(p => claim.IsEstimate ? EstimateEvaluator.Evaluate(claim, p, measured) : EvaluatePart(claim, p, measured)).ToList();
        if (claim.IsEstimate)
            return new ClaimVerdict(claim.Id, claim.Statement, claim.Kind.ToString().ToLowerInvariant(),
                parts.Any(p => p.Outcome == ClaimOutcome.NotMeasured) ? ClaimOutcome.NotMeasured : ClaimOutcome.Estimated, Yardstick(claim),
                string.Join("; ", parts.Select(p => (p.Label.Length > 0 ? p.Label + ": " : "") + p.Text)), parts, claim.Against, claim.Yardstick.Margin, null);
        var outcome = parts.Any(p => p.Outcome == ClaimOutcome.NotMeasured) ? ClaimOutcome.NotMeasured
            : parts.Any(p => p.Outcome == ClaimOutcome.DoesNotHold) ? ClaimOutcome.DoesNotHold
            : parts.All(p => p.Outcome == ClaimOutcome.Holds) ? ClaimOutcome.Holds
            : ClaimOutcome.Inconclusive;
        int? seedsNeeded = null;
        if (claim.Yardstick.Margin is { } margin && outcome == ClaimOutcome.Inconclusive)
        {
            var level = claim.Kind == ClaimKind.Matches ? 0.90 : 0.95;
            var needed = parts.Where(p => p.HalfWidth > margin && p.PerSeed.Count >= 2)
                .Select(p => Intervals.SeedsNeeded(p.PerSeed.StandardDeviation(), margin, level)).DefaultIfEmpty(0).Max();
            if (needed > 0) seedsNeeded = needed;
        }
        var summary = parts.Count == 1 ? parts[0].Text
            : $"{parts.Count(p => p.Outcome == ClaimOutcome.Holds)} of {parts.Count} parts hold" +
              (parts.FirstOrDefault(p => p.Outcome != ClaimOutcome.Holds) is { } first ? $"; {first.Label}: {first.Text}" : "");
        return new ClaimVerdict(claim.Id, claim.Statement, claim.Kind.ToString().ToLowerInvariant(), outcome, Yardstick(claim), summary, parts,
            claim.Against, claim.Yardstick.Margin, seedsNeeded);
    }

    /// <summary>How a claim is decided, in words, with the sources of its numbers.</summary>
    public static string Yardstick(ClaimSpec claim)
    {
        var y = claim.Yardstick;
        string N(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        var bounds = (y.Low, y.High) switch
        {
            ({ } l, { } h) => $"within [{N(l)}, {N(h)}]",
            ({ } l, null) => $"above {N(l)}",
            (null, { } h) => $"below {N(h)}",
            _ => "",
        };
        var margin = y.Margin is { } m ? $"{(y.RelativeMargin ? $"{N(m * 100)}% of b" : N(m))} ({y.MarginSource})" : "";
        return claim.Kind switch
        {
            ClaimKind.Exceeds when y.Ratio => $"a / b exceeds {N(y.Factor ?? 1)}{(y.FactorSource is { } s ? $" ({s})" : "")}: log(a / b) - log({N(y.Factor ?? 1)}) positive for every seed and its 95% interval (Student t) above 0",
            ClaimKind.Exceeds => "a - b positive for every seed and its 95% interval (Student t) above 0",
            ClaimKind.Ordered => $"strictly {(y.Descending ? "descending" : "ascending")} for every seed",
            ClaimKind.Matches => $"equivalence: two one-sided tests at 95% (the 90% interval of a - b) within ±margin, margin {margin}",
            ClaimKind.Rank => $"Spearman rank correlation {(y.Positive ? "above" : "below minus")} its one-sided critical value at alpha {N(y.Alpha)}",
            ClaimKind.Slope => $"the fitted slope's 95% interval {bounds} ({y.ThresholdSource})",
            ClaimKind.Threshold when claim.Parts[0].Pooled => $"{bounds} ({y.ThresholdSource}); a statistic of all seeds' data, compared directly",
            ClaimKind.Threshold => $"{bounds} ({y.ThresholdSource}); every seed, and the 95% interval of the mean",
            ClaimKind.Closes => $"the share of the gap closed, (value - from) / (to - from), {bounds} ({y.ThresholdSource}) for every seed and the 95% interval",
            ClaimKind.Increasing => "the per-epoch values strictly increase for every seed",
            ClaimKind.Difference => "estimate, not asserted: the paired difference a - b, its mean and 95% interval (Student t)",
            ClaimKind.Value => "estimate, not asserted: the mean over seeds and its 95% interval (Student t)",
            ClaimKind.CurveGap => "estimate, not asserted: the largest per-epoch gap between the two mean curves (means over seeds)",
            ClaimKind.LargestEquivalent => $"estimate, not asserted: each setting against b by two one-sided tests at 95% (the 90% interval of the difference) within ±margin, margin {margin}",
            _ => claim.Kind.ToString(),
        };
    }

    internal static ClaimPart NotMeasured(ClaimPartSpec part, IEnumerable<MeasureRef> missing) =>
        new(part.Label, ClaimOutcome.NotMeasured, double.NaN, double.NaN, double.NaN, [],
            $"not measured: {string.Join(", ", missing)}");

    private static ClaimPart EvaluatePart(ClaimSpec claim, ClaimPartSpec part, Measured measured)
    {
        if (part.Pooled)
        {
            var r = part.Refs[0];
            return measured.Pooled(r.Group, r.Metric) is { } stat ? Pooled(claim, part, stat) : NotMeasured(part, [r]);
        }
        if (claim.Kind == ClaimKind.Increasing)
        {
            var r = part.Refs[0];
            return measured.History(r.Group, r.Metric) is { } history ? Increasing(part, r, history) : NotMeasured(part, [r]);
        }
        var series = part.Refs.Select(r => (Ref: r, Values: PerSeed(measured, r))).ToList();
        if (series.Any(s => s.Values is null)) return NotMeasured(part, series.Where(s => s.Values is null).Select(s => s.Ref));
        var v = series.Select(s => s.Values!).ToList();
        return claim.Kind switch
        {
            ClaimKind.Exceeds => Exceeds(claim, part, v[0], v[1]),
            ClaimKind.Ordered => Ordered(claim, part, v),
            ClaimKind.Matches => Margin(claim, part, v[0], v[1]),
            ClaimKind.Rank => RankPerSeed(claim, part, v),
            ClaimKind.Threshold => Threshold(claim, part, [v[0]]),
            ClaimKind.Closes => Closes(claim, part, v[0], v[1], v[2]),
            _ => throw new InvalidOperationException($"{claim.Source}: kind {claim.Kind} takes no per-seed values."),
        };
    }

    /// <summary>One value per seed (the reference's component, or the only one); null when not measured. A per-layer metric without a component gives all layers, seed after seed.</summary>
    internal static IReadOnlyList<double>? PerSeed(Measured measured, MeasureRef r)
    {
        var values = measured.Values(r.Group, r.Metric);
        if (values is null || values.Count == 0) return null;
        if (r.Component is { } c) return values.All(v => c < v.Count) ? values.Select(v => v[c]).ToList() : null;
        return values.All(v => v.Count == 1) ? values.Select(v => v[0]).ToList() : values.SelectMany(v => v).ToList();
    }

    internal static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
    internal static string List(IEnumerable<double> values) => string.Join(", ", values.Select(F));
    internal static string Ci(double low, double high, string level = "95%") => double.IsNaN(low) ? "no interval (one seed)" : $"{level} CI [{F(low)}, {F(high)}]";

    private static ClaimPart Exceeds(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var y = claim.Yardstick;
        var d = y.Ratio
            ? a.Zip(b, (x, z) => Math.Log(x / z) - Math.Log(y.Factor ?? 1)).ToList()
            : a.Zip(b, (x, z) => x - z).ToList();
        var (mean, low, high, _) = Intervals.Mean(d);
        var outcome = d.Count < 2 ? ClaimOutcome.Inconclusive
            : d.All(x => x > 0) && low > 0 ? ClaimOutcome.Holds
            : high < 0 ? ClaimOutcome.DoesNotHold
            : ClaimOutcome.Inconclusive;
        var what = y.Ratio ? $"log({part.Refs[0]} / {part.Refs[1]}) - log({F(y.Factor ?? 1)})" : $"{part.Refs[0]} - {part.Refs[1]}";
        return new ClaimPart(part.Label, outcome, mean, low, high, d,
            $"{what} per seed {List(d)}; mean {F(mean)}, {Ci(low, high)}");
    }

    private static ClaimPart Ordered(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<IReadOnlyList<double>> values)
    {
        var sign = claim.Yardstick.Descending ? 1 : -1;
        var seeds = values[0].Count;
        var strict = Enumerable.Range(0, seeds).All(s => Enumerable.Range(1, values.Count - 1).All(i => sign * (values[i - 1][s] - values[i][s]) > 0));
        // Refuted when some adjacent pair is reversed beyond its 95% interval.
        var reversed = Enumerable.Range(1, values.Count - 1).Any(i =>
        {
            var d = Enumerable.Range(0, seeds).Select(s => sign * (values[i - 1][s] - values[i][s])).ToList();
            return d.Count >= 2 && Intervals.Mean(d).High < 0;
        });
        var outcome = strict ? ClaimOutcome.Holds : reversed ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive;
        var perSeed = Enumerable.Range(0, seeds).Select(s =>
            $"seed {s + 1}: " + string.Join(claim.Yardstick.Descending ? " > " : " < ", part.Refs.Select((r, i) => $"{r.Group} {F(values[i][s])}")));
        return new ClaimPart(part.Label, outcome, double.NaN, double.NaN, double.NaN, [],
            (strict ? "ordered for every seed; " : "not ordered for every seed; ") + string.Join("; ", perSeed));
    }

    private static ClaimPart Margin(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var y = claim.Yardstick;
        var margin = y.Margin!.Value;
        var d = y.RelativeMargin ? a.Zip(b, (x, z) => (x - z) / z).ToList() : a.Zip(b, (x, z) => x - z).ToList();
        var what = y.RelativeMargin ? $"({part.Refs[0]} - {part.Refs[1]}) / {part.Refs[1]}" : $"{part.Refs[0]} - {part.Refs[1]}";
        var (mean, low90, high90, half90, matched, outside) = Intervals.Equivalence(d, margin);
        return new ClaimPart(part.Label, matched ? ClaimOutcome.Holds : outside ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive, mean, low90, high90, d,
            $"{what} per seed {List(d)}; mean {F(mean)}, {Ci(low90, high90, "90%")} against ±{F(margin)} (half-width {F(half90)})", half90);
    }

    private static ClaimPart RankPerSeed(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<IReadOnlyList<double>> values)
    {
        var points = values.Count / 2;
        var seeds = values[0].Count;
        var critical = Intervals.SpearmanCritical(points, claim.Yardstick.Alpha);
        var sign = claim.Yardstick.Positive ? 1 : -1;
        var rho = Enumerable.Range(0, seeds).Select(s =>
            Correlation.Spearman(Enumerable.Range(0, points).Select(i => values[i][s]), Enumerable.Range(0, points).Select(i => values[points + i][s]))).ToList();
        var outcome = rho.All(r => sign * r >= critical) ? ClaimOutcome.Holds
            : rho.All(r => sign * r <= -critical) ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive;
        return new ClaimPart(part.Label, outcome, rho.Mean(), double.NaN, double.NaN, rho,
            $"Spearman over {points} points per seed {List(rho)}; critical {(sign > 0 ? "" : "-")}{F(critical)} (one-sided, alpha {F(claim.Yardstick.Alpha)})");
    }

    private static ClaimPart Pooled(ClaimSpec claim, ClaimPartSpec part, PooledStatistic stat)
    {
        var y = claim.Yardstick;
        var name = part.Refs[0].ToString();
        switch (claim.Kind)
        {
            case ClaimKind.Rank:
            {
                if (stat.Points < 4 || !double.IsFinite(stat.Estimate))
                    return new ClaimPart(part.Label, ClaimOutcome.Inconclusive, stat.Estimate, double.NaN, double.NaN, [], $"{name} {F(stat.Estimate)} over {stat.Points} points: too few to test");
                var critical = Intervals.SpearmanCritical(stat.Points, y.Alpha);
                var signed = y.Positive ? stat.Estimate : -stat.Estimate;
                var outcome = signed >= critical ? ClaimOutcome.Holds : signed <= -critical ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive;
                return new ClaimPart(part.Label, outcome, stat.Estimate, double.NaN, double.NaN, [],
                    $"{name} {F(stat.Estimate)} over {stat.Points} points; critical {(y.Positive ? "" : "-")}{F(critical)} (one-sided, alpha {F(y.Alpha)})");
            }
            case ClaimKind.Slope:
            {
                var (low, high) = (stat.Low, stat.High);
                var inside = double.IsFinite(low) && double.IsFinite(high) && (y.Low is not { } l || low >= l) && (y.High is not { } h || high <= h);
                var outside = (y.Low is { } lo && high < lo) || (y.High is { } hi && low > hi);
                var outcome = inside ? ClaimOutcome.Holds : outside ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive;
                return new ClaimPart(part.Label, outcome, stat.Estimate, low, high, [],
                    $"{name} {F(stat.Estimate)}, {Ci(low, high)} over {stat.Points} points");
            }
            default:
            {
                // An infinite statistic (a blow-up with a diverged trial) is beyond any finite bound on its side.
                var value = stat.Estimate;
                var inside = !double.IsNaN(value) && (y.Low is not { } l || value > l) && (y.High is not { } h || value < h);
                return new ClaimPart(part.Label, inside ? ClaimOutcome.Holds : ClaimOutcome.DoesNotHold, value, double.NaN, double.NaN, [],
                    $"{name} {F(value)} (a statistic of all trials, compared with the threshold directly)");
            }
        }
    }

    private static ClaimPart Threshold(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<IReadOnlyList<double>> values)
    {
        var y = claim.Yardstick;
        var v = values[0];
        bool In(double x) => double.IsFinite(x) && (y.Low is not { } l || x > l) && (y.High is not { } h || x < h);
        var (mean, low, high, _) = Intervals.Mean(v);
        var allIn = v.All(In);
        var intervalIn = v.Count >= 2 && (y.Low is not { } lo || low > lo) && (y.High is not { } hi || high < hi);
        var intervalOut = v.Count >= 2 && ((y.Low is { } l2 && high < l2) || (y.High is { } h2 && low > h2));
        var outcome = allIn && intervalIn ? ClaimOutcome.Holds : intervalOut ? ClaimOutcome.DoesNotHold : ClaimOutcome.Inconclusive;
        return new ClaimPart(part.Label, outcome, mean, low, high, v, $"{part.Refs[0]} per seed {List(v)}; mean {F(mean)}, {Ci(low, high)}");
    }

    private static ClaimPart Closes(ClaimSpec claim, ClaimPartSpec part, IReadOnlyList<double> value, IReadOnlyList<double> from, IReadOnlyList<double> to)
    {
        var share = value.Select((v, i) => (v - from[i]) / (to[i] - from[i])).ToList();
        var t = Threshold(claim, part, [share]);
        return t with { Text = $"share of the gap from {part.Refs[1]} to {part.Refs[2]} that {part.Refs[0].Group} closes, " + t.Text[(t.Text.IndexOf(" per seed", StringComparison.Ordinal) + 1)..] };
    }

    private static ClaimPart Increasing(ClaimPartSpec part, MeasureRef r, IReadOnlyList<IReadOnlyList<double>> history)
    {
        var failures = history.Select((h, s) => (s, Step: Enumerable.Range(1, h.Count - 1).FirstOrDefault(i => !(h[i] > h[i - 1]), -1)))
            .Where(x => x.Step > 0).ToList();
        var text = failures.Count == 0
            ? $"{r} strictly increases over {history.Min(h => h.Count)} epochs for every seed"
            : string.Join("; ", failures.Select(f => $"seed {f.s + 1}: {F(history[f.s][f.Step - 1])} then {F(history[f.s][f.Step])} at epoch {f.Step + 1}"));
        return new ClaimPart(part.Label, failures.Count == 0 ? ClaimOutcome.Holds : ClaimOutcome.DoesNotHold, double.NaN, double.NaN, double.NaN, [], text);
    }
}
