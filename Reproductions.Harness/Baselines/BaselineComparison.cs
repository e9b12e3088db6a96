using System.Globalization;
using System.Text;

namespace Reproductions.Harness.Baselines;

/// <summary>Outcome for one metric of a comparison.</summary>
public enum MetricVerdict
{
    /// <summary>Measured mean within the band of the baseline value.</summary>
    Pass,

    /// <summary>Measured mean outside the band.</summary>
    Fail,

    /// <summary>The baseline has the metric, the run did not report it.</summary>
    MissingInRun,

    /// <summary>The run reported a metric the baseline does not have (fails, so the baseline is updated deliberately).</summary>
    NewInRun,
}

/// <summary>One metric of a comparison. Values are means over seeds; <see cref="Band"/> is the allowed |delta|.</summary>
public sealed record ComparisonRow(string Metric, double? BaselineValue, double? MeasuredValue, double? Band, MetricVerdict Verdict)
{
    /// <summary>Measured minus baseline, when both exist.</summary>
    public double? Delta => MeasuredValue - BaselineValue;

    /// <summary>|Delta| / Band: 1 is the edge of the band; null when either is missing or the band is 0.</summary>
    public double? BandUsed => Delta is { } d && Band is > 0 and { } b ? Math.Abs(d) / b : null;
}

/// <summary>
/// Compares fresh samples (their mean over seeds) with a stored <see cref="Baseline"/>. It passes only when the
/// seeds are the same, every baseline metric is present in the run and inside its band, and the run has no metric the
/// baseline lacks.
/// </summary>
public sealed class BaselineComparison
{
    /// <summary>
    /// Slack for floating-point rounding, relative to the compared numbers (far below any real tolerance), so that a
    /// zero-width band still accepts the same mean computed again.
    /// </summary>
    public const double RoundingSlack = 1e-12;

    private BaselineComparison(Baseline baseline, MetricSamples measured, IReadOnlyList<ComparisonRow> rows, IReadOnlyList<string> notes, bool seedsMatch)
    {
        Baseline = baseline;
        Measured = measured;
        Rows = rows;
        Notes = notes;
        SeedsMatch = seedsMatch;
    }

    public Baseline Baseline { get; }
    public MetricSamples Measured { get; }

    /// <summary>Baseline metrics in stored order, then metrics new in the run in the order they were added.</summary>
    public IReadOnlyList<ComparisonRow> Rows { get; }

    /// <summary>Problems beyond single metrics, e.g. different seeds.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Whether the run used the same set of seeds as the baseline (means over other seeds are not comparable).</summary>
    public bool SeedsMatch { get; }

    public bool Passed => SeedsMatch && Rows.All(r => r.Verdict == MetricVerdict.Pass);

    /// <summary>Rows whose verdict is not <see cref="MetricVerdict.Pass"/>.</summary>
    public IReadOnlyList<ComparisonRow> Failures => Rows.Where(r => r.Verdict != MetricVerdict.Pass).ToArray();

    public static BaselineComparison Compare(Baseline baseline, MetricSamples measured)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(measured);
        if (!string.Equals(baseline.Finding, measured.Finding, StringComparison.Ordinal) ||
            !string.Equals(baseline.Profile, measured.Profile, StringComparison.Ordinal))
            throw new ArgumentException(
                $"Cannot compare samples of {measured.Finding} ({measured.Profile}) with the baseline of {baseline.Finding} ({baseline.Profile}).",
                nameof(measured));

        var rows = new List<ComparisonRow>();
        foreach (var (name, stored) in baseline.Metrics)
        {
            if (!measured.ContainsKey(name))
            {
                rows.Add(new ComparisonRow(name, stored.Value, null, stored.HalfWidth, MetricVerdict.MissingInRun));
                continue;
            }
            var mean = measured.Mean(name);
            var band = stored.HalfWidth;
            var slack = RoundingSlack * Math.Max(Math.Abs(stored.Value), Math.Abs(mean));
            var inside = Math.Abs(mean - stored.Value) <= band + slack;
            rows.Add(new ComparisonRow(name, stored.Value, mean, band, inside ? MetricVerdict.Pass : MetricVerdict.Fail));
        }
        foreach (var name in measured.MetricNames.Where(n => !baseline.Metrics.ContainsKey(n)))
            rows.Add(new ComparisonRow(name, null, measured.Mean(name), null, MetricVerdict.NewInRun));

        var notes = new List<string>();
        var seedsMatch = baseline.Seeds.Order().SequenceEqual(measured.Seeds.Order());
        if (!seedsMatch)
            notes.Add($"Seeds differ: the baseline used [{NumberText.Seeds(baseline.Seeds)}], this run [{NumberText.Seeds(measured.Seeds)}]; " +
                      "means over different seeds are not comparable, so the baseline must be re-accepted.");
        return new BaselineComparison(baseline, measured, rows, notes, seedsMatch);
    }

    /// <summary>
    /// A plain-text table, columns aligned, numbers in the invariant culture:
    /// metric, baseline, measured, delta, band, verdict; then any notes.
    /// </summary>
    public string RenderTable()
    {
        var header = new[] { "metric", "baseline", "measured", "delta", "band", "verdict" };
        var lines = new List<string[]> { header };
        foreach (var row in Rows)
        {
            lines.Add([
                row.Metric,
                Value(row.BaselineValue, 6),
                Value(row.MeasuredValue, 6),
                row.Delta is { } d ? NumberText.Signed(d) : "-",
                Value(row.Band, 4),
                VerdictText(row),
            ]);
        }

        var widths = Enumerable.Range(0, header.Length).Select(c => lines.Max(l => l[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            var cells = new string[line.Length];
            for (var c = 0; c < line.Length; c++)
            {
                // Text columns (metric, verdict) align left, numbers right.
                cells[c] = c == 0 || c == line.Length - 1 ? line[c].PadRight(widths[c]) : line[c].PadLeft(widths[c]);
            }
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }
        text.Append("Values are means over seeds [").Append(NumberText.Seeds(Measured.Seeds))
            .Append("]; band is the allowed |measured - baseline|.\n");
        foreach (var note in Notes)
            text.Append(note).Append('\n');
        return text.ToString();
    }

    public override string ToString() => RenderTable();

    private static string Value(double? value, int significant) => value is { } v ? NumberText.Format(v, significant) : "-";

    private static string VerdictText(ComparisonRow row) => row.Verdict switch
    {
        MetricVerdict.Pass => "pass",
        MetricVerdict.Fail => row.BandUsed is { } used
            ? string.Create(CultureInfo.InvariantCulture, $"FAIL ({NumberText.Format(used, 3)} x band)")
            : "FAIL",
        MetricVerdict.MissingInRun => "MISSING in run",
        MetricVerdict.NewInRun => "NEW in run",
        _ => row.Verdict.ToString(),
    };
}
