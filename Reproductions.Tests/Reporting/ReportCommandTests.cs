using Reproductions.Harness.Reporting;
using Reproductions.Harness.Infrastructure;
using System.CommandLine;
using Reproductions.Harness.Cli;
using Spectre.Console;

namespace Reproductions.Tests.Reporting;

[Unit]
[NonParallelizable] // swaps the process-wide AnsiConsole
public sealed class ReportCommandTests
{
    [Test]
    public void Report_rebuilds_from_the_store_without_training_and_prints_where_it_wrote()
    {
        var output = Path.Combine(Path.GetTempPath(), "repro-report-cli", Guid.NewGuid().ToString("N"));
        using var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = 1000;
        try
        {
            // The repository's F01 config and run store: whatever is stored is reported, nothing is trained.
            var exit = CommandLine.Build().Parse(["report", "--profile", "quick", "--findings", "F01", "--output", output]).Invoke();

            var markdown = Path.Combine(output, "REPORT.md");
            // Whatever is stored decides the exit code: 0 when every claim holds or is inconclusive, 6 when one is
            // not measured (nothing stored yet) or does not hold.
            var open = ReportBuilder.Read(Path.Combine(output, "report.json")).Findings.Any(f => f.ClaimFails);
            exit.Should().Be(open ? ExitCodes.CheckFailed : ExitCodes.Ok, writer.ToString());
            File.Exists(markdown).Should().BeTrue();
            File.Exists(Path.Combine(output, "report.json")).Should().BeTrue();
            writer.ToString().Should().Contain($"Report: {markdown}").And.Contain("Claims (quick profile), decided from the stored runs")
                .And.Contain("test_accuracy_falls_as_batch_size_grows").And.Contain("claims in 1 finding(s), quick profile:");
            File.ReadAllText(markdown).Should().Contain("## F01: Higher batch size gives lower asymptotic test (and train) accuracy.");
        }
        finally
        {
            AnsiConsole.Console = previous;
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Test]
    public void Report_refuses_an_unknown_profile()
    {
        var parse = CommandLine.Build().Parse(["report", "--profile", "medium"]);
        parse.Errors.Should().NotBeEmpty();
    }
}
