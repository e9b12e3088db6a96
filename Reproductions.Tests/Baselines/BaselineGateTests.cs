using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // sets CI and REPRO_ACCEPT_BASELINES
public sealed class BaselineGateTests : BaselineFolderFixture
{
    private void StoreVerified(MetricSamples samples, BandPolicy? policy = null) =>
        BaselineJson.Write(Store.Path(samples.Profile, "mnist", samples.Finding), Samples.Baseline(samples, policy));

    [Test]
    public void Passes_within_band_and_removes_a_stale_received_file()
    {
        StoreVerified(Samples.Typical());
        var stale = Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.5)), "mnist");

        var verdict = BaselineGate.Check(Store, Samples.Typical(accuracyShift: 0.001), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeTrue(verdict.Message);
        verdict.Message.Should().StartWith("Baseline F99 (quick, mnist): all 2 metrics within band.").And.Contain("accuracy");
        verdict.Comparison!.Passed.Should().BeTrue();
        File.Exists(stale).Should().BeFalse();
        verdict.Message.Should().Contain("Removed the stale received file");
    }

    [Test]
    public void Drift_fails_writes_the_received_file_and_shows_the_table_and_accept_command()
    {
        StoreVerified(Samples.Typical());
        var verifiedBefore = File.ReadAllText(Store.Path("quick", "mnist", "F99"));

        var verdict = BaselineGate.Check(Store, Samples.Typical(accuracyShift: -0.02), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.ReceivedPath.Should().Be(Store.ReceivedPath("quick", "mnist", "F99"));
        File.Exists(verdict.ReceivedPath).Should().BeTrue();
        Store.LoadReceived("quick", "mnist", "F99").Metrics["accuracy"].Value.Should().BeApproximately(0.93, 1e-12);
        File.ReadAllText(Store.Path("quick", "mnist", "F99")).Should().Be(verifiedBefore, "a failing run never changes the verified file");

        verdict.Message.Should().Contain("Baseline F99 (quick, mnist): drift from the stored baseline").And.Contain("in accuracy.");
        verdict.Message.Should().MatchRegex(@"(?m)^metric\s+baseline\s+measured\s+delta\s+band\s+verdict$");
        verdict.Message.Should().MatchRegex(@"(?m)^accuracy\s+0\.95\s+0\.93\s+-0\.02\s+0\.008\s+FAIL \(2\.5 x band\)$");
        verdict.Message.Should().MatchRegex(@"(?m)^loss\s+.*pass$");
        verdict.Message.Should().Contain("dotnet run --project Reproductions.Harness -- baselines accept --profile quick --dataset mnist --finding F99");
        verdict.Message.Should().Contain("Baseline measured on: cpu; TestOS 1.0 (X64)");
    }

    [Test]
    public void Missing_baseline_fails_and_says_how_to_create_it()
    {
        var verdict = BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default with { MinAbsolute = 0.01 }, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Comparison.Should().BeNull();
        verdict.Message.Should().Contain($"no baseline yet at '{Store.Path("quick", "mnist", "F99")}'")
            .And.Contain("To create the baseline")
            .And.Contain("dotnet run --project Reproductions.Harness -- baselines accept --profile quick --dataset mnist --finding F99")
            .And.Contain("REPRO_ACCEPT_BASELINES=1")
            .And.Contain("floor 0.01 abs");
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeTrue();
        File.Exists(Store.Path("quick", "mnist", "F99")).Should().BeFalse();

        var received = Store.LoadReceived("quick", "mnist", "F99");
        received.Seeds.Should().Equal(Samples.Seeds);
        received.Machine.Device.Should().Be("cpu");
        received.Machine.ProcessorCount.Should().Be(Environment.ProcessorCount);
        received.Metrics["accuracy"].Samples.Should().Equal(0.950, 0.952, 0.948);
        received.Metrics["accuracy"].AbsoluteBand.Should().Be(0.01);
    }

    [Test]
    public void Then_accept_creates_the_baseline_and_the_next_run_passes()
    {
        BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu").Passed.Should().BeFalse();

        Store.Accept("quick", "F99").Should().ContainSingle();

        BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu").Passed.Should().BeTrue();
    }

    [Test]
    public void Unreadable_baseline_fails_naming_file_and_field_and_writes_received()
    {
        var path = Store.Path("quick", "mnist", "F99");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, BaselineJson.Serialize(Samples.Baseline(Samples.Typical())).Replace("\"rule\"", "\"rules\"", StringComparison.Ordinal));

        var verdict = BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Message.Should().Contain($"Baseline file '{path}': field 'metrics.accuracy.rules' is not a known field");
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeTrue();
    }

    [Test]
    public void Accept_variable_writes_the_verified_baseline_when_CI_is_not_set()
    {
        Variables.Set(BaselineEnvironment.AcceptVariable, "1");

        var verdict = BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeTrue();
        verdict.WrittenBaselinePath.Should().Be(Store.Path("quick", "mnist", "F99"));
        verdict.Message.Should().Contain("REPRO_ACCEPT_BASELINES=1 is set and CI is not").And.Contain("There was no baseline before");
        Store.Load("quick", "mnist", "F99").Metrics.Keys.Should().Equal("accuracy", "loss");
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeFalse();
    }

    [Test]
    public void Accept_variable_replaces_a_drifted_baseline_and_shows_what_changed()
    {
        StoreVerified(Samples.Typical());
        Store.WriteReceived(Samples.Baseline(Samples.Typical(accuracyShift: 0.3)), "mnist");
        Variables.Set(BaselineEnvironment.AcceptVariable, "1");

        var verdict = BaselineGate.Check(Store, Samples.Typical(accuracyShift: 0.02), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeTrue();
        verdict.Message.Should().Contain("The previous baseline did not match").And.MatchRegex(@"(?m)^accuracy\s+.*FAIL");
        Store.Load("quick", "mnist", "F99").Metrics["accuracy"].Value.Should().BeApproximately(0.97, 1e-12);
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeFalse();
    }

    [Test]
    public void Accept_variable_is_ignored_with_a_note_when_CI_is_set()
    {
        Variables.Set(BaselineEnvironment.AcceptVariable, "1").Set(BaselineEnvironment.CiVariable, "true");

        var verdict = BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Message.Should().StartWith("Note: REPRO_ACCEPT_BASELINES is ignored because CI is set ('true')");
        File.Exists(Store.Path("quick", "mnist", "F99")).Should().BeFalse();
        File.Exists(Store.ReceivedPath("quick", "mnist", "F99")).Should().BeTrue();
    }

    [Test]
    public void Accept_variable_is_ignored_on_CI_even_when_the_run_drifts()
    {
        StoreVerified(Samples.Typical());
        var before = File.ReadAllText(Store.Path("quick", "mnist", "F99"));
        Variables.Set(BaselineEnvironment.AcceptVariable, "1").Set(BaselineEnvironment.CiVariable, "1");

        var verdict = BaselineGate.Check(Store, Samples.Typical(accuracyShift: 0.05), BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Message.Should().Contain("is ignored because CI is set");
        File.ReadAllText(Store.Path("quick", "mnist", "F99")).Should().Be(before);
    }

    [TestCase("0")]
    [TestCase("")]
    [TestCase("no")]
    public void Only_1_or_true_opt_in(string value)
    {
        Variables.Set(BaselineEnvironment.AcceptVariable, value);

        BaselineGate.Check(Store, Samples.Typical(), BandPolicy.Default, "cpu").Passed.Should().BeFalse();
        File.Exists(Store.Path("quick", "mnist", "F99")).Should().BeFalse();
    }

    [Test]
    public void A_new_metric_in_the_run_fails_so_the_baseline_is_updated_deliberately()
    {
        StoreVerified(Samples.Typical());
        var run = Samples.Typical().Add("wall_time", [1.0, 1.0, 1.0]);

        var verdict = BaselineGate.Check(Store, run, BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Message.Should().MatchRegex(@"(?m)^wall_time\s+-\s+1\s+-\s+-\s+NEW in run$");
        Store.LoadReceived("quick", "mnist", "F99").Metrics.Keys.Should().Equal("accuracy", "loss", "wall_time");
    }
}
