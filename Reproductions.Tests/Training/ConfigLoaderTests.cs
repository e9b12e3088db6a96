using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Training;

[Unit]
public class ConfigLoaderTests
{
    private string folder = null!;

    [SetUp]
    public void SetUp()
    {
        folder = Path.Combine(Path.GetTempPath(), "repro-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(Harness.Infrastructure.RepoPaths.Configs, "defaults.json"), Path.Combine(folder, "defaults.json"));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(folder, recursive: true);

    private void WriteFinding(string runJson, string baseJson = "{}", string extra = "") =>
        File.WriteAllText(Path.Combine(folder, "F99.json"), $$"""
            { "finding": "F99", "claim": "test", {{extra}}
              "profiles": { "full": { "seeds": [1, 2], "base": {{baseJson}}, "runs": { "a": {{runJson}} } } } }
            """);

    private FindingProfile Load(string profile = "full") => FindingProfile.Load("F99", profile, folder);

    private RunDefinition Run(string name) => ((TrainingExperiment)Load().Experiment).Run(name);

    [Test]
    public void Defaults_are_the_blogs_setup()
    {
        WriteFinding("{}");
        var config = Run("a").ForSeed(5);
        config.Model.Widths.Should().Equal(784, 1024, 1024, 10);
        config.Model.Init.Should().Be(InitScheme.XavierZero);
        config.Preprocessing.Should().Be(Preprocessing.Standardize);
        config.Optimizer.Kind.Should().Be(OptimizerKind.Sgd);
        config.Optimizer.Momentum.Should().Be(0);
        config.Phases.Should().ContainSingle().Which.Should().BeEquivalentTo(new PhaseConfig { Epochs = 30, BatchSize = 64, LearningRate = 0.01 });
        config.Seed.Should().Be(5);
    }

    [Test]
    public void Later_layers_replace_arrays_whole()
    {
        WriteFinding("""{ "phases": [ { "epochs": 1, "batchSize": 1024, "learningRate": 0.01 }, { "epochs": 30, "batchSize": 64, "learningRate": 0.01 } ] }""",
                     """{ "trainSamples": 2000, "model": { "init": "torch-default" } }""");
        var config = Run("a").ForSeed(1);
        config.Phases.Select(p => p.BatchSize).Should().Equal(1024, 64);
        config.TrainSamples.Should().Be(2000);
        config.Model.Init.Should().Be(InitScheme.TorchDefault);
        config.Model.Widths.Should().Equal(784, 1024, 1024, 10);
    }

    [Test]
    public void Unknown_key_names_the_file_and_the_key()
    {
        WriteFinding("""{ "phases": [ { "epochs": 1, "batchSise": 64, "learningRate": 0.01 } ] }""");
        var act = () => Load();
        act.Should().Throw<ConfigException>().Which.Message.Should()
            .Contain("F99.json profiles:full:runs:a").And.Contain("phases:0:batchSise").And.Contain("batchSize");
    }

    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 0, "learningRate": 0.01 } ] }""", "phases:0:batchSize = 0")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 64, "learningRate": -0.1 } ] }""", "phases:0:learningRate = -0.1")]
    [TestCase("""{ "phases": [ { "epochs": 0, "batchSize": 64, "learningRate": 0.1 } ] }""", "phases:0:epochs = 0")]
    [TestCase("""{ "trainSamples": 70000 }""", "trainSamples = 70000")]
    [TestCase("""{ "optimizer": { "momentum": 1.5 } }""", "optimizer:momentum = 1.5")]
    [TestCase("""{ "model": { "init": "xavier" } }""", "model:init = 'xavier': expected one of xavier-zero, torch-default")]
    [TestCase("""{ "phases": [ { "epochs": "many", "batchSize": 64, "learningRate": 0.1 } ] }""", "phases:0:epochs")]
    public void Impossible_values_are_rejected_with_file_key_and_reason(string run, string expected)
    {
        WriteFinding(run);
        var act = () => Load();
        act.Should().Throw<ConfigException>().Which.Message.Should().Contain("F99.json").And.ContainEquivalentOf(expected);
    }

    [Test]
    public void Unknown_profile_key_and_missing_profile_are_named()
    {
        WriteFinding("{}", extra: "");
        var act = () => Load("quick");
        act.Should().Throw<ConfigException>().WithMessage("*no profile 'quick'*");

        File.WriteAllText(Path.Combine(folder, "F99.json"), """{ "finding": "F99", "profiles": { "full": { "seeds": [1], "runs": { "a": {} }, "epochs": 3 } } }""");
        act = () => Load();
        act.Should().Throw<ConfigException>().WithMessage("*unknown key 'epochs'*");
    }

    [Test]
    public void Malformed_json_names_the_file()
    {
        File.WriteAllText(Path.Combine(folder, "F99.json"), "{ \"finding\": \"F99\",\n  \"profiles\": { \"full\": [ } }");
        var act = () => Load();
        act.Should().Throw<ConfigException>().Which.Message.Should().Contain("F99.json").And.Contain("not valid JSON").And.Contain("line 2");
    }

    [Test, NonParallelizable]
    public void Environment_variables_override_settings()
    {
        WriteFinding("{}");
        Environment.SetEnvironmentVariable("REPRO_SET__phases__0__epochs", "2");
        try
        {
            Run("a").ForSeed(1).Phases[0].Epochs.Should().Be(2);
        }
        finally
        {
            Environment.SetEnvironmentVariable("REPRO_SET__phases__0__epochs", null);
        }
    }

    [Test]
    public void Every_committed_finding_config_loads_for_every_profile()
    {
        var ids = Directory.GetFiles(Harness.Infrastructure.RepoPaths.Configs, "F*.json").Select(Path.GetFileNameWithoutExtension).ToList();
        ids.Should().Contain(["F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08", "F09", "F10", "F11", "F12", "F13", "F14"]);
        FindingProfile.All().Should().Equal(ids.Order(StringComparer.Ordinal), "every finding, whatever its protocol, is one of the findings");
        foreach (var id in ids)
            foreach (var profile in FindingProfile.Profiles)
            {
                var loaded = FindingProfile.Load(id!, profile);
                loaded.Experiment.Groups.Should().NotBeEmpty();
                loaded.Dataset.Should().Be("mnist");
                if (profile != "full") loaded.Changes.Should().NotBeEmpty($"{id} {profile} declares what it changes in full");
            }
    }
}
