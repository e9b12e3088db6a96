namespace Reproductions.Harness.Baselines;

/// <summary>The environment variables that decide whether baselines may be written.</summary>
public static class BaselineEnvironment
{
    /// <summary>Set (to anything non-empty) on CI; baselines are then never written or accepted.</summary>
    public const string CiVariable = "CI";

    /// <summary>Set to 1 (or true) to let <see cref="BaselineGate"/> write verified baselines directly, outside CI.</summary>
    public const string AcceptVariable = "REPRO_ACCEPT_BASELINES";

    /// <summary>Whether CI is set to a non-empty value.</summary>
    public static bool IsCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CiVariable));

    /// <summary>The value of CI, for messages.</summary>
    public static string? CiValue => Environment.GetEnvironmentVariable(CiVariable);

    /// <summary>Whether REPRO_ACCEPT_BASELINES asks for direct acceptance ("1" or "true"; CI is not considered here).</summary>
    public static bool AcceptRequested =>
        Environment.GetEnvironmentVariable(AcceptVariable)?.Trim() is { } value &&
        (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>The command that promotes a received baseline.</summary>
    public static string AcceptCommand(string profile, string dataset, string finding) =>
        $"dotnet run --project Reproductions.Harness -- baselines accept --profile {profile} --dataset {dataset} --finding {finding}";

    internal static void ThrowIfCi(string action)
    {
        if (IsCi)
            throw new Infrastructure.BadInputException(
                $"Refusing to {action}: the {CiVariable} environment variable is set ('{CiValue}'). Baselines change only by an " +
                "explicit accept on a developer machine: run the finding there, review baselines/<profile>/<dataset>/<finding>.received.json, " +
                "accept it with 'dotnet run --project Reproductions.Harness -- baselines accept', and commit the result.");
    }
}
