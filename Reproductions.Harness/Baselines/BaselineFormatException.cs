namespace Reproductions.Harness.Baselines;

/// <summary>
/// A baseline file that cannot be used: not valid JSON, a missing or unknown field, or a value of the wrong kind.
/// The message names the file, the field (a path such as <c>metrics.test_accuracy.absoluteBand</c>) and what was
/// expected.
/// </summary>
public sealed class BaselineFormatException : Infrastructure.UserError
{
    public override int ExitCode => Infrastructure.ExitCodes.CorruptState;

    public BaselineFormatException(string filePath, string field, string problem, Exception? inner = null)
        : base($"Baseline file '{filePath}': field '{field}' {problem}", inner)
    {
        FilePath = filePath;
        Field = field;
        Problem = problem;
    }

    /// <summary>The file that was read.</summary>
    public string FilePath { get; }

    /// <summary>Path of the offending field, e.g. "metrics.test_accuracy.value"; "(root)" for the whole document.</summary>
    public string Field { get; }

    /// <summary>What is wrong and what was expected.</summary>
    public string Problem { get; }
}
