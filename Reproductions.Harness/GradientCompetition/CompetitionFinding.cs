using System.Globalization;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>
/// A finding measured on the gradient-competition trials (F05-F08), from <c>configs/&lt;finding&gt;.json</c>: its claim,
/// the blog's reference values, and per profile a description, the baseline's band settings and the claim's checks.
/// The trials themselves are the shared protocol's (<see cref="CompetitionProfile"/>, <c>configs/gradient-competition.json</c>).
/// </summary>
public sealed record CompetitionFinding(
    string Finding, string Profile, string Claim, string Description, BandSettings Bands,
    IReadOnlyDictionary<string, double> Checks, IReadOnlyDictionary<string, string> Reference, CompetitionProfile Protocol, string Source)
{
    private static readonly HashSet<string> TopKeys = new(StringComparer.OrdinalIgnoreCase) { "finding", "claim", "protocol", "reference", "profiles" };
    private static readonly HashSet<string> ProfileKeys = new(StringComparer.OrdinalIgnoreCase) { "description", "bands", "checks" };

    /// <summary>A number the finding's checks use (e.g. the claimed slope and its resolution), named in the file.</summary>
    public double Check(string name) =>
        Checks.TryGetValue(name, out var v) ? v : throw new ConfigException($"{Source} profiles:{Profile}:checks has no '{name}' (it has {string.Join(", ", Checks.Keys)}).");

    /// <summary>True when <c>configs/&lt;finding&gt;.json</c> names the gradient-competition protocol.</summary>
    public static bool UsesProtocol(string finding, string? configsFolder = null)
    {
        var path = Path.Combine(configsFolder ?? RepoPaths.Configs, $"{finding}.json");
        return File.Exists(path) && string.Equals(ConfigLoader.ReadJson(path)["protocol"], CompetitionProfile.ProtocolName, StringComparison.Ordinal);
    }

    public static CompetitionFinding Load(string finding, string profile, string? configsFolder = null)
    {
        var folder = configsFolder ?? RepoPaths.Configs;
        var path = Path.Combine(folder, $"{finding}.json");
        var file = ConfigLoader.ReadJson(path);
        var source = CompetitionProfile.Relative(path);
        ConfigLoader.RejectUnknownKeys(file, source, TopKeys);
        if (!string.Equals(file["finding"], finding, StringComparison.Ordinal))
            throw new ConfigException($"{source}: finding = '{file["finding"]}': expected '{finding}' (the file's name).");
        if (!string.Equals(file["protocol"], CompetitionProfile.ProtocolName, StringComparison.Ordinal))
            throw new ConfigException($"{source}: protocol = '{file["protocol"]}': expected '{CompetitionProfile.ProtocolName}'.");
        var section = ConfigLoader.ProfileSection(file, source, profile, ProfileKeys);
        var where = $"{source} profiles:{profile}";

        var bands = section.GetSection("bands");
        foreach (var child in bands.GetChildren())
            if (child.Key is not ("stdMultiplier" or "minAbsolute" or "minRelative"))
                throw new ConfigException($"{where}:bands: unknown key '{child.Key}'. Known keys: stdMultiplier, minAbsolute, minRelative.");
        var settings = new BandSettings(Number(where, "bands:stdMultiplier", bands["stdMultiplier"] ?? "4"),
            Number(where, "bands:minAbsolute", bands["minAbsolute"] ?? "0"), Number(where, "bands:minRelative", bands["minRelative"] ?? "0"));
        if (settings.StdMultiplier <= 0 || settings.MinAbsolute < 0 || settings.MinRelative < 0)
            throw new ConfigException($"{where}:bands: stdMultiplier must be positive and the floors non-negative.");
        var checks = section.GetSection("checks").GetChildren()
            .ToDictionary(c => c.Key, c => Number(where, $"checks:{c.Key}", c.Value), StringComparer.OrdinalIgnoreCase);
        var reference = file.GetSection("reference").GetChildren().ToDictionary(c => c.Key, c => c.Value ?? "", StringComparer.OrdinalIgnoreCase);
        return new CompetitionFinding(finding, profile, file["claim"] ?? "", section["description"] ?? "", settings, checks, reference,
            CompetitionProfile.Load(profile, folder), source);
    }

    private static double Number(string where, string key, string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new ConfigException($"{where}: {key} = '{value}': expected a number.");
}
