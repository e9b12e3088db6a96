using Reproductions.Harness.Reporting;

namespace Reproductions.Tests.Reporting;

[Unit]
public sealed class ReferenceValueTests
{
    [TestCase("98%", 0.98, 0.98, 0.005)]
    [TestCase("100%", 1.0, 1.0, 0.005)]
    [TestCase("95-96%", 0.95, 0.96, 0.005)]
    [TestCase("95 – 96 %", 0.95, 0.96, 0.005)]
    [TestCase("95.5%", 0.955, 0.955, 0.0005)]
    [TestCase("6.71", 6.71, 6.71, 0.005)]
    [TestCase("44.9", 44.9, 44.9, 0.05)]
    [TestCase("254.3", 254.3, 254.3, 0.05)]
    [TestCase("258", 258, 258, 0.5)]
    [TestCase("about 6", 6, 6, 0.5)]
    [TestCase("~44", 44, 44, 0.5)]
    [TestCase("1e5", 1e5, 1e5, 5e4)]
    [TestCase("0.5", 0.5, 0.5, 0.05)]
    [TestCase("-0.25", -0.25, -0.25, 0.005)]
    public void A_number_or_range_is_read_with_its_stated_precision(string text, double low, double high, double precision)
    {
        ReferenceValue.TryParse(text, out var value).Should().BeTrue();
        value.IsList.Should().BeFalse();
        value.Approximate.Should().Be(text.StartsWith("about", StringComparison.Ordinal) || text.StartsWith('~'));
        var c = value.Components.Should().ContainSingle().Subject;
        c.Low.Should().BeApproximately(low, 1e-12);
        c.High.Should().BeApproximately(high, 1e-12);
        c.Precision.Should().BeApproximately(precision, 1e-12);
    }

    [Test]
    public void A_bracketed_list_gives_one_component_per_entry()
    {
        ReferenceValue.TryParse("[0.988 0.993 0.928]", out var value).Should().BeTrue();
        value.IsList.Should().BeTrue();
        value.Components.Select(c => c.Low).Should().Equal(0.988, 0.993, 0.928);
        value.Components.Should().OnlyContain(c => Math.Abs(c.Precision - 0.0005) < 1e-15);
        ReferenceValue.TryParse("[0.124, 0.359, 0.153]", out var commas).Should().BeTrue();
        commas.Components.Should().HaveCount(3);
    }

    [TestCase("between bs64 and bs1024")]
    [TestCase("concave curve")]
    [TestCase("Smith et al. 2018")]
    [TestCase("")]
    [TestCase("[]")]
    [TestCase("[0.9 high]")]
    [TestCase("98% or so")]
    public void Text_that_is_not_a_number_is_not_read(string text) =>
        ReferenceValue.TryParse(text, out _).Should().BeFalse();

    [Test]
    public void The_paper_disagrees_only_beyond_twice_our_std_or_its_precision()
    {
        // 98% (±0.5%) against 97.4% ± 0.1%: tolerance max(0.2%, 0.5%) = 0.5%, so 98% is 0.1% outside.
        var check = ReferenceCheck.Compare("98%", [0.974], [0.001], compare: true);
        check.Agreement.Should().Be(Agreement.Disagrees);
        check.Components[0].Tolerance.Should().BeApproximately(0.005, 1e-12);
        check.Components[0].Outside.Should().BeApproximately(0.001, 1e-12);

        ReferenceCheck.Compare("98%", [0.976], [0.001], compare: true).Agreement.Should().Be(Agreement.Agrees);
        ReferenceCheck.Compare("98%", [0.974], [0.004], compare: true).Agreement.Should().Be(Agreement.Agrees, "2 std = 0.8% covers it");
        ReferenceCheck.Compare("95-96%", [0.9649], [0], compare: true).Agreement.Should().Be(Agreement.Agrees, "the range's end is within its precision");
        ReferenceCheck.Compare("95-96%", [0.9452], [0], compare: true).Agreement.Should().Be(Agreement.Agrees);
        ReferenceCheck.Compare("95-96%", [0.9652], [0], compare: true).Agreement.Should().Be(Agreement.Disagrees);
    }

    [Test]
    public void Anything_that_cannot_be_compared_says_why()
    {
        ReferenceCheck.Compare(null, [1], [0], compare: true).Agreement.Should().Be(Agreement.NoReference);
        ReferenceCheck.Compare("between", [1], [0], compare: true).Agreement.Should().Be(Agreement.NotNumeric);
        ReferenceCheck.Compare("98%", [0.5], [0], compare: false).Agreement.Should().Be(Agreement.NotCompared);
        ReferenceCheck.Compare("[1 2]", [1], [0], compare: true).Agreement.Should().Be(Agreement.ShapeMismatch);
        ReferenceCheck.Compare("98%", [double.NaN], [0], compare: true).Agreement.Should().Be(Agreement.NoValue);
        ReferenceCheck.Compare("about 44", [49], [0], compare: true).Agreement.Should().Be(Agreement.Approximate);
    }

    [Test]
    public void A_list_is_compared_component_by_component()
    {
        var check = ReferenceCheck.Compare("[0.988 0.993 0.928]", [0.988, 0.993, 0.95], [0.0001, 0.0001, 0.0001], compare: true);
        check.Agreement.Should().Be(Agreement.Disagrees);
        check.Components.Select(c => c.Disagrees).Should().Equal(false, false, true);
    }
}
