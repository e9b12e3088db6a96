using System.CommandLine;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Cli;

/// <summary>
/// The one error path of every command: an expected failure (<see cref="UserError"/>: bad input, data unavailable, a
/// diverged run, corrupt stored state, a failed check) becomes one message on stderr and its exit code
/// (<see cref="ExitCodes"/>); Ctrl+C is reported as stopped. Anything else is a programming error and is not caught
/// here, so it keeps its stack trace.
/// </summary>
public static class CliErrors
{
    /// <summary>Runs a command's action, writing an expected failure to the invocation's error writer (stderr by default).</summary>
    public static int Guard(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return action();
        }
        catch (UserError e)
        {
            error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: a file could not be read or written: {e.Message}");
            return ExitCodes.CorruptState;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("stopped: finished epochs (and finished blocks of gradient-competition trials) are kept; run the same command again to resume.");
            return ExitCodes.Stopped;
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
