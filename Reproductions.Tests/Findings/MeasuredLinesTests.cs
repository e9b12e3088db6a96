namespace Reproductions.Tests.Findings;

/// <summary>What a passing check records for the report: the first non-empty line of each thing it measured (as the report shows a message), in order.</summary>
[Unit]
public sealed class MeasuredLinesTests
{
    [Test]
    public void Keeps_the_first_line_of_each_measurement_in_order()
    {
        FindingContext.BeginMeasuring();
        FindingContext.Measured("\n  Baseline F99 (quick): all 3 metrics within band.\n| metric | baseline |\n|---|---|");
        FindingContext.Measured("a - b: per-seed differences 0.0100, 0.0200; mean 0.0150");

        FindingContext.MeasuredSummary().Should().Be(
            "Baseline F99 (quick): all 3 metrics within band.; a - b: per-seed differences 0.0100, 0.0200; mean 0.0150");
    }

    [Test]
    public void Starts_empty_for_each_test()
    {
        FindingContext.Measured("from before");
        FindingContext.BeginMeasuring();

        FindingContext.MeasuredSummary().Should().BeEmpty();
    }
}
