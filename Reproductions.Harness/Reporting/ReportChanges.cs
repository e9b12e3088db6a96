using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// What changed between an earlier report and this one (<c>report --since</c>): claims whose verdict flipped, appeared
/// or disappeared; metrics whose mean moved beyond the band their finding's baseline settings give; findings in one
/// report only; the environment of both; and a first triage of each change (<see cref="TriageCause"/>, the rule in
/// <see cref="Rule"/>). Written beside the report as changes.json (this, with JsonDefaults) and CHANGES.md.
/// </summary>
/// <param name="MetricsCompared">How many metric values (a per-layer metric: one per layer) were compared in all.</param>
/// <param name="PerSeed">Every metric value compared seed by seed: its values on the seeds both reports ran and their
/// differences, beside its band where one is derived (what a device or a libtorch change does to each seed, moved or not).</param>
/// <param name="NotCompared">What could not be compared, and why (a run in one report only, a metric without a band).</param>
/// <param name="Rule">How a metric is compared and a change triaged, in words (also in CHANGES.md).</param>
public sealed record ReportChanges(
    int FormatVersion,
    string Profile,
    ComparedReport Earlier,
    ComparedReport Current,
    IReadOnlyList<EnvironmentField> Environment,
    IReadOnlyList<VerdictChange> Verdicts,
    IReadOnlyList<MetricChange> Metrics,
    IReadOnlyList<SectionChange> Sections,
    int MetricsCompared,
    IReadOnlyList<string> NotCompared,
    IReadOnlyList<string> Rule,
    IReadOnlyList<SeedDifferences>? PerSeed = null)
{
    public const int CurrentFormat = 1;
    public const string MarkdownFile = "CHANGES.md";
    public const string JsonFile = "changes.json";

    /// <summary>A metric beyond its band but within this many bands is triaged as seed noise.</summary>
    public const double NoiseBands = 3;

    /// <summary>True when no verdict flipped, appeared or disappeared, no metric moved beyond its band and both reports cover the same findings.</summary>
    [JsonIgnore]
    public bool Unchanged => Verdicts.Count == 0 && Metrics.Count == 0 && Sections.Count == 0;

    /// <summary>
    /// Reads the earlier report for <c>--since</c>: a <see cref="BadInputException"/> (exit 2) naming the file and what is
    /// wrong when it is missing, unreadable, not JSON, not a report, of a format this harness does not read, or of
    /// another profile than <paramref name="profile"/> (their numbers are not comparable).
    /// </summary>
    public static ReportData ReadEarlier(string path, string profile)
    {
        var shown = path;
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new BadInputException($"--since {shown}: is a folder; expected the report.json of an earlier report (e.g. {Path.Combine(shown, "report.json")}).");
        if (!File.Exists(full))
            throw new BadInputException($"--since {shown}: no such file; expected the report.json of an earlier report.");
        ReportData data;
        try
        {
            data = ReportBuilder.Read(full);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1})") : "";
            throw new BadInputException($"--since {shown}: not a report.json{where}: {Explain(e, full)}");
        }
        catch (InvalidDataException e)
        {
            throw new BadInputException($"--since {shown}: not a report this harness reads: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new BadInputException($"--since {shown}: could not be read: {e.Message}");
        }
        if (data.Profile != profile)
            throw new BadInputException($"--since {shown}: is the report of profile '{data.Profile}', this one is '{profile}'; their numbers are not comparable. " +
                                        $"Pass an earlier report of profile '{profile}' (or --profile {data.Profile}).");
        return data;
    }

    /// <summary>Writes changes.json and CHANGES.md into <paramref name="folder"/>, each atomically; returns their paths.</summary>
    public (string Json, string Markdown) Write(string folder)
    {
        var json = System.IO.Path.Combine(folder, JsonFile);
        var markdown = System.IO.Path.Combine(folder, MarkdownFile);
        AtomicFile.WriteAllText(json, JsonSerializer.Serialize(this, JsonDefaults.Options));
        AtomicFile.WriteAllText(markdown, ChangesMarkdown.Render(this));
        return (json, markdown);
    }

    /// <summary>Compares <paramref name="current"/> with <paramref name="earlier"/> (see <see cref="ReportChanges"/>).</summary>
    public static ReportChanges Compare(ReportData earlier, ReportData current, string earlierPath, string currentPath)
    {
        var environment = EnvironmentFields(earlier.Environment, current.Environment, earlier.FormatVersion);
        var triage = new Triager(earlier.Environment, current.Environment, earlier.FormatVersion);
        var verdicts = new List<VerdictChange>();
        var metrics = new List<MetricChange>();
        var perSeed = new List<SeedDifferences>();
        var sections = new List<SectionChange>();
        var notCompared = new List<string>();
        var compared = 0;

        static string Key(FindingSection s) => $"{s.Id}\u0001{s.Dataset}";
        var before = earlier.Findings.GroupBy(Key).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var now = current.Findings.GroupBy(Key).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var s in earlier.Findings.Where(s => !now.ContainsKey(Key(s))))
            sections.Add(new SectionChange(s.Id, s.Dataset, "earlier"));
        foreach (var s in current.Findings.Where(s => !before.ContainsKey(Key(s))))
            sections.Add(new SectionChange(s.Id, s.Dataset, "current"));

        foreach (var c in current.Findings.Where(s => before.ContainsKey(Key(s))).DistinctBy(Key))
        {
            var e = before[Key(c)];
            var name = $"{c.Id} ({c.Dataset})";
            if (e.Error is not null && c.Error is null) notCompared.Add($"{name}: the earlier report could not read it ({e.Error}).");
            if (c.Error is not null) notCompared.Add($"{name}: this report could not read it ({c.Error}).");

            // Claims: every id of either report, the current order first.
            var old = e.Claims.GroupBy(v => v.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var fresh = c.Claims.GroupBy(v => v.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            foreach (var id in c.Claims.Select(v => v.Id).Concat(e.Claims.Select(v => v.Id)).Distinct(StringComparer.Ordinal))
            {
                var was = old.GetValueOrDefault(id);
                var isNow = fresh.GetValueOrDefault(id);
                if (was is not null && isNow is not null && was.Outcome == isNow.Outcome) continue;
                verdicts.Add(new VerdictChange(c.Id, c.Dataset, id, (isNow ?? was)!.Statement, was?.Outcome, isNow?.Outcome,
                    triage.ForVerdict(was?.Outcome, isNow?.Outcome)));
            }

            // Metrics: every run and metric present in both.
            var oldRuns = e.Runs.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var newRuns = c.Runs.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            foreach (var r in e.Runs.Where(r => !newRuns.ContainsKey(r.Name)))
                notCompared.Add($"{name} {r.Name}: only in the earlier report (not stored now, or no longer a run of the finding).");
            foreach (var r in c.Runs.Where(r => !oldRuns.ContainsKey(r.Name)))
                notCompared.Add($"{name} {r.Name}: only in this report (stored since, or a new run of the finding).");
            var bands = e.Bands ?? c.Bands;
            foreach (var run in c.Runs.Where(r => oldRuns.ContainsKey(r.Name)).DistinctBy(r => r.Name))
            {
                var oldRun = oldRuns[run.Name];
                var oldMetrics = oldRun.Metrics.GroupBy(m => m.Metric).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                foreach (var m in run.Metrics.Where(m => oldMetrics.ContainsKey(m.Metric)).DistinctBy(m => m.Metric))
                {
                    var was = oldMetrics[m.Metric];
                    var components = Math.Min(was.Mean.Count, m.Mean.Count);
                    if (was.Mean.Count != m.Mean.Count)
                        notCompared.Add(string.Create(CultureInfo.InvariantCulture,
                            $"{name} {run.Name} {m.Metric}: {was.Mean.Count} component(s) then {m.Mean.Count}; the first {components} compared."));
                    for (var k = 0; k < components; k++)
                    {
                        compared++;
                        var layer = m.PerLayer || was.PerLayer ? k + 1 : (int?)null;
                        var (change, seeds) = MetricMove(c, oldRun, run, was, m, k, layer, bands, current.Profile, triage);
                        if (change is not null) metrics.Add(change);
                        if (seeds is not null) perSeed.Add(seeds);
                    }
                }
            }
        }

        return new ReportChanges(CurrentFormat, current.Profile,
            new ComparedReport(earlierPath, earlier.FormatVersion, earlier.GeneratedUtc, earlier.Environment),
            new ComparedReport(currentPath, current.FormatVersion, current.GeneratedUtc, current.Environment),
            environment, verdicts, metrics, sections, compared, notCompared, RuleText, perSeed);
    }

    /// <summary>
    /// One metric value compared as a baseline compares it (<see cref="BaselineComparison"/>): the earlier report's
    /// per-seed values are the baseline, their band derived by the finding's settings (<see cref="BandPolicy"/>), and the
    /// current per-seed values are measured against it. The change is null when it did not move beyond its band (or,
    /// without a band, did not move at all); the per-seed differences are null where the values do not line up with
    /// their seeds or no seed is in both.
    /// </summary>
    private static (MetricChange? Change, SeedDifferences? Seeds) MetricMove(FindingSection section, RunSection oldRun, RunSection run, MetricSection was, MetricSection isNow, int k,
        int? layer, BandSettings? bands, string profile, Triager triage)
    {
        var before = was.PerSeed.Select(v => v.Count > k ? v[k] : double.NaN).ToList();
        var after = isNow.PerSeed.Select(v => v.Count > k ? v[k] : double.NaN).ToList();
        var earlierMean = was.Mean[k];
        var currentMean = isNow.Mean[k];
        var name = layer is { } l ? string.Create(CultureInfo.InvariantCulture, $"{run.Name}/{isNow.Metric}[{l}]") : $"{run.Name}/{isNow.Metric}";

        string? noBand = null;
        BaselineComparison? comparison = null;
        if (bands is null)
            noBand = "no band: the finding's band settings are in neither report";
        else if (before.Count != oldRun.Seeds.Count || after.Count != run.Seeds.Count)
            noBand = string.Create(CultureInfo.InvariantCulture,
                $"no band: {before.Count} value(s) for {oldRun.Seeds.Count} seed(s) earlier, {after.Count} for {run.Seeds.Count} now (runs missing), so values and seeds do not line up");
        else if (before.Concat(after).Any(v => !double.IsFinite(v)))
            noBand = "no band: a per-seed value is not finite";
        else if (!oldRun.Seeds.Order().SequenceEqual(run.Seeds.Order()))
            noBand = $"no band: the seeds differ ([{string.Join(",", oldRun.Seeds)}] then [{string.Join(",", run.Seeds)}]); means over different seeds are not comparable";
        else
        {
            try
            {
                var seeds = oldRun.Seeds.Select(s => checked((int)s)).ToList();
                var baseline = Baseline.FromSamples(new MetricSamples(section.Id, profile, section.Dataset, seeds).Add(name, before), bands.ToPolicy(),
                    new MachineInfo("", 0, null, "the earlier report", null, null));
                var newSeeds = run.Seeds.Select(s => checked((int)s)).ToList();
                var measured = new MetricSamples(section.Id, profile, section.Dataset, newSeeds).Add(name, after);
                comparison = BaselineComparison.Compare(baseline, measured);
            }
            catch (Exception e) when (e is ArgumentException or OverflowException)
            {
                noBand = $"no band: {e.Message}";
            }
        }

        var row = comparison?.Rows.Single();
        var bySeed = SeedDifferences.Of(section, run, isNow, layer, oldRun.Seeds, before, run.Seeds, after, row?.Band);
        if (comparison is not null)
        {
            if (row!.Verdict == MetricVerdict.Pass) return (null, bySeed);
            return (new MetricChange(section.Id, section.Dataset, run.Name, isNow.Metric, isNow.Label, isNow.Unit, layer, row.BaselineValue!.Value,
                row.MeasuredValue!.Value, row.Delta!.Value, row.Band, row.BandUsed, comparison.Baseline.Metrics[name].Rule, triage.ForMetric(row.BandUsed)), bySeed);
        }
        // Without a band: only a mean that changed at all (beyond rounding) is listed, and never as noise.
        var same = (double.IsNaN(earlierMean) && double.IsNaN(currentMean))
                   || Math.Abs(currentMean - earlierMean) <= BaselineComparison.RoundingSlack * Math.Max(Math.Abs(earlierMean), Math.Abs(currentMean));
        return (same ? null : new MetricChange(section.Id, section.Dataset, run.Name, isNow.Metric, isNow.Label, isNow.Unit, layer, earlierMean, currentMean,
            currentMean - earlierMean, null, null, noBand!, triage.ForMetric(null)), bySeed);
    }

    private static IReadOnlyList<EnvironmentField> EnvironmentFields(ReportEnvironment? earlier, ReportEnvironment? current, int earlierFormat)
    {
        var missing = string.Create(CultureInfo.InvariantCulture, $"not recorded (format {earlierFormat})");
        var now = (current ?? Empty).Fields();
        var before = earlier?.Fields();
        return now.Select((f, i) => new EnvironmentField(f.Name, before is null ? missing : before[i].Value, current is null ? missing : f.Value,
            before is null || current is null ? null : before[i].Value != f.Value)).ToList();
    }

    private static readonly ReportEnvironment Empty = new(null, null, null, null, null, null, "", "", []);

    /// <summary>
    /// A <see cref="JsonException"/> of a report that parses but does not fit, in plain words: the field (its JSON path), what
    /// it holds and what a report holds there (from <see cref="ReportData"/>'s shape), or the fields an object lacks; any
    /// other (JSON that does not parse) is its first sentence.
    /// </summary>
    private static string Explain(JsonException e, string file)
    {
        if (e.Path is not { } path || !path.StartsWith('$')) return FirstSentence(e.Message);
        var segments = System.Text.RegularExpressions.Regex.Matches(path[1..], @"\.([^.\[]+)|\['((?:[^']|'')*)'\]|\[(\d+)\]")
            .Select(m => m.Groups[3].Success ? (Name: (string?)null, Index: int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))
                                             : (Name: m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value.Replace("''", "'", StringComparison.Ordinal), Index: -1))
            .ToList();
        var field = path.Length > 2 && path[1] == '.' ? path[2..] : path[1..];
        var missing = System.Text.RegularExpressions.Regex.Match(e.Message, "missing required properties including: (.*?)\\.?( Path:|$)");
        if (missing.Success) return $"{(field.Length == 0 ? "the report" : field)} lacks {missing.Groups[1].Value.Trim()}";
        var unknown = System.Text.RegularExpressions.Regex.Match(e.Message, "^The JSON property '(.*?)' could not be mapped");
        if (unknown.Success) return $"{(field.Length == 0 ? unknown.Groups[1].Value : field)} is no field of a report";
        if (!e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)) return FirstSentence(e.Message);
        var expected = field.Length == 0 ? "an object (a report)" : Expected(typeof(ReportData), segments);
        string? found = null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            found = Found(document.RootElement, segments);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            // what it holds is left out
        }
        return $"{(field.Length == 0 ? "the file" : field)} is {found ?? "not what a report holds there"}; expected {expected ?? "what a report holds there"}";
    }

    /// <summary>What a report holds at <paramref name="segments"/>, in words, from the type it is read as; null when the path leaves the type.</summary>
    private static string? Expected(Type type, IReadOnlyList<(string? Name, int Index)> segments)
    {
        foreach (var (name, index) in segments)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (name is null)
            {
                if (type.IsArray) type = type.GetElementType()!;
                else if (type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)) is { } list && type != typeof(string))
                    type = list.GetGenericArguments()[0];
                else return null;
            }
            else if (type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)) is { } map)
                type = map.GetGenericArguments()[1];
            else if (type.GetProperties().FirstOrDefault(p => string.Equals(JsonNamingPolicy.CamelCase.ConvertName(p.Name), name, StringComparison.Ordinal)) is { } property)
                type = property.PropertyType;
            else return null;
        }
        return Words(type);
    }

    private static string Words(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return Words(inner) + " or null";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.KebabCaseLower.ConvertName));
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(DateTime)) return "a date and time (ISO 8601 text)";
        if (type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))) return "an object";
        if (typeof(System.Collections.IEnumerable).IsAssignableFrom(type)) return "an array";
        return "an object";
    }

    /// <summary>The JSON at <paramref name="segments"/>, in words ("null", "\"x\"", "an array"), or null when it is not there.</summary>
    private static string? Found(JsonElement element, IReadOnlyList<(string? Name, int Index)> segments)
    {
        foreach (var (name, index) in segments)
        {
            if (name is null && element.ValueKind == JsonValueKind.Array && index < element.GetArrayLength()) element = element[index];
            else if (name is not null && element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child)) element = child;
            else return null;
        }
        return element.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => element.GetString() is { Length: <= 40 } text ? $"the string \"{text}\"" : "a long string",
            _ => element.GetRawText(),
        };
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }

    /// <summary>How metrics are compared and changes triaged: written into changes.json and CHANGES.md.</summary>
    public static readonly IReadOnlyList<string> RuleText =
    [
        "A metric is compared as a baseline compares it (Baselines/BaselineComparison.cs): the earlier report's per-seed values are the baseline, " +
        "with the band the finding's band settings derive from them (BandPolicy: half-width max(k x std over seeds, absolute floor, relative floor x |mean|)); " +
        "it moved when this report's mean lies outside that band. Where no band can be derived (no band settings, values that are not finite or do not " +
        "line up with their seeds, different seeds), any change of the mean is listed with \"no band\".",
        string.Create(CultureInfo.InvariantCulture,
            $"seed noise: a metric beyond its band but within {NoiseBands} x it. Where the commit or the environment differs too, the line says so: noise is then one reading, not the only one."),
        "runs: a verdict to or from \"not measured\": one of the two reports lacked stored runs.",
        "code: the commit differs, the environment does not (configs are code: they are committed).",
        "environment: TorchSharp, libtorch, CUDA, the driver, the GPU, the OS, .NET or the run devices differ, the commit does not.",
        "code or environment: both changed; nothing here tells them apart.",
        "unexplained: the same commit and environment: the stored runs differ (made again, non-deterministic kernels) or the checkout had uncommitted edits, which the commit does not show.",
        "unknown: a report does not record its commit (or, format 4, its environment), so the cause cannot be narrowed.",
        "A verdict is never triaged as noise: it has no band; a metric without a band neither.",
        "Per-seed differences: every metric value is also compared seed by seed on the seeds both reports ran (matched by seed), moved or not, " +
        "each seed's difference set against the band of the mean; they are listed, not triaged (two devices, or two libtorch builds, differ per seed first).",
    ];

    /// <summary>Triages a change from what differs between the two environments.</summary>
    private sealed class Triager
    {
        private readonly string? commits;         // "a -> b" when they differ
        private readonly bool? commitDiffers;     // null: not recorded in both
        private readonly IReadOnlyList<string>? differs; // environment fields that differ; null: not recorded in both
        private readonly int earlierFormat;

        public Triager(ReportEnvironment? earlier, ReportEnvironment? current, int earlierFormat)
        {
            this.earlierFormat = earlierFormat;
            if (earlier is null || current is null) return;
            if (earlier.Commit is not null && current.Commit is not null)
            {
                commitDiffers = earlier.Commit != current.Commit;
                if (commitDiffers == true) commits = $"{Short(earlier.Commit)} -> {Short(current.Commit)}";
            }
            var before = earlier.Fields().Skip(1).ToList();
            differs = current.Fields().Skip(1).Zip(before).Where(p => p.First.Value != p.Second.Value)
                .Select(p => $"{p.First.Name} {p.Second.Value ?? "none"} -> {p.First.Value ?? "none"}").ToList();
        }

        public Triage ForVerdict(ClaimOutcome? earlier, ClaimOutcome? current) =>
            earlier == ClaimOutcome.NotMeasured || current == ClaimOutcome.NotMeasured
                ? new Triage(TriageCause.Runs, earlier == ClaimOutcome.NotMeasured
                    ? "runs: not measured in the earlier report (its runs were not all stored then)"
                    : "runs: not measured in this report (its runs are not all stored now)")
                : ForChange();

        public Triage ForMetric(double? bandsMoved)
        {
            if (bandsMoved is not { } r || r > NoiseBands) return ForChange();
            var text = string.Create(CultureInfo.InvariantCulture, $"seed noise: {r:0.0#} x its band, within {NoiseBands} x");
            var also = Also();
            return new Triage(TriageCause.SeedNoise, also is null ? text : $"{text}; but {also}, so noise is one reading, not the only one");
        }

        private string? Also() => (commitDiffers, differs) switch
        {
            (_, null) => string.Create(CultureInfo.InvariantCulture, $"the earlier report (format {earlierFormat}) records no environment"),
            (true, { Count: > 0 }) => $"the commit ({commits}) and the environment ({string.Join("; ", differs)}) differ too",
            (true, _) => $"the commit differs too ({commits})",
            (_, { Count: > 0 }) => $"the environment differs too ({string.Join("; ", differs)})",
            (null, _) => "the commit is not recorded in both reports",
            _ => null,
        };

        private Triage ForChange()
        {
            if (differs is null)
                return new Triage(TriageCause.Unknown, string.Create(CultureInfo.InvariantCulture,
                    $"unknown: the earlier report (format {earlierFormat}) records no environment, so code and environment cannot be told apart"));
            var environment = string.Join("; ", differs);
            return (commitDiffers, differs.Count > 0) switch
            {
                (true, true) => new Triage(TriageCause.CodeOrEnvironment, $"code or environment: both changed (commit {commits}; {environment})"),
                (true, false) => new Triage(TriageCause.Code, $"code: the commit differs ({commits}), the environment does not"),
                (false, true) => new Triage(TriageCause.Environment, $"environment: {environment}; the commit is the same"),
                (null, true) => new Triage(TriageCause.Unknown, $"unknown: the environment differs ({environment}) and the commit is not recorded in both reports"),
                (null, false) => new Triage(TriageCause.Unknown, "unknown: the environment is the same, the commit is not recorded in both reports"),
                (false, false) => new Triage(TriageCause.Unexplained,
                    "unexplained: the same commit and environment (the stored runs differ, or the checkout had uncommitted edits)"),
            };
        }

        private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
    }
}

/// <summary>One of the two reports compared: where it is, its format, when it was built, its environment (null in format 4).</summary>
public sealed record ComparedReport(string Path, int FormatVersion, DateTime GeneratedUtc, ReportEnvironment? Environment);

/// <summary>One field of the environment in both reports; <paramref name="Differs"/> is null when a report does not record it.</summary>
public sealed record EnvironmentField(string Name, string? Earlier, string? Current, bool? Differs);

/// <summary>A claim whose verdict changed: flipped (both set), appeared (<paramref name="Earlier"/> null) or disappeared (<paramref name="Current"/> null).</summary>
public sealed record VerdictChange(string Finding, string Dataset, string Claim, string Statement, ClaimOutcome? Earlier, ClaimOutcome? Current, Triage Triage)
{
    [JsonIgnore]
    public string Kind => Earlier is null ? "appeared" : Current is null ? "disappeared" : "flipped";
}

/// <summary>
/// A metric whose mean moved beyond its band (<paramref name="Band"/>: the allowed |delta|; <paramref name="BandsMoved"/>:
/// |delta| / band), or, with no band (<paramref name="Band"/> null), whose mean changed at all; values in the metric's own
/// units (accuracies as fractions). <paramref name="BandRule"/> says how the band was derived, or why there is none.
/// </summary>
/// <param name="Layer">For a per-layer metric, the layer (1-based).</param>
public sealed record MetricChange(
    string Finding, string Dataset, string Run, string Metric, string Label, string Unit, int? Layer,
    double Earlier, double Current, double Delta, double? Band, double? BandsMoved, string BandRule, Triage Triage);

/// <summary>
/// One metric value seed by seed: its value in each report on every seed both ran (matched by seed, in the current run's
/// order), beside the band its mean is compared with (null: none derived). Values in the metric's own units.
/// </summary>
/// <param name="Layer">For a per-layer metric, the layer (1-based).</param>
public sealed record SeedDifferences(
    string Finding, string Dataset, string Run, string Metric, string Label, string Unit, int? Layer,
    IReadOnlyList<long> Seeds, IReadOnlyList<double> Earlier, IReadOnlyList<double> Current, double? Band)
{
    /// <summary>The per-seed difference (now - earlier) of the largest size.</summary>
    public double LargestDelta => Seeds.Count == 0 ? 0 : Enumerable.Range(0, Seeds.Count).Select(i => Current[i] - Earlier[i]).MaxBy(Math.Abs);

    /// <summary>|<see cref="LargestDelta"/>| over the band: how far one seed moved in bands (null: no band, or a band of 0).</summary>
    public double? LargestInBands => Band is > 0 and { } b ? Math.Abs(LargestDelta) / b : null;

    /// <summary>
    /// The values of the seeds in both runs, or null where a run's values do not line up with its seeds (a run missing), a
    /// value is not finite, or no seed is in both.
    /// </summary>
    public static SeedDifferences? Of(FindingSection section, RunSection run, MetricSection metric, int? layer,
        IReadOnlyList<long> earlierSeeds, IReadOnlyList<double> earlier, IReadOnlyList<long> currentSeeds, IReadOnlyList<double> current, double? band)
    {
        if (earlier.Count != earlierSeeds.Count || current.Count != currentSeeds.Count) return null;
        var before = new Dictionary<long, double>();
        for (var i = 0; i < earlierSeeds.Count; i++) before.TryAdd(earlierSeeds[i], earlier[i]);
        var seeds = new List<long>();
        var was = new List<double>();
        var now = new List<double>();
        for (var i = 0; i < currentSeeds.Count; i++)
        {
            if (!before.TryGetValue(currentSeeds[i], out var value) || seeds.Contains(currentSeeds[i])) continue;
            if (!double.IsFinite(value) || !double.IsFinite(current[i])) return null;
            seeds.Add(currentSeeds[i]);
            was.Add(value);
            now.Add(current[i]);
        }
        return seeds.Count == 0 ? null : new SeedDifferences(section.Id, section.Dataset, run.Name, metric.Metric, metric.Label, metric.Unit, layer, seeds, was, now, band);
    }
}

/// <summary>A finding (on a dataset) that only one report covers: <paramref name="OnlyIn"/> is "earlier" or "current".</summary>
public sealed record SectionChange(string Finding, string Dataset, string OnlyIn);

/// <summary>A change's first triage: its likeliest cause by <see cref="ReportChanges.RuleText"/>, and the line that says why.</summary>
public sealed record Triage(TriageCause Cause, string Text);

/// <summary>The causes a change is triaged to (see <see cref="ReportChanges.RuleText"/>).</summary>
public enum TriageCause
{
    SeedNoise,
    Runs,
    Code,
    Environment,
    CodeOrEnvironment,
    Unexplained,
    Unknown,
}
