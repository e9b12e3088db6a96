using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
public sealed class BaselineComparisonTests
{
    [Test]
    public void Same_numbers_pass_even_with_a_zero_band()
    {
        var samples = new MetricSamples("F99", "quick", "mnist", [1, 2]).Add("accuracy", [0.9, 0.9]);
        var baseline = Samples.Baseline(samples);
        baseline.Metrics["accuracy"].HalfWidth.Should().Be(0);

        var comparison = BaselineComparison.Compare(baseline, samples);

        comparison.Passed.Should().BeTrue();
        comparison.Rows.Should().ContainSingle().Which.Verdict.Should().Be(MetricVerdict.Pass);
    }

    [Test]
    public void Inside_the_band_passes_outside_fails()
    {
        var baseline = Samples.Baseline(Samples.Typical()); // accuracy band 0.008, loss band 0.04

        BaselineComparison.Compare(baseline, Samples.Typical(accuracyShift: 0.0079, lossShift: -0.039)).Passed.Should().BeTrue();

        var comparison = BaselineComparison.Compare(baseline, Samples.Typical(accuracyShift: -0.0081));
        comparison.Passed.Should().BeFalse();
        comparison.Failures.Should().ContainSingle().Which.Should().Match<ComparisonRow>(r =>
            r.Metric == "accuracy" && r.Verdict == MetricVerdict.Fail);
        comparison.Rows.Single(r => r.Metric == "loss").Verdict.Should().Be(MetricVerdict.Pass);
    }

    [Test]
    public void Relative_band_is_applied_to_the_baseline_value()
    {
        var baseline = Samples.Baseline(Samples.Typical(), BandPolicy.Default with { MinRelative = 0.05 }); // 0.0475 for accuracy

        var comparison = BaselineComparison.Compare(baseline, Samples.Typical(accuracyShift: 0.047));

        comparison.Passed.Should().BeTrue();
        comparison.Rows[0].Band.Should().BeApproximately(0.0475, 1e-12);
    }

    [Test]
    public void Missing_and_new_metrics_fail()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var run = new MetricSamples("F99", "quick", "mnist", Samples.Seeds)
            .Add("accuracy", [0.950, 0.952, 0.948])
            .Add("wall_time", [1.0, 1.1, 1.2]);

        var comparison = BaselineComparison.Compare(baseline, run);

        comparison.Passed.Should().BeFalse();
        comparison.Rows.Select(r => (r.Metric, r.Verdict)).Should().Equal(
            ("accuracy", MetricVerdict.Pass), ("loss", MetricVerdict.MissingInRun), ("wall_time", MetricVerdict.NewInRun));
    }

    [Test]
    public void Different_seeds_fail_with_a_note()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var run = new MetricSamples("F99", "quick", "mnist", [11, 22, 44]).Add("accuracy", [0.950, 0.952, 0.948]).Add("loss", [0.20, 0.21, 0.19]);

        var comparison = BaselineComparison.Compare(baseline, run);

        comparison.Rows.Should().OnlyContain(r => r.Verdict == MetricVerdict.Pass);
        comparison.Passed.Should().BeFalse();
        comparison.RenderTable().Should().Contain("Seeds differ: the baseline used [11,22,33], this run [11,22,44]");
    }

    [Test]
    public void Table_is_aligned_and_uses_invariant_numbers()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var comparison = BaselineComparison.Compare(baseline, Samples.Typical(accuracyShift: -0.012));

        string table;
        using (new CultureScope(CultureScope.GermanLike()))
            table = comparison.RenderTable();

        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().MatchRegex(@"^metric\s+baseline\s+measured\s+delta\s+band\s+verdict$");
        lines[1].Should().MatchRegex(@"^accuracy\s+0\.95\s+0\.938\s+-0\.012\s+0\.008\s+FAIL \(1\.5 x band\)$");
        lines[2].Should().MatchRegex(@"^loss\s+0\.2\s+0\.2\s+0\s+0\.04\s+pass$");
        // Columns line up: each header ends where its right-aligned numbers end.
        var bandEnd = lines[0].IndexOf("band", StringComparison.Ordinal) + "band".Length;
        lines[1][..bandEnd].Should().EndWith("0.008");
        lines[2][..bandEnd].Should().EndWith("0.04");
        table.Should().NotContain(",9").And.NotContain("\u2212");
    }

    [Test]
    public void Comparing_different_findings_is_an_error()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var other = new MetricSamples("F01", "quick", "mnist", Samples.Seeds).Add("accuracy", [1.0, 1.0, 1.0]);

        FluentActions.Invoking(() => BaselineComparison.Compare(baseline, other))
            .Should().Throw<ArgumentException>().WithMessage("*F01 (quick)*F99 (quick)*");
    }
}
