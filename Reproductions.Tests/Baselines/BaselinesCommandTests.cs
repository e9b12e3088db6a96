using Reproductions.Harness.Infrastructure;
using System.CommandLine;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Cli;

namespace Reproductions.Tests.Baselines;

[Unit]
[NonParallelizable] // sets CI and REPRO_ACCEPT_BASELINES
public sealed class BaselinesCommandTests : BaselineFolderFixture
{
    private (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = CommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Test]
    public void Accept_promotes_the_matching_received_files()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Store.WriteReceived(Samples.Baseline(new MetricSamples("F01", "quick", "mnist", [1]).Add("x", [1.0])), "mnist");

        var (exit, output, _) = Run("baselines", "accept", "--profile", "quick", "--finding", "F99", "--root", FolderPath);

        exit.Should().Be(0);
        output.Should().Contain("Accepted F99 (quick, mnist): 2 metric(s)").And.Contain("1 baseline(s) accepted");
        Store.Exists("quick", "mnist", "F99").Should().BeTrue();
        Store.Exists("quick", "mnist", "F01").Should().BeFalse();
        File.Exists(Store.ReceivedPath("quick", "mnist", "F01")).Should().BeTrue();
    }

    [Test]
    public void Accept_with_nothing_waiting_says_so()
    {
        var (exit, output, _) = Run("baselines", "accept", "--root", FolderPath);

        exit.Should().Be(0);
        output.Should().StartWith("Nothing to accept");
    }

    [Test]
    public void Accept_refuses_a_received_file_with_impossible_claim_values_and_promotes_nothing()
    {
        var received = Store.WriteReceived(Samples.Baseline(Samples.Typical().AddClaimPower(new ClaimPower("c", 0.01, 0.002, 3, 2))), "mnist");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(received))!;
        json["claims"]![0]!["margin"] = -1;
        json["claims"]![0]!["halfWidth"] = -5;
        json["claims"]![0]!["seeds"] = -7;
        json["claims"]![0]!["seedsNeeded"] = 0;
        File.WriteAllText(received, json.ToJsonString());

        var (exit, _, error) = Run("baselines", "accept", "--root", FolderPath);

        exit.Should().Be(ExitCodes.CorruptState, "a baseline file that fails its checks (README: exit 5)");
        error.Should().Contain(received).And.Contain("claims[0].margin").And.Contain("expected a finite number > 0");
        Store.Exists("quick", "mnist", "F99").Should().BeFalse();
        File.Exists(received).Should().BeTrue("a refused file is kept");
    }

    [Test]
    public void Accept_fails_on_CI()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Variables.Set(BaselineEnvironment.CiVariable, "true");

        var (exit, _, error) = Run("baselines", "accept", "--root", FolderPath);

        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("Refusing to accept baselines");
        Store.Exists("quick", "mnist", "F99").Should().BeFalse();
    }

    [Test]
    public void List_shows_metric_count_seeds_and_waiting_files()
    {
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");
        Store.Accept();
        Store.WriteReceived(Samples.Baseline(Samples.Typical()), "mnist");

        var (exit, output, _) = Run("baselines", "list", "--root", FolderPath);

        exit.Should().Be(0);
        output.Should().MatchRegex(@"(?m)^profile\s+dataset\s+finding\s+metrics\s+seeds\s+received$");
        output.Should().MatchRegex(@"(?m)^quick\s+mnist\s+F99\s+2\s+11,22,33\s+waiting$");
        output.Should().Contain("1 received file(s) wait");
    }
}
