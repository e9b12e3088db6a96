using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Reporting;

/// <summary>Where a report was written and what it holds.</summary>
public sealed record ReportResult(string Folder, string MarkdownPath, string JsonPath, IReadOnlyList<string> FigurePaths, ReportData Data);

/// <summary>
/// Builds the report of one profile from the run store alone (it never trains): for each finding, its claim, what the
/// profile scales down, the verdicts its tests left in the <see cref="VerdictStore"/>, a table per run of the final
/// metrics (mean ± std over seeds) beside the paper's numbers, and its figures. Writes <c>REPORT.md</c>,
/// <c>report.json</c> (every number shown) and the PNG figures into one folder, each file atomically.
/// On the full profile, a paper's number that lies outside our mean ± max(2 std, its stated precision) is listed as
/// a disagreement; the quick profile is scaled down and is not compared numerically.
/// </summary>
public sealed partial class ReportBuilder
{
    public ReportBuilder(string profile, RunStore? store = null, VerdictStore? verdicts = null, string? configsFolder = null)
    {
        if (!FindingProfile.Profiles.Contains(profile))
            throw new ArgumentException($"profile '{profile}': expected one of {string.Join(", ", FindingProfile.Profiles)}.", nameof(profile));
        Profile = profile;
        Store = store ?? RunStore.Default;
        Verdicts = verdicts ?? VerdictStore.Default;
        ConfigsFolder = configsFolder;
    }

    public string Profile { get; }
    public RunStore Store { get; }
    public VerdictStore Verdicts { get; }
    /// <summary>Where the finding configs are read from; null: the repository's configs/.</summary>
    public string? ConfigsFolder { get; }

    /// <summary>True for the full profile: only it is compared numerically with the paper.</summary>
    public bool ComparesWithPaper => Profile == "full";

    /// <summary>artifacts/report/&lt;profile&gt;/</summary>
    public static string DefaultFolder(string profile) => Path.Combine(RepoPaths.Artifacts, "report", profile);

    /// <summary>
    /// Every finding trained through the run store (configs/F*.json), in id order. Findings whose config names a
    /// "protocol" (F05-F08, gradient competition) have their own report and are left out here.
    /// </summary>
    public static IReadOnlyList<string> AllFindings(string? configsFolder = null) =>
        Directory.GetFiles(configsFolder ?? RepoPaths.Configs, "F*.json")
            .Where(f => ConfigLoader.ReadJson(f)["protocol"] is null)
            .Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>The command that trains (or completes) a finding's runs for a profile.</summary>
    public static string TrainCommand(string profile, string finding) =>
        $"dotnet run --project Reproductions.Harness -- reproduce --profile {profile} --findings {finding}";

    /// <summary>The command that runs a finding's checks (tests) for a profile.</summary>
    public static string TestCommand(string profile, string finding) => profile == "full"
        ? $"dotnet test Reproductions.sln -p:TorchBackend=cuda --filter \"Finding={finding}&Category=Gpu\""
        : $"dotnet test --filter Finding={finding}";

    /// <summary>The command that rebuilds this report.</summary>
    public static string ReportCommand(string profile) => $"dotnet run --project Reproductions.Harness -- report --profile {profile}";

    [GeneratedRegex(@"^F\w*-\d+-(curves|heatmap|layers|bars)-\w+\.png$")]
    private static partial Regex FigureFile();

    /// <summary>Builds the report of <paramref name="findings"/> into <paramref name="folder"/> (default <see cref="DefaultFolder"/>).</summary>
    public ReportResult Build(IEnumerable<string> findings, string? folder = null)
    {
        var output = Path.GetFullPath(folder ?? DefaultFolder(Profile));
        Directory.CreateDirectory(output);
        foreach (var old in Directory.GetFiles(output, "*.png").Where(f => FigureFile().IsMatch(Path.GetFileName(f))))
            File.Delete(old); // figures of an earlier build; this one draws its own

        var sections = findings.Select(id => Section(id, output)).ToList();
        var disagreements = sections.SelectMany(s => s.Runs.SelectMany(r => r.Metrics
                .Where(m => m.Check.Agreement == Agreement.Disagrees)
                .Select(m => new Disagreement(s.Id, r.Name, m.Metric, m.Reference ?? "", $"{m.Text} ({r.Seeds.Count} seeds)", Explain(m)))))
            .ToList();
        var data = new ReportData(ReportData.CurrentFormat, Profile, DateTime.UtcNow, ComparesWithPaper, Store.Root, sections, disagreements);

        var json = Path.Combine(output, "report.json");
        AtomicFile.WriteAllText(json, JsonSerializer.Serialize(data, JsonDefaults.Options));
        var markdown = Path.Combine(output, "REPORT.md");
        AtomicFile.WriteAllText(markdown, ReportMarkdown.Render(data));
        var figures = sections.SelectMany(s => s.Figures).Where(f => f.File is not null).Select(f => Path.Combine(output, f.File!)).ToList();
        return new ReportResult(output, markdown, json, figures, data);
    }

    /// <summary>Reads report.json back.</summary>
    public static ReportData Read(string path) =>
        JsonSerializer.Deserialize<ReportData>(File.ReadAllBytes(path), JsonDefaults.Options)
        ?? throw new InvalidDataException($"{path}: empty report.");

    private FindingSection Section(string id, string output)
    {
        FindingProfile profile;
        FindingRuns runs;
        IReadOnlyList<MissingRun> missing;
        try
        {
            profile = FindingProfile.Load(id, Profile, ConfigsFolder);
            runs = StoredRuns(profile, out missing);
        }
        catch (Exception e) when (e is ConfigException or InvalidDataException or IOException or JsonException)
        {
            return new FindingSection(id, "", "", [], [], null, Verdict(id, null), [], [], [], [], 0,
                $"could not be read: {e.Message}");
        }

        var ordered = profile.Runs.Select(r => r.Name).Where(runs.Runs.ContainsKey).Order(NaturalOrder.Instance).ToList();
        var runSections = ordered.Select(name => RunSection(profile, name, runs[name])).ToList();
        var figures = profile.Report.Figures.Select((spec, i) => ReportFigures.Render(spec, i + 1, runs, output, ComparesWithPaper)).ToList();
        var records = runs.Runs.Values.SelectMany(r => r).ToList();
        var newest = records.Count > 0 ? records.Max(r => r.CompletedUtc) : (DateTime?)null;
        return new FindingSection(
            id, profile.Claim, profile.Description,
            Profile == "quick" ? ScaledDown(profile) : [],
            profile.Seeds, profile.Bands, Verdict(id, newest), runSections, missing, figures,
            records.Select(r => r.DeviceDetail).Distinct().Order(StringComparer.Ordinal).ToList(),
            records.Sum(r => r.TrainingSeconds), null);
    }

    /// <summary>
    /// The profile's runs the store holds for every seed. A run is looked up under this machine's device first, then
    /// under the other device types (runs trained on a GPU machine, read back on a CPU one); training nothing.
    /// </summary>
    private FindingRuns StoredRuns(FindingProfile profile, out IReadOnlyList<MissingRun> missing)
    {
        var here = Devices.CudaAvailable ? "cuda" : "cpu";
        string[] anywhere = [here, here == "cuda" ? "cpu" : "cuda"];
        var forced = Devices.FromEnvironment();
        var runs = new Dictionary<string, IReadOnlyList<RunRecord>>(StringComparer.OrdinalIgnoreCase);
        var absent = new List<MissingRun>();
        foreach (var run in profile.Runs.OrderBy(r => r.Name, NaturalOrder.Instance))
        {
            var records = new List<RunRecord>();
            foreach (var seed in profile.Seeds)
            {
                var config = run.ForSeed(seed);
                var devices = (forced ?? config.Device) switch
                {
                    DeviceChoice.Cpu => ["cpu"],
                    DeviceChoice.Cuda => ["cuda"],
                    _ => anywhere,
                };
                foreach (var device in devices)
                    if (Store.TryLoad(RunStore.Hash(config, device), out var record))
                    {
                        records.Add(record);
                        break;
                    }
            }
            if (records.Count == profile.Seeds.Count) runs[run.Name] = records;
            else absent.Add(new MissingRun(run.Name, records.Count, profile.Seeds.Count, TrainCommand(Profile, profile.Finding)));
        }
        missing = absent;
        return new FindingRuns(profile, runs);
    }

    private RunSection RunSection(FindingProfile profile, string name, IReadOnlyList<RunRecord> records)
    {
        var metrics = new List<MetricSection>();
        foreach (var metric in profile.Report.Metrics)
        {
            var display = MetricDisplay.For(metric);
            var perLayer = MetricDisplay.IsPerLayer(metric);
            var perSeed = records.Select(r => (IReadOnlyList<double>)(perLayer
                ? MetricNames.Vector(r.Final, metric).ToArray()
                : [MetricNames.Scalar(r.Final, metric)])).ToList();
            var components = perSeed.Min(v => v.Count);
            var stats = Enumerable.Range(0, components).Select(c => MetricDisplay.MeanStd(perSeed.Select(v => v[c]))).ToList();
            var mean = stats.Select(s => s.Mean).ToList();
            var std = stats.Select(s => s.Std).ToList();
            var text = perLayer
                ? string.Join("; ", stats.Select((s, c) => $"{c + 1}: {display.Format(s.Mean, s.Std, s.Count)}"))
                : display.Format(stats[0].Mean, stats[0].Std, stats[0].Count);
            var reference = profile.ReferenceFor(name, metric);
            metrics.Add(new MetricSection(metric, display.Unit, perLayer, mean, std, perSeed, text, reference,
                ReferenceCheck.Compare(reference, mean, std, ComparesWithPaper)));
        }
        return new RunSection(name, Phases(records[0].Config), records.Select(r => r.Config.Seed).ToList(),
            records.Select(r => r.DeviceDetail).Distinct().ToList(), metrics);
    }

    /// <summary>"30 x 64 @ 0.01", phases joined by "then", with the optimizer when it is not plain SGD.</summary>
    public static string Phases(TrainingConfig config)
    {
        var phases = string.Join(" then ", config.Phases.Select(p =>
            string.Create(CultureInfo.InvariantCulture, $"{p.Epochs} x {p.BatchSize} @ {MetricDisplay.Setting(p.LearningRate)}") +
            (p.WarmupEpochs > 0 ? string.Create(CultureInfo.InvariantCulture, $" (warm-up {MetricDisplay.Setting(p.WarmupEpochs)} epochs)") : "")));
        var optimizer = config.Optimizer.Kind switch
        {
            OptimizerKind.Sgd when config.Optimizer.Momentum != 0 => $", sgd momentum {MetricDisplay.Setting(config.Optimizer.Momentum)}",
            OptimizerKind.Sgd => "",
            var kind => ", " + kind.ToString().ToLowerInvariant(),
        };
        return phases + optimizer;
    }

    private static string Explain(MetricSection m)
    {
        var display = MetricDisplay.For(m.Metric);
        string Show(double v) => display.IsPercent ? MetricDisplay.Number(v * 100, 2) + "%" : v.ToString("G4", CultureInfo.InvariantCulture);
        string Span(double v) => display.IsPercent ? MetricDisplay.Number(v * 100, 2) + " points" : v.ToString("G4", CultureInfo.InvariantCulture);
        var parts = m.Check.Components.Select((c, i) => (c, i)).Where(x => x.c.Disagrees).Select(x =>
        {
            var paper = x.c.ReferenceLow == x.c.ReferenceHigh ? Show(x.c.ReferenceLow) : $"{Show(x.c.ReferenceLow)} to {Show(x.c.ReferenceHigh)}";
            var side = x.c.ReferenceLow > x.c.Mean ? "above" : "below";
            return (m.PerLayer ? $"layer {x.i + 1}: " : "") +
                   $"the paper's {paper} lies {Span(x.c.Outside)} {side} our {Show(x.c.Mean)} ± {Span(x.c.Tolerance)} " +
                   $"(tolerance = max(2 × std {Span(x.c.Std)}, the paper's precision {Span(x.c.Precision)}))";
        });
        return string.Join("; ", parts);
    }

    private VerdictSummary Verdict(string id, DateTime? newestRun)
    {
        FindingVerdicts? stored;
        try
        {
            stored = Verdicts.Load(Profile, id);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new VerdictSummary(VerdictStatus.Unreadable, "unreadable verdicts", [],
                $"the verdict file could not be read ({FirstLine(e.Message)}); re-run `{TestCommand(Profile, id)}` to record them again.");
        }
        var checks = (stored?.Checks ?? []).Where(c => c is not null).Select(c => new CheckLine(
            c.Name ?? "(unnamed)", Outcome(c.Outcome), c.Outcome ?? "", FirstLine(c.Message), c.Utc)).ToList();
        if (checks.Count == 0)
            return new VerdictSummary(VerdictStatus.NotChecked, "not checked yet", [], $"not checked yet: run `{TestCommand(Profile, id)}`");

        int pass = checks.Count(c => c.Outcome == CheckOutcome.Pass), fail = checks.Count(c => c.Outcome == CheckOutcome.Fail),
            skipped = checks.Count(c => c.Outcome == CheckOutcome.Skipped), n = checks.Count;
        var plural = n == 1 ? "check" : "checks";
        var (status, text) = (pass, fail, skipped) switch
        {
            _ when fail > 0 => (VerdictStatus.Fail, $"fail ({fail} of {n} {plural})"),
            _ when pass == n => (VerdictStatus.Pass, $"pass ({n} {plural})"),
            _ when skipped == n => (VerdictStatus.Skipped, $"skipped ({n} {plural})"),
            _ => (VerdictStatus.Mixed, $"pass {pass}, skipped {skipped}, other {n - pass - skipped} (of {n} {plural})"),
        };
        string? note = null;
        if (newestRun is { } newest && checks.Min(c => c.Utc) < newest)
            note = string.Create(CultureInfo.InvariantCulture,
                $"some checks ran before the newest stored run (completed {newest:yyyy-MM-dd HH:mm} UTC): re-run `{TestCommand(Profile, id)}` to refresh them.");
        return new VerdictSummary(status, text, checks, note);
    }

    private static CheckOutcome Outcome(string? outcome) => (outcome ?? "").Trim().ToLowerInvariant() switch
    {
        var o when o.StartsWith("pass", StringComparison.Ordinal) || o == "success" => CheckOutcome.Pass,
        var o when o.StartsWith("fail", StringComparison.Ordinal) || o.StartsWith("error", StringComparison.Ordinal) => CheckOutcome.Fail,
        var o when o.StartsWith("skip", StringComparison.Ordinal) || o.StartsWith("ignore", StringComparison.Ordinal)
                   || o.StartsWith("inconclusive", StringComparison.Ordinal) => CheckOutcome.Skipped,
        _ => CheckOutcome.Other,
    };

    /// <summary>
    /// The first non-empty line, trimmed, at most 400 characters: room for a passing check's measured numbers (a paired
    /// difference per seed and its interval, for two quantities), while a failure's long message is cut.
    /// </summary>
    public static string FirstLine(string? message)
    {
        var line = (message ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        const int max = 400;
        return line.Length > max ? line[..(max - 3)] + "..." : line;
    }

    /// <summary>
    /// Every setting of the quick profile's runs that differs from the full profile's run of the same name, read from
    /// the two configs (the seed aside), e.g. "trainSamples: 10000 (full: all)", "phases: 5 x 64 @ 0.01 (full: 30 x 64 @ 0.01)".
    /// </summary>
    private List<string> ScaledDown(FindingProfile quick)
    {
        FindingProfile full;
        try
        {
            full = FindingProfile.Load(quick.Finding, "full", ConfigsFolder);
        }
        catch (ConfigException e)
        {
            return [$"no full profile to compare with ({FirstLine(e.Message)})"];
        }
        var lines = new List<string>();
        if (!quick.Seeds.SequenceEqual(full.Seeds))
            lines.Add($"seeds: {string.Join(", ", quick.Seeds)} (full: {string.Join(", ", full.Seeds)})");
        var diffs = new List<(string Key, string Run, string Quick, string Full)>();
        var matched = 0;
        foreach (var run in quick.Runs.OrderBy(r => r.Name, NaturalOrder.Instance))
        {
            var other = full.Runs.FirstOrDefault(r => string.Equals(r.Name, run.Name, StringComparison.OrdinalIgnoreCase));
            if (other is null) continue;
            matched++;
            var q = run.ForSeed(quick.Seeds[0]);
            var f = other.ForSeed(quick.Seeds[0]);
            var (pq, pf) = (Phases(q), Phases(f));
            if (pq != pf) diffs.Add(("phases", run.Name, pq, pf));
            var (fq, ff) = (Flatten(q), Flatten(f));
            foreach (var key in fq.Keys.Union(ff.Keys).Where(k => k != "seed" && !k.StartsWith("phases", StringComparison.Ordinal)
                                                                  && !k.StartsWith("optimizer", StringComparison.Ordinal)))
            {
                var a = fq.GetValueOrDefault(key);
                var b = ff.GetValueOrDefault(key);
                if (a != b) diffs.Add((key, run.Name, a ?? Unset(key), b ?? Unset(key)));
            }
            foreach (var key in fq.Keys.Union(ff.Keys).Where(k => k.StartsWith("optimizer", StringComparison.Ordinal)))
                if (fq.GetValueOrDefault(key) != ff.GetValueOrDefault(key))
                    diffs.Add((key, run.Name, fq.GetValueOrDefault(key) ?? Unset(key), ff.GetValueOrDefault(key) ?? Unset(key)));
        }
        foreach (var group in diffs.GroupBy(d => d.Key))
        {
            var items = group.ToList();
            lines.Add(items.Count == matched && items.Select(d => (d.Quick, d.Full)).Distinct().Count() == 1
                ? $"{group.Key}: {items[0].Quick} (full: {items[0].Full}), every run"
                : $"{group.Key}: " + string.Join("; ", items.Select(d => $"{d.Run} {d.Quick} (full: {d.Full})")));
        }
        var onlyFull = full.Runs.Select(r => r.Name).Except(quick.Runs.Select(r => r.Name), StringComparer.OrdinalIgnoreCase).Order(NaturalOrder.Instance).ToList();
        if (onlyFull.Count > 0) lines.Add($"runs left out of quick: {string.Join(", ", onlyFull)}");
        var onlyQuick = quick.Runs.Select(r => r.Name).Except(full.Runs.Select(r => r.Name), StringComparer.OrdinalIgnoreCase).Order(NaturalOrder.Instance).ToList();
        if (onlyQuick.Count > 0) lines.Add($"runs of quick with no full counterpart: {string.Join(", ", onlyQuick)}");
        if (lines.Count == 0) lines.Add("nothing: the quick profile's runs are the full profile's");
        return lines;
    }

    private static string Unset(string key) => key is "trainSamples" or "evaluation.trainSubset" ? "all" : "not set";

    private static Dictionary<string, string> Flatten(TrainingConfig config)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, child) in o) Walk(child, path.Length == 0 ? key : $"{path}.{key}");
                    break;
                case JsonArray a when a.All(x => x is JsonValue):
                    result[path] = "[" + string.Join(", ", a.Select(x => Scalar(x!))) + "]";
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++) Walk(a[i], $"{path}[{i}]");
                    break;
                case JsonValue v:
                    result[path] = Scalar(v);
                    break;
            }
        }
        Walk(JsonSerializer.SerializeToNode(config, JsonDefaults.Options), "");
        return result;
    }

    private static string Scalar(JsonNode node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
}
