using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Reporting;

/// <summary>Where a report was written and what it holds.</summary>
public sealed record ReportResult(string Folder, string MarkdownPath, string JsonPath, IReadOnlyList<string> FigurePaths, ReportData Data)
{
    /// <summary>
    /// The exit code the report stands for: a finding that could not be read (5 a stored result, 2 its config), else a
    /// run that diverged where its profile does not expect it (4), else a claim that does not hold or is not measured (6;
    /// on a dataset other than the paper's: a verdict other than the one its baseline stores), else 0. Inconclusive claims pass.
    /// </summary>
    public int ExitCode =>
        Data.Findings.Where(f => f.ErrorCode is not null).Select(f => f.ErrorCode!.Value).DefaultIfEmpty(0).Max() is > 0 and var error ? error
        : Data.Findings.Any(f => f.Missing.Any(m => m.DivergedUnexpectedly)) ? ExitCodes.Diverged
        : Data.Findings.Any(f => f.ClaimFails) ? ExitCodes.CheckFailed
        : ExitCodes.Ok;
}

/// <summary>
/// Builds the report of one profile from the store alone (it never runs anything), for findings of every protocol: for
/// each finding, its claim, what the profile changes in full, the verdict of each of its claims (decided from the
/// stored results by <see cref="ClaimEvaluator"/>, the evaluation the tests assert), a table of its measured groups (runs; protocol variants) with their metrics (mean ± std
/// over seeds) beside the paper's numbers, the protocol's further tables, and its figures. Writes <c>REPORT.md</c>,
/// <c>report.json</c> (every number shown) and the PNG figures into one folder, each file atomically.
/// On the full profile, a paper's number that lies outside our mean ± max(2 std, its stated precision) is listed as
/// a disagreement; the quick profile is scaled down and is not compared numerically.
/// </summary>
public sealed partial class ReportBuilder
{
    public ReportBuilder(string profile, ExperimentStore? store = null, string? configsFolder = null, ProtocolCatalog? catalog = null)
    {
        if (!FindingProfile.Profiles.Contains(profile))
            throw new ArgumentException($"profile '{profile}': expected one of {string.Join(", ", FindingProfile.Profiles)}.", nameof(profile));
        Profile = profile;
        Store = store ?? ExperimentStore.Default;
        ConfigsFolder = configsFolder;
        Catalog = catalog ?? ProtocolCatalog.Default;
    }

    public string Profile { get; }
    public ExperimentStore Store { get; }
    /// <summary>Where the finding configs are read from; null: the repository's configs/.</summary>
    public string? ConfigsFolder { get; }
    public ProtocolCatalog Catalog { get; }

    /// <summary>True for the full profile: only it is compared numerically with the paper.</summary>
    public bool ComparesWithPaper => Profile == "full";

    /// <summary>artifacts/report/&lt;profile&gt;/</summary>
    public static string DefaultFolder(string profile) => Path.Combine(RepoPaths.Artifacts, "report", profile);

    /// <summary>The command that rebuilds this report.</summary>
    public static string ReportCommand(string profile) => $"dotnet run --project Reproductions.Harness -- report --profile {profile}";

    /// <summary>The figures this builder writes: Fxx-&lt;dataset&gt;-&lt;n&gt;-&lt;kind&gt;-&lt;what&gt;.png.</summary>
    [GeneratedRegex(@"^F\w*-(?:[\w.-]+-)?\d+-[\w.-]+\.png$")]
    private static partial Regex FigureFile();

    /// <summary>Builds the report of <paramref name="findings"/> into <paramref name="folder"/> (default <see cref="DefaultFolder"/>).</summary>
    /// <param name="datasets">The datasets to report, each finding once per dataset (default: MNIST, the papers').</param>
    public ReportResult Build(IEnumerable<string> findings, string? folder = null, IReadOnlyList<string>? datasets = null)
    {
        datasets ??= [Data.DatasetSpecs.Mnist.Name];
        var ids = findings.ToList();
        var output = Path.GetFullPath(folder ?? DefaultFolder(Profile));
        Directory.CreateDirectory(output);
        foreach (var old in Directory.GetFiles(output, "*.png").Where(f => FigureFile().IsMatch(Path.GetFileName(f)) || Path.GetFileName(f).StartsWith(NoiseScaleFigure.FilePrefix, StringComparison.Ordinal)))
            File.Delete(old); // figures of an earlier build; this one draws its own
        foreach (var stale in new[] { ReportChanges.MarkdownFile, ReportChanges.JsonFile }.Select(f => Path.Combine(output, f)).Where(File.Exists))
            File.Delete(stale); // a comparison of the earlier report: `report --since` writes this one's

        var measuredByFinding = new List<(string Finding, string Dataset, Measured Measured)>();
        var sections = datasets.SelectMany(dataset => ids.Select(id => Section(id, dataset, output, measuredByFinding))).ToList();
        var suite = measuredByFinding.GroupBy(m => m.Dataset)
            .Select(g => NoiseScaleFigure.Draw(NoiseScaleFigure.Points(g.Select(m => (m.Finding, m.Measured))), output, g.Key, Profile))
            .Where(f => f.Points.Count > 0).ToList();
        var disagreements = sections.SelectMany(s => s.Runs.SelectMany(r => r.Metrics
                .Where(m => m.Check.Agreement == Agreement.Disagrees)
                .Select(m => new Disagreement(s.Id, r.Name, m.Metric, m.Label, m.Reference ?? "", $"{m.Text} ({r.Seeds.Count} seeds)", Explain(m)))))
            .ToList();
        var claimDisagreements = sections.Where(s => s.OnPaperDataset).SelectMany(s => s.Claims
                .Where(c => c.Against is not null || c.Outcome == ClaimOutcome.DoesNotHold)
                .Select(c => new ClaimDisagreement(s.Id, c.Id, c.Statement,
                    c.Against ?? "the paper's claim, as stated", ClaimVerdict.Describe(c.Outcome), c.Summary)))
            .ToList();
        var data = new ReportData(ReportData.CurrentFormat, Profile, DateTime.UtcNow, ComparesWithPaper, Store.Root, sections, disagreements, claimDisagreements, suite,
            Generality(ids, sections, output), SideBySideFigures(sections), CaptureEnvironment(sections));

        var json = Path.Combine(output, "report.json");
        AtomicFile.WriteAllText(json, JsonSerializer.Serialize(data, JsonDefaults.Options));
        var markdown = Path.Combine(output, "REPORT.md");
        AtomicFile.WriteAllText(markdown, ReportMarkdown.Render(data));
        var figures = sections.SelectMany(s => s.Figures).Where(f => f.File is not null).Select(f => Path.Combine(output, f.File!))
            .Concat(suite.Where(f => f.File is not null).Select(f => Path.Combine(output, f.File!))).ToList();
        return new ReportResult(output, markdown, json, figures, data);
    }

    /// <summary>How the environment of the report is read (<see cref="ReportEnvironment.Capture"/>; tests put a fixed one).</summary>
    public Func<IReadOnlyList<FindingSection>, ReportEnvironment> CaptureEnvironment { get; init; } = ReportEnvironment.Capture;

    /// <summary>
    /// Reads report.json back, strictly (unknown members are errors): formats <see cref="ReportData.OldestReadableFormat"/>
    /// (no environment) to <see cref="ReportData.CurrentFormat"/>; a file of another format, or one that lacks what every
    /// report has, is an <see cref="InvalidDataException"/> that says what is wrong (a <see cref="JsonException"/> when it
    /// does not parse).
    /// </summary>
    public static ReportData Read(string path)
    {
        var data = JsonSerializer.Deserialize<ReportData>(File.ReadAllBytes(path), JsonDefaults.Options)
            ?? throw new InvalidDataException("it holds JSON null, not a report.");
        if (data.FormatVersion is < ReportData.OldestReadableFormat or > ReportData.CurrentFormat)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"formatVersion is {data.FormatVersion}; this harness reads reports of format {ReportData.OldestReadableFormat} to {ReportData.CurrentFormat}") +
                (data.FormatVersion == 0 ? " (formatVersion missing: is it a report.json?)." : "."));
        var missing = new List<string>();
        if (string.IsNullOrEmpty(data.Profile)) missing.Add("profile");
        if (data.Findings is null) missing.Add("findings");
        if (data.FormatVersion >= 5 && data.Environment is null) missing.Add("environment");
        if (data.FormatVersion >= 5 && data.Environment is { } e && (e.Os is null || e.Runtime is null || e.RunDevices is null)) missing.Add("environment.os, .runtime or .runDevices");
        for (var i = 0; data.Findings is not null && i < data.Findings.Count; i++)
        {
            var f = data.Findings[i];
            var where = string.Create(CultureInfo.InvariantCulture, $"findings[{i}]");
            if (f is null) { missing.Add(where); continue; }
            if (string.IsNullOrEmpty(f.Id) || string.IsNullOrEmpty(f.Dataset)) missing.Add($"{where}.id or .dataset");
            if (f.Claims is null || f.Claims.Any(c => c is null || string.IsNullOrEmpty(c.Id))) missing.Add($"{where}.claims (each with its id)");
            if (f.Runs is null || f.Runs.Any(r => r is null || r.Name is null || r.Seeds is null || r.Metrics is null
                    || r.Metrics.Any(m => m is null || m.Metric is null || m.Mean is null || m.PerSeed is null || m.PerSeed.Any(v => v is null))))
                missing.Add($"{where}.runs (each with its name, seeds and metrics: metric, mean, perSeed)");
        }
        if (missing.Count > 0)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"a report of format {data.FormatVersion} lacks ") + string.Join(", ", missing) + ".");
        return data;
    }

    private FindingSection Section(string id, string dataset, string output, List<(string Finding, string Dataset, Measured Measured)> measuredByFinding)
    {
        FindingProfile profile;
        Measured measured;
        try
        {
            profile = FindingProfile.Load(id, Profile, ConfigsFolder, Catalog, dataset);
            measured = FindingRunner.Stored(profile, Store, FindingRunner.RunDevice());
        }
        catch (Exception e) when (e is UserError or IOException or JsonException)
        {
            var code = e is UserError user ? user.ExitCode : ExitCodes.CorruptState;
            return Unreadable(id, dataset, $"{(code == ExitCodes.CorruptState ? "a stored result" : "its config")} could not be read: {e.Message}", code);
        }

        measuredByFinding.Add((id, profile.Dataset, measured));
        var runSections = Rows(profile, measured);
        var claims = profile.Evaluate(measured);
        IReadOnlyList<Baselines.VerdictSnapshot>? snapshots = null;
        if (!profile.OnPaperDataset)
        {
            var baselines = new Baselines.BaselineStore(BaselinesFolder);
            Baselines.Baseline? stored;
            try
            {
                stored = baselines.TryLoad(Profile, profile.Dataset, id);
            }
            catch (Baselines.BaselineFormatException e)
            {
                return Unreadable(id, dataset, $"its baseline could not be read: {e.Message}", ExitCodes.CorruptState);
            }
            var path = ConfigFiles.Relative(baselines.Path(Profile, profile.Dataset, id));
            snapshots = claims.Select(c => Baselines.VerdictSnapshot.Of(c, stored, path)).ToList();
        }
        var groups = profile.Experiment.Groups;
        var notes = profile.Reference
            .Where(r => !groups.Contains(r.Key, StringComparer.OrdinalIgnoreCase))
            .SelectMany(r => r.Value.Select(m => $"{r.Key}: {m.Value}"))
            .ToList();
        var target = new FigureTarget(output, $"{id}-{profile.Dataset}", id, Profile, ComparesWithPaper && profile.OnPaperDataset, profile.ReferenceFor,
            profile.OnPaperDataset ? null : Data.DatasetSpecs.Get(profile.Dataset).DisplayName);
        return new FindingSection(
            id, profile.Dataset, profile.Protocol.Name, profile.Claim, profile.Description, profile.Changes,
            profile.Seeds, profile.Bands, ClaimsSummary.Of(claims), claims,
            profile.ClaimsLeftOut.Select(c => new LeftOutClaim(c.Claim.Id, c.Claim.Statement, c.Reason)).ToList(),
            measured.GroupHeading, measured.SettingHeading, runSections, notes,
            measured.Tables(profile.Report), measured.Missing, measured.DrawFigures(profile.Report, target),
            measured.Devices, measured.Seconds, profile.BaselineLeftOut, null, null, profile.Estimate(measured), profile.Tier,
            profile.OnPaperDataset ? null : profile.PaperDataset, snapshots);
    }

    private static FindingSection Unreadable(string id, string dataset, string error, int code) =>
        new(id, dataset, "", "", "", [], [], null, ClaimsSummary.Of([]), [], [], "", "", [], [], [], [], [], [], 0, new Dictionary<string, string>(), error, code);

    /// <summary>Where the baselines are read from (the verdicts a second dataset's claims are held to): the repository's baselines/.</summary>
    public string BaselinesFolder { get; init; } = RepoPaths.Baselines;

    /// <summary>
    /// The generality table: every claim of <paramref name="ids"/> on every dataset and profile, decided from the stored
    /// runs (this report's sections where they are the same dataset and profile; the store otherwise, running nothing).
    /// </summary>
    private IReadOnlyList<GeneralityRow> Generality(IReadOnlyList<string> ids, IReadOnlyList<FindingSection> sections, string output)
    {
        var rows = new List<GeneralityRow>();
        // The other profiles' reports beside this one, read once: a cell links there only when its section is in them.
        var otherReports = FindingProfile.Profiles.Where(p => p != Profile).ToDictionary(p => p, p =>
        {
            var path = Path.Combine(Path.GetDirectoryName(output) ?? output, p, "REPORT.md");
            return File.Exists(path) ? File.ReadAllText(path) : "";
        });
        foreach (var id in ids)
        {
            var columns = new List<(string Dataset, string Profile, IReadOnlyList<ClaimSpec> All, IReadOnlyList<ClaimVerdict> Verdicts, string State, string? Link)>();
            foreach (var dataset in Data.DatasetSpecs.All.Select(d => d.Name))
                foreach (var profile in FindingProfile.Profiles)
                    columns.Add(Column(id, dataset, profile, sections, otherReports));
            var claims = columns.Where(c => c.All.Count > 0).Select(c => c.All).FirstOrDefault() ?? [];
            foreach (var claim in claims)
                rows.Add(new GeneralityRow(id, claim.Id, claim.Statement, columns.Select(c =>
                {
                    var outcome = c.State.Length > 0 ? c.State
                        : !claim.AppliesTo(c.Profile) ? "not asserted"
                        : c.Verdicts.FirstOrDefault(v => v.Id == claim.Id) is { } v ? ClaimVerdict.Describe(v.Outcome) : "not measured";
                    return new GeneralityCell(c.Dataset, c.Profile, outcome, c.Link);
                }).ToList()));
        }
        return rows;
    }

    private (string Dataset, string Profile, IReadOnlyList<ClaimSpec> All, IReadOnlyList<ClaimVerdict> Verdicts, string State, string? Link) Column(
        string id, string dataset, string profile, IReadOnlyList<FindingSection> sections, IReadOnlyDictionary<string, string> otherReports)
    {
        var anchor = ReportMarkdown.Anchor(id, dataset);
        var own = profile == Profile ? sections.FirstOrDefault(s => s.Id == id && s.Dataset == dataset) : null;
        // A link only where the numbers are: this report's section, or the other profile's report beside this one when it has the section.
        var link = own is not null ? $"#{anchor}"
            : profile != Profile && otherReports[profile].Contains($"<a id=\"{anchor}\">", StringComparison.Ordinal) ? $"../{profile}/REPORT.md#{anchor}"
            : null;
        try
        {
            var finding = FindingProfile.Load(id, profile, ConfigsFolder, Catalog, dataset);
            if (own is not null)
                return (dataset, profile, finding.AllClaims, own.Claims, own.Error is null ? "" : "unreadable", link);
            var measured = FindingRunner.Stored(finding, Store, FindingRunner.RunDevice());
            return measured.IsEmpty
                ? (dataset, profile, finding.AllClaims, [], "not run", null)
                : (dataset, profile, finding.AllClaims, finding.Evaluate(measured), "", link);
        }
        catch (Exception e) when (e is UserError or IOException or JsonException)
        {
            return (dataset, profile, [], [], "unreadable", null);
        }
    }

    /// <summary>The figures of each finding reported on more than one dataset, paired by their index, for side-by-side viewing.</summary>
    private static IReadOnlyList<SideBySide> SideBySideFigures(IReadOnlyList<FindingSection> sections) =>
        sections.Where(s => s.Error is null).GroupBy(s => s.Id).Where(g => g.Select(s => s.Dataset).Distinct().Count() > 1)
            .SelectMany(g => g.SelectMany(s => s.Figures).Select(f => f.Index).Distinct().Order().Select(index =>
            {
                var byDataset = g.Select(s => (s.Dataset, Figure: s.Figures.FirstOrDefault(f => f.Index == index))).ToList();
                var title = byDataset.Select(x => x.Figure?.Title).FirstOrDefault(t => t is not null) ?? "";
                return new SideBySide(g.Key, index, title, byDataset.Select(x => x.Dataset).ToList(), byDataset.Select(x => x.Figure?.File).ToList());
            }))
            .ToList();

    /// <summary>The measured groups with the metrics of the finding's <c>report.metrics</c>: the report's table, and the console's.</summary>
    public IReadOnlyList<RunSection> Rows(FindingProfile profile, Measured measured) =>
        measured.Groups.Select(g => RunSection(profile, measured, g)).ToList();

    private RunSection RunSection(FindingProfile profile, Measured measured, MeasuredGroup group)
    {
        var metrics = new List<MetricSection>();
        foreach (var metric in profile.Report.Metrics)
        {
            if (measured.Values(group.Name, metric) is not { } perSeed) continue;
            var display = profile.Protocol.Display(metric);
            var perLayer = perSeed.Any(v => v.Count != 1);
            var components = perSeed.Min(v => v.Count);
            var stats = Enumerable.Range(0, components).Select(c => MetricDisplay.MeanStd(perSeed.Select(v => v[c]))).ToList();
            var mean = stats.Select(s => s.Mean).ToList();
            var std = stats.Select(s => s.Std).ToList();
            var text = perLayer
                ? string.Join("; ", stats.Select((s, c) => $"{c + 1}: {display.Format(s.Mean, s.Std, s.Count)}"))
                : display.Format(stats[0].Mean, stats[0].Std, stats[0].Count);
            var reference = profile.ReferenceFor(group.Name, metric);
            metrics.Add(new MetricSection(metric, display.Label, display.Unit, perLayer, mean, std, perSeed, text, reference,
                ReferenceCheck.Compare(reference, mean, std, ComparesWithPaper)));
        }
        return new RunSection(group.Name, group.Setting, measured.Seeds, group.Devices, metrics);
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
        var display = MetricDisplay.Of(m);
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
}
