using System.Globalization;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Experiments;

/// <summary>How wide the baseline bands of a finding's profile are, as a function of the spread across seeds.</summary>
public sealed record BandSettings(double StdMultiplier, double MinAbsolute, double MinRelative);

/// <summary>One figure of a finding's report section (see configs/README.md for the kinds).</summary>
/// <param name="Kind">curves (a metric per epoch, one line per run, mean over seeds with a band of one std),
/// heatmap (a final metric over a grid of two settings), layers (final per-layer cosines to init, grouped by run),
/// bars (a final metric per run).</param>
/// <param name="Metric">An <see cref="Training.EpochMetrics"/> property in camelCase, e.g. testAccuracy, weightDistance, layerCosines.</param>
/// <param name="Runs">The runs to show, in order; empty: all of the profile's runs.</param>
/// <param name="LastEpochs">curves: show only the last N epochs of each run (the blog's F04 plots), 0: all.</param>
/// <param name="X">curves: "epoch" (default) or "steps"; heatmap: the setting on the x axis (learningRate, batchSize).</param>
/// <param name="Y">heatmap: the setting on the y axis.</param>
public sealed record FigureSpec(string Kind, string Metric, string Title, IReadOnlyList<string> Runs, int LastEpochs, string X, string Y);

/// <summary>What a finding's report shows: final metrics per run (mean and std over seeds) and figures.</summary>
public sealed record ReportSpec(IReadOnlyList<string> Metrics, IReadOnlyList<FigureSpec> Figures)
{
    public static readonly ReportSpec Default = new(["trainAccuracy", "testAccuracy", "generalizationGap"], []);
}

/// <summary>One named training setting of a finding (e.g. "bs64"), expandable to one config per seed.</summary>
public sealed record RunDefinition(string Name, IReadOnlyList<ConfigLayer> Layers)
{
    public TrainingConfig ForSeed(long seed) =>
        ConfigLoader.Build(Layers.Append(ConfigLayer.FromPairs($"seed {seed}", ("seed", seed))).Append(ConfigLoader.EnvironmentLayer()));
}

/// <summary>
/// A finding's profile as read from <c>configs/&lt;finding&gt;.json</c>, layered over <c>configs/defaults.json</c>
/// (the blog's setup): the seeds, the named runs, and the band settings for its baseline.
/// </summary>
public sealed record FindingProfile(
    string Finding, string Profile, string Claim, string Description, IReadOnlyList<long> Seeds,
    IReadOnlyList<RunDefinition> Runs, BandSettings Bands, string Source,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Reference, ReportSpec Report)
{
    /// <summary>The paper's or blog's value for a run's metric, as text (it is often a range), or null.</summary>
    public string? ReferenceFor(string run, string metric) =>
        Reference.TryGetValue(run, out var m) && m.TryGetValue(metric, out var v) ? v : null;

    public RunDefinition Run(string name) =>
        Runs.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ConfigException($"{Source}: profile '{Profile}' has no run '{name}' (it has {string.Join(", ", Runs.Select(r => r.Name))}).");

    public static readonly string[] Profiles = ["quick", "full"];

    private static readonly HashSet<string> TopKeys = new(StringComparer.OrdinalIgnoreCase) { "finding", "claim", "reference", "report", "profiles" };
    private static readonly HashSet<string> ReportKeys = new(StringComparer.OrdinalIgnoreCase) { "metrics", "figures" };
    private static readonly HashSet<string> FigureKeys = new(StringComparer.OrdinalIgnoreCase) { "kind", "metric", "title", "runs", "lastEpochs", "x", "y" };
    public static readonly string[] FigureKinds = ["curves", "heatmap", "layers", "bars"];
    private static readonly HashSet<string> ProfileKeys = new(StringComparer.OrdinalIgnoreCase) { "description", "seeds", "base", "runs", "bands", "report" };
    private static readonly HashSet<string> BandKeys = new(StringComparer.OrdinalIgnoreCase) { "stdMultiplier", "minAbsolute", "minRelative" };

    public static FindingProfile Load(string finding, string profile, string? configsFolder = null)
    {
        var folder = configsFolder ?? RepoPaths.Configs;
        var path = Path.Combine(folder, $"{finding}.json");
        var defaultsPath = Path.Combine(folder, "defaults.json");
        var file = ConfigLoader.ReadJson(path);
        var source = Relative(path);

        ConfigLoader.RejectUnknownKeys(file, source, TopKeys);
        var id = file["finding"];
        if (!string.Equals(id, finding, StringComparison.Ordinal))
            throw new ConfigException($"{source}: finding = '{id}': expected '{finding}' (the file's name).");

        var section = ConfigLoader.ProfileSection(file, source, profile, ProfileKeys);
        var where = $"{source} profiles:{profile}";

        var seeds = section.GetSection("seeds").GetChildren().Select(c => ParseLong(where, "seeds", c.Value)).ToList();
        if (seeds.Count == 0) throw new ConfigException($"{where}: seeds is empty; list at least one seed.");
        if (seeds.Distinct().Count() != seeds.Count) throw new ConfigException($"{where}: seeds repeat a value: [{string.Join(", ", seeds)}].");

        var defaults = ConfigLayer.FromSection(Relative(defaultsPath), ConfigLoader.ReadJson(defaultsPath));
        var baseLayer = ConfigLayer.FromSection($"{where}:base", section.GetSection("base"));
        var runsSection = section.GetSection("runs");
        var runs = runsSection.GetChildren()
            .Select(r => new RunDefinition(r.Key, [defaults, baseLayer, ConfigLayer.FromSection($"{where}:runs:{r.Key}", r)]))
            .ToList();
        if (runs.Count == 0) throw new ConfigException($"{where}: runs is empty; define at least one run.");
        foreach (var run in runs) run.ForSeed(seeds[0]); // validates every run's layers now, with the file named

        var bands = section.GetSection("bands");
        foreach (var child in bands.GetChildren())
            if (!BandKeys.Contains(child.Key))
                throw new ConfigException($"{where}:bands: unknown key '{child.Key}'. Known keys: {string.Join(", ", BandKeys)}.");
        var settings = new BandSettings(
            ParseDouble(where, "bands:stdMultiplier", bands["stdMultiplier"] ?? "4"),
            ParseDouble(where, "bands:minAbsolute", bands["minAbsolute"] ?? "0"),
            ParseDouble(where, "bands:minRelative", bands["minRelative"] ?? "0"));
        if (settings.StdMultiplier <= 0 || settings.MinAbsolute < 0 || settings.MinRelative < 0)
            throw new ConfigException($"{where}:bands: stdMultiplier must be positive and the floors non-negative.");

        var reference = file.GetSection("reference").GetChildren().ToDictionary(
            r => r.Key,
            r => (IReadOnlyDictionary<string, string>)r.GetChildren().ToDictionary(m => m.Key, m => m.Value ?? "", StringComparer.OrdinalIgnoreCase),
            StringComparer.OrdinalIgnoreCase);
        return new FindingProfile(finding, profile, file["claim"] ?? "", section["description"] ?? "", seeds, runs, settings, source, reference,
            ReadReport(source, section.GetSection("report").Exists() ? section.GetSection("report") : file.GetSection("report"), runs));
    }

    private static ReportSpec ReadReport(string source, IConfigurationSection report, IReadOnlyList<RunDefinition> runs)
    {
        if (!report.Exists()) return ReportSpec.Default;
        foreach (var child in report.GetChildren())
            if (!ReportKeys.Contains(child.Key))
                throw new ConfigException($"{source} report: unknown key '{child.Key}'. Known keys: {string.Join(", ", ReportKeys)}.");
        var metrics = report.GetSection("metrics").GetChildren().Select(c => c.Value ?? "").ToList();
        foreach (var m in metrics)
            if (!MetricNames.IsKnown(m))
                throw new ConfigException($"{source} report:metrics: '{m}' is not a metric; known: {string.Join(", ", MetricNames.All)}.");
        var figures = new List<FigureSpec>();
        foreach (var f in report.GetSection("figures").GetChildren())
        {
            var where = $"{source} report:figures:{f.Key}";
            foreach (var child in f.GetChildren())
                if (!FigureKeys.Contains(child.Key))
                    throw new ConfigException($"{where}: unknown key '{child.Key}'. Known keys: {string.Join(", ", FigureKeys)}.");
            var kind = f["kind"] ?? "";
            if (!FigureKinds.Contains(kind))
                throw new ConfigException($"{where}: kind = '{kind}': expected one of {string.Join(", ", FigureKinds)}.");
            var metric = f["metric"] ?? (kind == "layers" ? "layerCosines" : "");
            if (!MetricNames.IsKnown(metric))
                throw new ConfigException($"{where}: metric = '{metric}': expected one of {string.Join(", ", MetricNames.All)}.");
            var figureRuns = f.GetSection("runs").GetChildren().Select(c => c.Value ?? "").ToList();
            foreach (var r in figureRuns)
                if (!runs.Any(d => string.Equals(d.Name, r, StringComparison.OrdinalIgnoreCase)))
                    throw new ConfigException($"{where}: runs names '{r}', which this profile does not define.");
            var lastEpochs = f["lastEpochs"] is { } le ? (int)ParseLong(where, "lastEpochs", le) : 0;
            var x = f["x"] ?? (kind == "heatmap" ? "learningRate" : "epoch");
            var y = f["y"] ?? (kind == "heatmap" ? "batchSize" : "");
            figures.Add(new FigureSpec(kind, metric, f["title"] ?? $"{metric} ({kind})", figureRuns, lastEpochs, x, y));
        }
        return new ReportSpec(metrics.Count > 0 ? metrics : ReportSpec.Default.Metrics, figures);
    }

    private static long ParseLong(string where, string key, string? value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v : throw new ConfigException($"{where}: {key} = '{value}': expected a non-negative integer.");

    private static double ParseDouble(string where, string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new ConfigException($"{where}: {key} = '{value}': expected a number.");

    private static string Relative(string path)
    {
        try { return Path.GetRelativePath(RepoPaths.Root, path); }
        catch (InvalidOperationException) { return path; }
    }
}
