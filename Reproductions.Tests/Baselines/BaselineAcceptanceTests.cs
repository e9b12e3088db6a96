using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Baselines;

namespace Reproductions.Tests.Baselines;

/// <summary>
/// The accept step refuses a baseline that could not fail (a band reaching its claim's null value) or a margin claim
/// that could never be decided at the baseline's seed spread, saying how many seeds it would need; nothing is promoted.
/// </summary>
[Unit]
public sealed class BaselineAcceptanceTests : BaselineFolderFixture
{
    private static MachineInfo Machine => new("TestOS", 2, null, "cpu", null, null);

    [Test]
    public void A_band_that_reaches_its_claims_null_value_is_refused()
    {
        var samples = new MetricSamples("F99", "quick", "mnist", [1, 2, 3])
            .Add("spearman", [0.44, 0.49, 0.78], claimNull: 0)   // mean 0.57, std 0.18: 4 x std = 0.74 reaches 0
            .Add("gap", [0.07, 0.08, 0.09], claimNull: 0);        // 0.08 ± 0.04 stays clear of 0
        var problems = BaselineAcceptance.Problems(Baseline.FromSamples(samples, BandPolicy.Default, Machine));

        problems.Should().ContainSingle().Which.Should().StartWith("spearman: its band [").And.Contain("contains 0").And.Contain("baseline.leftOut");
    }

    [Test]
    public void A_margin_claim_wider_than_its_margin_is_refused_with_the_seeds_it_would_need()
    {
        var samples = new MetricSamples("F99", "quick", "mnist", [1, 2, 3]).Add("x", [1.0, 1.0, 1.0])
            .AddClaimPower(new ClaimPower("b_reaches_bs64", 0.005, 0.006, 3, 4))
            .AddClaimPower(new ClaimPower("a_reaches_bs64", 0.005, 0.004, 3, 3));
        var baseline = Baseline.FromSamples(samples, BandPolicy.Default, Machine);

        BaselineAcceptance.Problems(baseline).Should().ContainSingle().Which.Should()
            .Contain("claim b_reaches_bs64").And.Contain("±0.006 over 3 seeds, wider than its margin 0.005").And.Contain("about 4 seeds");
    }

    [Test]
    public void The_accept_command_refuses_and_promotes_nothing_and_the_stored_file_keeps_what_it_needs()
    {
        var bad = Baseline.FromSamples(new MetricSamples("F98", "quick", "mnist", [1, 2, 3]).Add("rho", [0.1, 0.5, 0.9], claimNull: 0),
            BandPolicy.Default, Machine);
        var good = Baseline.FromSamples(new MetricSamples("F99", "quick", "mnist", [1, 2, 3]).Add("rho", [0.8, 0.82, 0.84], claimNull: 0)
            .AddClaimPower(new ClaimPower("c", 0.01, 0.002, 3, 2)), BandPolicy.Default, Machine);
        Store.WriteReceived(bad, "mnist");
        Store.WriteReceived(good, "mnist");

        var act = () => Store.Accept();
        act.Should().Throw<CheckFailedException>().Which.Message.Should().Contain("F98").And.Contain("rho: its band");
        Store.Exists("quick", "mnist", "F99").Should().BeFalse("nothing is promoted when one file is refused");

        Store.DeleteReceived("quick", "mnist", "F98");
        Store.Accept().Should().ContainSingle();
        var stored = Store.Load("quick", "mnist", "F99");
        stored.Metrics["rho"].ClaimNull.Should().Be(0);
        stored.Claims.Should().ContainSingle().Which.Should().Be(new ClaimPower("c", 0.01, 0.002, 3, 2));
    }

    [Test]
    public void Direct_acceptance_by_the_test_is_refused_too()
    {
        Variables.Set(BaselineEnvironment.AcceptVariable, "1");
        var samples = new MetricSamples("F97", "quick", "mnist", [1, 2, 3]).Add("rho", [0.1, 0.5, 0.9], claimNull: 0);

        var verdict = BaselineGate.Check(Store, samples, BandPolicy.Default, "cpu");

        verdict.Passed.Should().BeFalse();
        verdict.Message.Should().Contain("may not become the baseline").And.Contain("rho: its band");
        Store.Exists("quick", "mnist", "F97").Should().BeFalse();
        File.Exists(Store.ReceivedPath("quick", "mnist", "F97")).Should().BeTrue();
    }
}
