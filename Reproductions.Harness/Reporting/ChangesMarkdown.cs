using System.Globalization;
using System.Text;
using Reproductions.Harness.Claims;

namespace Reproductions.Harness.Reporting;

/// <summary>Renders CHANGES.md from <see cref="ReportChanges"/> alone (every number it shows is in changes.json).</summary>
public static class ChangesMarkdown
{
    public static string Render(ReportChanges changes)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Changes since the earlier report (profile `{changes.Profile}`)").AppendLine();
        md.AppendLine($"Compared `{changes.Current.Path}` ({Built(changes.Current)}) with the earlier `{changes.Earlier.Path}` ({Built(changes.Earlier)}).").AppendLine();
        md.AppendLine(Headline(changes)).AppendLine();

        md.AppendLine("## Environment").AppendLine();
        md.AppendLine("| | earlier | now | |").AppendLine("|---|---|---|---|");
        foreach (var f in changes.Environment)
            md.AppendLine($"| {f.Name} | {Value(f.Name, f.Earlier)} | {Value(f.Name, f.Current)} | {(f.Differs switch { true => "**differs**", null => "unknown", _ => "" })} |");
        md.AppendLine();

        if (changes.Verdicts.Count > 0)
        {
            md.AppendLine("## Verdicts").AppendLine();
            md.AppendLine("| finding | dataset | claim | earlier | now | triage |").AppendLine("|---|---|---|---|---|---|");
            foreach (var v in changes.Verdicts)
                md.AppendLine($"| {v.Finding} | {v.Dataset} | `{v.Claim}` | {Outcome(v.Earlier, "(no such claim)")} | {Outcome(v.Current, "(no such claim)")} | {Cell(v.Triage.Text)} |");
            md.AppendLine();
        }

        if (changes.Metrics.Count > 0)
        {
            md.AppendLine("## Metrics beyond their band").AppendLine();
            md.AppendLine("Means over seeds; the band is the allowed |now - earlier|, derived from the earlier report's per-seed values as a baseline's band is.").AppendLine();
            md.AppendLine("| finding | dataset | run | metric | earlier | now | change | band | x band | triage |").AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var m in changes.Metrics)
            {
                var display = new MetricDisplay(m.Metric, m.Label, m.Unit, m.Unit == "%" ? 100 : 1);
                var metric = MetricName(m.Metric, m.Layer);
                md.AppendLine($"| {m.Finding} | {m.Dataset} | {Cell(m.Run)} | {Cell(metric)} | {display.Format(m.Earlier)} | {display.Format(m.Current)} | " +
                              $"{Difference(display, m.Delta, signed: true)} | {(m.Band is { } b ? Difference(display, b, signed: false) : Cell(m.BandRule))} | " +
                              $"{(m.BandsMoved is { } r ? r.ToString("0.0#", CultureInfo.InvariantCulture) : "-")} | {Cell(m.Triage.Text)} |");
            }
            md.AppendLine();
        }

        PerSeed(md, changes.PerSeed ?? []);

        if (changes.Sections.Count > 0)
        {
            md.AppendLine("## Findings in one report only").AppendLine();
            foreach (var s in changes.Sections)
                md.AppendLine($"- {s.Finding} ({s.Dataset}): only in {(s.OnlyIn == "earlier" ? "the earlier report" : "this report")}; not compared.");
            md.AppendLine();
        }

        if (changes.NotCompared.Count > 0)
        {
            md.AppendLine("## Not compared").AppendLine();
            foreach (var n in changes.NotCompared) md.AppendLine($"- {Line(n)}");
            md.AppendLine();
        }

        md.AppendLine("## How changes are compared and triaged").AppendLine();
        foreach (var rule in changes.Rule) md.AppendLine($"- {Line(rule)}");
        return md.ToString();
    }

    /// <summary>The per-seed rows CHANGES.md shows: the rest are in changes.json.</summary>
    public const int PerSeedRowsShown = 20;

    /// <summary>
    /// The per-seed differences: how many values were compared seed by seed and how many moved beyond their band on some
    /// seed, then the <see cref="PerSeedRowsShown"/> that moved furthest in bands (then those without a band, by relative change).
    /// </summary>
    private static void PerSeed(StringBuilder md, IReadOnlyList<SeedDifferences> all)
    {
        if (all.Count == 0) return;
        md.AppendLine("## Per-seed differences").AppendLine();
        var banded = all.Where(d => d.LargestInBands is not null).ToList();
        var beyond = banded.Count(d => d.LargestInBands > 1);
        var largest = banded.MaxBy(d => d.LargestInBands!.Value);
        md.Append(string.Create(CultureInfo.InvariantCulture,
            $"{all.Count} metric value(s) compared seed by seed on the seeds both reports ran; {banded.Count} with a band, of which {beyond} moved beyond it on at least one seed"));
        md.AppendLine(all.All(d => d.LargestDelta == 0) ? "; every seed's value is the same in both, bit for bit."
            : largest is null ? "." : string.Create(CultureInfo.InvariantCulture,
                $"; the largest move is {largest.LargestInBands:0.0#} band(s), {largest.Finding} ({largest.Dataset}) {largest.Run} {Name(largest)}."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"A seed's move is its own difference now - earlier, set against the band of the mean (a seed moves more than a mean does). The {Math.Min(PerSeedRowsShown, all.Count)} that moved furthest; all in `{ReportChanges.JsonFile}` (`perSeed`).")).AppendLine();
        md.AppendLine("| finding | dataset | run | metric | seeds | earlier | now | largest difference | band | x band |").AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        var shown = banded.OrderByDescending(d => d.LargestInBands)
            .Concat(all.Where(d => d.LargestInBands is null).OrderByDescending(Relative))
            .Take(PerSeedRowsShown);
        foreach (var d in shown)
        {
            var display = new MetricDisplay(d.Metric, d.Label, d.Unit, d.Unit == "%" ? 100 : 1);
            md.AppendLine($"| {d.Finding} | {d.Dataset} | {Cell(d.Run)} | {Cell(Name(d))} | {string.Join(", ", d.Seeds)} | {string.Join(", ", d.Earlier.Select(display.Format))} | " +
                          $"{string.Join(", ", d.Current.Select(display.Format))} | {Difference(display, d.LargestDelta, signed: true)} | " +
                          $"{(d.Band is { } b ? Difference(display, b, signed: false) : "no band")} | {(d.LargestInBands is { } r ? r.ToString("0.0#", CultureInfo.InvariantCulture) : "-")} |");
        }
        md.AppendLine();
    }

    /// <summary>A metric as a row names it: "cosines layer 2" for a layer of a per-layer metric.</summary>
    private static string MetricName(string metric, int? layer) => layer is { } l ? string.Create(CultureInfo.InvariantCulture, $"{metric} layer {l}") : metric;

    private static string Name(SeedDifferences d) => MetricName(d.Metric, d.Layer);

    /// <summary>The largest per-seed difference over the earlier value's size (0 where that is 0).</summary>
    private static double Relative(SeedDifferences d)
    {
        var scale = d.Earlier.Select(Math.Abs).DefaultIfEmpty(0).Max();
        return scale > 0 ? Math.Abs(d.LargestDelta) / scale : 0;
    }

    /// <summary>One sentence: nothing changed, or how many changes of each kind.</summary>
    public static string Headline(ReportChanges changes)
    {
        if (changes.Unchanged)
            return string.Create(CultureInfo.InvariantCulture,
                $"**Nothing changed**: every claim's verdict is the same, and none of the {changes.MetricsCompared} metric value(s) compared moved beyond its band.");
        var parts = new List<string>();
        if (changes.Verdicts.Count > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"{changes.Verdicts.Count} verdict change(s) ({Count(changes.Verdicts, "flipped")} flipped, {Count(changes.Verdicts, "appeared")} appeared, {Count(changes.Verdicts, "disappeared")} disappeared)"));
        if (changes.Metrics.Count > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{changes.Metrics.Count} of {changes.MetricsCompared} metric value(s) moved beyond their band (or changed, where there is no band)"));
        if (changes.Sections.Count > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{changes.Sections.Count} finding(s) in one report only"));
        return $"**Changed**: {string.Join("; ", parts)}.";
    }

    private static int Count(IReadOnlyList<VerdictChange> verdicts, string kind) => verdicts.Count(v => v.Kind == kind);

    private static string Built(ComparedReport r) =>
        string.Create(CultureInfo.InvariantCulture, $"built {r.GeneratedUtc:yyyy-MM-dd HH:mm} UTC, format {r.FormatVersion}");

    private static string Outcome(ClaimOutcome? outcome, string none) => outcome is { } o ? $"**{ClaimVerdict.Describe(o)}**" : none;

    private static string Value(string name, string? value) => value is null ? "none" : name == "commit" ? $"`{value}`" : Cell(value);

    private static string Difference(MetricDisplay display, double value, bool signed)
    {
        var text = display.IsPercent ? MetricDisplay.Number(value * 100, 2) + " points" : value.ToString("G4", CultureInfo.InvariantCulture);
        return signed && value > 0 ? "+" + text : text;
    }

    private static string Line(string text) => text.ReplaceLineEndings(" ");

    private static string Cell(string text) => Line(text).Replace("|", "\\|", StringComparison.Ordinal);
}
