using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Reporting;

/// <summary>
/// A throw-away repository for report tests: a fake finding F90 (configs with quick and full profiles and a report
/// section with every figure kind), a run store holding hand-made run records (no training), a verdict store and an
/// output folder. Its claims come out: test_accuracy_falls and bs64_beats_bs1024 hold, lr_0_1_reaches_bs64 is inconclusive
/// (paired differences 0, -0.005, -0.01 against a margin of 0.005), bs64_stays_near_init does not hold (6.0, 6.5, 7.0 against 1). The numbers are chosen so that means and stds are easy to state by hand.
/// </summary>
internal sealed class ReportFakes : IDisposable
{
    public const string Finding = "F90";
    public static readonly DateTime Completed = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public ReportFakes()
    {
        Root = Path.Combine(Path.GetTempPath(), "repro-report-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Configs);
        File.Copy(Path.Combine(RepoPaths.Configs, "defaults.json"), Path.Combine(Configs, "defaults.json"));
        File.WriteAllText(Path.Combine(Configs, $"{Finding}.json"), Config);
        Store = new ExperimentStore(Path.Combine(Root, "runs"));
    }

    public string Root { get; }
    public string Configs => Path.Combine(Root, "configs");
    public string Output => Path.Combine(Root, "report");
    public ExperimentStore Store { get; }

    public string Baselines => Path.Combine(Root, "baselines");

    public ReportBuilder Builder(string profile) => new(profile, Store, Configs) { BaselinesFolder = Baselines };

    public ReportResult Build(string profile, params string[] findings) =>
        Builder(profile).Build(findings.Length > 0 ? findings : [Finding], Path.Combine(Output, profile));

    /// <summary>The report of F90 on <paramref name="datasets"/>.</summary>
    public ReportResult BuildOn(string profile, params string[] datasets) =>
        Builder(profile).Build([Finding], Path.Combine(Output, profile), datasets);

    public FindingProfile Profile(string profile, string? dataset = null) => FindingProfile.Load(Finding, profile, Configs, dataset: dataset);

    /// <summary>Deletes the folder, unless REPRO_KEEP_TEST_FILES=1 asks to keep it for a look at the figures.</summary>
    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("REPRO_KEEP_TEST_FILES") == "1")
        {
            TestContext.Progress.WriteLine($"kept: {Root}");
            return;
        }
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }

    // F90: bs64, bs256, bs1024 at lr 0.01 and bs1024 at lr 0.1, 3 epochs (quick, 1000 samples) or 30 (full).
    private const string Config = """
        {
          "finding": "F90",
          "claim": "Smaller batches reach higher test accuracy. A second sentence that the summary leaves out.",
          "reference": {
            "bs64":   { "testAccuracy": "98%", "weightDistance": "6.71", "layerCosines": "[0.988 0.993 0.928]" },
            "bs256":  { "testAccuracy": "between bs64 and bs1024", "weightDistance": "about 5" },
            "bs1024": { "testAccuracy": "95-96%", "trainAccuracy": "[1 2]" }
          },
          "report": {
            "metrics": ["trainAccuracy", "testAccuracy", "weightDistance", "layerCosines"],
            "figures": [
              { "kind": "curves", "metric": "testAccuracy", "title": "Test accuracy per epoch" },
              { "kind": "curves", "metric": "weightDistance", "title": "Distance from init, last 2 epochs", "lastEpochs": 2 },
              { "kind": "curves", "metric": "trainLoss", "title": "Train loss per step", "x": "steps", "runs": ["bs64", "bs1024"] },
              { "kind": "heatmap", "metric": "testAccuracy", "title": "Test accuracy over the grid", "x": "learningRate", "y": "batchSize" },
              { "kind": "layers", "metric": "layerCosines", "title": "F90: Cosine to init per layer" },
              { "kind": "bars", "metric": "weightNorm", "title": "Weight norm after training" }
            ]
          },
          "claims": [
            { "id": "test_accuracy_falls", "statement": "Test accuracy falls as the batch size grows.", "kind": "ordered",
              "values": ["bs64.testAccuracy", "bs256.testAccuracy", "bs1024.testAccuracy"] },
            { "id": "bs64_beats_bs1024", "statement": "bs 64 beats bs 1024 in test accuracy.", "kind": "exceeds", "a": "bs64.testAccuracy", "b": "bs1024.testAccuracy" },
            { "id": "lr_0_1_reaches_bs64", "statement": "bs 1024 at lr 0.1 reaches bs 64.", "kind": "matches", "a": "bs1024_lr01.testAccuracy", "b": "bs64.testAccuracy",
              "margin": 0.005, "marginSource": "the paper's 98%: ±0.5 points" },
            { "id": "bs64_stays_near_init", "statement": "Measured: bs 64 stays within 1 of its init.", "kind": "threshold", "value": "bs64.weightDistance", "below": 1,
              "thresholdSource": "a fake bound", "against": "the paper says it travels far" },
            { "id": "full_only", "statement": "A claim of the full profile alone.", "kind": "exceeds", "a": "bs64.testAccuracy", "b": "bs256.testAccuracy",
              "profiles": ["full"], "leftOut": { "quick": "three epochs are too few" } }
          ],
          "profiles": {
            "quick": {
              "description": "1,000 of the 60,000 training samples, 3 of 30 epochs.",
              "changes": {
                "base": { "trainSamples": 2000 },
                "runs": { "*": { "phases": [ { "epochs": 3 } ] }, "bs1024_lr01": { "optimizer": { "kind": "sgd" } } },
                "bands": { "stdMultiplier": 4, "minAbsolute": 0.002, "reason": "a test floor" }
              }
            },
            "full": {
              "description": "The blog's setup: 60,000 samples, 30 epochs.",
              "seeds": [1, 2, 3],
              "base": {},
              "runs": {
                "bs64":        { "phases": [ { "epochs": 30, "batchSize": 64,   "learningRate": 0.01 } ] },
                "bs256":       { "phases": [ { "epochs": 30, "batchSize": 256,  "learningRate": 0.01 } ] },
                "bs1024":      { "phases": [ { "epochs": 30, "batchSize": 1024, "learningRate": 0.01 } ] },
                "bs1024_lr01": { "phases": [ { "epochs": 30, "batchSize": 1024, "learningRate": 0.1 } ], "optimizer": { "kind": "adam" } }
              },
              "bands": { "stdMultiplier": 3, "minAbsolute": 0.001, "reason": "a test floor" }
            }
          }
        }
        """;

    /// <summary>Final test accuracy per run and seed (seeds 1, 2, 3).</summary>
    public static readonly Dictionary<string, double[]> FinalTest = new()
    {
        ["bs64"] = [0.97, 0.98, 0.99],       // 98.00% ± 1.00: agrees with the paper's 98%
        ["bs256"] = [0.95, 0.96, 0.97],      // 96.00% ± 1.00
        ["bs1024"] = [0.900, 0.902, 0.904],  // 90.20% ± 0.20: the paper's 95-96% lies far above
        ["bs1024_lr01"] = [0.97, 0.975, 0.98],
    };

    /// <summary>Final weight distance per run and seed.</summary>
    public static readonly Dictionary<string, double[]> FinalDistance = new()
    {
        ["bs64"] = [6.0, 6.5, 7.0],          // 6.500 ± 0.500: agrees with 6.71
        ["bs256"] = [4.0, 4.0, 4.0],
        ["bs1024"] = [2.0, 2.5, 3.0],
        ["bs1024_lr01"] = [5.0, 5.5, 6.0],
    };

    /// <summary>Final per-layer cosines, the same for every seed; bs64's third layer (0.950) is far from the paper's 0.928.</summary>
    public static readonly Dictionary<string, double[]> FinalCosines = new()
    {
        ["bs64"] = [0.988, 0.993, 0.950],
        ["bs256"] = [0.995, 0.997, 0.97],
        ["bs1024"] = [0.998, 0.998, 0.978],
        ["bs1024_lr01"] = [0.991, 0.994, 0.936],
    };

    /// <summary>Stores every run of the profile for every seed, except the seeds named in <paramref name="skip"/>.</summary>
    public void StoreRuns(string profile, string device = "", params (string Run, long Seed)[] skip) => StoreRunsOn(null, profile, device, skip);

    /// <summary>As <see cref="StoreRuns"/>, with every run reading <paramref name="dataset"/> (null: the config's).</summary>
    public void StoreRunsOn(string? dataset, string profile, string device = "", params (string Run, long Seed)[] skip)
    {
        var p = (TrainingExperiment)Profile(profile, dataset).Experiment;
        var type = device.Length > 0 ? device : Devices.TypeName(Devices.Resolve(DeviceChoice.Auto));
        foreach (var run in p.Runs)
            for (var s = 0; s < p.Seeds.Count; s++)
            {
                if (skip.Contains((run.Name, p.Seeds[s]))) continue;
                var config = run.ForSeed(p.Seeds[s]);
                var work = new TrainingWork(config, type, $"{run.Name} seed {p.Seeds[s]}");
                Store.Save(work, Record(config, run.Name, s, type) with { Hash = work.Key.Hash });
            }
    }

    /// <summary>
    /// A run record by hand: accuracies climb linearly to the run's final value, epoch 2 is not evaluated (NaN accuracy
    /// and loss), the weight distance grows to its final value, the norm stays near 44.
    /// </summary>
    public static RunRecord Record(TrainingConfig config, string run, int seedIndex, string device)
    {
        var epochs = config.TotalEpochs;
        var list = new List<EpochMetrics>();
        var stepsPerEpoch = ((config.TrainSamples ?? 60000) + config.Phases[0].BatchSize - 1) / config.Phases[0].BatchSize;
        for (var e = 1; e <= epochs; e++)
        {
            var f = (double)e / epochs;
            var evaluated = e != 2;
            var test = FinalTest[run][seedIndex] - 0.1 * (1 - f);
            list.Add(new EpochMetrics
            {
                Epoch = e, Phase = 0, BatchSize = config.Phases[0].BatchSize, LearningRate = config.Phases[0].LearningRate,
                Steps = (long)stepsPerEpoch * e,
                TrainLoss = evaluated ? 0.5 * (1 - f) + 0.01 : double.NaN,
                TrainAccuracy = evaluated ? Math.Min(1, test + 0.01) : double.NaN,
                TestLoss = evaluated ? 0.5 * (1 - f) + 0.05 : double.NaN,
                TestAccuracy = evaluated ? test : double.NaN,
                WeightDistance = FinalDistance[run][seedIndex] * f,
                BiasDistance = 0.1 * f,
                WeightNorm = 44 + FinalDistance[run][seedIndex] * f / 10,
                BiasNorm = 0.1 * f,
                LayerCosines = FinalCosines[run].Select(c => 1 - (1 - c) * f).ToArray(),
                TrainSeconds = 1, EvalSeconds = 0.5,
            });
        }
        return new RunRecord
        {
            Hash = "", FormatVersion = TrainingWork.FormatVersion, Config = config, Device = device, DeviceDetail = $"{device} (fake)",
            Epochs = list, InitialWeightNorm = 43.95, InitialBiasNorm = 0, CompletedUtc = Completed, TrainingSeconds = 10, ResumedFromEpoch = 0,
        };
    }
}
