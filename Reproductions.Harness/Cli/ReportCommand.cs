using System.CommandLine;
using Reproductions.Harness.Reporting;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>report</c>: rebuilds REPORT.md, report.json and the figures of a profile from the stored results and the recorded
/// verdicts, running nothing, and prints where it wrote them.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var profileOption = ReproduceCommand.ProfileOption("quick, full, or auto: full when CUDA is available, else quick.");
        var findingsOption = ReproduceCommand.FindingsOption();
        var outputOption = new Option<string?>("--output") { Description = "Folder to write into; default: artifacts/report/<profile>/." };
        var command = new Command("report", "Rebuild the report from stored results (nothing runs) and print where it is.") { profileOption, findingsOption, outputOption };
        command.SetAction(parse => CliErrors.Guard(() =>
            Report(parse.GetValue(profileOption)!, parse.GetValue(findingsOption), parse.GetValue(outputOption))));
        return command;
    }

    private static int Report(string profileChoice, string[]? findings, string? output)
    {
        var profile = ReproduceCommand.ResolveProfile(profileChoice);
        var result = new ReportBuilder(profile).Build(ReproduceCommand.FindingIds(findings), output);
        Print(result);
        return 0;
    }

    /// <summary>One line per finding (verdict, runs missing), then the paths written.</summary>
    public static void Print(ReportResult result)
    {
        foreach (var f in result.Data.Findings)
        {
            var state = f.Error is not null ? $"[red]{Markup.Escape(f.Error)}[/]"
                : Markup.Escape(f.Verdict.Text) + (f.Missing.Count > 0 ? $", [yellow]{f.Missing.Count} run(s) not stored[/]" : "");
            AnsiConsole.MarkupLine($"  {Markup.Escape(f.Id)} ({Markup.Escape(result.Data.Profile)}, {Markup.Escape(f.Dataset)}): {state}");
        }
        if (result.Data.ComparedWithPaper)
            AnsiConsole.MarkupLine(result.Data.Disagreements.Count == 0
                ? "  No disagreement with the paper beyond our spread."
                : $"  [yellow]{result.Data.Disagreements.Count} disagreement(s) with the paper[/]: see 'Where we disagree with the paper'.");
        AnsiConsole.MarkupLine($"Report: [bold]{Markup.Escape(result.MarkdownPath)}[/]");
        AnsiConsole.MarkupLine($"[grey]Numbers: {Markup.Escape(result.JsonPath)}; {result.FigurePaths.Count} figure(s) in {Markup.Escape(result.Folder)}[/]");
    }
}
