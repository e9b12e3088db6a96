using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Findings;

/// <summary>
/// One profile of a finding, as read from <c>configs/&lt;finding&gt;.json</c>: the claim and the paper's numbers, the
/// experiment its protocol binds (training runs, the gradient competition, ...), the baseline's band settings and what
/// the report shows.
/// <para>
/// The <c>full</c> profile is written out; every other profile is declared as what it changes in <c>full</c>
/// (<c>"changes"</c>, see <see cref="ConfigFiles.Patch"/>), and <see cref="Changes"/> lists that declaration with the
/// full values it replaces. A finding whose experiment is shared with others (the gradient competition of F05-F08)
/// names it with <c>"experiment"</c>: the protocol's settings then come from <c>configs/&lt;experiment&gt;.json</c>,
/// which declares its own profiles the same way.
/// </para>
/// </summary>
public sealed record FindingProfile(
    string Finding, string Profile, string Claim, string Description, string Source, Experiment Experiment, BandSettings Bands,
    ReportSpec Report, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Reference, IReadOnlyDictionary<string, double> Checks,
    IReadOnlyList<string> Changes, IReadOnlyList<ClaimSpec> AllClaims, IReadOnlyDictionary<string, string> BaselineLeftOut,
    IReadOnlyList<ClaimSpec> AllEstimates, TestTier QuickTier, string PaperDataset)
{
    /// <summary>
    /// Whether this profile reads the dataset the paper's numbers and claims were made on (its config's own). On another
    /// dataset the claims are evaluated unchanged, but a claim that does not hold is a result, not a failure: its verdict
    /// is snapshotted in the dataset's baseline, and there is no paper column.
    /// </summary>
    public bool OnPaperDataset => Dataset == PaperDataset;

    /// <summary>The test category this profile's cases run in: Gpu for full; Quick, or Extended where the quick profile does not fit CI.</summary>
    public TestTier Tier => Profile == FullProfile ? TestTier.Gpu : QuickTier;

    /// <summary>The estimates of this profile (numbers measured and shown, never asserted), in the config's order.</summary>
    public IReadOnlyList<ClaimSpec> Estimates => AllEstimates.Where(c => c.AppliesTo(Profile)).ToList();

    /// <summary>Every estimate of this profile measured on <paramref name="measured"/>.</summary>
    public IReadOnlyList<ClaimVerdict> Estimate(Protocols.Measured measured) => ClaimEvaluator.EvaluateAll(Estimates, measured);

    /// <summary>The claims asserted in this profile, in the config's order.</summary>
    public IReadOnlyList<ClaimSpec> Claims => AllClaims.Where(c => c.AppliesTo(Profile)).ToList();

    /// <summary>The claims left to other profiles, with why (the report shows them).</summary>
    public IReadOnlyList<(ClaimSpec Claim, string Reason)> ClaimsLeftOut =>
        AllClaims.Where(c => !c.AppliesTo(Profile)).Select(c => (c, c.LeftOut.GetValueOrDefault(Profile, ""))).ToList();

    /// <summary>Every claim of this profile decided on <paramref name="measured"/>.</summary>
    public IReadOnlyList<ClaimVerdict> Evaluate(Protocols.Measured measured) => ClaimEvaluator.EvaluateAll(Claims, measured);

    public const string FullProfile = "full";
    public static readonly string[] Profiles = ["quick", "full"];

    private static readonly HashSet<string> TopKeys = new(StringComparer.Ordinal) { "finding", "claim", "protocol", "experiment", "reference", "report", "claims", "estimates", "quickTier", "profiles" };
    private static readonly HashSet<string> ExperimentTopKeys = new(StringComparer.Ordinal) { "protocol", "description", "profiles" };
    private static readonly HashSet<string> FindingKeys = new(StringComparer.Ordinal) { "description", "bands", "report", "checks", "baseline" };
    private static readonly HashSet<string> DeclaredKeys = new(StringComparer.Ordinal) { "description", "changes" };
    private static readonly HashSet<string> BandKeys = new(StringComparer.OrdinalIgnoreCase) { "stdMultiplier", "minAbsolute", "minRelative" };

    public Protocol Protocol => Experiment.Protocol;
    public string Dataset => Experiment.Dataset;
    public IReadOnlyList<long> Seeds => Experiment.Seeds;

    /// <summary>The paper's or blog's value for a group's metric, as text (it is often a range), or null.</summary>
    public string? ReferenceFor(string group, string metric) =>
        Reference.TryGetValue(group, out var m) && m.TryGetValue(metric, out var v) ? v : null;

    /// <summary>A number the finding's checks use (e.g. the claimed slope and its resolution), named in the file.</summary>
    public double Check(string name) =>
        Checks.TryGetValue(name, out var v) ? v : throw new ConfigException($"{Source} profiles:{Profile}:checks has no '{name}' (it has {string.Join(", ", Checks.Keys)}).");

    /// <summary>Every finding with a config (configs/F*.json), in id order.</summary>
    public static IReadOnlyList<string> All(string? configsFolder = null) =>
        Directory.GetFiles(configsFolder ?? RepoPaths.Configs, "F*.json")
            .Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Loads a finding's profile. <paramref name="dataset"/> runs it on another dataset than its config's (the findings'
    /// papers used MNIST): every run reads that dataset instead, the claims are the same, and the paper's numbers are
    /// dropped (they describe the paper's dataset; <see cref="PaperDataset"/> keeps its name). Null: the config's dataset.
    /// </summary>
    public static FindingProfile Load(string finding, string profile, string? configsFolder = null, ProtocolCatalog? catalog = null, string? dataset = null)
    {
        if (dataset is not null && !Data.DatasetSpecs.All.Any(d => d.Name == dataset))
            throw new ConfigException($"dataset '{dataset}': expected one of {string.Join(", ", Data.DatasetSpecs.All.Select(d => d.Name))}.");
        catalog ??= ProtocolCatalog.Default;
        var folder = configsFolder ?? RepoPaths.Configs;
        var path = Path.Combine(folder, $"{finding}.json");
        var source = ConfigFiles.Relative(path);
        if (!Identifier(finding)) throw new ConfigException($"finding '{finding}': expected an id such as F01 (letters, digits, '-', '_').");
        var file = ConfigFiles.ReadObject(path);
        ConfigFiles.RejectUnknownKeys(file, source, TopKeys);
        var id = Text(file, "finding");
        if (!string.Equals(id, finding, StringComparison.Ordinal))
            throw new ConfigException($"{source}: finding = '{id ?? "(missing)"}': expected '{finding}' (the file's name).");

        var (section, changes) = ProfileOf(file, source, profile, "");
        var where = $"{source} profiles:{profile}";

        // The protocol's settings: the finding's own profile, or the shared experiment it names.
        var ownKeys = FindingKeys.ToHashSet(StringComparer.Ordinal);
        Experiment bound;
        string paperDataset;
        if (Text(file, "experiment") is { } experimentName)
        {
            (bound, var experimentChanges) = LoadExperiment(experimentName, profile, folder, catalog);
            paperDataset = bound.Dataset;
            if (dataset is not null && dataset != paperDataset) bound = LoadExperiment(experimentName, profile, folder, catalog, dataset).Experiment;
            if (Text(file, "protocol") is { } named && named != bound.Protocol.Name)
                throw new ConfigException($"{source}: protocol = '{named}', but its experiment configs/{experimentName}.json is a '{bound.Protocol.Name}' protocol.");
            changes = [.. changes, .. experimentChanges];
            ConfigFiles.RejectUnknownKeys(section, where, ownKeys);
        }
        else
        {
            var protocol = catalog.Get(Text(file, "protocol") ?? TrainingProtocol.ProtocolName, source);
            ownKeys.UnionWith(protocol.Keys);
            var protocolSection = new JsonObject();
            foreach (var (key, value) in section)
                if (protocol.Keys.Contains(key)) protocolSection[key] = value?.DeepClone();
            ConfigFiles.RejectUnknownKeys(section, where, ownKeys);
            bound = protocol.Bind(new ProtocolSection(ConfigFiles.ToConfiguration(protocolSection, where), where, profile, folder));
            paperDataset = bound.Dataset;
            if (dataset is not null && dataset != paperDataset)
                bound = protocol.Bind(new ProtocolSection(ConfigFiles.ToConfiguration(protocolSection, where), where, profile, folder, dataset));
        }

        var configuration = ConfigFiles.ToConfiguration(section, where);
        var topLevel = ConfigFiles.ToConfiguration(ConfigFiles.Select(file, "reference", "report"), source);
        var report = configuration.GetSection("report").Exists()
            ? ReportSpec.Read($"{where}:report", configuration.GetSection("report"), bound)
            : ReportSpec.Read($"{source} report", topLevel.GetSection("report"), bound);
        var reference = bound.Dataset != paperDataset ? new Dictionary<string, IReadOnlyDictionary<string, string>>() : topLevel.GetSection("reference").GetChildren().ToDictionary(
            r => r.Key,
            r => (IReadOnlyDictionary<string, string>)r.GetChildren().ToDictionary(m => m.Key, m => m.Value ?? "", StringComparer.OrdinalIgnoreCase),
            StringComparer.OrdinalIgnoreCase);
        var checks = configuration.GetSection("checks").GetChildren()
            .ToDictionary(c => c.Key, c => ConfigFiles.Number($"{where}:checks", c.Key, c.Value), StringComparer.OrdinalIgnoreCase);
        var profiles = (file["profiles"] as JsonObject)!.Select(p => p.Key).ToList();
        var claims = ClaimSpec.ReadAll(file["claims"], source, profiles);
        var estimates = ClaimSpec.ReadAll(file["estimates"], source, profiles, estimates: true);
        foreach (var claim in claims.Concat(estimates).Where(c => c.AppliesTo(profile)))
            foreach (var r in claim.Parts.SelectMany(p => p.Refs))
            {
                if (!bound.Groups.Contains(r.Group, StringComparer.OrdinalIgnoreCase))
                    throw new ConfigException($"{claim.Source}: '{r}' names '{r.Group}', which profile {profile} does not define (it has {string.Join(", ", bound.Groups)}).");
                if (!bound.Protocol.IsMetric(r.Metric))
                    throw new ConfigException($"{claim.Source}: '{r}' names '{r.Metric}', which is not a metric of the {bound.Protocol.Name} protocol; known: {string.Join(", ", bound.Protocol.Metrics)}.");
            }
        var baseline = configuration.GetSection("baseline");
        foreach (var child in baseline.GetChildren())
            if (child.Key != "leftOut") throw new ConfigException($"{where}:baseline: unknown key '{child.Key}'. Known keys: leftOut.");
        var leftOut = baseline.GetSection("leftOut").GetChildren().ToDictionary(c => c.Key,
            c => string.IsNullOrWhiteSpace(c.Value) ? throw new ConfigException($"{where}:baseline:leftOut:{c.Key}: give the reason the metric leaves the baseline.") : c.Value,
            StringComparer.Ordinal);
        return new FindingProfile(finding, profile, Text(file, "claim") ?? "", configuration["description"] ?? "", source, bound,
            ReadBands(where, configuration.GetSection("bands")), report, reference, checks, changes, claims, leftOut, estimates,
            DatasetTiers.Load(folder).QuickTier(bound.Dataset, paperDataset) ?? TestTier.Read(file["quickTier"], source), paperDataset);
    }

    /// <summary>
    /// A shared experiment (<c>configs/&lt;name&gt;.json</c>: a protocol and its profiles, full written out, the others as
    /// changes), bound for <paramref name="profile"/>, with the lines that declare what that profile changes in full.
    /// </summary>
    public static (Experiment Experiment, IReadOnlyList<string> Changes) LoadExperiment(string name, string profile, string? configsFolder = null, ProtocolCatalog? catalog = null, string? dataset = null)
    {
        catalog ??= ProtocolCatalog.Default;
        var folder = configsFolder ?? RepoPaths.Configs;
        if (!Identifier(name)) throw new ConfigException($"experiment = '{name}': expected a config name such as gradient-competition.");
        var path = Path.Combine(folder, $"{name}.json");
        var source = ConfigFiles.Relative(path);
        var file = ConfigFiles.ReadObject(path);
        ConfigFiles.RejectUnknownKeys(file, source, ExperimentTopKeys);
        var protocol = catalog.Get(Text(file, "protocol") ?? "(missing)", source);
        var (section, changes) = ProfileOf(file, source, profile, $"{name}: ");
        var where = $"{source} profiles:{profile}";
        ConfigFiles.RejectUnknownKeys(section, where, protocol.Keys.Append("description"));
        section.Remove("description");
        return (protocol.Bind(new ProtocolSection(ConfigFiles.ToConfiguration(section, where), where, profile, folder, dataset)), changes);
    }

    /// <summary>
    /// A profile's section of a finding or experiment file: <c>full</c> as written; any other as <c>full</c> with its
    /// <c>changes</c> applied (its own description replacing full's), with the lines that describe those changes.
    /// </summary>
    private static (JsonObject Section, IReadOnlyList<string> Changes) ProfileOf(JsonObject file, string source, string profile, string prefix)
    {
        var profiles = file["profiles"] as JsonObject ?? throw new ConfigException($"{source}: profiles is missing or not an object.");
        if (profiles[profile] is not JsonObject declared)
            throw new ConfigException($"{source}: no profile '{profile}' (has {string.Join(", ", profiles.Select(p => p.Key))}).");
        if (profiles[FullProfile] is not JsonObject full)
            throw new ConfigException($"{source}: profiles:{FullProfile} is missing or not an object; every other profile is declared as changes to it.");
        if (profile == FullProfile) return ((JsonObject)full.DeepClone(), []);
        var where = $"{source} profiles:{profile}";
        ConfigFiles.RejectUnknownKeys(declared, where, DeclaredKeys);
        if (declared["changes"] is not JsonObject changes)
            throw new ConfigException($"{where}: changes is missing or not an object: a profile other than {FullProfile} is declared as what it changes in {FullProfile}.");
        var section = ConfigFiles.Patch(full, changes, $"{where}:changes");
        section.Remove("description");
        if (declared["description"] is { } description) section["description"] = description.DeepClone();
        var lines = ConfigFiles.DescribeChanges(full, changes, FullProfile).Select(l => prefix + l).ToList();
        return (section, lines);
    }

    private static BandSettings ReadBands(string where, IConfigurationSection bands)
    {
        var settings = ReadBandRule(where, "bands", bands, null);
        var reason = bands.GetSection("reason");
        if (reason.Exists() && reason.Value is null)
            throw new ConfigException($"{where}:bands:reason: expected text (why the floor has its value), not an object or a list.");
        if (settings.MinAbsolute > 0 || settings.MinRelative > 0)
        {
            if (string.IsNullOrWhiteSpace(reason.Value))
                throw new ConfigException($"{where}:bands: a floor (minAbsolute {NumberText.Format(settings.MinAbsolute)}, minRelative {NumberText.Format(settings.MinRelative)}) is a fixed threshold: give the reason for its value (bands:reason).");
            settings = settings with { Reason = reason.Value };
        }
        else if (reason.Exists())
            throw new ConfigException($"{where}:bands:reason: the bands have no floor, so there is no fixed value to give a reason for; remove reason or set minAbsolute or minRelative.");
        var overrides = new List<BandOverride>();
        foreach (var o in bands.GetSection("overrides").GetChildren())
        {
            var key = $"bands:overrides:{o.Key}";
            if (string.IsNullOrWhiteSpace(o["reason"]))
                throw new ConfigException($"{where}:{key}: give the reason this rule replaces the profile's bands for these metrics (reason).");
            var rule = ReadBandRule(where, key, o, settings);
            overrides.Add(new BandOverride(o.Key, rule.StdMultiplier, rule.MinAbsolute, rule.MinRelative, o["reason"]!));
        }
        return overrides.Count > 0 ? settings with { Overrides = overrides } : settings;
    }

    /// <summary>One band rule: the profile's (<paramref name="inherit"/> null: the defaults 4 x std, no floors) or an override's, whose missing settings are the profile's.</summary>
    private static BandSettings ReadBandRule(string where, string key, IConfigurationSection section, BandSettings? inherit)
    {
        string[] beside = inherit is null ? ["reason", "overrides"] : ["reason"]; // what a profile's rule, or an override, holds besides the settings
        foreach (var child in section.GetChildren())
            if (!BandKeys.Contains(child.Key) && !beside.Contains(child.Key, StringComparer.Ordinal))
                throw new ConfigException($"{where}:{key}: unknown key '{child.Key}'. Known keys: {string.Join(", ", BandKeys.Concat(beside))}.");
        string Text(string name, double fallback) => section[name] ?? fallback.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var settings = new BandSettings(
            ConfigFiles.Number(where, $"{key}:stdMultiplier", Text("stdMultiplier", inherit?.StdMultiplier ?? 4)),
            ConfigFiles.Number(where, $"{key}:minAbsolute", Text("minAbsolute", inherit?.MinAbsolute ?? 0)),
            ConfigFiles.Number(where, $"{key}:minRelative", Text("minRelative", inherit?.MinRelative ?? 0)));
        if (settings.StdMultiplier <= 0 || settings.MinAbsolute < 0 || settings.MinRelative < 0)
            throw new ConfigException($"{where}:{key}: stdMultiplier must be positive and the floors non-negative.");
        return settings;
    }

    private static string? Text(JsonObject json, string key) =>
        json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : json[key] is null ? null : json[key]!.ToJsonString();

    private static bool Identifier(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>
/// The test category a profile's cases run in. <c>Quick</c>: part of a plain <c>dotnet test</c> (CI); <c>Extended</c>: a
/// quick profile CI has no room for, explicit, run by the scheduled workflow; <c>Gpu</c>: the full profile, explicit.
/// A finding's config moves its quick profile to Extended with <c>"quickTier": {"category": "Extended", "reason": ...}</c>.
/// </summary>
public sealed record TestTier(string Category, string? Reason)
{
    public static readonly TestTier Quick = new("Quick", null);
    public static readonly TestTier Gpu = new("Gpu", "full profile: the paper's setup on a GPU; select with --filter Category=Gpu");

    /// <summary>Whether a plain <c>dotnet test</c> leaves the cases out (they run only when a filter selects their category).</summary>
    public bool Explicit => Category != Quick.Category;

    /// <summary>The command that runs a finding's cases of this tier (on <paramref name="dataset"/>, where it is not the paper's).</summary>
    public string TestCommand(string finding, string? dataset = null)
    {
        var on = dataset is null ? "" : $"&Dataset={dataset}";
        return Category switch
        {
            "Gpu" => $"dotnet test Reproductions.sln -p:TorchBackend=cuda --filter \"Finding={finding}{on}&Category=Gpu\"",
            "Quick" when dataset is null => $"dotnet test --filter Finding={finding}",
            _ => $"dotnet test --filter \"Finding={finding}{on}&Category={Category}\"",
        };
    }

    public static TestTier Read(System.Text.Json.Nodes.JsonNode? node, string source)
    {
        if (node is null) return Quick;
        if (node is not System.Text.Json.Nodes.JsonObject o) throw new ConfigException($"{source}: quickTier must be an object with category and reason.");
        ConfigFiles.RejectUnknownKeys(o, $"{source} quickTier", new HashSet<string>(StringComparer.Ordinal) { "category", "reason" });
        var category = o["category"] is { } c ? ConfigFiles.Value<string>(c, source, "quickTier:category") : null;
        if (category is not ("Quick" or "Extended"))
            throw new ConfigException($"{source}: quickTier:category = '{category ?? "(missing)"}': expected Quick or Extended.");
        var reason = o["reason"] is { } r ? ConfigFiles.Value<string>(r, source, "quickTier:reason") : null;
        if (category == "Extended" && string.IsNullOrWhiteSpace(reason))
            throw new ConfigException($"{source}: quickTier:reason is missing: say why the quick profile does not fit a plain dotnet test.");
        return category == "Quick" ? Quick : new TestTier(category, reason);
    }
}
