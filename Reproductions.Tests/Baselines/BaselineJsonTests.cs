using System.Globalization;
using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // changes the current culture
public sealed class BaselineJsonTests
{
    private const string File = "/tmp/baselines/quick/F99.json";

    private static string ValidJson(double relativeBand = 0.01) => BaselineJson.Serialize(
        Samples.Baseline(Samples.Typical(), BandPolicy.Default with { MinRelative = relativeBand }));

    [Test]
    public void Round_trip_keeps_every_field_and_writes_invariant_numbers_under_a_comma_culture()
    {
        var original = Samples.Baseline(
            new MetricSamples("F99", "quick", "mnist", [-3, 7]).Add("accuracy", [0.5, 0.25]).Add("tiny", [-1.5e-7, 2.5e-7]),
            BandPolicy.Default with { MinAbsolute = 0.0125, MinRelative = 0.05 });

        string json;
        Baseline read;
        using (new CultureScope(CultureScope.GermanLike()))
        {
            1.5.ToString(CultureInfo.CurrentCulture).Should().Be("1,5", "the test must run under a decimal-comma culture");
            json = BaselineJson.Serialize(original);
            read = BaselineJson.Parse(json, File);
        }

        json.Should().Contain("\"value\": 0.375").And.Contain("0.0125").And.Contain("-1.5E-07").And.Contain("-3,")
            .And.Contain("\"relativeBand\": 0.05").And.Contain("\"createdUtc\": \"2025-01-31T12:00:00Z\"")
            .And.NotContain("0,375").And.NotContain("\u2212");
        read.Should().BeEquivalentTo(original, o => o.ComparingRecordsByMembers().WithStrictOrdering());
        read.Metrics.Keys.Should().Equal("accuracy", "tiny");
        read.CreatedUtc.Kind.Should().Be(DateTimeKind.Utc);
        BaselineJson.Serialize(read).Should().Be(json);
    }

    [Test]
    public void File_layout_uses_the_documented_field_names()
    {
        var json = ValidJson();

        foreach (var field in new[] { "schemaVersion", "finding", "profile", "createdUtc", "machine", "os", "processorCount",
                     "cpuModel", "device", "torchSharpVersion", "seeds", "metrics", "value", "samples", "absoluteBand", "relativeBand", "rule" })
            json.Should().Contain($"\"{field}\":");
        json.Should().NotContain("halfWidth");
    }

    [TestCase("margin", "-1", "is -1; expected a finite number > 0.")]
    [TestCase("margin", "0", "is 0; expected a finite number > 0.")]
    [TestCase("halfWidth", "-5", "is -5; expected a finite number >= 0.")]
    [TestCase("seeds", "-7", "is -7; expected a positive integer")]
    [TestCase("seedsNeeded", "0", "is 0; expected a positive integer")]
    public void An_impossible_claim_power_value_names_the_file_and_the_field(string field, string value, string expected)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(BaselineJson.Serialize(Samples.Baseline(Samples.Typical().AddClaimPower(new ClaimPower("c", 0.01, 0.002, 3, 2)))))!;
        BaselineJson.Parse(json.ToJsonString(), File).Claims.Should().ContainSingle();
        json["claims"]![0]![field] = System.Text.Json.Nodes.JsonNode.Parse(value);

        var error = FluentActions.Invoking(() => BaselineJson.Parse(json.ToJsonString(), File)).Should().Throw<BaselineFormatException>().Which;

        error.FilePath.Should().Be(File);
        error.Field.Should().Be($"claims[0].{field}");
        error.Message.Should().Contain(expected);
    }

    [Test]
    public void Malformed_json_names_the_file_and_where_it_broke()
    {
        var json = ValidJson().Replace("\"absoluteBand\": ", "\"absoluteBand\": 0,", StringComparison.Ordinal);

        var error = FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>().Which;

        error.FilePath.Should().Be(File);
        error.Field.Should().StartWith("metrics.accuracy");
        error.Message.Should().Contain(File).And.Contain("is not valid JSON at line").And.Contain("metrics.accuracy");
    }

    [Test]
    public void Empty_file_is_reported_as_invalid_json()
    {
        FluentActions.Invoking(() => BaselineJson.Parse("", File))
            .Should().Throw<BaselineFormatException>().WithMessage($"Baseline file '{File}': field '(root)' is not valid JSON*");
    }

    [Test]
    public void Missing_field_names_the_file_the_field_and_what_was_expected()
    {
        var json = RemoveLine(ValidJson(), "\"absoluteBand\"", occurrence: 2);

        var error = FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>().Which;

        error.Field.Should().Be("metrics.loss.absoluteBand");
        error.Message.Should().Be(
            $"Baseline file '{File}': field 'metrics.loss.absoluteBand' is missing; expected a finite number >= 0 (the band's half-width in the metric's units).");
    }

    [Test]
    public void Missing_top_level_field_is_named()
    {
        var json = RemoveLine(ValidJson(), "\"seeds\"", occurrence: 1, alsoFollowing: Samples.Seeds.Length + 1);

        FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>()
            .WithMessage($"Baseline file '{File}': field 'seeds' is missing; expected a non-empty array of distinct integer seeds.");
    }

    [Test]
    public void Unknown_field_is_named_with_the_allowed_ones()
    {
        var json = ValidJson().Replace("\"absoluteBand\":", "\"absolutBand\":", StringComparison.Ordinal);

        FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>()
            .WithMessage($"Baseline file '{File}': field 'metrics.accuracy.absolutBand' is not a known field; expected only: value, samples, absoluteBand, relativeBand, rule, claimNull.");
    }

    [TestCase("\"schemaVersion\": 1", "\"schemaVersion\": 2", "schemaVersion", "*is 2; expected 1*")]
    [TestCase("\"processorCount\": 8", "\"processorCount\": \"8\"", "machine.processorCount", "*is the string \"8\"; expected a positive integer*")]
    [TestCase("\"finding\": \"F99\"", "\"finding\": \"F 99\"", "finding", "*is 'F 99'*")]
    [TestCase("\"createdUtc\": \"2025-01-31T12:00:00Z\"", "\"createdUtc\": \"31.01.2025\"", "createdUtc", "*ISO 8601*")]
    [TestCase("\"relativeBand\": 0.01", "\"relativeBand\": -0.01", "metrics.accuracy.relativeBand", "*is -0.01; expected a finite number >= 0*")]
    [TestCase("\"device\": \"cpu\"", "\"device\": 3", "machine.device", "*is the number 3; expected a non-empty string*")]
    public void Wrong_values_name_the_field(string find, string replace, string field, string message)
    {
        var json = ReplaceFirst(ValidJson(), find, replace);

        var error = FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>().Which;

        error.Field.Should().Be(field);
        error.Message.Should().StartWith($"Baseline file '{File}': field '{field}'").And.Match(message);
    }

    [Test]
    public void Sample_count_must_match_the_seeds()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var json = BaselineJson.Serialize(baseline with { Seeds = [11, 22] });

        FluentActions.Invoking(() => BaselineJson.Parse(json, File))
            .Should().Throw<BaselineFormatException>()
            .WithMessage("*field 'metrics.accuracy.samples' has 3 value(s); expected 2, one per seed in 'seeds'.");
    }

    [Test]
    public void Value_must_be_the_mean_of_the_samples()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var edited = baseline with { Metrics = new Dictionary<string, BaselineMetric>(baseline.Metrics) { ["loss"] = baseline.Metrics["loss"] with { Value = 0.3 } } };

        FluentActions.Invoking(() => BaselineJson.Parse(BaselineJson.Serialize(edited), File))
            .Should().Throw<BaselineFormatException>().WithMessage("*field 'metrics.loss.value' is 0.3 but the mean of its samples is 0.2*");
    }

    [Test]
    public void A_file_stored_under_another_finding_is_rejected()
    {
        FluentActions.Invoking(() => BaselineJson.Parse(ValidJson(), File, expectedProfile: "quick", expectedFinding: "F01"))
            .Should().Throw<BaselineFormatException>().WithMessage("*field 'finding' is 'F99' but the file is stored for finding 'F01'*");
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        at.Should().BeGreaterThanOrEqualTo(0, $"the fixture JSON should contain {find}");
        return string.Concat(text.AsSpan(0, at), replace, text.AsSpan(at + find.Length));
    }

    private static string RemoveLine(string text, string containing, int occurrence, int alsoFollowing = 0)
    {
        var lines = text.Split('\n').ToList();
        var index = lines.Select((line, i) => (line, i)).Where(x => x.line.Contains(containing, StringComparison.Ordinal))
            .Select(x => x.i).ElementAt(occurrence - 1);
        lines.RemoveRange(index, 1 + alsoFollowing);
        return string.Join('\n', lines);
    }
}
