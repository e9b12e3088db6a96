namespace Reproductions.Harness.Infrastructure;

/// <summary>The exit codes every command of the harness returns (the README lists them).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad input: a config, an option, a value, a file that is not what it should be.</summary>
    public const int BadInput = 2;
    /// <summary>No source could supply a verified copy of the data.</summary>
    public const int DataUnavailable = 3;
    /// <summary>A training run diverged: its loss or weights became non-finite, or its loss rose past its bound.</summary>
    public const int Diverged = 4;
    /// <summary>Stored state (a result, a checkpoint, a baseline file) is corrupt or belongs elsewhere.</summary>
    public const int CorruptState = 5;
    /// <summary>A claim did not hold, or a baseline check or its accept step failed.</summary>
    public const int CheckFailed = 6;
    /// <summary>Stopped by Ctrl+C (what finished is kept; the same command resumes).</summary>
    public const int Stopped = 130;
}

/// <summary>
/// An expected failure: a command reports it as one message on stderr and returns its <see cref="ExitCode"/>, with no
/// stack trace. Anything else that escapes a command is a programming error and keeps its stack trace.
/// </summary>
public abstract class UserError(string message, Exception? inner = null) : Exception(message, inner)
{
    public abstract int ExitCode { get; }
}

/// <summary>Bad input that is not a config file: a command-line value out of range, an action not allowed here.</summary>
public sealed class BadInputException(string message) : UserError(message)
{
    public override int ExitCode => ExitCodes.BadInput;
}

/// <summary>Stored state that cannot be used: unreadable, failing its checksum, or holding another unit's data.</summary>
public sealed class CorruptStateException(string message, Exception? inner = null) : UserError(message, inner)
{
    public override int ExitCode => ExitCodes.CorruptState;
}

/// <summary>A training run that diverged (an outcome that is stored, never a finished result).</summary>
public sealed class RunDivergedException(string message) : UserError(message)
{
    public override int ExitCode => ExitCodes.Diverged;
}

/// <summary>A claim that did not hold, or a baseline check or accept step that failed.</summary>
public sealed class CheckFailedException(string message) : UserError(message)
{
    public override int ExitCode => ExitCodes.CheckFailed;
}

/// <summary>Moves a file or folder that cannot be used aside (never deletes it), naming where it went.</summary>
public static class SetAside
{
    /// <summary>
    /// <paramref name="read"/>'s value; when it finds the file at <paramref name="path"/> unusable
    /// (<see cref="CorruptStateException"/>), the file is moved aside, the reason and the new path are logged followed by
    /// <paramref name="then"/> (what happens instead), and null is returned. <paramref name="into"/>: as for <see cref="Move"/>.
    /// </summary>
    public static T? ReadOrMove<T>(string path, Func<T?> read, Action<string>? log, string then, string? into = null) where T : class
    {
        try
        {
            return read();
        }
        catch (CorruptStateException e)
        {
            var aside = Move(path, into: into);
            log?.Invoke($"{e.Message} Moved aside to {aside}; {then}");
            return null;
        }
    }

    /// <summary>
    /// Renames <paramref name="path"/> to "&lt;path&gt;.corrupt-&lt;UTC time&gt;" (a random suffix when that name is taken)
    /// and returns the new path; <paramref name="utcNow"/> stands in for the clock in tests. With <paramref name="into"/>,
    /// the file goes into that folder (created) under that name: for a file in a folder that is deleted later (a run's
    /// scratch folder), whose moved-aside files must outlive it.
    /// </summary>
    public static string Move(string path, DateTime? utcNow = null, string? into = null)
    {
        var stamp = (utcNow ?? DateTime.UtcNow).ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        if (into is not null) Directory.CreateDirectory(into);
        var aside = $"{(into is null ? path : Path.Combine(into, Path.GetFileName(Path.TrimEndingDirectorySeparator(path))))}.corrupt-{stamp}";
        if (File.Exists(aside) || Directory.Exists(aside)) aside += "-" + Guid.NewGuid().ToString("N")[..8];
        if (Directory.Exists(path)) Directory.Move(path, aside);
        else File.Move(path, aside);
        return aside;
    }
}
