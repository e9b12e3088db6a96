using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // sets CI and REPRO_ACCEPT_BASELINES
public sealed class BaselineStoreTests : BaselineFolderFixture
{
    [Test]
    public void Paths_follow_profile_dataset_and_finding()
    {
        Store.Path("quick", "mnist", "F01").Should().Be(Path.Combine(FolderPath, "quick", "mnist", "F01.json"));
        Store.ReceivedPath("full", "fashion-mnist", "F21").Should().Be(Path.Combine(FolderPath, "full", "fashion-mnist", "F21.received.json"));
        FluentActions.Invoking(() => Store.Path("..", "mnist", "F01")).Should().Throw<ArgumentException>().WithMessage("*profile '..'*");
        FluentActions.Invoking(() => Store.Path("quick", "../x", "F01")).Should().Throw<ArgumentException>().WithMessage("*dataset '../x'*");
    }

    [Test]
    public void Load_of_a_missing_baseline_says_how_to_create_it()
    {
        Store.TryLoad("quick", "mnist", "F99").Should().BeNull();
        FluentActions.Invoking(() => Store.Load("quick", "mnist", "F99"))
            .Should().Throw<FileNotFoundException>()
            .WithMessage("*No baseline for F99 (quick, mnist)*baselines accept --profile quick --dataset mnist --finding F99*");
    }

    [Test]
    public void Load_of_a_malformed_file_names_file_and_field()
    {
        var path = Store.Path("quick", "mnist", "F99");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{ \"schemaVersion\": 1 }");

        FluentActions.Invoking(() => Store.Load("quick", "mnist", "F99"))
            .Should().Throw<BaselineFormatException>()
            .WithMessage($"Baseline file '{path}': field 'finding' is missing*");
    }

    [Test]
    public void Accept_promotes_received_files_and_removes_them()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var received = Store.WriteReceived(baseline, "mnist");
        var receivedText = File.ReadAllText(received);

        var accepted = Store.Accept();

        accepted.Should().ContainSingle().Which.Should().Be(
            new AcceptedBaseline("quick", "mnist", "F99", Store.Path("quick", "mnist", "F99"), Replaced: false, MetricCount: 2));
        File.Exists(received).Should().BeFalse();
        File.ReadAllText(Store.Path("quick", "mnist", "F99")).Should().Be(receivedText);
        Store.Load("quick", "mnist", "F99").Should().BeEquivalentTo(baseline, o => o.ComparingRecordsByMembers());
    }

    [Test]
    public void Accept_replaces_an_existing_baseline_and_reports_it()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Store.Accept();
        Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.01)), "mnist");

        var accepted = Store.Accept("quick", "F99");

        accepted.Should().ContainSingle().Which.Replaced.Should().BeTrue();
        Store.Load("quick", "mnist", "F99").Metrics["accuracy"].Value.Should().BeApproximately(0.96, 1e-12);
    }

    [Test]
    public void Accept_filters_by_profile_and_finding()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        var f01 = new MetricSamples("F01", "quick", "mnist", [1]).Add("x", [1.0]);
        var full = new MetricSamples("F01", "full", "mnist", [1]).Add("x", [1.0]);
        Store.WriteReceived(Samples.Baseline(f01), "mnist");
        Store.WriteReceived(Samples.Baseline(full), "mnist");

        Store.Accept(profile: null, finding: "f01").Select(a => (a.Profile, a.Finding))
            .Should().Equal(("full", "F01"), ("quick", "F01"));
        Store.Accept(profile: "full").Should().BeEmpty();
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeTrue();
        Store.Accept(profile: "quick").Select(a => a.Finding).Should().Equal("F99");
    }

    [Test]
    public void Accept_refuses_when_CI_is_set_and_changes_nothing()
    {
        var received = Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Variables.Set(BaselineEnvironment.CiVariable, "true");

        FluentActions.Invoking(() => Store.Accept())
            .Should().Throw<BadInputException>()
            .WithMessage("Refusing to accept baselines: the CI environment variable is set ('true')*");

        File.Exists(received).Should().BeTrue();
        File.Exists(Store.Path("quick", "mnist", "F99")).Should().BeFalse();
    }

    [Test]
    public void Accept_checks_every_received_file_before_promoting_any()
    {
        Store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", "mnist", [1]).Add("x", [1.0])), "mnist");
        var bad = Store.ReceivedPath("quick", "mnist", "F02");
        File.WriteAllText(bad, "{ not json");

        FluentActions.Invoking(() => Store.Accept())
            .Should().Throw<BaselineFormatException>().WithMessage($"Baseline file '{bad}'*not valid JSON*");

        File.Exists(Store.Path("quick", "mnist", "F01")).Should().BeFalse();
    }

    [Test]
    public void List_reports_metrics_seeds_and_waiting_received_files()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Store.Accept();
        Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.1)), "mnist");
        Store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", "mnist", [5]).Add("x", [1.0])), "mnist");

        var entries = Store.List();

        entries.Select(e => (e.Finding, e.HasVerified, e.ReceivedWaiting, e.MetricCount)).Should().Equal(
            ("F01", false, true, (int?)null), ("F99", true, true, (int?)2));
        entries[1].Seeds.Should().Equal(Samples.Seeds);
    }

    [Test]
    public void Delete_received_removes_only_the_received_file()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");

        Store.DeleteReceived("quick", "mnist", "F99").Should().BeTrue();
        Store.DeleteReceived("quick", "mnist", "F99").Should().BeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(FolderPath, "quick", "mnist")).Should().BeEmpty();
    }
}
