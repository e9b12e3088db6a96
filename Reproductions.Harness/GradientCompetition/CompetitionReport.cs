using System.Globalization;
using System.Text;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>The markdown report of a gradient-competition result, and its figures.</summary>
public static class CompetitionReport
{
    public const string FileName = "gradient-competition.md";

    /// <summary>The fits and rank correlations of one curve, on one line.</summary>
    public static string CurveLine(CurveSummary c) =>
        FormattableString.Invariant(
            $"log-log slope {c.LogLog.Slope:F3} [95% CI {c.LogLog.SlopeLow:F3}, {c.LogLog.SlopeHigh:F3}] over {c.LogLog.Points} B ") +
        FormattableString.Invariant(
            $"(RMS norm: {c.LogLogRms.Slope:F3} [{c.LogLogRms.SlopeLow:F3}, {c.LogLogRms.SlopeHigh:F3}]); ") +
        FormattableString.Invariant(
            $"norm^2 = {c.SquaredNorm.Slope:G4} B + {c.SquaredNorm.Intercept:G4} (R^2 {c.SquaredNorm.RSquared:F3}); ") +
        FormattableString.Invariant(
            $"Spearman(B, normalised std) {c.SpearmanNormalisedStd:F3}, (B, normalised IQR) {c.SpearmanNormalisedIqr:F3}, ") +
        FormattableString.Invariant($"(B, share of values >= {c.TailThreshold:G3}) {c.SpearmanTailCount:F3}") +
        (c.DivergedTrials > 0 ? FormattableString.Invariant($"; {c.DivergedTrials} trial(s) diverged, first at B={c.FirstDivergedBatchSize}") : "");

    /// <summary>Writes the markdown report and the figures into <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(CompetitionResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        files.AddRange(CompetitionFigures.Write(result, folder));
        var path = Path.Combine(folder, FileName);
        File.WriteAllText(path, Markdown(result, files.Select(Path.GetFileName).ToList()!));
        files.Insert(0, path);
        return files;
    }

    /// <summary>
    /// Which protocol variant reproduces which claim, decided from the measurements by the findings' own yardsticks
    /// (read from configs/F05.json and F06.json for the profile when present).
    /// </summary>
    public static string VerdictSection(CompetitionResult result)
    {
        double slope = 0.5, resolution = 0.25, alpha = 0.05;
        try
        {
            var f05 = CompetitionFinding.Load("F05", result.Profile.Profile);
            (slope, resolution, alpha) = (f05.Check("slope"), f05.Check("slopeResolution"), f05.Check("alpha"));
        }
        catch (Exception e) when (e is Training.ConfigException or IOException)
        {
            // No finding config: the defaults above are F05's.
        }
        var inv = CultureInfo.InvariantCulture;
        var verdicts = CompetitionVerdicts.Decide(result, slope, resolution, alpha);
        var md = new StringBuilder();
        md.AppendLine("## Which protocol reproduces which claim");
        md.AppendLine();
        md.AppendLine(string.Create(inv, $"Yardsticks (the tests'): F05 the log-log slope's 95% CI within {resolution} of {slope}; F06/F07 Spearman(B, normalised std / IQR) above the one-sided critical value at alpha {alpha}; F08 the count of large values (>= the edge above which {result.Profile.TailFraction:P0} of the B={result.Profile.ReferenceBatchSize} values lie) never rising as B shrinks and higher at the largest B than at the smallest."));
        md.AppendLine();
        foreach (var finding in verdicts.Select(v => v.Finding).Distinct())
        {
            var mine = verdicts.Where(v => v.Finding == finding).ToList();
            var all = mine.GroupBy(v => v.Variant).Where(g => g.All(v => v.Reproduces)).Select(g => g.Key.Name()).ToList();
            var some = mine.GroupBy(v => v.Variant).Where(g => g.Any(v => v.Reproduces) && !g.All(v => v.Reproduces))
                .Select(g => $"{g.Key.Name()} (only {string.Join(", ", g.Where(v => v.Reproduces).Select(v => v.Regime))})").ToList();
            md.Append("- **").Append(finding).Append("**: ");
            md.Append(all.Count > 0 ? $"reproduced in every regime by {string.Join(" and ", all)}" : "reproduced in every regime by no variant");
            if (some.Count > 0) md.Append("; partly by ").Append(string.Join(", ", some));
            md.AppendLine(".");
        }
        md.AppendLine();
        md.AppendLine("| finding | variant | regime | reproduces | measured |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var v in verdicts.OrderBy(v => v.Finding, StringComparer.Ordinal))
            md.AppendLine(inv, $"| {v.Finding} | {v.Variant.Name()} | {v.Regime} | {(v.Reproduces ? "yes" : "no")} | {v.Measured} |");
        md.AppendLine();
        return md.ToString();
    }

    public static string Markdown(CompetitionResult result, IReadOnlyList<string> figures)
    {
        var p = result.Profile;
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv, $"# Gradient competition (F05-F08), profile `{p.Profile}`");
        md.AppendLine();
        md.AppendLine(p.Description);
        md.AppendLine();
        md.AppendLine(inv, $"Device: {result.Device}; update mode {result.UpdateMode}; trials took {result.Seconds:F1} s. Seeds {string.Join(", ", p.Seeds)} (trial seeds); regimes trained with seed {p.RegimeSeed}.");
        md.AppendLine();
        md.AppendLine(VerdictSection(result));
        md.AppendLine("| regime | run | epochs | train acc | test acc | train loss |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in result.Regimes)
            md.AppendLine(inv, $"| {r.Name} | `{r.RunHash}` | {r.Epochs} | {r.TrainAccuracy:P2} | {r.TestAccuracy:P2} | {r.TrainLoss:F4} |");
        md.AppendLine();
        foreach (var variant in result.Variants)
        {
            md.AppendLine(inv, $"## {variant.Name()}");
            md.AppendLine();
            md.AppendLine(variant.Describe() + ".");
            md.AppendLine();
            foreach (var regime in result.RegimeNames)
            {
                var c = result.Curve(variant, regime);
                md.AppendLine(inv, $"### {regime} regime");
                md.AppendLine();
                md.AppendLine(CurveLine(c) + ".");
                md.AppendLine();
                md.AppendLine(inv, $"| B | trials | diverged | mean norm | std | std / mean | normalised std | normalised IQR | values >= {c.TailThreshold:G3} |");
                md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var b in c.Batches)
                    md.AppendLine(inv, $"| {b.BatchSize} | {b.Trials} | {b.Diverged} | {b.Mean:G4} | {b.Std:G4} | {b.RelativeStd:G3} | {b.NormalisedStd:G4} | {b.NormalisedIqr:G4} | {b.TailCount} |");
                md.AppendLine();
            }
        }
        if (figures.Count > 0)
        {
            md.AppendLine("## Figures");
            md.AppendLine();
            foreach (var f in figures) md.AppendLine(inv, $"![{f}]({f})");
            md.AppendLine();
        }
        return md.ToString();
    }
}
