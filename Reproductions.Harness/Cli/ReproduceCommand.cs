using System.CommandLine;
using System.Globalization;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.GradientCompetition;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>reproduce</c>: the main job. Runs the selected findings' profile through the run store (stored runs are reused)
/// and prints, per finding and run, our final numbers (mean and std over seeds) next to the paper's.
/// </summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var profileOption = new Option<string>("--profile")
        {
            Description = "quick (reduced, CPU-sized), full (the paper's setup, meant for a GPU), or auto: full when CUDA is available, else quick.",
            DefaultValueFactory = _ => "auto",
        };
        profileOption.AcceptOnlyFromAmong("auto", "quick", "full");
        var findingsOption = new Option<string[]>("--findings") { Description = "Finding ids (F01 F02 ...); default: every configs/F*.json.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("reproduce", "Reproduce findings and print our numbers next to the paper's.") { profileOption, findingsOption };
        command.SetAction(parse => CliErrors.Guard(() => Reproduce(parse.GetValue(profileOption)!, parse.GetValue(findingsOption))));
        return command;
    }

    public static string ResolveProfile(string profile) => profile == "auto" ? (Devices.CudaAvailable ? "full" : "quick") : profile;

    private static int Reproduce(string profileChoice, string[]? findings)
    {
        var profile = ResolveProfile(profileChoice);
        var ids = FindingIds(findings);
        var device = Devices.Resolve(DeviceChoice.Auto);
        AnsiConsole.MarkupLine($"Profile [bold]{profile}[/]{(profileChoice == "auto" ? " (auto)" : "")} on {Markup.Escape(Devices.Describe(device))}.");
        if (profile == "full" && device.type != TorchSharp.DeviceType.CUDA)
            AnsiConsole.MarkupLine("[yellow]The full profile on CPU was asked for explicitly: it trains the paper's setup as is and takes hours.[/]");

        DataSets.Log = line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        var store = RunStore.Default;
        using var cancel = CliErrors.CancelOnCtrlC();
        var competition = new List<CompetitionFinding>();
        foreach (var id in ids)
        {
            if (CompetitionFinding.UsesProtocol(id))
            {
                competition.Add(CompetitionFinding.Load(id, profile)); // F05-F08 share one set of trials, run after the loop
                continue;
            }
            var finding = FindingProfile.Load(id, profile);
            var runs = ProgressDisplay.Run(progress => FindingRunner.Run(finding, store, progress, cancel.Token));
            AnsiConsole.Write(Table(runs));
        }
        if (competition.Count > 0)
        {
            var result = ProgressDisplay.Run(progress => CompetitionStore.Default.GetOrRun(competition[0].Protocol, store,
                log: line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), progress: progress, cancel: cancel.Token));
            AnsiConsole.Write(CompetitionTable(result, competition));
            var written = CompetitionReport.Write(result, Path.Combine(RepoPaths.Artifacts, "report"));
            AnsiConsole.MarkupLine($"Gradient-competition report and figures: [blue]{Markup.Escape(written[0])}[/]");
        }
        var trained = ids.Where(id => !CompetitionFinding.UsesProtocol(id)).ToList();
        if (trained.Count > 0) ReportCommand.Print(new ReportBuilder(profile, store).Build(trained));
        return 0;
    }

    /// <summary>The ids named on the command line (spaces or commas), or every configs/F*.json.</summary>
    public static IReadOnlyList<string> FindingIds(string[]? findings) => findings is { Length: > 0 }
        ? findings.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray()
        : ReportBuilder.AllFindings();

    /// <summary>F05-F08: per protocol variant and regime, the statistics each finding's claim is about, beside the blog's claims.</summary>
    public static Table CompetitionTable(CompetitionResult result, IReadOnlyList<CompetitionFinding> findings)
    {
        var table = new Table().Title($"{string.Join(", ", findings.Select(f => f.Finding))} ({result.Profile.Profile}): gradient competition")
            .Caption(Markup.Escape(string.Join(" ", findings.Select(f => $"{f.Finding}: {f.Claim}")) + $" Trials: {result.Profile.Description}"));
        foreach (var column in new[] { "variant", "regime", "F05 log-log slope [95% CI]", "F05 norm^2 vs B R^2", "F06 Spearman(B, norm. std)", "F07 Spearman(B, norm. IQR)", "F08 large values B=1 / B=1024 (per trial)", "diverged" })
            table.AddColumn(Markup.Escape(column));
        foreach (var variant in result.Variants)
            foreach (var regime in result.RegimeNames)
            {
                var c = result.Curve(variant, regime);
                var first = c.Batches[0];
                var last = c.Batches[^1];
                table.AddRow(Markup.Escape(variant.Name()), Markup.Escape(regime),
                    Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{c.LogLog.Slope:F3} [{c.LogLog.SlopeLow:F3}, {c.LogLog.SlopeHigh:F3}]")),
                    c.SquaredNorm.RSquared.ToString("F3", CultureInfo.InvariantCulture),
                    c.SpearmanNormalisedStd.ToString("F3", CultureInfo.InvariantCulture),
                    c.SpearmanNormalisedIqr.ToString("F3", CultureInfo.InvariantCulture),
                    string.Create(CultureInfo.InvariantCulture, $"{(double)first.TailCount / first.Trials:G3} / {(double)last.TailCount / last.Trials:G3}"),
                    c.DivergedTrials.ToString(CultureInfo.InvariantCulture));
            }
        return table;
    }

    /// <summary>One row per run: setting, final train and test accuracy and gap (mean +- std over seeds), and the paper's values.</summary>
    public static Table Table(FindingRuns runs)
    {
        var p = runs.Profile;
        var table = new Table().Title($"{p.Finding} ({p.Profile}): {Markup.Escape(p.Claim)}")
            .Caption(Markup.Escape($"{p.Description} Mean ± std over seeds {string.Join(", ", p.Seeds)}."));
        foreach (var column in new[] { "run", "phases (epochs x batch @ lr)", "train acc", "test acc", "gap", "paper train", "paper test" })
            table.AddColumn(column);
        foreach (var (name, records) in runs.Runs.OrderBy(r => r.Key, NaturalOrder.Instance))
        {
            var phases = string.Join(" then ", records[0].Config.Phases.Select(ph =>
                string.Create(CultureInfo.InvariantCulture, $"{ph.Epochs} x {ph.BatchSize} @ {ph.LearningRate}")));
            table.AddRow(name, phases,
                Percent(runs.Final(name, m => m.TrainAccuracy)),
                Percent(runs.Final(name, m => m.TestAccuracy)),
                Percent(runs.Final(name, m => m.GeneralizationGap)),
                Markup.Escape(p.ReferenceFor(name, "trainAccuracy") ?? ""),
                Markup.Escape(p.ReferenceFor(name, "testAccuracy") ?? ""));
        }
        return table;
    }

    private static string Percent(double[] values) => values.Length == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{values[0] * 100:F2}%")
        : string.Create(CultureInfo.InvariantCulture, $"{values.Mean() * 100:F2}% ± {values.StandardDeviation() * 100:F2}");
}
