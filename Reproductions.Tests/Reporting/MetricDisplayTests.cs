using Reproductions.Harness.Reporting;

namespace Reproductions.Tests.Reporting;

[Unit]
public sealed class MetricDisplayTests
{
    [Test]
    public void Accuracies_are_shown_in_percent_and_other_metrics_with_four_significant_digits()
    {
        MetricDisplay.For("testAccuracy").Format(0.97912, 0.00051, 3).Should().Be("97.91% ± 0.05");
        MetricDisplay.For("weightDistance").Format(6.71234, 0.012, 3).Should().Be("6.712 ± 0.012");
        MetricDisplay.For("weightDistance").Format(254.31, 1.2, 3).Should().Be("254.3 ± 1.2");
        MetricDisplay.For("weightNorm").Format(44.9, 0, 1).Should().Be("44.90", "one seed has no spread");
        MetricDisplay.For("testAccuracy").Format(double.NaN, 0, 0).Should().Be("n/a");
        MetricDisplay.For("accumulationGradientDifference").Format(1.35e-7, 1.1e-8, 3).Should().Be("1.35E-7 ± 1.1E-8", "a rounding difference is shown in exponent form, not as 0.000000");
        MetricDisplay.For("steps").Format(28140, 0, 3).Should().Be("28140 ± 0", "a count with no spread is a whole number");
    }

    [Test]
    public void Every_metric_label_carries_a_unit()
    {
        MetricDisplay.For("testAccuracy").AxisLabel.Should().Be("test accuracy (%)");
        MetricDisplay.For("weightDistance").AxisLabel.Should().Be("weight distance from init (L2 norm)");
        MetricDisplay.For("trainLoss").AxisLabel.Should().Be("train loss, NLL (nats per sample)");
        MetricDisplay.For("layerCosines").AxisLabel.Should().Be("cosine of final to initial weights, per layer (unitless)");
    }

    [Test]
    public void Mean_and_std_ignore_missing_values()
    {
        MetricDisplay.MeanStd([1.0, double.NaN, 3.0]).Should().Be((2.0, Math.Sqrt(2), 2));
        MetricDisplay.MeanStd([5.0]).Should().Be((5.0, 0.0, 1));
        var (mean, _, count) = MetricDisplay.MeanStd([double.NaN]);
        double.IsNaN(mean).Should().BeTrue();
        count.Should().Be(0);
    }
}

[Unit]
public sealed class NaturalOrderTests
{
    [Test]
    public void Digit_runs_compare_as_numbers()
    {
        string[] names = ["bs1024_lr01", "bs64", "control", "bs1024", "bs256", "bs2", "a", "c", "b"];
        names.Order(NaturalOrder.Instance).Should().Equal("a", "b", "bs2", "bs64", "bs256", "bs1024", "bs1024_lr01", "c", "control");
    }
}
