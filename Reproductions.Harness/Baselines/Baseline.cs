using Reproductions.Harness.Claims;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// The stored numbers of one finding under one profile: baselines/&lt;profile&gt;/&lt;finding&gt;.json.
/// Each metric keeps its mean, its per-seed samples and the band derived from their spread, with the rule in
/// words. Written with <see cref="Infrastructure.JsonDefaults.Options"/>; read strictly by <see cref="BaselineJson"/>
/// (unknown or missing fields are errors).
/// </summary>
/// <param name="SchemaVersion">File format version; <see cref="CurrentSchemaVersion"/>.</param>
/// <param name="Finding">Finding id, e.g. "F01".</param>
/// <param name="Profile">Profile, e.g. "quick".</param>
/// <param name="CreatedUtc">When the numbers were measured (UTC, whole seconds).</param>
/// <param name="Machine">Where they were measured.</param>
/// <param name="Seeds">Seeds of the run, in the order of every metric's samples.</param>
/// <param name="Metrics">Metric name -&gt; stored value and band, in the order the finding reported them.</param>
/// <param name="Claims">How narrow each margin claim's interval was at this spread (for the accept step).</param>
/// <param name="Verdicts">Each claim's verdict on these numbers, by claim id: on a dataset other than the paper's, where a
/// claim that does not hold is a result, the tests and the report assert that it does not change.</param>
public sealed record Baseline(
    int SchemaVersion,
    string Finding,
    string Profile,
    DateTime CreatedUtc,
    MachineInfo Machine,
    IReadOnlyList<int> Seeds,
    IReadOnlyDictionary<string, BaselineMetric> Metrics,
    IReadOnlyList<ClaimPower>? Claims = null,
    IReadOnlyDictionary<string, ClaimOutcome>? Verdicts = null)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>Builds a baseline from fresh samples: mean and band of every metric per <paramref name="policy"/>.</summary>
    public static Baseline FromSamples(MetricSamples samples, BandPolicy policy, MachineInfo machine, DateTime? createdUtc = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(machine);
        if (samples.Count == 0)
            throw new ArgumentException($"{samples.Finding} ({samples.Profile}): no metrics to store in a baseline.", nameof(samples));
        var metrics = new Dictionary<string, BaselineMetric>(StringComparer.Ordinal);
        foreach (var (name, values) in samples)
        {
            var band = policy.Derive(name, values);
            metrics.Add(name, new BaselineMetric(band.Mean, values.ToArray(), band.AbsoluteBand, band.RelativeBand, band.Rule,
                samples.ClaimNulls.TryGetValue(name, out var n) ? n : null));
        }
        var when = createdUtc ?? DateTime.UtcNow;
        if (when.Kind == DateTimeKind.Local) when = when.ToUniversalTime();
        when = new DateTime(when.Ticks - when.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        return new Baseline(CurrentSchemaVersion, samples.Finding, samples.Profile, when, machine, samples.Seeds.ToArray(), metrics,
            samples.Claims.Count > 0 ? samples.Claims.ToArray() : null,
            samples.Verdicts.Count > 0 ? new Dictionary<string, ClaimOutcome>(samples.Verdicts, StringComparer.Ordinal) : null);
    }
}

/// <summary>
/// One stored metric. A measured mean m passes when <c>|m - Value| &lt;= HalfWidth</c>, where
/// <c>HalfWidth = max(AbsoluteBand, (RelativeBand ?? 0) * |Value|)</c>.
/// </summary>
/// <param name="Value">Mean over seeds.</param>
/// <param name="Samples">Per-seed values, in the order of <see cref="Baseline.Seeds"/>.</param>
/// <param name="AbsoluteBand">Half-width in the metric's units: max(k x std, absolute floor).</param>
/// <param name="RelativeBand">Optional half-width as a fraction of |Value| (the relative floor), or null.</param>
/// <param name="Rule">How the band was derived, in words.</param>
/// <param name="ClaimNull">When the metric is a claim's statistic, the value at which the claim turns: a band that reaches it
/// could not fail on a flip, and the accept step refuses it.</param>
public sealed record BaselineMetric(double Value, IReadOnlyList<double> Samples, double AbsoluteBand, double? RelativeBand, string Rule, double? ClaimNull = null)
{
    /// <summary>The allowed |measured - Value|. Derived, so not stored.</summary>
    [JsonIgnore]
    public double HalfWidth => Math.Max(AbsoluteBand, (RelativeBand ?? 0) * Math.Abs(Value));
}

/// <summary>
/// How narrow a margin claim's (reaches, matches) deciding interval was at the seed spread of the run a baseline was
/// measured on: a half-width above the margin means the claim could never be decided at that many seeds.
/// </summary>
/// <param name="SeedsNeeded">The fewest seeds whose interval would be narrower than the margin at that spread.</param>
public sealed record ClaimPower(string Claim, double Margin, double HalfWidth, int Seeds, int SeedsNeeded)
{
    [JsonIgnore]
    public bool Decidable => HalfWidth <= Margin;
}

/// <summary>Where a baseline was measured. Informational: it is shown when a comparison fails, never compared.</summary>
/// <param name="Os">Operating system description and architecture.</param>
/// <param name="ProcessorCount">Logical processors visible to the process.</param>
/// <param name="CpuModel">CPU model from /proc/cpuinfo, when readable.</param>
/// <param name="Device">The compute device as the caller names it, e.g. "cpu" or "cuda:0 (NVIDIA H100)".</param>
/// <param name="TorchSharpVersion">TorchSharp assembly version, when it can be read.</param>
/// <param name="Runtime">.NET runtime description.</param>
public sealed record MachineInfo(
    string Os,
    int ProcessorCount,
    string? CpuModel,
    string Device,
    string? TorchSharpVersion,
    string? Runtime)
{
    /// <summary>Describes this process's machine; <paramref name="device"/> is passed in by the caller.</summary>
    public static MachineInfo Capture(string device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        return new MachineInfo(
            $"{RuntimeInformation.OSDescription.Trim()} ({RuntimeInformation.OSArchitecture})",
            Environment.ProcessorCount,
            ReadCpuModel(),
            device,
            ReadTorchSharpVersion(),
            RuntimeInformation.FrameworkDescription);
    }

    /// <summary>One line for messages, e.g. "cpu; Linux 6.8 (X64); 16 CPUs (AMD EPYC 9454); TorchSharp 0.107.0".</summary>
    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Device}; {Os}; {ProcessorCount} CPUs{(CpuModel is null ? "" : $" ({CpuModel})")}; TorchSharp {TorchSharpVersion ?? "unknown"}");

    private static string? ReadCpuModel()
    {
        try
        {
            const string cpuinfo = "/proc/cpuinfo";
            if (!File.Exists(cpuinfo)) return null;
            foreach (var line in File.ReadLines(cpuinfo))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0) continue;
                var key = line[..colon].Trim();
                if (key.Equals("model name", StringComparison.OrdinalIgnoreCase) || key.Equals("Model", StringComparison.Ordinal))
                {
                    var value = line[(colon + 1)..].Trim();
                    if (value.Length > 0) return value;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not readable here: leave it out.
        }
        return null;
    }

    /// <summary>TorchSharp's package version: its assembly's informational version without the source hash, or null.</summary>
    internal static string? ReadTorchSharpVersion()
    {
        try
        {
            var assembly = typeof(TorchSharp.torch).Assembly;
            var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (!string.IsNullOrWhiteSpace(informational))
            {
                var plus = informational.IndexOf('+', StringComparison.Ordinal);
                return plus > 0 ? informational[..plus] : informational;
            }
            return assembly.GetName().Version?.ToString();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException)
        {
            return null;
        }
    }
}
