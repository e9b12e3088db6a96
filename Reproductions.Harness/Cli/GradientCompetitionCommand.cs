using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.GradientCompetition;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>gradient-competition</c>: runs (or reuses) the trials of F05-F08 for a profile, prints each protocol variant's
/// numbers per regime and batch size, and writes the report (markdown) and figures (PNG) under artifacts/report/.
/// </summary>
public static class GradientCompetitionCommand
{
    public static Command Create()
    {
        var profileOption = new Option<string>("--profile")
        {
            Description = "quick (reduced, CPU-sized), full (the blog's protocol, meant for a GPU), or auto: full when CUDA is available, else quick.",
            DefaultValueFactory = _ => "auto",
        };
        profileOption.AcceptOnlyFromAmong("auto", "quick", "full");
        var reportOption = new Option<string?>("--report-dir") { Description = "Where to write gradient-competition.md and the figures (default artifacts/report)." };
        var command = new Command("gradient-competition",
            "Run the gradient-competition trials (F05-F08) under every protocol variant; print the statistics and write the report and figures.")
        {
            profileOption, reportOption,
        };
        command.SetAction(parse => CliErrors.Guard(() => Run(parse.GetValue(profileOption)!, parse.GetValue(reportOption))));
        return command;
    }

    private static int Run(string profileChoice, string? reportDir)
    {
        var profile = ReproduceCommand.ResolveProfile(profileChoice);
        var settings = CompetitionProfile.Load(profile);
        DataSets.Log = line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        using var cancel = CliErrors.CancelOnCtrlC();
        var result = ProgressDisplay.Run(progress => CompetitionStore.Default.GetOrRun(settings, RunStore.Default,
            log: line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), progress: progress, cancel: cancel.Token));
        foreach (var table in Tables(result)) AnsiConsole.Write(table);
        var folder = reportDir ?? Path.Combine(RepoPaths.Artifacts, "report");
        var written = CompetitionReport.Write(result, folder);
        foreach (var file in written) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
        return 0;
    }

    /// <summary>One table per variant and regime: per batch size the norm's mean, std, normalised spread and large values; the fits in the caption.</summary>
    public static IEnumerable<Table> Tables(CompetitionResult result)
    {
        foreach (var variant in result.Variants)
            foreach (var regime in result.RegimeNames)
            {
                var c = result.Curve(variant, regime);
                var table = new Table().Title(Markup.Escape($"{result.Profile.Profile}: {variant.Name()}, {regime} regime ({variant.Describe()})"))
                    .Caption(Markup.Escape(CompetitionReport.CurveLine(c)));
                foreach (var column in new[] { "B", "trials", "diverged", "mean norm", "std", "std / mean", "norm. std", "norm. IQR", "values >= threshold", "worker-seconds" })
                    table.AddColumn(new TableColumn(Markup.Escape(column)).RightAligned());
                foreach (var b in c.Batches)
                {
                    var cell = result.Pooled[new CellKey(variant, regime, b.BatchSize)];
                    table.AddRow(I(b.BatchSize), I(b.Trials), I(b.Diverged), G(b.Mean), G(b.Std), G(b.RelativeStd), G(b.NormalisedStd),
                        G(b.NormalisedIqr), I(b.TailCount), cell.Seconds.ToString("F1", CultureInfo.InvariantCulture));
                }
                yield return table;
            }
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
