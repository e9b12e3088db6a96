using System.Text.Json.Nodes;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Training;
using FakeMeasured = Reproductions.Tests.Claims.ClaimEvaluatorTests.FakeMeasured;

namespace Reproductions.Tests.Claims;

/// <summary>
/// Estimates: numbers the report gives beside the claims, measured by the same harness but never asserted. Each kind on
/// hand-made numbers (t(0.975, 2) = 4.303 for three seeds), and the line between claims and estimates in a config.
/// </summary>
[Unit]
public sealed class EstimateEvaluatorTests
{
    private static ClaimVerdict Estimate(string json, FakeMeasured measured) =>
        ClaimEvaluator.Evaluate(ClaimSpec.ReadAll(JsonNode.Parse($"[{json}]"), "test.json", ["full"], estimates: true).Single(), measured);

    [Test]
    public void Difference_gives_the_mean_its_interval_and_the_sign_where_the_interval_decides_it()
    {
        const string json = """{ "id": "d", "statement": "s", "kind": "difference", "a": "a.v", "b": "b.v" }""";
        var below = Estimate(json, new FakeMeasured().With("a", "v", [0.970, 0.971, 0.972]).With("b", "v", [0.980, 0.980, 0.980]));
        below.Outcome.Should().Be(ClaimOutcome.Estimated, "an estimate is measured, never a verdict");
        below.Parts[0].Estimate.Should().BeApproximately(-0.009, 1e-12);
        below.Parts[0].High.Should().BeApproximately(-0.009 + 4.303 * 0.001 / Math.Sqrt(3), 1e-4);
        below.Summary.Should().Contain("sign negative");
        Estimate(json, new FakeMeasured().With("a", "v", [0.97, 0.99, 0.98]).With("b", "v", [0.98, 0.98, 0.98])).Summary.Should().Contain("sign undetermined");
        Estimate(json, new FakeMeasured().With("a", "v", [0.97, 0.99, 0.98])).Outcome.Should().Be(ClaimOutcome.NotMeasured);
    }

    [Test]
    public void Value_reports_a_count_that_is_the_same_for_every_seed_as_one_number()
    {
        var v = Estimate("""{ "id": "u", "statement": "s", "kind": "value", "for": {"run": ["A", "B"]}, "a": "{run}.steps" }""",
            new FakeMeasured().With("A", "steps", [28140, 28140, 28140]).With("B", "steps", [11640, 11640, 11640]));
        v.Parts.Select(p => p.Estimate).Should().Equal(28140, 11640);
        v.Summary.Should().Contain("A.steps 28140 for every seed").And.Contain("B.steps 11640 for every seed");
    }

    [Test]
    public void Curve_gap_is_the_largest_per_epoch_gap_between_the_mean_curves()
    {
        var m = new FakeMeasured()
            .WithHistory("B", "acc", [[0.90, 0.95, 0.97], [0.92, 0.95, 0.97]])
            .WithHistory("A", "acc", [[0.90, 0.96, 0.97], [0.92, 0.97, 0.97]]);
        var gap = Estimate("""{ "id": "g", "statement": "s", "kind": "curveGap", "a": "B.acc", "b": "A.acc" }""", m);
        gap.Parts[0].Estimate.Should().BeApproximately(-0.015, 1e-12, "epoch 2: mean 0.95 against mean 0.965");
        gap.Summary.Should().Contain("at epoch 2 of 3");
    }

    [Test]
    public void Largest_equivalent_walks_the_sweep_and_shows_diverged_settings_as_outcomes()
    {
        var m = new FakeMeasured()
            .With("bs64", "acc", [0.980, 0.981, 0.979])
            .With("s128", "acc", [0.980, 0.981, 0.980])   // within ±0.005: equivalent
            .With("s256", "acc", [0.979, 0.980, 0.979])   // equivalent
            .With("s512", "acc", [0.960, 0.961, 0.959])   // 2 points below: not equivalent
            .WithMissing(new MissingRun("s1024", 0, 3, "cmd", ["seed 1 at epoch 2: its loss became non-finite"], "a sweep"));
        var e = Estimate("""{ "id": "l", "statement": "s", "kind": "largestEquivalent", "values": ["s128.acc", "s256.acc", "s512.acc", "s1024.acc"], "b": "bs64.acc", "margin": 0.005, "marginSource": "98%" }""", m);
        e.Outcome.Should().Be(ClaimOutcome.Estimated);
        e.Summary.Should().Contain("s128 equivalent").And.Contain("s256 equivalent").And.Contain("s512 not equivalent")
            .And.Contain("s1024 diverged (1 of 3 seeds)").And.Contain("the largest equivalent: s256 (every one before it too)");
    }

    [Test]
    public void A_config_keeps_claims_and_estimates_apart()
    {
        var asEstimate = () => ClaimSpec.ReadAll(JsonNode.Parse("""[{ "id": "c", "statement": "s", "kind": "exceeds", "a": "a.v", "b": "b.v" }]"""), "F99.json", ["full"], estimates: true);
        asEstimate.Should().Throw<ConfigException>().WithMessage("*F99.json estimates[0]*'exceeds' is a claim*");
        var asClaim = () => ClaimSpec.ReadAll(JsonNode.Parse("""[{ "id": "d", "statement": "s", "kind": "difference", "a": "a.v", "b": "b.v" }]"""), "F99.json", ["full"]);
        asClaim.Should().Throw<ConfigException>().WithMessage("*F99.json claims[0]*'difference' is an estimate*list it under estimates*");
        var noMargin = () => ClaimSpec.ReadAll(JsonNode.Parse("""[{ "id": "l", "statement": "s", "kind": "largestEquivalent", "values": ["a.v"], "b": "b.v" }]"""), "F99.json", ["full"], estimates: true);
        noMargin.Should().Throw<ConfigException>().WithMessage("*needs a positive margin*");
    }

    [Test]
    public void The_noise_scale_is_the_last_phase_rate_over_its_batch_and_one_minus_momentum()
    {
        var config = new TrainingConfig
        {
            Phases = [new PhaseConfig { Epochs = 1, BatchSize = 64, LearningRate = 0.1 }, new PhaseConfig { Epochs = 1, BatchSize = 640, LearningRate = 0.01 }],
            Optimizer = new OptimizerConfig { Momentum = 0.9 },
        };
        NoiseScaleFigure.NoiseScale(config).Should().BeApproximately(0.01 * 60000 / (640 * 0.1), 1e-9, "bs 640 at m 0.9: the noise of bs 64 at m 0");
        config.TrainSamples = 10000;
        NoiseScaleFigure.NoiseScale(config).Should().BeApproximately(0.01 * 10000 / (640 * 0.1), 1e-9, "N is the samples the run trains on");
        config.Optimizer.Kind = OptimizerKind.Adam;
        NoiseScaleFigure.NoiseScale(config).Should().BeNull("Adam has no SGD noise scale");
    }
}
