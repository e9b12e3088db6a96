using System.Globalization;
using System.Text;
using Reproductions.Harness.Claims;

namespace Reproductions.Harness.Reporting;

/// <summary>Renders REPORT.md from <see cref="ReportData"/> alone, so every number it shows is in report.json too.</summary>
public static class ReportMarkdown
{
    /// <summary>
    /// Where the report was built: commit, TorchSharp and libtorch, CUDA with its driver and GPU (or that there is none),
    /// OS and .NET, and the devices of the stored runs (which may come from another machine).
    /// </summary>
    private static void EnvironmentBlock(StringBuilder md, ReportData data)
    {
        md.AppendLine("## Environment").AppendLine();
        if (data.Environment is not { } e)
        {
            md.AppendLine(Invariant($"Not recorded (a report of format {data.FormatVersion}).")).AppendLine();
            return;
        }
        var cuda = e.Cuda is null && e.Driver is null && e.Device is null
            ? "CUDA: not available"
            : $"CUDA {e.Cuda ?? "version unknown"}, driver {e.Driver ?? "unknown"}, GPU {e.Device ?? "unknown"}";
        md.AppendLine($"- Built at commit {(e.Commit is null ? "unknown (no .git, no git)" : $"`{e.Commit}`")}, TorchSharp {e.TorchSharp ?? "unknown"} " +
                      $"(libtorch {e.LibTorch ?? "unknown"}); {cuda}.");
        md.AppendLine($"- {Line(e.Os)}; {Line(e.Runtime)}.");
        md.AppendLine($"- Stored runs made on: {(e.RunDevices.Count == 0 ? "none stored" : string.Join("; ", e.RunDevices.Select(Line)))}.");
        md.AppendLine();
    }

    public static string Render(ReportData data)
    {
        var md = new StringBuilder();
        var profile = data.Profile;
        md.AppendLine($"# Reproduction report: profile `{profile}`").AppendLine();
        md.AppendLine(Invariant($"Built {data.GeneratedUtc:yyyy-MM-dd HH:mm} UTC from the stored runs in `{data.RunStore}`, without training. Rebuild with `{ReportBuilder.ReportCommand(profile)}`; every number below is also in `report.json`."))
          .AppendLine();
        md.AppendLine("Numbers are the final epoch's, as mean ± std over seeds (sample std, n - 1); accuracies in %. " +
                      "Bands of the baseline checks come from the spread across seeds (each finding names its rule).");
        md.AppendLine();
        md.AppendLine(profile == "full"
            ? "Profile `full` is the paper's setup; its numbers are compared with the paper's below."
            : "Profile `quick` is a scaled-down version of each finding (each section names what it scales down). " +
              "Its numbers are shown beside the paper's but **not compared numerically**: the paper ran the full setup.");
        md.AppendLine();

        EnvironmentBlock(md, data);
        Generality(md, data);

        md.AppendLine("## Summary").AppendLine();
        md.AppendLine("Each finding's claims are decided from the stored runs by the same evaluation its tests assert: **holds** (every seed, " +
                      "and the 95% interval, on the claim's side), **does not hold** (the 95% interval excludes it), **inconclusive** " +
                      "(too weak to decide at this spread and number of seeds; never counted as a pass), or **not measured**.").AppendLine();
        md.AppendLine(data.ComparedWithPaper ? "| finding | dataset | claim | claims | runs stored | vs paper |" : "| finding | dataset | claim | claims | runs stored |");
        md.AppendLine(data.ComparedWithPaper ? "|---|---|---|---|---|---|" : "|---|---|---|---|---|");
        foreach (var f in data.Findings)
        {
            var runs = f.Error is null ? $"{f.Runs.Count} of {f.Runs.Count + f.Missing.Count}" : "n/a";
            var row = $"| [{f.Id}](#{Anchor(f)}) | {Cell(f.Dataset)} | {Cell(Short(f.Claim))} | {Cell(f.Error is null ? f.Verdict.Text : f.ErrorCode == Infrastructure.ExitCodes.CorruptState ? "stored result unreadable" : "config unreadable")} | {runs} |";
            md.AppendLine(data.ComparedWithPaper ? row + $" {(f.OnPaperDataset ? VersusPaper(f) : "no paper numbers on this dataset")} |" : row);
        }
        md.AppendLine();

        foreach (var suite in data.SuiteFigures ?? [])
        {
            md.AppendLine("## Across findings: accuracy against the noise scale").AppendLine();
            md.AppendLine($"{Line(suite.Description)} A figure, not a claim: the runs are not independent (findings share runs and differ in more than g), " +
                          "and Smith and Le report an optimal noise scale rather than a monotone rise.").AppendLine();
            if (suite.File is not null) md.AppendLine($"![{Line(suite.Title)}]({suite.File})").AppendLine();
            md.AppendLine($"*{Line(suite.Caption)}*").AppendLine();
        }

        SideBySideFigures(md, data);

        md.AppendLine("## Claims that disagree with the paper").AppendLine();
        md.AppendLine("Claims that state what we measured against the paper's reading, and the paper's own claims that do not hold here. " +
                      "Each is a finding of its own; the test asserts what we measured.").AppendLine();
        if (data.ClaimDisagreements.Count == 0) md.AppendLine("None.").AppendLine();
        foreach (var d in data.ClaimDisagreements)
            md.AppendLine($"- [{d.Finding}](#{Anchor(d.Finding)}) `{d.Claim}`: {Line(d.Statement)} **{d.Outcome}**. The paper: {Line(d.Paper)}. Measured: {Line(d.Measured)}.");
        if (data.ClaimDisagreements.Count > 0) md.AppendLine();

        if (data.ComparedWithPaper)
        {
            md.AppendLine("## Where our numbers disagree with the paper's").AppendLine();
            md.AppendLine("A paper's number (or range) disagrees with ours when it lies outside our mean ± max(2 std over seeds, the precision " +
                          "it is stated to: \"98%\" means ±0.5%, \"6.71\" means ±0.005). Texts that are not numbers, and approximate ones (\"about 6\"), are shown, never compared.");
            md.AppendLine();
            if (data.Disagreements.Count == 0)
            {
                var compared = data.Findings.SelectMany(f => f.Runs).SelectMany(r => r.Metrics).Count(m => m.Check.Agreement == Agreement.Agrees);
                md.AppendLine($"None: each of the {compared} numeric reference(s) compared lies within that tolerance.");
            }
            for (var i = 0; i < data.Disagreements.Count; i++)
            {
                var d = data.Disagreements[i];
                md.AppendLine($"### D{i + 1}: {d.Finding} `{d.Run}`, {d.Label}").AppendLine();
                md.AppendLine($"The paper: {d.Reference}. Ours: {d.Ours}. {Sentence(Capital(d.Detail))} See [{d.Finding}](#{Anchor(d.Finding)}).");
                md.AppendLine();
            }
        }
        else
        {
            md.AppendLine("## Comparison with the paper").AppendLine();
            md.AppendLine($"Not made for this profile: `{profile}` is scaled down (fewer samples, epochs or trials), so its numbers are not " +
                          "expected to match the paper's. Build the `full` report (`" + ReportBuilder.ReportCommand("full") +
                          "`, after its runs) for the numeric comparison.");
            md.AppendLine();
        }

        foreach (var f in data.Findings) Finding(md, f, profile, data.ComparedWithPaper);
        return md.ToString();
    }

    /// <summary>The table REPORT.md opens with: every claim on every dataset and profile, each cell linking to its numbers.</summary>
    private static void Generality(StringBuilder md, ReportData data)
    {
        if (data.Generality is not { Count: > 0 } rows) return;
        var columns = rows[0].Cells.Select(c => (c.Dataset, c.Profile)).ToList();
        md.AppendLine("## Where each claim holds").AppendLine();
        md.AppendLine("Every claim of every finding, on each dataset and profile, decided from the stored runs by the same evaluation the tests " +
                      "assert (this report's profile from its own sections, the other from the store, running nothing). The findings' papers " +
                      $"used {DatasetName(Data.DatasetSpecs.Mnist.Name)}; on another dataset the same claims are evaluated unchanged, and a claim that " +
                      "does not hold there is a result, not a failure (its verdict is kept in that dataset's baseline and the tests assert it does " +
                      "not change). *not run*: nothing stored; *not asserted*: the profile leaves the claim to another; *not measured*: runs missing.").AppendLine();
        md.AppendLine("| finding | claim | " + string.Join(" | ", columns.Select(c => $"{DatasetName(c.Dataset)} {c.Profile}")) + " |");
        md.AppendLine("|---|---|" + string.Concat(columns.Select(_ => "---|")));
        foreach (var row in rows)
        {
            var cells = row.Cells.Select(c =>
            {
                var text = c.Outcome switch { "holds" => "holds", "does not hold" => "**does not hold**", var o => $"*{o}*" };
                return c.Link is null ? text : $"[{text}]({c.Link})";
            });
            md.AppendLine($"| {row.Finding} | `{row.Claim}` | {string.Join(" | ", cells)} |");
        }
        md.AppendLine();
    }

    private static void SideBySideFigures(StringBuilder md, ReportData data)
    {
        if (data.SideBySide is not { Count: > 0 } pairs) return;
        md.AppendLine("## The figures of both datasets side by side").AppendLine();
        md.AppendLine("Each finding's figures, drawn from its runs on each dataset (the same claims, runs and settings; only the data differ).").AppendLine();
        var datasets = pairs[0].Datasets;
        md.AppendLine("| figure | " + string.Join(" | ", datasets.Select(DatasetName)) + " |");
        md.AppendLine("|---|" + string.Concat(datasets.Select(_ => "---|")));
        foreach (var p in pairs)
            md.AppendLine($"| [{p.Finding}](#{Anchor(p.Finding)})-{p.Index}: {Cell(p.Title)} | " +
                          string.Join(" | ", p.Files.Select(f => f is null ? "not drawn" : $"![{Cell(p.Title)}]({f})")) + " |");
        md.AppendLine();
    }

    private static void Finding(StringBuilder md, FindingSection f, string profile, bool compared)
    {
        compared = compared && f.OnPaperDataset;
        md.AppendLine($"<a id=\"{Anchor(f)}\"></a>").AppendLine();
        md.AppendLine(f.OnPaperDataset ? $"## {f.Id}: {Line(f.Claim)}" : $"## {f.Id} on {DatasetName(f.Dataset)}: {Line(f.Claim)}").AppendLine();
        if (f.Error is not null)
        {
            md.AppendLine($"**Not reported**: {Line(f.Error)}").AppendLine();
            return;
        }
        md.AppendLine($"**Profile `{profile}`, dataset `{f.Dataset}`, protocol `{f.Protocol}`.** {Line(f.Description)}").AppendLine();
        if (f.ScaledDown.Count > 0)
        {
            md.AppendLine($"What `{profile}` changes in `full`, as its config declares it (`*`: every entry):").AppendLine();
            foreach (var line in f.ScaledDown) md.AppendLine($"- {Line(line)}");
            md.AppendLine();
        }

        var tier = f.Tier ?? (profile == "full" ? Findings.TestTier.Gpu : Findings.TestTier.Quick);
        var command = tier.TestCommand(f.Id, f.OnPaperDataset ? null : f.Dataset);
        md.Append(f.OnPaperDataset
            ? $"**Claims: {f.Verdict.Text}.** Checked by `{command}`, which asserts the same verdicts"
            : $"**Claims: {f.Verdict.Text}.** The paper's claims, evaluated unchanged on {DatasetName(f.Dataset)} (the paper used {DatasetName(f.PaperDataset!)}): " +
              $"a claim that does not hold here is a result, not a failure. `{command}` asserts that each verdict is the one the dataset's baseline stores");
        md.AppendLine(tier.Category == "Extended" ? $" (test tier Extended, not part of a plain `dotnet test`: {Line(tier.Reason ?? "")}; the scheduled workflow runs it)." : ".");
        md.AppendLine();
        if (f.Claims.Count > 0)
        {
            var snapshots = f.OnPaperDataset ? null : f.Snapshots;
            md.AppendLine(snapshots is null ? "| claim | verdict | measured | decided by |" : "| claim | verdict | stored verdict | measured | decided by |");
            md.AppendLine(snapshots is null ? "|---|---|---|---|" : "|---|---|---|---|---|");
            foreach (var c in f.Claims)
            {
                var verdict = ClaimVerdict.Describe(c.Outcome) + (c.SeedsNeeded is { } n ? $" (its interval needs about {n} seeds to be narrower than the margin)" : "");
                var statement = $"`{c.Id}`: {Line(c.Statement)}" + (c.Against is { } against && f.OnPaperDataset ? $" *Against the paper: {Line(against)}.*" : "");
                var stored = snapshots?.FirstOrDefault(s => s.Claim == c.Id) is not { } s ? ""
                    : s.Stored is null ? "none stored | "
                    : s.Unchanged ? "the same | " : $"**changed** (stored: {ClaimVerdict.Describe(s.Stored.Value)}) | ";
                md.AppendLine($"| {Cell(statement)} | **{verdict}** | {stored}{Cell(c.Summary)} | {Cell(c.Yardstick)} |");
            }
            md.AppendLine();
        }
        foreach (var c in f.ClaimsLeftOut)
            md.AppendLine($"- Not asserted in `{profile}`: `{c.Id}` ({Line(c.Statement)}): {Line(c.Reason)}.");
        if (f.ClaimsLeftOut.Count > 0) md.AppendLine();

        if (f.Estimates is { Count: > 0 } estimates)
        {
            md.AppendLine("Measured, not asserted (the config's estimates):").AppendLine();
            md.AppendLine("| estimate | measured | how |");
            md.AppendLine("|---|---|---|");
            foreach (var e in estimates)
                md.AppendLine($"| {Cell($"`{e.Id}`: {Line(e.Statement)}")} | {Cell(e.Outcome == ClaimOutcome.NotMeasured ? "not measured: " + e.Summary : e.Summary)} | {Cell(e.Yardstick)} |");
            md.AppendLine();
        }

        if (f.PaperNotes.Count > 0)
        {
            md.AppendLine("The paper:").AppendLine();
            foreach (var paper in f.PaperNotes) md.AppendLine($"- {Line(paper)}");
            md.AppendLine();
        }

        if (f.Runs.Count > 0)
        {
            var seeds = f.Seeds.Count;
            var paper = f.OnPaperDataset;
            md.AppendLine(compared
                ? $"| {f.GroupHeading} | {f.SettingHeading} | metric | ours (mean ± std, {seeds} seeds) | paper | vs paper |"
                : paper ? $"| {f.GroupHeading} | {f.SettingHeading} | metric | ours (mean ± std, {seeds} seeds) | paper |"
                : $"| {f.GroupHeading} | {f.SettingHeading} | metric | ours (mean ± std, {seeds} seeds) |");
            md.AppendLine(compared ? "|---|---|---|---|---|---|" : paper ? "|---|---|---|---|---|" : "|---|---|---|---|");
            foreach (var run in f.Runs)
                for (var i = 0; i < run.Metrics.Count; i++)
                {
                    var m = run.Metrics[i];
                    var first = i == 0;
                    var ours = m.PerLayer ? m.Text.Replace("; ", "<br>", StringComparison.Ordinal) : m.Text;
                    var row = $"| {(first ? $"`{run.Name}`" : "")} | {(first ? Cell(run.Setting) : "")} | {Cell(m.Label)} | {ours} |" + (paper ? $" {Cell(m.Reference ?? "")} |" : "");
                    md.AppendLine(compared ? row + $" {AgreementText(m.Check.Agreement)} |" : row);
                }
            md.AppendLine();
        }
        else
        {
            md.AppendLine("No run of this profile is stored yet.").AppendLine();
        }

        foreach (var table in f.Tables)
        {
            md.AppendLine($"**{Line(table.Title)}**").AppendLine();
            md.AppendLine("| " + string.Join(" | ", table.Columns.Select(Cell)) + " |");
            md.AppendLine("|" + string.Concat(table.Columns.Select(_ => "---:|")));
            foreach (var row in table.Rows) md.AppendLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
            md.AppendLine();
            if (table.Caption.Length > 0) md.AppendLine($"*{Line(table.Caption)}*").AppendLine();
        }

        if (f.Missing.Count > 0)
        {
            md.AppendLine("Runs not in the store (left out of the table and figures):").AppendLine();
            foreach (var m in f.Missing)
                md.AppendLine(m.Diverged is { Count: > 0 } d
                    ? m.Expected is { } why
                        ? $"- `{m.Run}`: diverged, an outcome this profile expects ({Line(why)}): {string.Join("; ", d.Select(Line))}."
                        : $"- `{m.Run}`: diverged, so not a result: {string.Join("; ", d.Select(Line))}."
                    : $"- `{m.Run}`: {m.StoredSeeds} of {m.Seeds} seeds stored. Train with `{m.Command}`.");
            md.AppendLine();
        }

        foreach (var figure in f.Figures)
        {
            if (figure.File is not null)
            {
                md.AppendLine($"![{Line(figure.Title)}]({figure.File})").AppendLine();
                md.AppendLine($"*Figure {f.Id}-{figure.Index}. {Line(figure.Caption)}*");
            }
            else
            {
                md.AppendLine($"*Figure {f.Id}-{figure.Index} ({Line(figure.Title)}) not drawn.*");
            }
            if (figure.Note is { } n) md.AppendLine().AppendLine($"Note: {Sentence(Line(n))}");
            md.AppendLine();
            if (figure.Grid is { } grid) Grid(md, grid, figure.Metric);
        }

        md.AppendLine($"Seeds: {string.Join(", ", f.Seeds)}. Device: {(f.Devices.Count > 0 ? string.Join("; ", f.Devices) : "n/a")}. " +
                      Invariant($"Training time of the stored runs: {f.TrainingSeconds:F0} s."));
        foreach (var (metric, why) in f.BaselineLeftOut)
            md.AppendLine($"Left out of the baseline: `{metric}`: {Line(why)}.");
        if (f.Bands is { } b)
            md.AppendLine(
                $"Bands come from the spread across seeds: the baseline check allows max({MetricDisplay.Setting(b.StdMultiplier)} × std over seeds, " +
                $"{MetricDisplay.Setting(b.MinAbsolute)} absolute, {MetricDisplay.Setting(b.MinRelative * 100)}% of the mean) either side of the baseline" +
                (b.Reason is { } why ? $"; the floor's value: {Sentence(Line(why))}" : ".") +
                string.Concat((b.Overrides ?? []).Select(o =>
                    $" For `{o.Metrics}`: max({MetricDisplay.Setting(o.StdMultiplier)} × std, {MetricDisplay.Setting(o.MinAbsolute)} absolute, " +
                    $"{MetricDisplay.Setting(o.MinRelative * 100)}% of the mean) ({Line(o.Reason)}).")));
        md.AppendLine();
    }

    private static void Grid(StringBuilder md, HeatmapGrid grid, string metric)
    {
        var display = MetricDisplay.For(metric);
        md.AppendLine($"| {grid.Y} \\ {grid.X} | {string.Join(" | ", grid.XValues.Select(MetricDisplay.Setting))} |");
        md.AppendLine("|---|" + string.Concat(grid.XValues.Select(_ => "---|")));
        for (var y = grid.YValues.Count - 1; y >= 0; y--)
        {
            var cells = grid.XValues.Select((_, x) =>
            {
                var run = grid.Runs[y][x];
                if (run is null) return "";
                var mean = grid.Mean[y][x];
                if (!double.IsFinite(mean)) return $"not stored (`{run}`)";
                var decimals = display.IsPercent ? 2 : MetricDisplay.DecimalsFor(mean);
                return $"{MetricDisplay.Number(mean, decimals)}{(display.IsPercent ? "%" : "")} ± {MetricDisplay.Number(grid.Std[y][x], decimals)} (`{run}`)";
            });
            md.AppendLine($"| {MetricDisplay.Setting(grid.YValues[y])} | {string.Join(" | ", cells)} |");
        }
        md.AppendLine();
    }

    /// <summary>The summary's comparison column: how many numeric references disagree, of those compared.</summary>
    private static string VersusPaper(FindingSection f)
    {
        var checks = f.Runs.SelectMany(r => r.Metrics).Select(m => m.Check.Agreement).ToList();
        int compared = checks.Count(a => a is Reporting.Agreement.Agrees or Reporting.Agreement.Disagrees),
            disagree = checks.Count(a => a == Reporting.Agreement.Disagrees);
        return compared == 0 ? "nothing to compare"
            : disagree > 0 ? $"**{disagree} of {compared} disagree**"
            : $"{compared} of {compared} agree";
    }

    private static string AgreementText(Agreement a) => a switch
    {
        Reporting.Agreement.Agrees => "agrees",
        Reporting.Agreement.Disagrees => "**disagrees**",
        Reporting.Agreement.NotNumeric => "not a number",
        Reporting.Agreement.Approximate => "approximate",
        Reporting.Agreement.ShapeMismatch => "not comparable",
        Reporting.Agreement.NoValue => "no value",
        Reporting.Agreement.NotCompared => "not compared",
        _ => "",
    };

    /// <summary>The claim's first sentence, at most 90 characters.</summary>
    public static string Short(string claim)
    {
        var text = Line(claim);
        var stop = text.IndexOf(". ", StringComparison.Ordinal);
        if (stop > 0) text = text[..(stop + 1)];
        return text.Length > 90 ? text[..87].TrimEnd() + "..." : text;
    }

    /// <summary>A finding's section: "f01" on the papers' dataset (MNIST), "f01-fashion-mnist" on another.</summary>
    public static string Anchor(string id, string? dataset = null) =>
        dataset is null || dataset == Data.DatasetSpecs.Mnist.Name ? id.ToLowerInvariant() : $"{id}-{dataset}".ToLowerInvariant();

    private static string Anchor(FindingSection f) => f.OnPaperDataset ? Anchor(f.Id) : Anchor(f.Id, f.Dataset);

    private static string DatasetName(string dataset) =>
        Data.DatasetSpecs.All.FirstOrDefault(d => d.Name == dataset)?.DisplayName ?? dataset;

    private static string Line(string text) => text.Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ').Trim();

    private static string Cell(string text) => Line(text).Replace("|", "\\|", StringComparison.Ordinal);

    private static string Sentence(string text) => text.Length == 0 || text.EndsWith('.') ? text : text + ".";

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
