using System.Text.Json;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;

namespace Reproductions.Tests.Reporting;

/// <summary>
/// <c>report --since</c>'s comparison (<see cref="ReportChanges"/>) on two reports made by hand: which verdicts flipped,
/// which metrics moved beyond the band their finding's settings derive from the earlier per-seed values, and the triage
/// each change gets from what differs between the two environments.
/// </summary>
[Unit]
public sealed class ReportSinceTests
{
    private const string Commit = "1111111111111111111111111111111111111111";
    private const string OtherCommit = "2222222222222222222222222222222222222222";

    private static readonly ReportEnvironment Here =
        new(Commit, "0.107.0", "2.10.0", null, null, null, "Linux 6.8 (X64)", ".NET 10.0.0", ["cpu (2 threads, 2 cores)"]);

    private static readonly BandSettings FourStd = new(4, 0, 0);

    private static ClaimVerdict Verdict(string id, ClaimOutcome outcome) =>
        new(id, $"The statement of {id}.", "exceeds", outcome, "yardstick", "summary", [], null, null, null);

    private static MetricSection Metric(string metric, IReadOnlyList<double> perSeed, string unit = "")
    {
        var (mean, std, _) = MetricDisplay.MeanStd(perSeed);
        return new MetricSection(metric, metric, unit, false, [mean], [std], perSeed.Select(v => (IReadOnlyList<double>)[v]).ToList(), "",
            null, new ReferenceCheck(Agreement.NoReference, [], ""));
    }

    private static RunSection Run(string name, params MetricSection[] metrics) => new(name, "1 x 64 @ 0.01", [1, 2, 3], ["cpu (2 threads, 2 cores)"], metrics);

    private static FindingSection Section(string id, BandSettings? bands, IReadOnlyList<ClaimVerdict> claims, params RunSection[] runs) =>
        new(id, "mnist", "training", "A claim.", "A description.", [], [1, 2, 3], bands, ClaimsSummary.Of(claims), claims, [], "run", "phases",
            runs, [], [], [], [], ["cpu (2 threads, 2 cores)"], 10, new Dictionary<string, string>(), null);

    private static ReportData Report(ReportEnvironment? environment, params FindingSection[] sections) =>
        new(environment is null ? ReportData.OldestReadableFormat : ReportData.CurrentFormat, "quick", new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            false, "/runs", sections, [], [], Environment: environment);

    private static readonly double[] Accuracy = [0.90, 0.91, 0.92];
    private static readonly double[] Distance = [6.0, 6.5, 7.0];

    /// <summary>The band a baseline would get from <paramref name="perSeed"/> under <see cref="FourStd"/>: 4 x the sample std.</summary>
    private static double FourStdBand(IEnumerable<double> perSeed) => 4 * perSeed.StandardDeviation();

    private static double[] Shift(IEnumerable<double> values, double by) => values.Select(v => v + by).ToArray();

    [Test]
    public void The_comparison_lists_exactly_the_flip_and_the_metric_beyond_its_band_with_their_triage()
    {
        var earlier = Report(Here, Section("F90", FourStd, [Verdict("a", ClaimOutcome.Holds), Verdict("b", ClaimOutcome.Holds)],
            Run("bs64", Metric("testAccuracy", Accuracy, "%"), Metric("weightDistance", Distance))));
        var accuracyBand = FourStdBand(Accuracy);
        var distanceBand = FourStdBand(Distance);
        // Test accuracy moves 5 bands (beyond the 3 of seed noise); the distance a quarter of its band (within it).
        var current = Report(Here with { TorchSharp = "0.108.0" }, Section("F90", FourStd, [Verdict("a", ClaimOutcome.DoesNotHold), Verdict("b", ClaimOutcome.Holds)],
            Run("bs64", Metric("testAccuracy", Shift(Accuracy, -5 * accuracyBand), "%"), Metric("weightDistance", Shift(Distance, distanceBand / 4)))));

        var changes = ReportChanges.Compare(earlier, current, "earlier/report.json", "now/report.json");

        changes.Unchanged.Should().BeFalse();
        changes.MetricsCompared.Should().Be(2);
        changes.Sections.Should().BeEmpty();
        var flip = changes.Verdicts.Should().ContainSingle().Subject;
        (flip.Finding, flip.Dataset, flip.Claim, flip.Earlier, flip.Current, flip.Kind).Should().Be(("F90", "mnist", "a", ClaimOutcome.Holds, ClaimOutcome.DoesNotHold, "flipped"));
        flip.Triage.Cause.Should().Be(TriageCause.Environment);
        flip.Triage.Text.Should().Contain("TorchSharp 0.107.0 -> 0.108.0").And.Contain("the commit is the same");

        var moved = changes.Metrics.Should().ContainSingle().Subject;
        (moved.Run, moved.Metric, moved.Layer).Should().Be(("bs64", "testAccuracy", (int?)null));
        moved.Earlier.Should().BeApproximately(Accuracy.Average(), 1e-12);
        moved.Delta.Should().BeApproximately(-5 * accuracyBand, 1e-12);
        moved.Band.Should().NotBeNull().And.BeApproximately(accuracyBand, accuracyBand * 1e-3, "the band is 4 x std over the earlier seeds, as BandPolicy derives it (stored to 4 digits)");
        moved.BandsMoved.Should().NotBeNull().And.BeApproximately(5, 0.01);
        moved.BandRule.Should().Contain("4 x std over 3 seeds");
        moved.Triage.Cause.Should().Be(TriageCause.Environment);

        changes.Environment.Where(f => f.Differs == true).Select(f => f.Name).Should().Equal("TorchSharp");
        var markdown = ChangesMarkdown.Render(changes);
        var beyondBand = markdown[..markdown.IndexOf("## Per-seed differences", StringComparison.Ordinal)];
        beyondBand.Should().Contain("| F90 | mnist | `a` | **holds** | **does not hold** | environment: TorchSharp 0.107.0 -> 0.108.0")
            .And.Contain("| F90 | mnist | bs64 | testAccuracy | 91.00% |")
            .And.Contain("| TorchSharp | 0.107.0 | 0.108.0 | **differs** |")
            .And.NotContain("weightDistance", "the distance moved a quarter of its band");
    }

    [Test]
    public void Every_metric_value_is_compared_seed_by_seed_on_the_seeds_both_ran_moved_or_not()
    {
        var earlier = Report(Here, Section("F90", FourStd, [],
            Run("bs64", Metric("testAccuracy", Accuracy, "%"), Metric("weightDistance", Distance)),
            Run("bs2", Metric("weightDistance", Distance))));
        var distanceBand = FourStdBand(Distance);
        // bs64: the current run lists its seeds in another order ([3, 1, 2]); seed 3 moved by -0.5 bands, seed 1 by +2, seed 2 not.
        // bs2: seeds [1, 2, 4]: only seeds 1 and 2 are in both, and the means over different seeds get no band.
        double[] bs64Now = [Distance[2] - distanceBand / 2, Distance[0] + 2 * distanceBand, Distance[1]];
        var current = Report(Here with { Commit = OtherCommit }, Section("F90", FourStd, [],
            Run("bs64", Metric("testAccuracy", [Accuracy[2], Accuracy[0], Accuracy[1]], "%"), Metric("weightDistance", bs64Now)) with { Seeds = [3, 1, 2] },
            Run("bs2", Metric("weightDistance", [7.5, 6.5, 9.0])) with { Seeds = [1, 2, 4] }));

        var changes = ReportChanges.Compare(earlier, current, "earlier/report.json", "now/report.json");

        changes.PerSeed.Should().HaveCount(3, "every value compared: bs64's two metrics and bs2's distance");
        var accuracy = changes.PerSeed!.Single(d => d.Run == "bs64" && d.Metric == "testAccuracy");
        (accuracy.LargestDelta, accuracy.LargestInBands).Should().Be((0.0, 0.0), "an unmoved metric is listed too, at 0");
        var distance = changes.PerSeed!.Single(d => d.Run == "bs64" && d.Metric == "weightDistance");
        distance.Seeds.Should().Equal(3, 1, 2);
        distance.Earlier.Should().Equal(Distance[2], Distance[0], Distance[1]);
        distance.LargestDelta.Should().BeApproximately(2 * distanceBand, 1e-12, "seed 1 moved furthest");
        distance.Band.Should().NotBeNull();
        distance.LargestInBands.Should().NotBeNull().And.BeApproximately(2, 0.01);
        var bs2 = changes.PerSeed!.Single(d => d.Run == "bs2");
        bs2.Seeds.Should().Equal(1, 2);
        bs2.Current.Should().Equal(7.5, 6.5);
        bs2.LargestDelta.Should().BeApproximately(1.5, 1e-12);
        (bs2.Band, bs2.LargestInBands).Should().Be(((double?)null, (double?)null));

        var markdown = ChangesMarkdown.Render(changes);
        var section = markdown[markdown.IndexOf("## Per-seed differences", StringComparison.Ordinal)..];
        section.Should().Contain("3 metric value(s) compared seed by seed on the seeds both reports ran; 2 with a band, of which 1 moved beyond it on at least one seed; " +
                                 "the largest move is 2.0 band(s), F90 (mnist) bs64 weightDistance.");
        var rows = section.Split('\n').Where(l => l.StartsWith("| F90", StringComparison.Ordinal)).ToList();
        rows.Should().HaveCount(3);
        rows[0].Should().Be("| F90 | mnist | bs64 | weightDistance | 3, 1, 2 | 7.000, 6.000, 6.500 | 6.000, 10.00, 6.500 | +4 | 2 | 2.0 |", "the furthest move in bands first");
        rows[1].Should().StartWith("| F90 | mnist | bs64 | testAccuracy |");
        rows[2].Should().StartWith("| F90 | mnist | bs2 | weightDistance | 1, 2 |").And.Contain("| +1.5 | no band | - |");
        changes.Unchanged.Should().BeFalse("bs64's distance moved its mean beyond the band");
    }

    [Test]
    public void A_run_whose_values_do_not_line_up_with_its_seeds_is_not_compared_seed_by_seed()
    {
        var earlier = Report(Here, Section("F90", FourStd, [], Run("bs64", Metric("weightDistance", Distance))));
        var missing = Run("bs64", Metric("weightDistance", Distance.Take(2).ToArray()));
        var changes = ReportChanges.Compare(earlier, Report(Here, Section("F90", FourStd, [], missing)), "a", "b");
        changes.PerSeed.Should().BeEmpty("two values for three seeds: which seed each belongs to is not known");
        var same = ReportChanges.Compare(earlier, earlier, "a", "b");
        ChangesMarkdown.Render(same).Should().Contain("1 metric value(s) compared seed by seed on the seeds both reports ran; 1 with a band, of which 0 moved " +
                                                       "beyond it on at least one seed; every seed's value is the same in both, bit for bit.");
    }

    /// <summary>What differs between the two environments, and how far the metric moved (in bands), decide the triage.</summary>
    private static IEnumerable<TestCaseData> TriageCases()
    {
        TestCaseData Case(string name, double bands, ReportEnvironment current, TriageCause cause, string text) =>
            new TestCaseData(bands, current, cause, text).SetArgDisplayNames(name);
        yield return Case("within 3 bands, nothing else differs", 2, Here, TriageCause.SeedNoise, "seed noise: 2");
        yield return Case("within 3 bands, the commit differs too", 2, Here with { Commit = OtherCommit }, TriageCause.SeedNoise, "the commit differs too (111111111111 -> 222222222222)");
        yield return Case("beyond 3 bands, the commit differs", 5, Here with { Commit = OtherCommit }, TriageCause.Code, "code: the commit differs (111111111111 -> 222222222222), the environment does not");
        yield return Case("beyond 3 bands, the run devices differ", 5, Here with { RunDevices = ["cuda (1 device(s))"] }, TriageCause.Environment,
            "environment: run devices cpu (2 threads, 2 cores) -> cuda (1 device(s)); the commit is the same");
        yield return Case("beyond 3 bands, CUDA appears and the commit differs", 5, Here with { Commit = OtherCommit, Cuda = "12.8", Driver = "550.54", Device = "NVIDIA H200" },
            TriageCause.CodeOrEnvironment, "code or environment: both changed (commit 111111111111 -> 222222222222; CUDA none -> 12.8; driver none -> 550.54; GPU none -> NVIDIA H200)");
        yield return Case("beyond 3 bands, nothing differs", 5, Here, TriageCause.Unexplained, "unexplained: the same commit and environment");
        yield return Case("beyond 3 bands, no commit recorded now", 5, Here with { Commit = null }, TriageCause.Unknown, "the commit is not recorded in both reports");
    }

    [TestCaseSource(nameof(TriageCases))]
    public void A_moved_metric_is_triaged_by_how_far_it_moved_and_what_differs(double bands, ReportEnvironment current, TriageCause cause, string text)
    {
        var values = new[] { 1.0, 1.1, 1.2 };
        var band = FourStdBand(values);
        var earlier = Report(Here, Section("F90", FourStd, [], Run("bs64", Metric("weightNorm", values))));
        var now = Report(current, Section("F90", FourStd, [], Run("bs64", Metric("weightNorm", Shift(values, bands * band)))));

        var moved = ReportChanges.Compare(earlier, now, "a", "b").Metrics.Should().ContainSingle().Subject;

        moved.BandsMoved.Should().NotBeNull().And.BeApproximately(bands, 0.01);
        moved.Triage.Cause.Should().Be(cause);
        moved.Triage.Text.Should().Contain(text);
        if (cause == TriageCause.SeedNoise && current == Here) moved.Triage.Text.Should().NotContain("but", "nothing else differs");
    }

    [Test]
    public void An_unchanged_pair_says_nothing_changed()
    {
        var section = Section("F90", FourStd, [Verdict("a", ClaimOutcome.Holds), Verdict("b", ClaimOutcome.Inconclusive)],
            Run("bs64", Metric("testAccuracy", Accuracy, "%"), Metric("weightDistance", Distance)), Run("bs1024", Metric("testAccuracy", Shift(Accuracy, -0.1), "%")));
        var earlier = Report(Here, section);
        var now = Report(Here, section) with { GeneratedUtc = earlier.GeneratedUtc.AddDays(1) };

        var changes = ReportChanges.Compare(earlier, now, "a", "b");

        changes.Unchanged.Should().BeTrue();
        changes.Verdicts.Should().BeEmpty();
        changes.Metrics.Should().BeEmpty();
        changes.MetricsCompared.Should().Be(3, "every metric of every run present in both was compared");
        changes.Environment.Should().OnlyContain(f => f.Differs == false);
        ChangesMarkdown.Render(changes).Should().Contain("**Nothing changed**: every claim's verdict is the same, and none of the 3 metric value(s) compared moved beyond its band.")
            .And.NotContain("## Verdicts").And.NotContain("## Metrics beyond their band");
    }

    [Test]
    public void Claims_that_appear_or_disappear_and_findings_in_one_report_only_are_listed()
    {
        var earlier = Report(Here, Section("F90", FourStd, [Verdict("old", ClaimOutcome.Holds), Verdict("kept", ClaimOutcome.Holds)]),
            Section("F91", FourStd, [Verdict("x", ClaimOutcome.Holds)]));
        var now = Report(Here with { Commit = OtherCommit }, Section("F90", FourStd, [Verdict("kept", ClaimOutcome.Holds), Verdict("new", ClaimOutcome.Inconclusive)]),
            Section("F92", FourStd, [Verdict("y", ClaimOutcome.Holds)]));

        var changes = ReportChanges.Compare(earlier, now, "a", "b");

        changes.Verdicts.Select(v => (v.Claim, v.Kind, v.Earlier, v.Current)).Should().BeEquivalentTo(new[]
        {
            ("new", "appeared", (ClaimOutcome?)null, (ClaimOutcome?)ClaimOutcome.Inconclusive),
            ("old", "disappeared", ClaimOutcome.Holds, null),
        });
        changes.Verdicts.Should().OnlyContain(v => v.Triage.Cause == TriageCause.Code);
        changes.Sections.Select(s => (s.Finding, s.OnlyIn)).Should().BeEquivalentTo(new[] { ("F91", "earlier"), ("F92", "current") },
            "a finding in one report only is listed once, its claims are not each listed as appeared or disappeared");
    }

    [Test]
    public void A_verdict_to_or_from_not_measured_is_triaged_as_runs_and_a_format_4_report_leaves_the_cause_unknown()
    {
        var earlier = Report(null, Section("F90", FourStd, [Verdict("a", ClaimOutcome.NotMeasured), Verdict("b", ClaimOutcome.Holds)]));
        var now = Report(Here, Section("F90", FourStd, [Verdict("a", ClaimOutcome.Holds), Verdict("b", ClaimOutcome.Inconclusive)]));

        var changes = ReportChanges.Compare(earlier, now, "a", "b");

        changes.Verdicts.Single(v => v.Claim == "a").Triage.Cause.Should().Be(TriageCause.Runs);
        var b = changes.Verdicts.Single(v => v.Claim == "b").Triage;
        b.Cause.Should().Be(TriageCause.Unknown);
        b.Text.Should().Contain("format 4").And.Contain("records no environment");
        changes.Environment.Should().OnlyContain(f => f.Differs == null && f.Earlier == "not recorded (format 4)");
    }

    [Test]
    public void Without_a_band_a_changed_mean_is_listed_as_no_band_and_never_as_noise()
    {
        var earlier = Report(Here, Section("F90", null, [], Run("bs64", Metric("testAccuracy", Accuracy, "%"), Metric("weightDistance", Distance))));
        var now = Report(Here, Section("F90", null, [], Run("bs64", Metric("testAccuracy", Shift(Accuracy, 1e-6), "%"), Metric("weightDistance", Distance))));

        var moved = ReportChanges.Compare(earlier, now, "a", "b").Metrics.Should().ContainSingle().Subject;

        moved.Metric.Should().Be("testAccuracy", "the unchanged distance is not listed");
        moved.Band.Should().BeNull();
        moved.BandsMoved.Should().BeNull();
        moved.BandRule.Should().Be("no band: the finding's band settings are in neither report");
        moved.Triage.Cause.Should().Be(TriageCause.Unexplained);
    }

    [Test]
    public void Each_layer_of_a_per_layer_metric_is_compared_on_its_own()
    {
        double[][] cosines = [[0.98, 0.99, 0.90], [0.97, 0.99, 0.91], [0.99, 0.99, 0.92]]; // [seed][layer]
        MetricSection Cosines(double[][] perSeed) => new("layerCosines", "cosine", "unitless", true,
            Enumerable.Range(0, 3).Select(l => perSeed.Average(v => v[l])).ToList(), Enumerable.Range(0, 3).Select(l => perSeed.Select(v => v[l]).StandardDeviation()).ToList(),
            perSeed.Select(v => (IReadOnlyList<double>)v).ToList(), "", null, new ReferenceCheck(Agreement.NoReference, [], ""));
        var thirdBand = FourStdBand(cosines.Select(v => v[2]));
        var moved = cosines.Select(v => new[] { v[0], v[1], v[2] + 5 * thirdBand }).ToArray();
        var earlier = Report(Here, Section("F90", FourStd, [], Run("bs64", Cosines(cosines))));
        var now = Report(Here with { Commit = OtherCommit }, Section("F90", FourStd, [], Run("bs64", Cosines(moved))));

        var changes = ReportChanges.Compare(earlier, now, "a", "b");

        changes.MetricsCompared.Should().Be(3);
        var change = changes.Metrics.Should().ContainSingle().Subject;
        (change.Metric, change.Layer, change.Triage.Cause).Should().Be(("layerCosines", (int?)3, TriageCause.Code));
        change.BandsMoved.Should().NotBeNull().And.BeApproximately(5, 0.01);
        ChangesMarkdown.Render(changes).Should().Contain("| bs64 | layerCosines layer 3 |");
    }

    [Test]
    public void Means_over_different_seeds_get_no_band()
    {
        var earlier = Report(Here, Section("F90", FourStd, [], Run("bs64", Metric("weightDistance", Distance))));
        var run = Run("bs64", Metric("weightDistance", Distance)) with { Seeds = [1, 2, 4] };
        var now = Report(Here, Section("F90", FourStd, [], run));

        var moved = ReportChanges.Compare(earlier, now, "a", "b").Metrics;

        moved.Should().BeEmpty("the means are equal, so nothing moved, band or not");
        var shifted = Report(Here, Section("F90", FourStd, [], run with { Metrics = [Metric("weightDistance", Shift(Distance, 0.01))] }));
        ReportChanges.Compare(earlier, shifted, "a", "b").Metrics.Should().ContainSingle()
            .Which.BandRule.Should().Contain("the seeds differ ([1,2,3] then [1,2,4])");
    }
}

/// <summary>Reading the earlier report for <c>--since</c>: strict, but a format-4 report (no environment) is read.</summary>
[Unit]
public sealed class ReportSinceReadTests
{
    private string folder = null!;

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(folder = Path.Combine(Path.GetTempPath(), "repro-since-read", Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(folder, recursive: true);

    private static ReportData Report(int format, ReportEnvironment? environment, string profile = "quick") =>
        new(format, profile, new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), false, "/runs", [], [], [], Environment: environment);

    private string Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static readonly ReportEnvironment Some = new("abc", "0.107.0", "2.10.0", null, null, null, "Linux", ".NET 10", []);

    private static IEnumerable<TestCaseData> BadFiles()
    {
        TestCaseData Case(string name, string? text, string expected) => new TestCaseData(text, expected).SetArgDisplayNames(name);
        yield return Case("missing", null, "no such file; expected the report.json of an earlier report");
        yield return Case("not JSON", "{ \"formatVersion\": 5,\n  oops", "not a report.json (line 2");
        yield return Case("another file's JSON", "{ \"schemaVersion\": 1, \"finding\": \"F01\" }", "schemaVersion");
        yield return Case("a JSON array", "[1, 2]", "not a report.json");
        yield return Case("JSON null", "null", "holds JSON null, not a report");
        yield return Case("an empty object", "{}", "formatVersion is 0; this harness reads reports of format 4 to 5 (formatVersion missing: is it a report.json?)");
        yield return Case("a future format", JsonSerializer.Serialize(Report(99, Some), JsonDefaults.Options), "formatVersion is 99");
        yield return Case("format 5 without its environment", JsonSerializer.Serialize(Report(5, null), JsonDefaults.Options), "lacks environment");
        yield return Case("without findings", "{ \"formatVersion\": 4, \"profile\": \"quick\" }", "lacks findings");
        yield return Case("another profile", JsonSerializer.Serialize(Report(5, Some, "full"), JsonDefaults.Options), "is the report of profile 'full', this one is 'quick'");
        string Edited(Action<System.Text.Json.Nodes.JsonNode> edit)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(Report(5, Some), JsonDefaults.Options))!;
            edit(json);
            return json.ToJsonString();
        }
        yield return Case("a null where true or false goes", Edited(j => j["comparedWithPaper"] = null), "comparedWithPaper is null; expected true or false");
        yield return Case("a string where a number goes", Edited(j => j["formatVersion"] = "five"), "formatVersion is the string \"five\"; expected an integer");
        yield return Case("a nested field of the wrong kind", Edited(j => j["environment"]!["os"] = 5), "environment.os is 5; expected a string");
        yield return Case("a list item of the wrong kind", Edited(j => j["findings"] = new System.Text.Json.Nodes.JsonArray(7)), "findings[0] is 7; expected an object");
    }

    [TestCaseSource(nameof(BadFiles))]
    public void A_bad_earlier_report_is_bad_input_naming_the_file_and_what_is_wrong(string? text, string expected)
    {
        var path = text is null ? Path.Combine(folder, "missing.json") : Write("report.json", text);

        var read = () => ReportChanges.ReadEarlier(path, "quick");

        var error = read.Should().Throw<BadInputException>().Which;
        error.ExitCode.Should().Be(ExitCodes.BadInput);
        error.Message.Should().StartWith($"--since {path}: ").And.Contain(expected).And.NotContain("Reproductions.Harness", "a .NET type name means nothing to the user");
    }

    [Test]
    public void A_folder_is_refused_with_the_file_it_should_name()
    {
        var read = () => ReportChanges.ReadEarlier(folder, "quick");
        read.Should().Throw<BadInputException>().WithMessage($"*is a folder; expected the report.json of an earlier report (e.g. {Path.Combine(folder, "report.json")})*");
    }

    [Test]
    public void A_format_4_report_without_environment_is_read()
    {
        var path = Write("report.json", JsonSerializer.Serialize(Report(4, null), JsonDefaults.Options));
        var read = ReportChanges.ReadEarlier(path, "quick");
        (read.FormatVersion, read.Environment).Should().Be((4, (ReportEnvironment?)null));
    }
}
