using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
public sealed class MetricSamplesTests
{
    [Test]
    public void Holds_per_seed_values_in_the_order_added()
    {
        var samples = Samples.Typical();

        samples.Finding.Should().Be("F99");
        samples.Profile.Should().Be("quick");
        samples.Seeds.Should().Equal(11, 22, 33);
        samples.Keys.Should().Equal("accuracy", "loss");
        samples["loss"].Should().Equal(0.20, 0.21, 0.19);
        samples.Mean("accuracy").Should().BeApproximately(0.95, 1e-12);
    }

    [Test]
    public void Rejects_a_wrong_number_of_values_naming_the_metric()
    {
        FluentActions.Invoking(() => new MetricSamples("F99", "quick", "mnist", [1, 2, 3]).Add("accuracy", [0.9, 0.8]))
            .Should().Throw<ArgumentException>().WithMessage("*'accuracy' has 2 value(s)*3 seed(s)*");
    }

    [Test]
    public void Rejects_non_finite_values_naming_metric_and_seed()
    {
        FluentActions.Invoking(() => new MetricSamples("F99", "quick", "mnist", [1, 2]).Add("loss", [0.5, double.NaN]))
            .Should().Throw<ArgumentException>().WithMessage("*'loss' is NaN for seed 2*finite*");
    }

    [Test]
    public void Rejects_duplicates_and_unsafe_names()
    {
        FluentActions.Invoking(() => new MetricSamples("F99", "quick", "mnist", [1, 1]))
            .Should().Throw<ArgumentException>().WithMessage("*distinct*");
        FluentActions.Invoking(() => new MetricSamples("F99", "quick", "mnist", [1]).Add("a", [1.0]).Add("a", [2.0]))
            .Should().Throw<ArgumentException>().WithMessage("*'a' was already added*");
        FluentActions.Invoking(() => new MetricSamples("../F99", "quick", "mnist", [1]))
            .Should().Throw<ArgumentException>().WithMessage("*finding id '../F99' is not valid*");
        FluentActions.Invoking(() => new MetricSamples("F99", "quick", "mnist", []))
            .Should().Throw<ArgumentException>().WithMessage("*at least one seed*");
    }
}
