using System.Text.Json.Nodes;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Claims;

/// <summary>
/// Every claim kind on hand-made numbers: when it holds, when its interval excludes it (does not hold), and when it is
/// too weak to decide (inconclusive, never a pass). Intervals are Student t over the seeds (t(0.975, 2) = 4.303,
/// t(0.95, 2) = 2.920 for three seeds).
/// </summary>
[Unit]
public sealed class ClaimEvaluatorTests
{
    private static ClaimSpec Claim(string json, params string[] profiles) =>
        ClaimSpec.ReadAll(JsonNode.Parse($"[{json}]"), "test.json", profiles.Length > 0 ? profiles : ["full"]).Single();

    private static ClaimOutcome Outcome(string json, FakeMeasured measured) => ClaimEvaluator.Evaluate(Claim(json), measured).Outcome;

    [TestCase(new[] { 1.0, 2.0, 3.0 }, new[] { 0.5, 1.2, 2.4 }, ClaimOutcome.Holds)]
    [TestCase(new[] { 1.0, 2.0, 3.0 }, new[] { 1.5, 2.55, 3.45 }, ClaimOutcome.DoesNotHold)] // every difference negative, interval below 0
    [TestCase(new[] { 1.0, 2.0, 3.0 }, new[] { 0.9, 2.1, 2.5 }, ClaimOutcome.Inconclusive)] // one seed the other way, interval across 0
    [TestCase(new[] { 1.0, 2.0, 3.0 }, new[] { 0.9, 1.8, 3.05 }, ClaimOutcome.Inconclusive)] // mean positive, not every seed
    public void Exceeds_needs_every_seed_and_the_interval_above_zero(double[] a, double[] b, ClaimOutcome expected)
    {
        var m = new FakeMeasured().With("x", "v", a).With("y", "v", b);
        Outcome("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v" }""", m).Should().Be(expected);
    }

    [Test]
    public void Exceeds_a_factor_compares_log_ratios()
    {
        var m = new FakeMeasured().With("adam", "d", [250, 260, 240]).With("sgd", "d", [6.7, 6.6, 6.8]);
        const string claim = """{ "id": "c", "statement": "s", "kind": "exceeds", "a": "adam.d", "b": "sgd.d", "factor": 10, "factorSource": "why" }""";
        Outcome(claim, m).Should().Be(ClaimOutcome.Holds);
        Outcome(claim.Replace("10", "50", StringComparison.Ordinal), m).Should().Be(ClaimOutcome.DoesNotHold);
    }

    [Test]
    public void Ordered_holds_only_when_strict_for_every_seed_and_fails_when_a_pair_is_reversed_beyond_its_interval()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "ordered", "values": ["a.v", "b.v", "c.v"] }""";
        Outcome(claim, new FakeMeasured().With("a", "v", [3, 3.1, 3.2]).With("b", "v", [2, 2.1, 2.2]).With("c", "v", [1, 1.1, 1.2])).Should().Be(ClaimOutcome.Holds);
        Outcome(claim, new FakeMeasured().With("a", "v", [3, 3.1, 3.2]).With("b", "v", [2, 3.2, 2.2]).With("c", "v", [1, 1.1, 1.2])).Should().Be(ClaimOutcome.Inconclusive);
        Outcome(claim, new FakeMeasured().With("a", "v", [1, 1.1, 1.2]).With("b", "v", [2, 2.1, 2.2]).With("c", "v", [0, 0.1, 0.2])).Should().Be(ClaimOutcome.DoesNotHold);
    }

    [Test]
    public void Reaching_a_value_is_equivalence_not_non_inferiority()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "matches", "a": "a.v", "b": "b.v", "margin": 0.005, "marginSource": "98%" }""";
        // Differences -0.001, 0, +0.001: 90% interval 0 ± 2.920 x 0.001 / sqrt(3) = ±0.0017, inside ±0.005.
        Outcome(claim, new FakeMeasured().With("a", "v", [0.979, 0.98, 0.981]).With("b", "v", [0.98, 0.98, 0.98])).Should().Be(ClaimOutcome.Holds);
        // Differences -0.02 ± 0.001: the whole 95% interval below -0.005.
        Outcome(claim, new FakeMeasured().With("a", "v", [0.959, 0.96, 0.961]).With("b", "v", [0.98, 0.98, 0.98])).Should().Be(ClaimOutcome.DoesNotHold);
        // Above b by 0.49 points, 90% interval [0.39, 0.59]: not worse, but not shown to be within ±0.5 either.
        // A one-sided test would call it reached; equivalence calls it inconclusive, and says how many seeds would decide it.
        var above = ClaimEvaluator.Evaluate(Claim(claim), new FakeMeasured().With("a", "v", [0.9843, 0.9849, 0.9855]).With("b", "v", [0.98, 0.98, 0.98]));
        above.Outcome.Should().Be(ClaimOutcome.Inconclusive);
        // Differences 0, -0.005, -0.01: the 90% interval [-0.0134, 0.0034] straddles -0.005.
        var weak = ClaimEvaluator.Evaluate(Claim(claim), new FakeMeasured().With("a", "v", [0.98, 0.975, 0.97]).With("b", "v", [0.98, 0.98, 0.98]));
        weak.Outcome.Should().Be(ClaimOutcome.Inconclusive);
        weak.SeedsNeeded.Should().Be(Intervals.SeedsNeeded(0.005, 0.005, 0.90));
        weak.Parts.Single().HalfWidth.Should().BeApproximately(2.920 * 0.005 / Math.Sqrt(3), 1e-3);
        ((Action)(() => Claim(claim.Replace("matches", "reaches", StringComparison.Ordinal)))).Should().Throw<ConfigException>("one kind decides equivalence");
    }

    [Test]
    public void Matches_is_two_one_sided_tests_within_the_margin()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "matches", "a": "a.v", "b": "b.v", "margin": 0.02, "relativeMargin": true, "marginSource": "why" }""";
        Outcome(claim, new FakeMeasured().With("a", "v", [400, 400, 400]).With("b", "v", [395, 395, 395])).Should().Be(ClaimOutcome.Holds);
        Outcome(claim, new FakeMeasured().With("a", "v", [440, 440, 440]).With("b", "v", [395, 395, 395])).Should().Be(ClaimOutcome.DoesNotHold);
        // +1% on average but spread: the 90% interval reaches past +2%.
        Outcome(claim, new FakeMeasured().With("a", "v", [395, 400, 410]).With("b", "v", [395, 395, 395])).Should().Be(ClaimOutcome.Inconclusive);
    }

    [Test]
    public void Small_sample_rank_critical_values_are_exact()
    {
        // One-sided critical values of Spearman's rho from the exact permutation distribution (the published tables, e.g.
        // Zar 1972, Table 1, alpha(1) = 0.05 and 0.01).
        Intervals.SpearmanCritical(4, 0.05).Should().Be(1.0, "only the perfect order, 1 of 24, is rarer than 5%");
        Intervals.SpearmanCritical(5, 0.05).Should().BeApproximately(0.900, 1e-9);
        Intervals.SpearmanCritical(6, 0.05).Should().BeApproximately(0.8286, 1e-4);
        Intervals.SpearmanCritical(7, 0.05).Should().BeApproximately(0.7143, 1e-4);
        Intervals.SpearmanCritical(8, 0.05).Should().BeApproximately(0.6429, 1e-4);
        Intervals.SpearmanCritical(10, 0.05).Should().BeApproximately(0.5636, 1e-4);
        Intervals.SpearmanCritical(10, 0.01).Should().BeApproximately(0.7455, 1e-4);
        Intervals.SpearmanCritical(4, 0.01).Should().Be(double.PositiveInfinity, "no ordering of 4 points is rarer than 1%");
        // 6 groups, rho 0.771 on every seed: beyond the t approximation's 0.729 but not the exact 0.829 (p = 0.051).
        const string claim = """{ "id": "c", "statement": "s", "kind": "rank", "x": ["g1.x", "g2.x", "g3.x", "g4.x", "g5.x", "g6.x"], "y": ["g1.y", "g2.y", "g3.y", "g4.y", "g5.y", "g6.y"], "direction": "positive" }""";
        static FakeMeasured Grid(double[] x, double[] y)
        {
            var m = new FakeMeasured();
            for (var i = 0; i < x.Length; i++) m.With($"g{i + 1}", "x", [x[i], x[i]]).With($"g{i + 1}", "y", [y[i], y[i]]);
            return m;
        }
        Outcome(claim, Grid([1, 2, 3, 4, 5, 6], [1, 3, 2, 5, 6, 4])).Should().Be(ClaimOutcome.Inconclusive, "rho = 0.771 < 0.829");
        Outcome(claim, Grid([1, 2, 3, 4, 5, 6], [2, 1, 3, 4, 6, 5])).Should().Be(ClaimOutcome.Holds, "rho = 0.886");
    }

    [Test]
    public void Rank_compares_a_correlation_with_its_critical_value()
    {
        Intervals.SpearmanCritical(15, 0.05).Should().BeApproximately(0.441, 0.002);
        Intervals.SpearmanCritical(15, 0.01).Should().BeApproximately(0.592, 0.002);
        const string claim = """{ "id": "c", "statement": "s", "kind": "rank", "statistic": "g.rho", "direction": "positive" }""";
        Outcome(claim, new FakeMeasured().WithPooled("g", "rho", new PooledStatistic(0.6, double.NaN, double.NaN, 15))).Should().Be(ClaimOutcome.Holds);
        Outcome(claim, new FakeMeasured().WithPooled("g", "rho", new PooledStatistic(0.3, double.NaN, double.NaN, 15))).Should().Be(ClaimOutcome.Inconclusive);
        Outcome(claim, new FakeMeasured().WithPooled("g", "rho", new PooledStatistic(-0.6, double.NaN, double.NaN, 15))).Should().Be(ClaimOutcome.DoesNotHold);
        Outcome(claim.Replace("positive", "negative", StringComparison.Ordinal),
            new FakeMeasured().WithPooled("g", "rho", new PooledStatistic(-0.6, double.NaN, double.NaN, 15))).Should().Be(ClaimOutcome.Holds);
    }

    [Test]
    public void Rank_over_groups_is_decided_per_seed()
    {
        var m = new FakeMeasured();
        string[] runs = ["r1", "r2", "r3", "r4", "r5", "r6"];
        for (var i = 0; i < runs.Length; i++) m.With(runs[i], "x", [i, i, i]).With(runs[i], "y", [i * 0.1, i * 0.1, 0.5 - i * 0.1]);
        var claim = $$"""{ "id": "c", "statement": "s", "kind": "rank", "x": [{{string.Join(", ", runs.Select(r => $"\"{r}.x\""))}}], "y": [{{string.Join(", ", runs.Select(r => $"\"{r}.y\""))}}] }""";
        var verdict = ClaimEvaluator.Evaluate(Claim(claim), m);
        verdict.Outcome.Should().Be(ClaimOutcome.Inconclusive, "two seeds rise, the third falls");
        verdict.Parts.Single().PerSeed.Should().Equal(1, 1, -1);
    }

    [Test]
    public void Slope_needs_its_whole_interval_inside_the_declared_one()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "slope", "statistic": "g.slope", "within": [0.25, 0.75], "thresholdSource": "why" }""";
        Outcome(claim, new FakeMeasured().WithPooled("g", "slope", new PooledStatistic(0.55, 0.53, 0.57, 15))).Should().Be(ClaimOutcome.Holds);
        Outcome(claim, new FakeMeasured().WithPooled("g", "slope", new PooledStatistic(0.7, 0.6, 0.8, 15))).Should().Be(ClaimOutcome.Inconclusive);
        Outcome(claim, new FakeMeasured().WithPooled("g", "slope", new PooledStatistic(-0.88, -0.9, -0.86, 15))).Should().Be(ClaimOutcome.DoesNotHold);
        const string below = """{ "id": "c", "statement": "s", "kind": "slope", "statistic": "g.slope", "within": [null, 0], "thresholdSource": "falls" }""";
        Outcome(below, new FakeMeasured().WithPooled("g", "slope", new PooledStatistic(-0.88, -0.9, -0.86, 15))).Should().Be(ClaimOutcome.Holds);
    }

    [Test]
    public void Threshold_holds_for_every_seed_and_component_and_is_refuted_by_its_interval()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "threshold", "value": "g.cos", "above": 0.9, "thresholdSource": "why" }""";
        var layers = new FakeMeasured();
        layers.Set("g", "cos", [[0.99, 0.995, 0.95], [0.99, 0.996, 0.94], [0.98, 0.994, 0.95]]);
        Outcome(claim, layers).Should().Be(ClaimOutcome.Holds);
        var one = new FakeMeasured();
        one.Set("g", "cos", [[0.99, 0.995, 0.89], [0.99, 0.996, 0.94], [0.98, 0.994, 0.95]]);
        Outcome(claim, one).Should().Be(ClaimOutcome.Inconclusive);
        Outcome(claim, new FakeMeasured().With("g", "cos", [0.1, 0.12, 0.11])).Should().Be(ClaimOutcome.DoesNotHold);
    }

    [Test]
    public void Closes_is_the_share_of_a_gap_against_its_threshold()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "closes", "value": "long.d", "from": "short.d", "to": "bs64.d", "above": 0.5, "thresholdSource": "why" }""";
        var m = new FakeMeasured().With("long", "d", [6.6, 6.63, 6.65]).With("short", "d", [3.4, 3.5, 3.45]).With("bs64", "d", [6.7, 6.71, 6.72]);
        var verdict = ClaimEvaluator.Evaluate(Claim(claim), m);
        verdict.Outcome.Should().Be(ClaimOutcome.Holds);
        verdict.Parts.Single().PerSeed[0].Should().BeApproximately((6.6 - 3.4) / (6.7 - 3.4), 1e-12);
    }

    [Test]
    public void Increasing_is_refuted_by_one_step_down()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "increasing", "series": "g.d" }""";
        Outcome(claim, new FakeMeasured().WithHistory("g", "d", [[1, 2, 3], [1, 1.5, 2]])).Should().Be(ClaimOutcome.Holds);
        var verdict = ClaimEvaluator.Evaluate(Claim(claim), new FakeMeasured().WithHistory("g", "d", [[1, 2, 3], [1, 1.5, 1.4]]));
        verdict.Outcome.Should().Be(ClaimOutcome.DoesNotHold);
        verdict.Summary.Should().Contain("seed 2: 1.5 then 1.4 at epoch 3");
    }

    [Test]
    public void A_template_expands_into_parts_and_one_part_that_does_not_hold_decides()
    {
        const string claim = """{ "id": "c", "statement": "s", "kind": "exceeds", "for": { "r": ["x", "y"] }, "a": "{r}.v", "b": "base.v" }""";
        var m = new FakeMeasured().With("x", "v", [2, 2.1, 2.2]).With("y", "v", [0, 0.1, 0.2]).With("base", "v", [1, 1.1, 1.2]);
        var verdict = ClaimEvaluator.Evaluate(Claim(claim), m);
        verdict.Parts.Select(p => (p.Label, p.Outcome)).Should().Equal(("r x", ClaimOutcome.Holds), ("r y", ClaimOutcome.DoesNotHold));
        verdict.Outcome.Should().Be(ClaimOutcome.DoesNotHold);
        verdict.Summary.Should().StartWith("1 of 2 parts hold; r y:");
    }

    [Test]
    public void What_is_not_measured_is_said_and_never_passes()
    {
        var verdict = ClaimEvaluator.Evaluate(Claim("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v" }"""), new FakeMeasured().With("x", "v", [1, 2]));
        verdict.Outcome.Should().Be(ClaimOutcome.NotMeasured);
        verdict.Summary.Should().Contain("not measured: y.v");
    }

    [TestCase("""{ "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v" }""", "id is missing")]
    [TestCase("""{ "id": "c", "kind": "exceeds", "a": "x.v", "b": "y.v" }""", "statement is missing")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "bigger", "a": "x.v", "b": "y.v" }""", "kind = 'bigger': expected one of exceeds")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v" }""", "needs b")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "matches", "a": "x.v", "b": "y.v" }""", "needs a positive margin")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "matches", "a": "x.v", "b": "y.v", "margin": 0.01 }""", "needs marginSource")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "threshold", "value": "x.v", "above": 0.9 }""", "needs thresholdSource")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "threshold", "value": "x.v", "thresholdSource": "why" }""", "needs within, above or below")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x", "b": "y.v" }""", "'x' is not a measurement reference")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "{run}.v", "b": "y.v" }""", "names a variable that for does not define")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v", "profiles": ["full"] }""", "say why in leftOut:quick")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v", "margin": "wide" }""", "margin = \"wide\": expected a finite number")]
    [TestCase("""{ "id": "c", "statement": "s", "kind": "exceeds", "a": "x.v", "b": "y.v", "extra": 1 }""", "unknown key 'extra'")]
    public void A_malformed_claim_is_refused_with_the_file_the_claim_and_what_was_expected(string json, string expected)
    {
        var act = () => ClaimSpec.ReadAll(JsonNode.Parse($"[{json}]"), "test.json", ["quick", "full"]);
        act.Should().Throw<ConfigException>().Which.Message.Should().Contain("test.json claims[0]").And.Contain(expected);
    }

    /// <summary>Measurements by hand: per group and metric, per seed, one value or several (layers).</summary>
    internal sealed class FakeMeasured : Measured
    {
        private readonly Dictionary<(string, string), IReadOnlyList<IReadOnlyList<double>>> values = new();
        private readonly Dictionary<(string, string), PooledStatistic> pooled = new();
        private readonly Dictionary<(string, string), IReadOnlyList<IReadOnlyList<double>>> histories = new();

        public FakeMeasured With(string group, string metric, double[] perSeed)
        {
            values[(group, metric)] = perSeed.Select(v => (IReadOnlyList<double>)[v]).ToList();
            return this;
        }

        public void Set(string group, string metric, double[][] perSeed) => values[(group, metric)] = perSeed;

        public FakeMeasured WithPooled(string group, string metric, PooledStatistic stat)
        {
            pooled[(group, metric)] = stat;
            return this;
        }

        public FakeMeasured WithHistory(string group, string metric, double[][] perSeed)
        {
            histories[(group, metric)] = perSeed;
            return this;
        }

        public override Experiment Experiment => throw new NotSupportedException();
        public override IReadOnlyList<MeasuredGroup> Groups => [];
        private readonly List<MissingRun> missing = [];

        public FakeMeasured WithMissing(MissingRun run)
        {
            missing.Add(run);
            return this;
        }

        public override IReadOnlyList<MissingRun> Missing => missing;
        public override string GroupHeading => "group";
        public override string SettingHeading => "setting";
        public override IReadOnlyList<string> Devices => [];
        public override double Seconds => 0;
        public override DateTime? Newest => null;
        public override IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric) => values.GetValueOrDefault((group, metric));
        public override PooledStatistic? Pooled(string group, string metric) => pooled.GetValueOrDefault((group, metric));
        public override IReadOnlyList<IReadOnlyList<double>>? History(string group, string metric) => histories.GetValueOrDefault((group, metric));
        public override IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target) => [];
    }
}
