using System.Collections.Concurrent;
using System.Globalization;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Findings;

/// <summary>
/// What every finding fixture shares: the profile's runs (trained once per process through the run store and reused
/// by every test of the fixture), the device gate for the full profile, and the baseline check.
/// </summary>
public static class FindingContext
{
    private static readonly ConcurrentDictionary<(string, string), Lazy<FindingRuns>> Cache = new();

    /// <summary>
    /// The finding's runs for a profile. The full profile needs CUDA: without it the test is skipped with the reason,
    /// unless REPRO_DEVICE=cpu asks for the full run on the CPU explicitly.
    /// </summary>
    public static FindingRuns Runs(string finding, string profile)
    {
        if (Environment.GetEnvironmentVariable(RunDeviceVariable) is { Length: > 0 } storedDevice)
            return StoredRuns(finding, profile, storedDevice);
        RequireDeviceFor(profile);
        return Cache.GetOrAdd((finding, profile), key => new Lazy<FindingRuns>(() =>
        {
            var profileConfig = FindingProfile.Load(key.Item1, key.Item2);
            DataSets.Log = line => TestContext.Progress.WriteLine(line);
            return FindingRunner.Run(profileConfig, RunStore.Default, new ProgressWriter());
        }, LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    /// <summary>
    /// REPRO_RUN_DEVICE=cuda checks the claims on runs already stored for that device type (e.g. the full profile trained
    /// on a GPU machine and its artifacts/runs copied here), training nothing; a missing run fails the test.
    /// </summary>
    public const string RunDeviceVariable = "REPRO_RUN_DEVICE";

    private static FindingRuns StoredRuns(string finding, string profile, string device)
    {
        var runs = FindingRunner.Stored(FindingProfile.Load(finding, profile), RunStore.Default, out var missing, device);
        TestContext.Out.WriteLine($"{RunDeviceVariable}={device}: checking runs stored for {device}; nothing is trained.");
        if (missing.Count > 0)
            Assert.Fail($"{RunDeviceVariable}={device}: {finding} ({profile}) has no stored {device} runs for {string.Join(", ", missing)} " +
                        $"under {RunStore.Default.Root}. Train them on a {device} machine with " +
                        $"`dotnet run --project Reproductions.Harness -- reproduce --profile {profile} --findings {finding}` and copy artifacts/runs here.");
        return runs;
    }

    public static void RequireDeviceFor(string profile)
    {
        if (profile != "full" || Devices.CudaAvailable) return;
        if (Devices.FromEnvironment() == DeviceChoice.Cpu) return;
        Assert.Ignore("The full profile trains the paper's setup and needs a CUDA device, and none was found. " +
                      "Build with -p:TorchBackend=cuda on a GPU machine, or set REPRO_DEVICE=cpu to run it on the CPU (hours).");
    }

    /// <summary>Checks the measured metrics against baselines/&lt;profile&gt;/&lt;finding&gt;.json with the profile's band settings.</summary>
    public static void AssertBaseline(FindingRuns runs, Action<MetricSamples> addMetrics)
    {
        var p = runs.Profile;
        var samples = new MetricSamples(p.Finding, p.Profile, p.Seeds.Select(s => checked((int)s)));
        addMetrics(samples);
        var policy = new BandPolicy { StdMultiplier = p.Bands.StdMultiplier, MinAbsolute = p.Bands.MinAbsolute, MinRelative = p.Bands.MinRelative };
        var device = runs.Runs.Values.First()[0].DeviceDetail;
        if (Environment.GetEnvironmentVariable(RunDeviceVariable) is { Length: > 0 })
            device += " (stored runs trained on another machine; the OS, CPU and runtime recorded are the checking machine's)";
        var verdict = BaselineGate.Check(new BaselineStore(RepoPaths.Baselines), samples, policy, device);
        Measured(verdict.Message);
        if (!verdict.Passed) Assert.Fail(verdict.Message);
    }

    private static readonly AsyncLocal<List<string>?> MeasuredLines = new();

    /// <summary>
    /// Writes what a check measured (the per-seed values, the interval it compared) to the test output and keeps it, so that
    /// a passing check's verdict in the report shows its numbers, not only its name.
    /// </summary>
    public static void Measured(string line)
    {
        TestContext.Out.WriteLine(line);
        MeasuredLines.Value?.Add(ReportBuilder.FirstLine(line));
    }

    /// <summary>Starts collecting <see cref="Measured"/> lines for the current test.</summary>
    public static void BeginMeasuring() => MeasuredLines.Value = [];

    /// <summary>The lines measured since <see cref="BeginMeasuring"/>, joined on one line.</summary>
    public static string MeasuredSummary() => string.Join("; ", MeasuredLines.Value ?? []);

    public static string Describe(IEnumerable<double> values) =>
        string.Join(", ", values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)));

    private sealed class ProgressWriter : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => TestContext.Progress.WriteLine(Harness.Cli.ProgressDisplay.Describe(p));
    }
}
