using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Protocols;

/// <summary>
/// The training protocol's profile keys for the scaling rules: accumulationChecks (runs that accumulate, compared with
/// whole batches) and mayDiverge (runs whose divergence is an expected outcome), each refused with the file and key when
/// it names what the profile does not have.
/// </summary>
[Unit, NonParallelizable]
public sealed class TrainingProtocolKeysTests
{
    private string configs = null!;

    [SetUp]
    public void SetUp()
    {
        configs = Path.Combine(Path.GetTempPath(), "repro-training-keys-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(configs);
        File.Copy(Path.Combine(Harness.Infrastructure.RepoPaths.Configs, "defaults.json"), Path.Combine(configs, "defaults.json"));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(configs, recursive: true);

    private FindingProfile Load(string profileExtras)
    {
        File.WriteAllText(Path.Combine(configs, "F96.json"), $$"""
            {
              "finding": "F96", "claim": "c",
              "profiles": { "full": { "seeds": [1, 2], "runs": {
                  "whole": { "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": 0.01 } ] },
                  "split": { "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": 0.01, "accumulation": 4 } ] },
                  "sweep_800": { "phases": [ { "epochs": 1, "batchSize": 800, "learningRate": 0.08, "warmupEpochs": 1, "warmupFrom": 0.01 } ] } }
                {{profileExtras}} } }
            }
            """);
        return FindingProfile.Load("F96", "full", configs);
    }

    [Test]
    public void Accumulation_checks_and_expected_divergence_are_bound_into_the_plan()
    {
        var profile = Load(""", "accumulationChecks": ["split"], "mayDiverge": { "sweep_*": "a sweep to where the rule breaks" }""");
        var experiment = (TrainingExperiment)profile.Experiment;
        experiment.AccumulationChecks.Should().Equal("split");
        experiment.DivergenceReason("sweep_800").Should().Be("a sweep to where the rule breaks");
        experiment.DivergenceReason("whole").Should().BeNull();
        var plan = experiment.Plan("cpu", "F96");
        plan.Should().HaveCount(3 * 2 + 2, "every run per seed, then one accumulation check per seed");
        plan.Skip(6).Should().AllBeOfType<AccumulationCheckWork>();
        plan.Skip(6).Select(w => w.Key.Kind).Should().AllBe(AccumulationCheckWork.Kind);
    }

    [TestCase(""" "quickTier": { "category": "Nightly", "reason": "r" },""", "*F96.json: quickTier:category = 'Nightly': expected Quick or Extended*")]
    [TestCase(""" "quickTier": { "category": "Extended" },""", "*F96.json: quickTier:reason is missing*")]
    [TestCase(""" "quickTier": { "category": "Extended", "reason": "r", "when": "nightly" },""", "*F96.json quickTier: unknown key 'when'*")]
    public void A_bad_quick_tier_is_refused_naming_the_file_and_key(string topLevel, string message)
    {
        File.WriteAllText(Path.Combine(configs, "F96.json"), $$"""
            { "finding": "F96", "claim": "c", {{topLevel}}
              "profiles": { "full": { "seeds": [1], "runs": { "whole": { "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": 0.01 } ] } } } } }
            """);
        var act = () => FindingProfile.Load("F96", "full", configs);
        act.Should().Throw<ConfigException>().WithMessage(message);
    }

    [TestCase(""", "accumulationChecks": ["whole"]""", "*accumulationChecks:0 = 'whole': its first phase does not accumulate*")]
    [TestCase(""", "accumulationChecks": ["nothing"]""", "*accumulationChecks:0 = 'nothing': not a run of this profile*")]
    [TestCase(""", "mayDiverge": { "bs9_*": "why" }""", "*mayDiverge:bs9_*: names no run of this profile*")]
    [TestCase(""", "mayDiverge": { "sweep_800": "" }""", "*mayDiverge:sweep_800: give the reason*")]
    public void A_key_that_names_what_the_profile_lacks_is_refused(string extras, string message)
    {
        var act = () => Load(extras);
        act.Should().Throw<ConfigException>().WithMessage(message).And.Message.Should().Contain("F96.json");
    }
}
