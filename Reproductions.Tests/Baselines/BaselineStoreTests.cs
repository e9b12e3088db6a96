using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // sets CI and REPRO_ACCEPT_BASELINES
public sealed class BaselineStoreTests
{
    private TempFolder _folder = null!;
    private EnvironmentScope _environment = null!;
    private BaselineStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _environment = EnvironmentScope.Clean();
        _folder = new TempFolder();
        _store = new BaselineStore(_folder.Path);
    }

    [TearDown]
    public void TearDown()
    {
        _environment.Dispose();
        _folder.Dispose();
    }

    [Test]
    public void Paths_follow_profile_and_finding()
    {
        _store.Path("quick", "F01").Should().Be(Path.Combine(_folder.Path, "quick", "F01.json"));
        _store.ReceivedPath("full", "F21").Should().Be(Path.Combine(_folder.Path, "full", "F21.received.json"));
        FluentActions.Invoking(() => _store.Path("..", "F01")).Should().Throw<ArgumentException>().WithMessage("*profile '..'*");
    }

    [Test]
    public void Load_of_a_missing_baseline_says_how_to_create_it()
    {
        _store.TryLoad("quick", "F99").Should().BeNull();
        FluentActions.Invoking(() => _store.Load("quick", "F99"))
            .Should().Throw<FileNotFoundException>()
            .WithMessage("*No baseline for F99 (quick)*baselines accept --profile quick --finding F99*");
    }

    [Test]
    public void Load_of_a_malformed_file_names_file_and_field()
    {
        var path = _store.Path("quick", "F99");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "{ \"schemaVersion\": 1 }");

        FluentActions.Invoking(() => _store.Load("quick", "F99"))
            .Should().Throw<BaselineFormatException>()
            .WithMessage($"Baseline file '{path}': field 'finding' is missing*");
    }

    [Test]
    public void Accept_promotes_received_files_and_removes_them()
    {
        var baseline = Samples.Baseline(Samples.Typical());
        var received = _store.WriteReceived(baseline);
        var receivedText = File.ReadAllText(received);

        var accepted = _store.Accept();

        accepted.Should().ContainSingle().Which.Should().Be(
            new AcceptedBaseline("quick", "F99", _store.Path("quick", "F99"), Replaced: false, MetricCount: 2));
        File.Exists(received).Should().BeFalse();
        File.ReadAllText(_store.Path("quick", "F99")).Should().Be(receivedText);
        _store.Load("quick", "F99").Should().BeEquivalentTo(baseline, o => o.ComparingRecordsByMembers());
    }

    [Test]
    public void Accept_replaces_an_existing_baseline_and_reports_it()
    {
        _store.WriteReceived(Samples.Baseline(Samples.Typical()));
        _store.Accept();
        _store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.01)));

        var accepted = _store.Accept("quick", "F99");

        accepted.Should().ContainSingle().Which.Replaced.Should().BeTrue();
        _store.Load("quick", "F99").Metrics["accuracy"].Value.Should().BeApproximately(0.96, 1e-12);
    }

    [Test]
    public void Accept_filters_by_profile_and_finding()
    {
        _store.WriteReceived(Samples.Baseline(Samples.Typical()));
        var f01 = new MetricSamples("F01", "quick", [1]).Add("x", [1.0]);
        var full = new MetricSamples("F01", "full", [1]).Add("x", [1.0]);
        _store.WriteReceived(Samples.Baseline(f01));
        _store.WriteReceived(Samples.Baseline(full));

        _store.Accept(profile: null, finding: "f01").Select(a => (a.Profile, a.Finding))
            .Should().Equal(("full", "F01"), ("quick", "F01"));
        _store.Accept(profile: "full").Should().BeEmpty();
        File.Exists(_store.ReceivedPath("quick", "F99")).Should().BeTrue();
        _store.Accept(profile: "quick").Select(a => a.Finding).Should().Equal("F99");
    }

    [Test]
    public void Accept_refuses_when_CI_is_set_and_changes_nothing()
    {
        var received = _store.WriteReceived(Samples.Baseline(Samples.Typical()));
        _environment.Set(BaselineEnvironment.CiVariable, "true");

        FluentActions.Invoking(() => _store.Accept())
            .Should().Throw<InvalidOperationException>()
            .WithMessage("Refusing to accept baselines: the CI environment variable is set ('true')*");

        File.Exists(received).Should().BeTrue();
        File.Exists(_store.Path("quick", "F99")).Should().BeFalse();
    }

    [Test]
    public void Accept_checks_every_received_file_before_promoting_any()
    {
        _store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", [1]).Add("x", [1.0])));
        var bad = _store.ReceivedPath("quick", "F02");
        File.WriteAllText(bad, "{ not json");

        FluentActions.Invoking(() => _store.Accept())
            .Should().Throw<BaselineFormatException>().WithMessage($"Baseline file '{bad}'*not valid JSON*");

        File.Exists(_store.Path("quick", "F01")).Should().BeFalse();
    }

    [Test]
    public void List_reports_metrics_seeds_and_waiting_received_files()
    {
        _store.WriteReceived(Samples.Baseline(Samples.Typical()));
        _store.Accept();
        _store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.1)));
        _store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", [5]).Add("x", [1.0])));

        var entries = _store.List();

        entries.Select(e => (e.Finding, e.HasVerified, e.ReceivedWaiting, e.MetricCount)).Should().Equal(
            ("F01", false, true, (int?)null), ("F99", true, true, (int?)2));
        entries[1].Seeds.Should().Equal(Samples.Seeds);
    }

    [Test]
    public void Delete_received_removes_only_the_received_file()
    {
        _store.WriteReceived(Samples.Baseline(Samples.Typical()));

        _store.DeleteReceived("quick", "F99").Should().BeTrue();
        _store.DeleteReceived("quick", "F99").Should().BeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(_folder.Path, "quick")).Should().BeEmpty();
    }
}
