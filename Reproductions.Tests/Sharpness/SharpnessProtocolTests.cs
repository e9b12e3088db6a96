using Reproductions.Harness.Claims;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Store;
using Reproductions.Tests.Training;

namespace Reproductions.Tests.Sharpness;

/// <summary>
/// The sharpness protocol end to end on synthetic data (a small MLP, a few epochs, a few loss evaluations): the training
/// stop rule and kept weights, every unit stored and reused, the metrics the claims read, the figures and tables; and the
/// config errors it names.
/// </summary>
[Unit]
public sealed class SharpnessProtocolTests
{
    private string root = null!;

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-sharpness-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "configs"));
        File.WriteAllText(Path.Combine(root, "configs", "defaults.json"), """
            { "dataset": "mnist", "preprocessing": "unit", "model": { "widths": [784, 32, 10], "init": "xavier-zero" },
              "optimizer": { "kind": "sgd", "momentum": 0 }, "lossReduction": "mean", "phases": [ { "epochs": 3, "batchSize": 50, "learningRate": 0.01 } ],
              "evaluation": { "chunkSize": 500 }, "seed": 1, "device": "cpu" }
            """);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(root, recursive: true);

    private const string Sharpness = """
        "sharpness": {
          "epsilons": [0.001, 0.0005], "subspaceDimensions": 5, "evaluations": 4, "bfgsIterations": 3, "evaluationSamples": 200,
          "runs": ["sb", "lb"],
          "alongTraining": { "runs": ["sb", "lb"], "space": "full", "epsilon": 0.001 },
          "parametric": { "small": "sb", "large": "lb", "points": 5, "from": -1, "to": 2 }
        }
        """;

    private void WriteFinding(string sharpness = Sharpness, string lbExtra = "")
    {
        File.WriteAllText(Path.Combine(root, "configs", "F97.json"), $$"""
            {
              "finding": "F97", "claim": "A synthetic sharpness finding.", "protocol": "sharpness",
              "report": { "metrics": ["testAccuracy", "sharpnessFull1e-3", "gradientNorm"], "tables": ["maximisers", "checkpoints"],
                "figures": [ { "kind": "sharpness-vs-loss", "title": "sharpness against loss" }, { "kind": "parametric", "title": "the line" },
                             { "kind": "curves", "metric": "testAccuracy", "title": "test accuracy" } ] },
              "claims": [
                { "id": "sharper", "statement": "lb is sharper.", "kind": "exceeds", "for": {"space": ["Full", "Subspace"]}, "a": "lb.logSharpness{space}1e-3", "b": "sb.logSharpness{space}1e-3" },
                { "id": "rises", "statement": "lb's sharpness rises.", "kind": "rank", "statistic": "lb.sharpnessLossSpearman", "direction": "positive", "alpha": 0.05 }
              ],
              "profiles": {
                "full": {
                  "seeds": [1, 2],
                  "base": { "trainSamples": 600 },
                  "runs": {
                    "sb": { "optimizer": { "kind": "adam" }, "phases": [ { "epochs": 8, "batchSize": 20, "learningRate": 0.001 } ], "stopAtTrainAccuracy": 0.97, "keepWeights": 4 },
                    "lb": { "optimizer": { "kind": "adam" }, "phases": [ { "epochs": 6, "batchSize": 300, "learningRate": 0.001 } ], "keepWeights": 4{{lbExtra}} }
                  },
                  {{sharpness}}
                },
                "quick": { "changes": {} }
              }
            }
            """);
    }

    [Test]
    public void A_weights_file_that_changed_after_its_run_stored_it_is_never_loaded()
    {
        WriteFinding();
        using var data = SyntheticData.Create(train: 600, test: 200);
        var (profile, store, options, _) = Setup(data);
        var measured = (SharpnessMeasured)FindingRunner.Run(profile, store, options);
        var record = measured.Training.Runs["lb"][0];
        var folder = store.Folder(new TrainingWork(record.Config, "cpu", "").Key);
        record.CheckedWeights(folder, TrainingWork.WeightsFile).Should().Be(Path.Combine(folder, TrainingWork.WeightsFile));

        var path = Path.Combine(folder, TrainingWork.WeightsFile);
        Damage.FlipABiasBit(path);
        FluentActions.Invoking(() => record.CheckedWeights(folder, TrainingWork.WeightsFile))
            .Should().Throw<Harness.Infrastructure.CorruptStateException>().WithMessage($"*{TrainingWork.WeightsFile}: its SHA-256 is *the weights file changed after it was stored. Move *result.json aside (keep it, or delete it): the unit that stored it then runs again*");
        (record with { WeightsSha256 = null }).CheckedWeights(folder, TrainingWork.WeightsFile).Should().Be(path, "a result stored before weights were checksummed reads them unchecked");

        File.Delete(path);
        FluentActions.Invoking(() => record.CheckedWeights(folder, TrainingWork.WeightsFile))
            .Should().Throw<Harness.Infrastructure.CorruptStateException>().WithMessage($"*{TrainingWork.WeightsFile}: run {record.Hash}'s result records its SHA-256, but the weights file is not there. Move *result.json aside*");

        // The error's advice works: with the run's result moved aside, the finding runs it again and its weights check.
        File.Move(Path.Combine(folder, "result.json"), Path.Combine(folder, "result.json.aside"));
        var again = (SharpnessMeasured)FindingRunner.Run(profile, store, options);
        var rerun = again.Training.Runs["lb"][0];
        rerun.CheckedWeights(folder, TrainingWork.WeightsFile).Should().Be(path);
        rerun.WeightsSha256.Should().BeEquivalentTo(record.WeightsSha256, "the same seed on the same machine writes the same weights");
    }

    /// <summary>F97's quick profile, a store under the test's folder, and run options on <paramref name="data"/> that log into the list returned.</summary>
    private (FindingProfile Profile, ExperimentStore Store, RunOptions Options, List<string> Log) Setup(TrainingData data)
    {
        var log = new List<string>();
        return (FindingProfile.Load("F97", "quick", Path.Combine(root, "configs")), new ExperimentStore(Path.Combine(root, "runs")),
            new RunOptions { Data = _ => data, Log = log.Add }, log);
    }

    [Test]
    public void Runs_stop_at_their_target_keep_their_weights_and_every_unit_is_measured_once()
    {
        WriteFinding();
        using var data = SyntheticData.Create(train: 600, test: 200);
        var (profile, store, options, log) = Setup(data);
        var measured = (SharpnessMeasured)FindingRunner.Run(profile, store, options);

        measured.Missing.Should().BeEmpty();
        var sb = measured.Training.Runs["sb"];
        sb.Should().OnlyContain(r => r.ReachedTarget && r.Epochs.Count < 8 && r.Final.TrainAccuracy >= 0.97, "the synthetic data are learnt within a few epochs");
        log.Should().Contain(l => l.Contains("stopped after epoch", StringComparison.Ordinal));
        foreach (var record in sb.Concat(measured.Training.Runs["lb"]))
        {
            record.WeightEpochs.Should().Equal(TrainingConfig.KeptEpochs(record.Epochs.Count, 4));
            var folder = store.Folder(new TrainingWork(record.Config, "cpu", "").Key);
            record.WeightEpochs!.Should().OnlyContain(e => File.Exists(Path.Combine(folder, RunRecord.WeightsFileAt(e))));
            record.WeightsSha256!.Keys.Should().BeEquivalentTo(record.WeightEpochs!.Select(RunRecord.WeightsFileAt).Append(TrainingWork.WeightsFile), "every weights file beside the result is checksummed");
        }
        measured.Training.Runs["lb"].Should().OnlyContain(r => !r.ReachedTarget && r.Epochs.Count == 6);

        foreach (var run in new[] { "sb", "lb" })
        {
            measured.Final[run].Should().OnlyContain(r => r.EvaluationSamples == 200 && r.Points.Count == 1);
            var measures = measured.Final[run][0].Points[0].Measures;
            measures.Select(m => (m.Space, m.Epsilon)).Should().Equal(("full", 0.001), ("subspace p=5", 0.001), ("full", 0.0005), ("subspace p=5", 0.0005), ("subspace p=5 (projected ascent)", 0.001));
            measures.Should().OnlyContain(m => m.Phi >= 0 && m.Evaluations <= 4);
            measured.Values(run, "sharpnessFull1e-3")!.Should().HaveCount(2);
            measured.Values(run, "logSharpnessSubspace5e-4")![0][0].Should().Be(Math.Log(measured.Values(run, "sharpnessSubspace5e-4")![0][0]));
            measured.Along[run].Select(r => string.Join(",", r.Points.Select(p => p.Epoch)))
                .Should().Equal(measured.Training.Runs[run].Select(r => string.Join(",", r.WeightEpochs!)));
            measured.Values(run, "sharpnessLossSpearman")!.Should().HaveCount(2);
        }
        measured.Values("sb", "epochsRun")!.Select(v => v[0]).Should().Equal(sb.Select(r => (double)r.Epochs.Count));
        measured.Values("sb", "reachedTarget")!.Select(v => v[0]).Should().OnlyContain(v => v == 1);
        measured.Pooled("lb", "sharpnessLossSpearman")!.Points.Should().Be(measured.Along["lb"].Sum(r => r.Points.Count));
        measured.Lines.Should().HaveCount(2).And.OnlyContain(l => l.Alphas.Count == 5 && l.TrainAccuracy.All(a => a >= 0 && a <= 1));
        // At a = 0 the line is the small-batch point, at a = 1 the large-batch one: their accuracies on the evaluation set.
        measured.Lines![0].Alphas[1].Should().Be(-0.25);
        profile.Evaluate(measured).Should().OnlyContain(v => v.Outcome != ClaimOutcome.NotMeasured);

        var tables = measured.Tables(profile.Report);
        tables.Select(t => t.Title).Should().HaveCount(2);
        var figures = Path.Combine(root, "figures");
        Directory.CreateDirectory(figures);
        var drawn = measured.DrawFigures(profile.Report, new Harness.Protocols.FigureTarget(figures, "F97-mnist", "F97", "quick", false, (_, _) => null));
        drawn.Should().HaveCount(3).And.OnlyContain(f => f.File != null);
        drawn.Should().OnlyContain(f => new FileInfo(Path.Combine(figures, f.File!)).Length > 10_000);

        // Everything is stored: a second run reads it back and trains or measures nothing.
        log.Clear();
        var again = (SharpnessMeasured)FindingRunner.Run(profile, store, options);
        log.Should().NotContain(l => l.Contains("phi", StringComparison.Ordinal) || l.Contains("stopped after", StringComparison.Ordinal));
        again.Values("lb", "sharpnessFull1e-3")!.Select(v => v[0]).Should().Equal(measured.Values("lb", "sharpnessFull1e-3")!.Select(v => v[0]));
    }

    [Test]
    public void A_bad_sharpness_config_is_refused_naming_the_key()
    {
        var configs = Path.Combine(root, "configs");
        WriteFinding(Sharpness.Replace("\"epsilons\": [0.001, 0.0005]", "\"epsilons\": [0]", StringComparison.Ordinal));
        ((Action)(() => FindingProfile.Load("F97", "quick", configs))).Should().Throw<ConfigException>().WithMessage("*sharpness: epsilons = [0]: expected at least one box size in (0, 1)*");
        WriteFinding(Sharpness.Replace("\"runs\": [\"sb\", \"lb\"],\n", "\"runs\": [\"sb\", \"xl\"],\n", StringComparison.Ordinal));
        ((Action)(() => FindingProfile.Load("F97", "quick", configs))).Should().Throw<ConfigException>().WithMessage("*sharpness:runs = 'xl': not a run of this profile*");
        WriteFinding(Sharpness.Replace("\"bfgsIterations\": 3", "\"bfgsIterations\": 3, \"iterations\": 3", StringComparison.Ordinal));
        ((Action)(() => FindingProfile.Load("F97", "quick", configs))).Should().Throw<ConfigException>().WithMessage("*sharpness: unknown key 'iterations'*");
        WriteFinding(Sharpness.Replace("\"evaluationSamples\": 200", "\"evaluationSamples\": 5000", StringComparison.Ordinal));
        ((Action)(() => FindingProfile.Load("F97", "quick", configs))).Should().Throw<ConfigException>().WithMessage("*evaluationSamples = 5000: more than the 600 training samples*");
        WriteFinding(lbExtra: ", \"stopAtTrainAccuracy\": 1.5");
        ((Action)(() => FindingProfile.Load("F97", "quick", configs))).Should().Throw<ConfigException>().WithMessage("*stopAtTrainAccuracy = 1.5: must be a fraction in (0, 1]*");
    }

    [Test]
    public void A_run_that_diverges_is_listed_and_the_units_that_read_it_are_not_run()
    {
        WriteFinding();
        var file = Path.Combine(root, "configs", "F97.json");
        // Adam at a step of 1000 blows lb up within its first epoch (a finite loss far above a uniform guess's, or none at all).
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"batchSize\": 300, \"learningRate\": 0.001", "\"batchSize\": 300, \"learningRate\": 1000", StringComparison.Ordinal));
        using var data = SyntheticData.Create(train: 600, test: 200);
        var (profile, store, options, log) = Setup(data);

        var measured = (SharpnessMeasured)FindingRunner.Run(profile, store, options);
        measured.Training.Runs.Runs.Should().ContainKey("sb").And.NotContainKey("lb");
        measured.Missing.Should().ContainSingle(m => m.Run == "lb").Which.Should().Match<Harness.Reporting.MissingRun>(m => m.DivergedUnexpectedly && m.Diverged!.Count == 2);
        measured.Missing.Select(m => m.Run).Should().Contain(["lb sharpness", "lb sharpness along training", "sb to lb parametric line"]);
        measured.Final.Should().ContainKey("sb", "what reads only finished runs is measured");
        log.Where(l => l.Contains("not run: it reads", StringComparison.Ordinal)).Should().HaveCount(3 * 2, "per seed: lb's final point, lb along training, the line");

        // Any other way in (a shard runs its units one by one) names the divergence instead of a missing weights file.
        var unit = profile.Experiment.Plan("cpu", FindingRunner.Label(profile)).OfType<SharpnessWork>().First(w => w.Label.Contains(" lb seed 1 sharpness", StringComparison.Ordinal));
        ((Action)(() => store.GetOrRunUntyped(unit, options))).Should().Throw<Harness.Infrastructure.RunDivergedException>().WithMessage("*lb seed 1 diverged at epoch 1*needs a finished run*");
    }

    [Test]
    public void Kept_epochs_are_the_init_the_last_and_log_spaced_between()
    {
        TrainingConfig.KeptEpochs(5, 10).Should().Equal(0, 1, 2, 3, 4, 5);
        TrainingConfig.KeptEpochs(100, 10).Should().Equal(0, 1, 2, 3, 6, 10, 18, 32, 56, 100);
        TrainingConfig.KeptEpochs(30, 10).Should().StartWith([0, 1]).And.EndWith(30).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }
}
