using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;

namespace Reproductions.Harness.Reporting;

// The report as data: report.json is this, serialised with JsonDefaults, and REPORT.md is rendered from it alone,
// so every number the markdown shows is in the JSON. Metric values are in the metric's own units (accuracies as
// fractions); the markdown shows accuracies in %.

/// <summary>The whole report of one profile.</summary>
/// <param name="ComparedWithPaper">True for the full profile only: the quick profile is scaled down and its numbers are
/// shown beside the paper's but never compared with them.</param>
/// <param name="Environment">Where the report was built (commit, TorchSharp, libtorch, CUDA, driver, GPU, OS, .NET) and
/// the devices of its stored runs; from format 5 on (null in a format-4 file).</param>
public sealed record ReportData(
    int FormatVersion,
    string Profile,
    DateTime GeneratedUtc,
    bool ComparedWithPaper,
    string RunStore,
    IReadOnlyList<FindingSection> Findings,
    IReadOnlyList<Disagreement> Disagreements,
    IReadOnlyList<ClaimDisagreement> ClaimDisagreements,
    IReadOnlyList<SuiteFigure>? SuiteFigures = null,
    IReadOnlyList<GeneralityRow>? Generality = null,
    IReadOnlyList<SideBySide>? SideBySide = null,
    ReportEnvironment? Environment = null)
{
    /// <summary>5: the environment is recorded. 4: without it.</summary>
    public const int CurrentFormat = 5;

    /// <summary>The oldest format <see cref="ReportBuilder.Read"/> accepts (for <c>report --since</c>).</summary>
    public const int OldestReadableFormat = 4;
}

/// <summary>
/// One claim of one finding across the datasets and profiles (the generality table): each cell the claim's verdict
/// decided from that dataset's and profile's stored runs, or why there is none, with a link to its numbers.
/// </summary>
public sealed record GeneralityRow(string Finding, string Claim, string Statement, IReadOnlyList<GeneralityCell> Cells);

/// <param name="Outcome">holds, does not hold, inconclusive, not measured (runs missing), not run (nothing stored), not
/// asserted (the profile leaves the claim to another), or unreadable.</param>
/// <param name="Link">Where its numbers are: an anchor of this report, or of the other profile's report.</param>
public sealed record GeneralityCell(string Dataset, string Profile, string Outcome, string? Link);

/// <summary>A finding's figure drawn for each dataset, to be shown side by side (file names beside REPORT.md; null where not drawn).</summary>
public sealed record SideBySide(string Finding, int Index, string Title, IReadOnlyList<string> Datasets, IReadOnlyList<string?> Files);

/// <summary>
/// One finding's section. <paramref name="Error"/> is set when its config or stored results could not be read, with the
/// exit code that failure maps to (<paramref name="ErrorCode"/>: 2 a config, 5 a stored result).
/// </summary>
/// <param name="Dataset">The dataset its experiment reads.</param>
/// <param name="Verdict">Its claims taken together; <paramref name="Claims"/> each claim's verdict, decided from the stored
/// results by the same evaluation the tests assert.</param>
/// <param name="Protocol">Its protocol kind (training, gradient-competition, ...).</param>
/// <param name="ScaledDown">For a profile other than full: what it changes in full, as its config declares it, with the
/// full values replaced (e.g. "base.trainSamples: 10000 (full: not set)").</param>
/// <param name="GroupHeading">The heading of the runs table's first column ("run", "variant/regime").</param>
/// <param name="SettingHeading">The heading of the runs table's setting column ("phases (epochs x batch @ lr)", "protocol variant").</param>
/// <param name="PaperNotes">The paper's statements that belong to no one group ("name: text").</param>
/// <param name="BaselineLeftOut">Metrics this profile leaves out of its baseline, with why (e.g. a band that would reach its claim's null value).</param>
/// <param name="Tables">The protocol's further tables (the gradient competition's per-batch-size numbers).</param>
/// <param name="Estimates">The numbers its config asks the report for beside the claims (measured, never asserted).</param>
/// <param name="Tier">The test category its cases run in (Quick, Extended, Gpu) and why, where it is not the plain run.</param>
/// <param name="PaperDataset">The dataset of the paper's numbers and claims, where the section reads another (null: it reads the paper's).</param>
/// <param name="Snapshots">Off the paper's dataset: each claim's verdict beside the one its baseline stores.</param>
public sealed record FindingSection(
    string Id,
    string Dataset,
    string Protocol,
    string Claim,
    string Description,
    IReadOnlyList<string> ScaledDown,
    IReadOnlyList<long> Seeds,
    BandSettings? Bands,
    ClaimsSummary Verdict,
    IReadOnlyList<ClaimVerdict> Claims,
    IReadOnlyList<LeftOutClaim> ClaimsLeftOut,
    string GroupHeading,
    string SettingHeading,
    IReadOnlyList<RunSection> Runs,
    IReadOnlyList<string> PaperNotes,
    IReadOnlyList<ReportTable> Tables,
    IReadOnlyList<MissingRun> Missing,
    IReadOnlyList<FigureSection> Figures,
    IReadOnlyList<string> Devices,
    double TrainingSeconds,
    IReadOnlyDictionary<string, string> BaselineLeftOut,
    string? Error,
    int? ErrorCode = null,
    IReadOnlyList<ClaimVerdict>? Estimates = null,
    Findings.TestTier? Tier = null,
    string? PaperDataset = null,
    IReadOnlyList<Baselines.VerdictSnapshot>? Snapshots = null)
{
    /// <summary>Whether the section reads the paper's dataset: its claims are the paper's and its numbers sit beside the paper's.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool OnPaperDataset => PaperDataset is null || PaperDataset == Dataset;

    /// <summary>
    /// Whether a claim fails the report: on the paper's dataset, one that does not hold or is not measured; on another,
    /// one not measured, or whose verdict differs from the one its baseline stores.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ClaimFails => OnPaperDataset
        ? Claims.Any(c => c.Outcome is ClaimOutcome.DoesNotHold or ClaimOutcome.NotMeasured)
        : Claims.Any(c => c.Outcome == ClaimOutcome.NotMeasured) || (Snapshots ?? []).Any(s => s.Stored is not null && !s.Unchanged);
}

/// <summary>A table of text cells with a title and a caption.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, string Caption);

/// <summary>A finding's claims taken together: how many hold, do not hold, are inconclusive or not measured.</summary>
/// <param name="Text">What the summary table shows, e.g. "3 hold, 1 inconclusive".</param>
public sealed record ClaimsSummary(int Holds, int DoesNotHold, int Inconclusive, int NotMeasured, string Text)
{
    public static ClaimsSummary Of(IReadOnlyList<ClaimVerdict> claims)
    {
        int Count(ClaimOutcome o) => claims.Count(c => c.Outcome == o);
        var parts = new List<string>();
        if (Count(ClaimOutcome.Holds) > 0) parts.Add($"{Count(ClaimOutcome.Holds)} hold");
        if (Count(ClaimOutcome.DoesNotHold) > 0) parts.Add($"{Count(ClaimOutcome.DoesNotHold)} do not hold");
        if (Count(ClaimOutcome.Inconclusive) > 0) parts.Add($"{Count(ClaimOutcome.Inconclusive)} inconclusive");
        if (Count(ClaimOutcome.NotMeasured) > 0) parts.Add($"{Count(ClaimOutcome.NotMeasured)} not measured");
        return new ClaimsSummary(Count(ClaimOutcome.Holds), Count(ClaimOutcome.DoesNotHold), Count(ClaimOutcome.Inconclusive),
            Count(ClaimOutcome.NotMeasured), parts.Count == 0 ? "no claims" : string.Join(", ", parts));
    }
}

/// <summary>A claim of the finding that this profile leaves to another, and why.</summary>
public sealed record LeftOutClaim(string Id, string Statement, string Reason);

/// <summary>One measured group (a run, all its seeds; a protocol variant in a regime): its setting and its metrics over seeds.</summary>
public sealed record RunSection(string Name, string Setting, IReadOnlyList<long> Seeds, IReadOnlyList<string> Devices, IReadOnlyList<MetricSection> Metrics);

/// <summary>
/// A final-epoch metric over seeds: <paramref name="Mean"/> and <paramref name="Std"/> (sample std, n - 1) have one
/// entry for a scalar metric and one per layer for layerCosines; <paramref name="PerSeed"/> is [seed][component].
/// <paramref name="Text"/> is the markdown's rendering of it.
/// </summary>
public sealed record MetricSection(
    string Metric,
    string Label,
    string Unit,
    bool PerLayer,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    IReadOnlyList<IReadOnlyList<double>> PerSeed,
    string Text,
    string? Reference,
    ReferenceCheck Check);

/// <summary>A run (or unit) of the profile that the store lacks (or holds for only some seeds), and the command that runs it.</summary>
/// <param name="Diverged">Seeds whose run is stored as diverged (an outcome, not a result), with where and why.</param>
/// <param name="Expected">Set when the profile expects the run may diverge (a sweep reaching its limit): why. Its divergence is then an outcome, not a failure.</param>
public sealed record MissingRun(string Run, int StoredSeeds, int Seeds, string Command, IReadOnlyList<string>? Diverged = null, string? Expected = null)
{
    /// <summary>Diverged where the profile does not expect it: a failure of the run.</summary>
    public bool DivergedUnexpectedly => Diverged is { Count: > 0 } && Expected is null;
}

/// <summary>A flagged difference from the paper (full profile), reported as a finding of its own.</summary>
public sealed record Disagreement(string Finding, string Run, string Metric, string Label, string Reference, string Ours, string Detail);

/// <summary>
/// A claim that disagrees with the paper: one that states what we measured against the paper's reading
/// (<see cref="ClaimVerdict.Against"/>), or one of the paper's own that does not hold here.
/// </summary>
public sealed record ClaimDisagreement(string Finding, string Claim, string Statement, string Paper, string Outcome, string Measured);

/// <summary>One figure: the PNG's file name (beside REPORT.md) and every number drawn in it.</summary>
/// <param name="File">The PNG's file name, or null when nothing could be drawn (see <paramref name="Note"/>).</param>
public sealed record FigureSection(
    int Index,
    string Kind,
    string Metric,
    string Title,
    string? File,
    string XLabel,
    string YLabel,
    string Caption,
    IReadOnlyList<FigureSeries> Series,
    HeatmapGrid? Grid,
    string? Note);

/// <summary>One line (curves), one run's bars (bars, layers): x positions, and mean and std over seeds in display units.</summary>
public sealed record FigureSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Mean, IReadOnlyList<double> Std);

/// <summary>
/// A heatmap's grid in display units: <paramref name="Mean"/>[y][x] and <paramref name="Std"/>[y][x] (NaN where no
/// run is stored), the run in each cell (null where the profile has none), axes ascending.
/// </summary>
public sealed record HeatmapGrid(
    string X,
    string Y,
    IReadOnlyList<double> XValues,
    IReadOnlyList<double> YValues,
    IReadOnlyList<IReadOnlyList<double>> Mean,
    IReadOnlyList<IReadOnlyList<double>> Std,
    IReadOnlyList<IReadOnlyList<string?>> Runs);
