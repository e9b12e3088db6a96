using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>Turns the harness's expected failures (bad config, bad data, missing device) into one clear line and exit code 2.</summary>
public static class CliErrors
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is ConfigException or InvalidDataException or IOException or InvalidOperationException or OperationCanceledException)
        {
            var kind = e is OperationCanceledException ? "stopped" : "error";
            AnsiConsole.MarkupLine($"[red]{kind}:[/] {Markup.Escape(e.Message)}");
            if (e is OperationCanceledException)
                AnsiConsole.MarkupLine("[grey]Finished epochs (and finished blocks of gradient-competition trials) are kept; run the same command again to resume.[/]");
            return 2;
        }
    }

    /// <summary>Ctrl+C cancels between epochs (the checkpoint of the last finished epoch is kept) instead of killing the process.</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var source = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (source.IsCancellationRequested) return; // a second Ctrl+C kills at once
            e.Cancel = true;
            source.Cancel();
        };
        return source;
    }
}
