using Reproductions.Harness.Experiments;

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
    public const int CurrentFormat = 1;
}

/// <summary>One finding's section. <paramref name="Error"/> is set when its config or stored runs could not be read.</summary>
/// <param name="ScaledDown">For the quick profile: every setting that differs from the full profile's run of the same
/// name, derived from the two configs (e.g. "trainSamples: 10000 (full: all)").</param>
public sealed record FindingSection(
    string Id,
    string Claim,
    string Description,
    IReadOnlyList<string> ScaledDown,
    IReadOnlyList<long> Seeds,
    BandSettings? Bands,
    VerdictSummary Verdict,
    IReadOnlyList<RunSection> Runs,
    IReadOnlyList<MissingRun> Missing,
    IReadOnlyList<FigureSection> Figures,
    IReadOnlyList<string> Devices,
    double TrainingSeconds,
    string? Error);

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

/// <summary>One stored run (all its seeds): the phases it trained and its final metrics over seeds.</summary>
public sealed record RunSection(string Name, string Phases, IReadOnlyList<long> Seeds, IReadOnlyList<string> Devices, IReadOnlyList<MetricSection> Metrics);

/// <summary>
/// A final-epoch metric over seeds: <paramref name="Mean"/> and <paramref name="Std"/> (sample std, n - 1) have one
/// entry for a scalar metric and one per layer for layerCosines; <paramref name="PerSeed"/> is [seed][component].
/// <paramref name="Text"/> is the markdown's rendering of it.
/// </summary>
public sealed record MetricSection(
    string Metric,
    string Unit,
    bool PerLayer,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    IReadOnlyList<IReadOnlyList<double>> PerSeed,
    string Text,
    string? Reference,
    ReferenceCheck Check);

/// <summary>A run of the profile that the store lacks (or holds for only some seeds), and the command that trains it.</summary>
public sealed record MissingRun(string Run, int StoredSeeds, int Seeds, string Command);

/// <summary>A flagged difference from the paper (full profile), reported as a finding of its own.</summary>
public sealed record Disagreement(string Finding, string Run, string Metric, string Reference, string Ours, string Detail);

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
