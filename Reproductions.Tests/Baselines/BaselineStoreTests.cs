using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // sets CI and REPRO_ACCEPT_BASELINES
public sealed class BaselineStoreTests : BaselineFolderFixture
{
    [Test]
    public void Paths_follow_profile_and_finding()
    {
        Store.Path("quick", "F01").Should().Be(Path.Combine(FolderPath, "quick", "F01.json"));
        Store.ReceivedPath("full", "F21").Should().Be(Path.Combine(FolderPath, "full", "F21.received.json"));
        FluentActions.Invoking(() => Store.Path("..", "F01")).Should().Throw<ArgumentException>().WithMessage("*profile '..'*");
    }

    [Test]
    public void Load_of_a_missing_baseline_says_how_to_create_it()
    {
        Store.TryLoad("quick", "F99").Should().BeNull();
        FluentActions.Invoking(() => Store.Load("quick", "F99"))
            .Should().Throw<FileNotFoundException>()
            .WithMessage("*No baseline for F99 (quick)*baselines accept --profile quick --finding F99*");
    }

    [Test]
    public void Load_of_a_malformed_file_names_file_and_field()
    {
        var path = Store.Path("quick", "F99");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{ \"schemaVersion\": 1 }");

        FluentActions.Invoking(() => Store.Load("quick", "F99"))
            .Should().Throw<BaselineFormatException>()
            .WithMessage($"Baseline file '{path}': field 'finding' is missing*");
    }

    [Test]
    public void Accept_promotes_received_files_and_removes_them()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var received = Store.WriteReceived(baseline);
        var receivedText = File.ReadAllText(received);

        var accepted = Store.Accept();

        accepted.Should().ContainSingle().Which.Should().Be(
            new AcceptedBaseline("quick", "F99", Store.Path("quick", "F99"), Replaced: false, MetricCount: 2));
        File.Exists(received).Should().BeFalse();
        File.ReadAllText(Store.Path("quick", "F99")).Should().Be(receivedText);
        Store.Load("quick", "F99").Should().BeEquivalentTo(baseline, o => o.ComparingRecordsByMembers());
    }

    [Test]
    public void Accept_replaces_an_existing_baseline_and_reports_it()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()));
        Store.Accept();
        Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.01)));

        var accepted = Store.Accept("quick", "F99");

        accepted.Should().ContainSingle().Which.Replaced.Should().BeTrue();
        Store.Load("quick", "F99").Metrics["accuracy"].Value.Should().BeApproximately(0.96, 1e-12);
    }

    [Test]
    public void Accept_filters_by_profile_and_finding()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()));
        var f01 = new MetricSamples("F01", "quick", [1]).Add("x", [1.0]);
        var full = new MetricSamples("F01", "full", [1]).Add("x", [1.0]);
        Store.WriteReceived(Samples.Baseline(f01));
        Store.WriteReceived(Samples.Baseline(full));

        Store.Accept(profile: null, finding: "f01").Select(a => (a.Profile, a.Finding))
            .Should().Equal(("full", "F01"), ("quick", "F01"));
        Store.Accept(profile: "full").Should().BeEmpty();
        File.Exists(Store.ReceivedPath("quick", "F99")).Should().BeTrue();
        Store.Accept(profile: "quick").Select(a => a.Finding).Should().Equal("F99");
    }

    [Test]
    public void Accept_refuses_when_CI_is_set_and_changes_nothing()
    {
        var received = Store.WriteReceived(Samples.Baseline(Samples.Typical()));
        Variables.Set(BaselineEnvironment.CiVariable, "true");

        FluentActions.Invoking(() => Store.Accept())
            .Should().Throw<InvalidOperationException>()
            .WithMessage("Refusing to accept baselines: the CI environment variable is set ('true')*");

        File.Exists(received).Should().BeTrue();
        File.Exists(Store.Path("quick", "F99")).Should().BeFalse();
    }

    [Test]
    public void Accept_checks_every_received_file_before_promoting_any()
    {
        Store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", [1]).Add("x", [1.0])));
        var bad = Store.ReceivedPath("quick", "F02");
        File.WriteAllText(bad, "{ not json");

        FluentActions.Invoking(() => Store.Accept())
            .Should().Throw<BaselineFormatException>().WithMessage($"Baseline file '{bad}'*not valid JSON*");

        File.Exists(Store.Path("quick", "F01")).Should().BeFalse();
    }

    [Test]
    public void List_reports_metrics_seeds_and_waiting_received_files()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()));
        Store.Accept();
        Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.1)));
        Store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", [5]).Add("x", [1.0])));

        var entries = Store.List();

        entries.Select(e => (e.Finding, e.HasVerified, e.ReceivedWaiting, e.MetricCount)).Should().Equal(
            ("F01", false, true, (int?)null), ("F99", true, true, (int?)2));
        entries[1].Seeds.Should().Equal(Samples.Seeds);
    }

    [Test]
    public void Delete_received_removes_only_the_received_file()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()));

        Store.DeleteReceived("quick", "F99").Should().BeTrue();
        Store.DeleteReceived("quick", "F99").Should().BeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(FolderPath, "quick")).Should().BeEmpty();
    }
}
