using Reproductions.Harness.Baselines;

namespace Reproductions.Harness.Reporting;

// The report as data: report.json is this, serialised with JsonDefaults, and REPORT.md is rendered from it alone,
// so every number the markdown shows is in the JSON. Metric values are in the metric's own units (accuracies as
// fractions); the markdown shows accuracies in %.

/// <summary>The whole report of one profile.</summary>
/// <param name="ComparedWithPaper">True for the full profile only: the quick profile is scaled down and its numbers are
/// shown beside the paper's but never compared with them.</param>
public sealed record ReportData(
    int FormatVersion,
    string Profile,
    DateTime GeneratedUtc,
    bool ComparedWithPaper,
    string RunStore,
    IReadOnlyList<FindingSection> Findings,
    IReadOnlyList<Disagreement> Disagreements)
{
    public const int CurrentFormat = 2;
}

/// <summary>One finding's section. <paramref name="Error"/> is set when its config or stored results could not be read.</summary>
/// <param name="Dataset">The dataset its experiment reads.</param>
/// <param name="Protocol">Its protocol kind (training, gradient-competition, ...).</param>
/// <param name="ScaledDown">For a profile other than full: what it changes in full, as its config declares it, with the
/// full values replaced (e.g. "base.trainSamples: 10000 (full: not set)").</param>
/// <param name="GroupHeading">The heading of the runs table's first column ("run", "variant/regime").</param>
/// <param name="SettingHeading">The heading of the runs table's setting column ("phases (epochs x batch @ lr)", "protocol variant").</param>
/// <param name="PaperNotes">The paper's statements that belong to no one group ("name: text").</param>
/// <param name="Tables">The protocol's further tables (the gradient competition's per-batch-size numbers).</param>
public sealed record FindingSection(
    string Id,
    string Dataset,
    string Protocol,
    string Claim,
    string Description,
    IReadOnlyList<string> ScaledDown,
    IReadOnlyList<long> Seeds,
    BandSettings? Bands,
    VerdictSummary Verdict,
    string GroupHeading,
    string SettingHeading,
    IReadOnlyList<RunSection> Runs,
    IReadOnlyList<string> PaperNotes,
    IReadOnlyList<ReportTable> Tables,
    IReadOnlyList<MissingRun> Missing,
    IReadOnlyList<FigureSection> Figures,
    IReadOnlyList<string> Devices,
    double TrainingSeconds,
    string? Error);

/// <summary>A table of text cells with a title and a caption.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, string Caption);

/// <summary>The outcome of one check (test case) as the verdict store holds it.</summary>
public enum CheckOutcome { Pass, Fail, Skipped, Other }

/// <summary>A finding's checks taken together.</summary>
public enum VerdictStatus { Pass, Fail, Skipped, Mixed, NotChecked, Unreadable }

/// <summary>One check: its name, outcome, the first line of its message, and when it ran.</summary>
public sealed record CheckLine(string Name, CheckOutcome Outcome, string RawOutcome, string Message, DateTime Utc);

/// <summary>A finding's verdict: <paramref name="Text"/> is what the summary table shows.</summary>
/// <param name="Note">Why there is no verdict (not checked yet, unreadable file) or a warning that the checks are older
/// than the stored runs.</param>
public sealed record VerdictSummary(VerdictStatus Status, string Text, IReadOnlyList<CheckLine> Checks, string? Note);

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
public sealed record MissingRun(string Run, int StoredSeeds, int Seeds, string Command);

/// <summary>A flagged difference from the paper (full profile), reported as a finding of its own.</summary>
public sealed record Disagreement(string Finding, string Run, string Metric, string Label, string Reference, string Ours, string Detail);

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
