using MathNet.Numerics.Statistics;
using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
public sealed class BandPolicyTests
{
    private static readonly double[] Values = [0.950, 0.952, 0.948];

    [Test]
    public void Default_is_four_sample_std_without_floors()
    {
        var band = BandPolicy.Default.Derive("accuracy", Values);

        var std = Statistics.StandardDeviation(Values); // sample std (n - 1): 0.002
        std.Should().BeApproximately(0.002, 1e-12);
        band.Mean.Should().BeApproximately(0.950, 1e-12);
        band.Std.Should().Be(std);
        band.HalfWidth.Should().BeApproximately(4 * std, 1e-15);
        band.AbsoluteBand.Should().Be(band.HalfWidth);
        band.RelativeBand.Should().BeNull();
        band.Rule.Should().Be("4 x std over 3 seeds (0.002) = 0.008, half-width 0.008 from the spread");
    }

    [Test]
    public void Absolute_floor_applies_when_the_spread_is_smaller()
    {
        var policy = BandPolicy.Default with { MinAbsolute = 0.01 };

        var band = policy.Derive("accuracy", Values);

        band.HalfWidth.Should().Be(0.01);
        band.AbsoluteBand.Should().Be(0.01);
        band.Rule.Should().Contain("4 x std over 3 seeds (0.002) = 0.008").And.Contain("floor 0.01 abs")
            .And.EndWith("half-width 0.01 from the absolute floor");
    }

    [Test]
    public void Absolute_floor_does_not_narrow_a_wider_spread()
    {
        var band = (BandPolicy.Default with { MinAbsolute = 0.001 }).Derive("accuracy", Values);

        band.HalfWidth.Should().BeApproximately(0.008, 1e-12);
        band.Rule.Should().EndWith("from the spread");
    }

    [Test]
    public void Relative_floor_scales_with_the_mean_and_is_stored_as_a_fraction()
    {
        var policy = BandPolicy.Default with { MinRelative = 0.02 };

        var band = policy.Derive("accuracy", Values);

        band.HalfWidth.Should().BeApproximately(0.02 * 0.95, 1e-12);
        band.AbsoluteBand.Should().BeApproximately(0.008, 1e-12);
        band.RelativeBand.Should().Be(0.02);
        band.Rule.Should().Contain("floor 2% of |mean| = 0.019").And.EndWith("from the relative floor");
    }

    [Test]
    public void Stored_metric_half_width_matches_the_derived_band()
    {
        var policy = BandPolicy.Default with { MinRelative = 0.02, MinAbsolute = 0.005 };
        var samples = new MetricSamples("F99", "quick", "mnist", [1, 2, 3]).Add("accuracy", Values);

        var baseline = Samples.Baseline(samples, policy);

        baseline.Metrics["accuracy"].HalfWidth.Should().Be(policy.Derive("accuracy", Values).HalfWidth);
    }

    [Test]
    public void Per_metric_override_replaces_the_rule_for_that_metric_only()
    {
        var policy = BandPolicy.Default.WithOverride("loss", new BandPolicy { StdMultiplier = 2, MinAbsolute = 0.05 });

        var loss = policy.Derive("loss", [0.20, 0.21, 0.19]);
        var accuracy = policy.Derive("accuracy", Values);

        loss.HalfWidth.Should().Be(0.05);
        loss.Rule.Should().StartWith("per-metric rule: 2 x std over 3 seeds (0.01) = 0.02").And.Contain("floor 0.05 abs");
        accuracy.HalfWidth.Should().BeApproximately(0.008, 1e-12);
        accuracy.Rule.Should().StartWith("4 x std");
        policy.For("loss").StdMultiplier.Should().Be(2);
        policy.For("accuracy").StdMultiplier.Should().Be(4);
    }

    [Test]
    public void Identical_samples_give_a_zero_band_unless_a_floor_is_set()
    {
        var band = BandPolicy.Default.Derive("accuracy", [0.9, 0.9, 0.9]);

        band.Std.Should().Be(0);
        band.HalfWidth.Should().Be(0);
        band.Rule.Should().Contain("(0) = 0").And.EndWith("half-width 0: the mean must be reproduced exactly");

        var floored = (BandPolicy.Default with { MinAbsolute = 1e-4 }).Derive("accuracy", [0.9, 0.9, 0.9]);
        floored.HalfWidth.Should().Be(1e-4);
        floored.Rule.Should().EndWith("half-width 0.0001 from the absolute floor");
    }

    [Test]
    public void A_single_seed_has_no_measured_spread_and_says_so()
    {
        var band = (BandPolicy.Default with { MinAbsolute = 0.01 }).Derive("accuracy", [0.9]);

        band.Std.Should().Be(0);
        band.HalfWidth.Should().Be(0.01);
        band.Rule.Should().StartWith("1 seed, so no spread measured");
    }

    [Test]
    public void Negative_or_non_finite_settings_are_rejected()
    {
        FluentActions.Invoking(() => BandPolicy.Default with { StdMultiplier = -1 })
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*StdMultiplier*>= 0*");
        FluentActions.Invoking(() => new BandPolicy { MinAbsolute = double.NaN })
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MinAbsolute*");
        FluentActions.Invoking(() => new BandPolicy { MinRelative = double.PositiveInfinity })
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MinRelative*");
    }

    [TestCase(0.007999999999999785, 0.008)]
    [TestCase(0.0012344, 0.001235)]
    [TestCase(0.0125, 0.0125)]
    [TestCase(9.9999e-5, 0.0001)]
    [TestCase(123456.0, 123500.0)]
    [TestCase(0.0, 0.0)]
    public void Stored_bands_are_rounded_up_to_four_significant_digits(double derived, double stored)
    {
        var rounded = BandPolicy.RoundUp(derived);

        rounded.Should().Be(stored);
        rounded.Should().BeGreaterThanOrEqualTo(derived);
    }

    [Test]
    public void Policies_compare_and_print_by_value_including_overrides()
    {
        var a = BandPolicy.Default.WithOverride("loss", new BandPolicy { MinRelative = 0.05 });
        var b = BandPolicy.Default.WithOverride("loss", new BandPolicy { MinRelative = 0.05 });

        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.Should().NotBe(BandPolicy.Default);
        a.ToString().Should().Be(
            "BandPolicy { StdMultiplier = 4, MinAbsolute = 0, MinRelative = 0, Overrides = { loss = BandPolicy { StdMultiplier = 4, MinAbsolute = 0, MinRelative = 0.05 } } }");
    }

    [Test]
    public void An_override_may_name_metrics_by_a_pattern_and_the_most_specific_one_applies()
    {
        var policy = (BandPolicy.Default with { MinAbsolute = 0.002 })
            .WithOverride("*.logSharpness*", new BandPolicy { MinAbsolute = 0.0954 })
            .WithOverride("lb.logSharpnessFull*", new BandPolicy { MinAbsolute = 0.5 })
            .WithOverride("sb.logSharpnessFull1e-3", new BandPolicy { MinAbsolute = 0.7 });
        policy.For("sb.logSharpnessSubspace5e-4").MinAbsolute.Should().Be(0.0954);
        policy.For("lb.logSharpnessFull1e-3").MinAbsolute.Should().Be(0.5, "the longer pattern is the more specific");
        policy.For("sb.logSharpnessFull1e-3").MinAbsolute.Should().Be(0.7, "an exact name comes first");
        policy.For("sb.test_accuracy").MinAbsolute.Should().Be(0.002, "no pattern matches it");
        policy.For("x.logSharpness").MinAbsolute.Should().Be(0.0954, "* may stand for nothing");
        policy.For("sb.logsharpness1").MinAbsolute.Should().Be(0.002, "patterns match case and the whole name");
        policy.Derive("lb.logSharpnessSubspace1e-3", [1.0, 1.01, 1.02]).Rule.Should().StartWith("per-metric rule (*.logSharpness*): ");
        policy.Derive("sb.logSharpnessFull1e-3", [1.0, 1.01, 1.02]).Rule.Should().StartWith("per-metric rule: ");
    }

    [Test]
    public void A_profiles_band_overrides_are_read_with_their_reasons_and_a_missing_reason_is_an_error()
    {
        var bands = Harness.Findings.FindingProfile.Load("F19", "quick").Bands;
        bands.MinRelative.Should().Be(0, "F19's 10% floor applies to log sharpness alone");
        bands.Overrides.Should().NotBeNull().And.OnlyContain(o => o.Reason.Length > 20);
        bands.ToPolicy().For("sb.logSharpnessFull1e-3").MinAbsolute.Should().Be(0.0954);
        bands.ToPolicy().For("sb.test_accuracy").MinAbsolute.Should().Be(0.002);
        bands.ToPolicy().For("sb.logSharpnessFull1e-3").StdMultiplier.Should().Be(4, "an override's missing settings are the profile's");

        WithConfigsCopy("F19", (configs, path, text) =>
        {
            var start = text.IndexOf(", \"reason\": \"phi is a maximum", StringComparison.Ordinal);
            File.WriteAllText(path, text[..start] + text[text.IndexOf('}', start)..]);
            FluentActions.Invoking(() => Harness.Findings.FindingProfile.Load("F19", "quick", configs))
                .Should().Throw<Harness.Training.ConfigException>().WithMessage("*bands:overrides:*.logSharpness*: give the reason*");
        });
    }

    /// <summary>Runs <paramref name="edit"/> on a throwaway copy of the configs folder, with <paramref name="finding"/>'s file path and text.</summary>
    private static void WithConfigsCopy(string finding, Action<string, string, string> edit)
    {
        var configs = Path.Combine(Path.GetTempPath(), "repro-bands-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(configs);
        try
        {
            foreach (var f in Directory.GetFiles(Harness.Infrastructure.RepoPaths.Configs)) File.Copy(f, Path.Combine(configs, Path.GetFileName(f)));
            var path = Path.Combine(configs, finding + ".json");
            edit(configs, path, File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(configs, recursive: true);
        }
    }

    [Test]
    public void Every_profiles_band_floor_comes_with_its_reason_and_a_floor_without_one_is_an_error()
    {
        foreach (var finding in Harness.Findings.FindingProfile.All())
            foreach (var profile in new[] { "full", "quick" })
            {
                var bands = Harness.Findings.FindingProfile.Load(finding, profile).Bands;
                if (bands.MinAbsolute > 0 || bands.MinRelative > 0)
                    bands.Reason.Should().NotBeNullOrWhiteSpace($"{finding} {profile} sets a floor, a fixed threshold").And.Contain(
                        bands.MinAbsolute.ToString(System.Globalization.CultureInfo.InvariantCulture), "the reason is for the value the config sets");
            }

        WithConfigsCopy("F01", (configs, path, text) =>
        {
            var start = text.IndexOf(", \"reason\": \"0.002 is", StringComparison.Ordinal);
            start.Should().BePositive("F01's bands give their floor's reason");
            var withoutReason = text[..start] + text[text.IndexOf('}', start)..];
            File.WriteAllText(path, withoutReason);
            FluentActions.Invoking(() => Harness.Findings.FindingProfile.Load("F01", "quick", configs))
                .Should().Throw<Harness.Training.ConfigException>()
                .WithMessage("*F01.json profiles:*:bands: a floor (minAbsolute 0.002, minRelative 0) is a fixed threshold: give the reason for its value (bands:reason).");

            File.WriteAllText(path, withoutReason.Replace("\"minAbsolute\": 0.002}", "\"minAbsolute\": 0, \"reason\": \"none\"}", StringComparison.Ordinal));
            FluentActions.Invoking(() => Harness.Findings.FindingProfile.Load("F01", "full", configs))
                .Should().Throw<Harness.Training.ConfigException>().WithMessage("*bands:reason: the bands have no floor*");

            File.WriteAllText(path, withoutReason.Replace("\"minAbsolute\": 0.002}", "\"minAbsolute\": 0, \"reason\": {\"why\": \"x\"}}", StringComparison.Ordinal));
            FluentActions.Invoking(() => Harness.Findings.FindingProfile.Load("F01", "full", configs))
                .Should().Throw<Harness.Training.ConfigException>().WithMessage("*bands:reason: expected text*");
        });
    }
}
