using System.Text.RegularExpressions;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// Checks for the names that become folder and file names under baselines/: a profile ("quick", "full") and a
/// finding id ("F01"). Only letters, digits, '-' and '_' are allowed, so a name can never escape its folder.
/// </summary>
public static partial class Identifiers
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeName();

    public static bool IsValid(string? name) => name is not null && SafeName().IsMatch(name);

    public static string Require(string? name, string paramName, string what)
    {
        if (!IsValid(name))
            throw new ArgumentException(
                $"The {what} '{name}' is not valid: expected letters, digits, '-' or '_' (starting with a letter or digit), e.g. " +
                (what == "profile" ? "'quick' or 'full'." : "'F01'."),
                paramName);
        return name!;
    }
}
