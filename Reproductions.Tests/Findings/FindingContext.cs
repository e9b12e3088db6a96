using System.Collections.Concurrent;
using System.Globalization;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Data;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Findings;

/// <summary>
/// What every finding fixture shares, whatever its protocol: the profile's measurements (its experiment run once per
/// process through the one store, and reused by every test of the fixture), the device gate for the full profile,
/// REPRO_RUN_DEVICE (check results stored for another device type, running nothing), and the baseline check.
/// </summary>
public static class FindingContext
{
    private static readonly ConcurrentDictionary<(string, string, string), Lazy<(FindingProfile, Measured)>> Cache = new();

    /// <summary>
    /// The finding's profile and its measurements. The full profile needs CUDA: without it the test is skipped with the
    /// reason, unless REPRO_DEVICE=cpu asks for the full run on the CPU explicitly. With REPRO_RUN_DEVICE set, the
    /// results stored for that device type are read and nothing runs; a missing one fails the test with the command
    /// that makes it.
    /// </summary>
    public static (FindingProfile Profile, Measured Measured) Measure(string finding, string profile, string dataset)
    {
        if (FindingRunner.RunDevice() is { } storedDevice)
            return StoredMeasurements(finding, profile, dataset, storedDevice);
        RequireDeviceFor(profile);
        return Cache.GetOrAdd((finding, profile, dataset), key => new Lazy<(FindingProfile, Measured)>(() =>
        {
            var p = FindingProfile.Load(key.Item1, key.Item2, dataset: key.Item3);
            DataSets.Log = line => TestContext.Progress.WriteLine(line);
            var options = new RunOptions { Progress = new ProgressWriter(), Log = line => TestContext.Progress.WriteLine(line) };
            return (p, FindingRunner.Run(p, ExperimentStore.Default, options));
        }, LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private static (FindingProfile, Measured) StoredMeasurements(string finding, string profile, string dataset, string device)
    {
        var p = FindingProfile.Load(finding, profile, dataset: dataset);
        var measured = FindingRunner.Stored(p, ExperimentStore.Default, device);
        TestContext.Out.WriteLine($"{FindingRunner.RunDeviceVariable}={device}: checking results stored for {device}; nothing runs.");
        if (measured.Missing.Count > 0)
            Assert.Fail($"{FindingRunner.RunDeviceVariable}={device}: {finding} ({profile}) has no stored {device} results for " +
                        $"{string.Join(", ", measured.Missing.Select(m => m.Run))} under {ExperimentStore.Default.Root}. Make them on a {device} machine with " +
                        $"`{FindingRunner.RunCommand(profile, finding)}` and copy artifacts/runs here.");
        return (p, measured);
    }

    public static void RequireDeviceFor(string profile)
    {
        if (profile != "full" || Devices.CudaAvailable) return;
        if (Devices.FromEnvironment() == DeviceChoice.Cpu) return;
        Assert.Ignore("The full profile runs the paper's setup and needs a CUDA device, and none was found. " +
                      "Build with -p:TorchBackend=cuda on a GPU machine, or set REPRO_DEVICE=cpu to run it on the CPU (hours).");
    }

    /// <summary>
    /// Checks the metrics <paramref name="addMetrics"/> adds (one value per seed) against
    /// baselines/&lt;profile&gt;/&lt;dataset&gt;/&lt;finding&gt;.json with the profile's band settings.
    /// </summary>
    public static void AssertBaseline(FindingProfile profile, Measured measured, Action<MetricSamples> addMetrics)
    {
        var samples = new MetricSamples(profile.Finding, profile.Profile, profile.Dataset, profile.Seeds.Select(s => checked((int)s)))
        {
            VerdictsSnapshotted = !profile.OnPaperDataset,
        };
        addMetrics(samples);
        foreach (var claim in profile.Evaluate(measured)) samples.AddVerdict(claim.Id, claim.Outcome);
        // How narrow each margin claim's deciding interval is at this spread: the accept step refuses one that could never be decided.
        foreach (var claim in profile.Evaluate(measured).Where(v => v.Margin is not null))
        {
            var widest = claim.Parts.Where(p => p.HalfWidth is not null).MaxBy(p => p.HalfWidth!.Value);
            if (widest is null || !double.IsFinite(widest.HalfWidth!.Value)) continue;
            var level = claim.Kind == "matches" ? 0.90 : 0.95;
            samples.AddClaimPower(new ClaimPower(claim.Id, claim.Margin!.Value, widest.HalfWidth.Value, widest.PerSeed.Count,
                Intervals.SeedsNeeded(MathNet.Numerics.Statistics.Statistics.StandardDeviation(widest.PerSeed), claim.Margin.Value, level)));
        }
        var device = string.Join("; ", measured.Devices);
        if (FindingRunner.RunDevice() is not null)
            device += " (stored results made on another machine; the OS, CPU and runtime recorded are the checking machine's)";
        var verdict = BaselineGate.Check(new BaselineStore(RepoPaths.Baselines), samples, profile.Bands.ToPolicy(), device);
        TestContext.Out.WriteLine(verdict.Message);
        if (!verdict.Passed) Assert.Fail(verdict.Message);
    }

    /// <summary>A claim's verdict beside the one the finding's baseline (profile, dataset) stores.</summary>
    public static VerdictSnapshot Snapshot(FindingProfile profile, ClaimVerdict verdict)
    {
        var store = new BaselineStore(RepoPaths.Baselines);
        return VerdictSnapshot.Of(verdict, store.TryLoad(profile.Profile, profile.Dataset, profile.Finding), ConfigFiles.Relative(store.Path(profile.Profile, profile.Dataset, profile.Finding)));
    }

    public static string Describe(IEnumerable<double> values) =>
        string.Join(", ", values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)));

    private sealed class ProgressWriter : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => TestContext.Progress.WriteLine(Harness.Cli.ProgressDisplay.Describe(p));
    }
}
