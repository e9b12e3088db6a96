using System.CommandLine;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Reporting;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>report</c>: rebuilds REPORT.md, report.json and the figures of a profile from the stored results, each claim's
/// verdict decided from them, running nothing, and prints where it wrote them.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var profileOption = ReproduceCommand.ProfileOption("quick, full, or auto: full when CUDA is available, else quick.");
        var findingsOption = ReproduceCommand.FindingsOption();
        var datasetOption = ReproduceCommand.DatasetOption();
        var outputOption = new Option<string?>("--output") { Description = "Folder to write into; default: artifacts/report/<profile>/." }.NonEmptyPath();
        var sinceOption = new Option<string?>("--since")
        {
            Description = "An earlier report.json (same profile) to compare with: prints and writes CHANGES.md and changes.json beside the report " +
                          "(verdicts that flipped, metrics beyond their band, both environments, a first triage). Does not change the exit code.",
        }.NonEmptyPath();
        var command = new Command("report", "Rebuild the report from stored results (nothing runs) and print where it is.") { profileOption, findingsOption, datasetOption, outputOption, sinceOption };
        command.SetAction(parse => CliErrors.Guard(parse, () =>
            Report(parse.GetValue(profileOption)!, parse.GetValue(findingsOption), ReproduceCommand.Datasets(parse.GetValue(datasetOption)!), parse.GetValue(outputOption),
                parse.GetValue(sinceOption))));
        return command;
    }

    private static int Report(string profileChoice, string[]? findings, IReadOnlyList<string> datasets, string? output, string? since)
    {
        var profile = ReproduceCommand.ResolveProfile(profileChoice);
        // Read before building: a bad file is bad input (2) with nothing written, and --since may name the report.json this build replaces.
        var earlier = since is null ? null : ReportChanges.ReadEarlier(since, profile);
        var result = new ReportBuilder(profile).Build(ReproduceCommand.FindingIds(findings), output, datasets);
        Print(result);
        if (earlier is not null)
        {
            var changes = ReportChanges.Compare(earlier, result.Data, since!, result.JsonPath);
            var (json, markdown) = changes.Write(result.Folder);
            PrintChanges(changes, markdown, json);
        }
        // The comparison informs; it never changes the exit code: the claims of this report decide it, as without --since.
        return result.ExitCode;
    }

    /// <summary>What changed since the earlier report, one screen: the headline, each change with its triage, where it is written.</summary>
    public static void PrintChanges(ReportChanges changes, string markdownPath, string jsonPath)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold]Since {Markup.Escape(changes.Earlier.Path)}[/]: {Markup.Escape(ChangesMarkdown.Headline(changes).Replace("**", "", StringComparison.Ordinal))}");
        if (changes.Earlier.Environment is null)
            AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  [grey]environment: the earlier report (format {changes.Earlier.FormatVersion}) records none; this one: ") +
                $"{Markup.Escape(string.Join("; ", changes.Environment.Select(f => $"{f.Name} {f.Current ?? "none"}")))}[/]");
        else
            foreach (var f in changes.Environment.Where(f => f.Differs != false))
                AnsiConsole.MarkupLine($"  [grey]environment: {Markup.Escape(f.Name)}: {Markup.Escape(f.Earlier ?? "none")} -> {Markup.Escape(f.Current ?? "none")}[/]");
        if (!changes.Unchanged)
        {
            var table = new Table().AddColumn("finding").AddColumn("change").AddColumn("triage");
            foreach (var v in changes.Verdicts)
                table.AddRow(Markup.Escape($"{v.Finding} ({v.Dataset})"),
                    Markup.Escape($"{v.Claim}: {Outcome(v.Earlier)} -> {Outcome(v.Current)}"), Markup.Escape(v.Triage.Text));
            foreach (var m in changes.Metrics)
                table.AddRow(Markup.Escape($"{m.Finding} ({m.Dataset})"),
                    Markup.Escape($"{m.Run} {m.Metric}{(m.Layer is { } l ? $" layer {l}" : "")}: {Number(m.Earlier)} -> {Number(m.Current)} " +
                                  (m.Band is { } b ? $"(band {Number(b)}, {Number(m.BandsMoved ?? double.NaN)} x)" : "(no band)")),
                    Markup.Escape(m.Triage.Text));
            foreach (var s in changes.Sections)
                table.AddRow(Markup.Escape($"{s.Finding} ({s.Dataset})"), Markup.Escape($"only in {(s.OnlyIn == "earlier" ? "the earlier report" : "this report")}"), "");
            AnsiConsole.Write(table);
        }
        AnsiConsole.MarkupLine($"Changes: [bold]{Markup.Escape(markdownPath)}[/] [grey](and {Markup.Escape(jsonPath)})[/]");
    }

    private static string Outcome(ClaimOutcome? outcome) => outcome is { } o ? ClaimVerdict.Describe(o) : "(none)";

    private static string Number(double value) => value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The verdict of every claim, one screen: a row per finding and claim; then the paths written.</summary>
    public static void Print(ReportResult result)
    {
        var table = new Table().Title($"Claims ({Markup.Escape(result.Data.Profile)} profile), decided from the stored runs")
            .AddColumn("finding").AddColumn("claim").AddColumn("verdict");
        foreach (var f in result.Data.Findings)
        {
            var id = f.OnPaperDataset ? f.Id : $"{f.Id} ({f.Dataset})";
            if (f.Error is not null)
            {
                table.AddRow(Markup.Escape(id), "", $"[red]{Markup.Escape(f.Error)}[/]");
                Console.Error.WriteLine($"error: {id}: {f.Error}");
                continue;
            }
            foreach (var c in f.Claims)
                table.AddRow(Markup.Escape(id), Markup.Escape(c.Id), Colour(c.Outcome) + (f.OnPaperDataset
                    ? c.Against is not null ? " [grey](measured, against the paper)[/]" : ""
                    : Stored(f.Snapshots?.FirstOrDefault(s => s.Claim == c.Id))));
            foreach (var c in f.ClaimsLeftOut)
                table.AddRow(Markup.Escape(id), $"[grey]{Markup.Escape(c.Id)}[/]", $"[grey]not asserted in {Markup.Escape(result.Data.Profile)}[/]");
            foreach (var e in f.Estimates ?? [])
                table.AddRow(Markup.Escape(id), $"[grey]{Markup.Escape(e.Id)}[/]", e.Outcome == ClaimOutcome.NotMeasured ? "[grey]estimate not measured[/]" : $"[grey]measured: {Markup.Escape(Short(e.Summary))}[/]");
            if (f.Missing.Count(m => m.Expected is null) is > 0 and var notStored)
                table.AddRow(Markup.Escape(id), "", $"[yellow]{notStored} run(s) not stored[/]");
            if (f.Missing.Count(m => m.Expected is not null) is > 0 and var expected)
                table.AddRow(Markup.Escape(id), "", $"[grey]{expected} run(s) diverged, as the profile allows[/]");
        }
        AnsiConsole.Write(table);
        var all = result.Data.Findings.SelectMany(f => f.Claims).ToList();
        AnsiConsole.MarkupLine($"  {all.Count} claims in {result.Data.Findings.Count} finding(s), {Markup.Escape(result.Data.Profile)} profile: {Markup.Escape(ClaimsSummary.Of(all).Text)}.");
        if (result.Data.ComparedWithPaper)
            AnsiConsole.MarkupLine(result.Data.Disagreements.Count == 0
                ? "  No disagreement with the paper beyond our spread."
                : $"  [yellow]{result.Data.Disagreements.Count} disagreement(s) with the paper[/]: see 'Where we disagree with the paper'.");
        AnsiConsole.MarkupLine($"Report: [bold]{Markup.Escape(result.MarkdownPath)}[/]");
        AnsiConsole.MarkupLine($"[grey]Numbers: {Markup.Escape(result.JsonPath)}; {result.FigurePaths.Count} figure(s) in {Markup.Escape(result.Folder)}[/]");
    }

    /// <summary>Off the paper's dataset: the verdict beside the one the dataset's baseline stores.</summary>
    private static string Stored(Baselines.VerdictSnapshot? s) => s switch
    {
        null => "",
        { Stored: null } => " [grey](no verdict stored yet)[/]",
        { Unchanged: true } => " [grey](as stored)[/]",
        _ => $" [red](changed: stored {Markup.Escape(ClaimVerdict.Describe(s.Stored!.Value))})[/]",
    };

    private static string Short(string text) => text.Length <= 160 ? text : text[..157] + "...";

    private static string Colour(ClaimOutcome outcome) => outcome switch
    {
        ClaimOutcome.Holds => "[green]holds[/]",
        ClaimOutcome.DoesNotHold => "[red]does not hold[/]",
        ClaimOutcome.Inconclusive => "[yellow]inconclusive[/]",
        _ => "[red]not measured[/]",
    };
}
