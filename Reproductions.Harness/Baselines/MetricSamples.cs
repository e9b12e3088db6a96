using Reproductions.Harness.Claims;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using MathNet.Numerics.Statistics;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// The numbers one run of a finding produced: for each named metric, one value per seed (in the order of
/// <see cref="Seeds"/>). This is what a finding test hands to <see cref="BaselineGate"/>.
/// </summary>
/// <example>
/// <code>
/// var samples = new MetricSamples("F01", "quick", seeds: [1, 2, 3])
///     .Add("test_accuracy", runs.Select(r => r.TestAccuracy))
///     .Add("final_loss", runs.Select(r => r.FinalLoss));
/// </code>
/// </example>
public sealed class MetricSamples : IReadOnlyDictionary<string, IReadOnlyList<double>>
{
    private readonly Dictionary<string, IReadOnlyList<double>> _metrics = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly int[] _seeds;

    /// <param name="finding">Finding id, e.g. "F01" (letters, digits, '-', '_').</param>
    /// <param name="profile">Profile, e.g. "quick" or "full".</param>
    /// <param name="dataset">Dataset, e.g. "mnist" (baselines are kept per profile and dataset).</param>
    /// <param name="seeds">The seeds the run used, one per sample; at least one, no repeats.</param>
    public MetricSamples(string finding, string profile, string dataset, IEnumerable<int> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        Finding = Identifiers.Require(finding, nameof(finding), "finding id");
        Profile = Identifiers.Require(profile, nameof(profile), "profile");
        Dataset = Identifiers.Require(dataset, nameof(dataset), "dataset");
        _seeds = seeds.ToArray();
        if (_seeds.Length == 0)
            throw new ArgumentException($"{Finding} ({Profile}): at least one seed is needed.", nameof(seeds));
        var repeated = _seeds.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        if (repeated.Length > 0)
            throw new ArgumentException(
                $"{Finding} ({Profile}): seeds must be distinct, but {NumberText.Seeds(repeated)} appear more than once in [{NumberText.Seeds(_seeds)}].",
                nameof(seeds));
    }

    public string Finding { get; }
    public string Profile { get; }
    public string Dataset { get; }

    /// <summary>The seeds, in the order the per-seed values are given.</summary>
    public IReadOnlyList<int> Seeds => _seeds;

    /// <summary>Metric names in the order they were added.</summary>
    public IReadOnlyList<string> MetricNames => _order;

    /// <summary>
    /// Adds a metric with one value per seed, in the order of <see cref="Seeds"/>. Values must be finite: a NaN or
    /// infinite metric means the run itself went wrong, which a baseline cannot describe.
    /// </summary>
    /// <returns>This instance, so calls can be chained.</returns>
    /// <param name="claimNull">When the metric is a claim's statistic: the value at which the claim turns (0 for a
    /// difference or a rank correlation). A baseline whose band reaches it could not fail on a flip, so the accept step
    /// refuses it.</param>
    public MetricSamples Add(string metric, IEnumerable<double> perSeed, double? claimNull = null)
    {
        ArgumentNullException.ThrowIfNull(perSeed);
        if (string.IsNullOrWhiteSpace(metric) || metric.Trim() != metric)
            throw new ArgumentException(
                $"{Finding} ({Profile}): metric name '{metric}' is not valid: expected a non-empty name without leading or trailing spaces.",
                nameof(metric));
        if (_metrics.ContainsKey(metric))
            throw new ArgumentException($"{Finding} ({Profile}): metric '{metric}' was already added.", nameof(metric));
        var values = perSeed.ToArray();
        if (values.Length != _seeds.Length)
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture,
                    $"{Finding} ({Profile}): metric '{metric}' has {values.Length} value(s) but the run has {_seeds.Length} seed(s) ") +
                $"[{NumberText.Seeds(_seeds)}]; expected exactly one value per seed.",
                nameof(perSeed));
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new ArgumentException(
                    $"{Finding} ({Profile}): metric '{metric}' is {values[i].ToString(CultureInfo.InvariantCulture)} for seed " +
                    $"{_seeds[i].ToString(CultureInfo.InvariantCulture)}; expected a finite number.",
                    nameof(perSeed));
        }
        _metrics.Add(metric, Array.AsReadOnly(values));
        _order.Add(metric);
        if (claimNull is { } n && !VerdictsSnapshotted)
        {
            if (!double.IsFinite(n)) throw new ArgumentException($"{Finding} ({Profile}): metric '{metric}': its claim's null value must be finite.", nameof(claimNull));
            _nulls[metric] = n;
        }
        return this;
    }

    private readonly Dictionary<string, double> _nulls = new(StringComparer.Ordinal);
    private readonly List<ClaimPower> _claims = [];

    /// <summary>
    /// Set on a dataset other than the paper's: the baseline keeps each claim's verdict and the tests assert it, so a band
    /// that reaches a claim's null value lets no flip pass unseen, and a claim that does not hold or is undecided there is a
    /// result. Claim null values and claim powers are then not recorded, and the accept step does not refuse on them.
    /// </summary>
    public bool VerdictsSnapshotted { get; init; }

    /// <summary>The claim null value of each metric that has one (see <see cref="Add"/>).</summary>
    public IReadOnlyDictionary<string, double> ClaimNulls => _nulls;

    /// <summary>The decision power of the finding's margin claims (reaches, matches) at this run's seed spread.</summary>
    public IReadOnlyList<ClaimPower> Claims => _claims;

    /// <summary>Records how narrow a margin claim's interval is at this run's seed spread, for the accept step.</summary>
    public MetricSamples AddClaimPower(ClaimPower power)
    {
        ArgumentNullException.ThrowIfNull(power);
        if (!VerdictsSnapshotted) _claims.Add(power);
        return this;
    }

    private readonly Dictionary<string, ClaimOutcome> _verdicts = new(StringComparer.Ordinal);

    /// <summary>Each claim's verdict on these numbers, by claim id (see <see cref="Baseline.Verdicts"/>).</summary>
    public IReadOnlyDictionary<string, ClaimOutcome> Verdicts => _verdicts;

    /// <summary>Records a claim's verdict on these numbers (an estimate is not a verdict).</summary>
    public MetricSamples AddVerdict(string claim, ClaimOutcome outcome)
    {
        if (string.IsNullOrWhiteSpace(claim)) throw new ArgumentException($"{Finding} ({Profile}): a verdict needs its claim's id.", nameof(claim));
        if (outcome == ClaimOutcome.Estimated) throw new ArgumentException($"{Finding} ({Profile}): '{claim}' is an estimate, not a claim with a verdict.", nameof(outcome));
        if (!_verdicts.TryAdd(claim, outcome)) throw new ArgumentException($"{Finding} ({Profile}): claim '{claim}' already has a verdict.", nameof(claim));
        return this;
    }

    /// <summary>Mean of a metric over the seeds.</summary>
    public double Mean(string metric) => MathNet.Numerics.Statistics.Statistics.Mean(this[metric]);

    public IReadOnlyList<double> this[string key] =>
        _metrics.TryGetValue(key, out var values)
            ? values
            : throw new KeyNotFoundException($"{Finding} ({Profile}): no metric '{key}'. Metrics: {string.Join(", ", _order)}.");

    public IEnumerable<string> Keys => _order;
    public IEnumerable<IReadOnlyList<double>> Values => _order.Select(m => _metrics[m]);
    public int Count => _metrics.Count;
    public bool ContainsKey(string key) => _metrics.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out IReadOnlyList<double> value) =>
        _metrics.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, IReadOnlyList<double>>> GetEnumerator() =>
        _order.Select(m => new KeyValuePair<string, IReadOnlyList<double>>(m, _metrics[m])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
