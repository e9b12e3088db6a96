using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Training;
using Reproductions.Tests.Baselines;

namespace Reproductions.Tests.Protocols;

/// <summary>
/// The dataset as an axis of every finding: a finding's profile loaded for Fashion-MNIST reads it in every run (training
/// runs and the gradient competition's regimes alike), keeps its claims, drops the paper's numbers, is stored apart from
/// MNIST's runs, and takes the dataset's quick tier; baselines keep each claim's verdict.
/// </summary>
[Unit]
public sealed class DatasetAxisTests
{
    private const string Fashion = "fashion-mnist";

    [Test]
    public void A_finding_on_fashion_mnist_reads_it_in_every_run_with_the_same_claims_and_no_paper_numbers()
    {
        var mnist = FindingProfile.Load("F01", "quick");
        var fashion = FindingProfile.Load("F01", "quick", dataset: Fashion);

        mnist.OnPaperDataset.Should().BeTrue();
        mnist.ReferenceFor("bs64", "testAccuracy").Should().Be("98%");
        fashion.Dataset.Should().Be(Fashion);
        fashion.PaperDataset.Should().Be("mnist");
        fashion.OnPaperDataset.Should().BeFalse();
        fashion.ReferenceFor("bs64", "testAccuracy").Should().BeNull("the blog's 98% is MNIST's");
        fashion.Claims.Select(c => c.Id).Should().Equal(mnist.Claims.Select(c => c.Id));
        fashion.Changes.Should().Equal(mnist.Changes);

        var mnistRuns = ((TrainingExperiment)mnist.Experiment).Runs;
        var fashionRuns = ((TrainingExperiment)fashion.Experiment).Runs;
        fashionRuns.Select(r => r.ForSeed(1).Dataset).Should().OnlyContain(d => d == Fashion);
        foreach (var (m, f) in mnistRuns.Zip(fashionRuns))
        {
            var (mc, fc) = (m.ForSeed(1), f.ForSeed(1));
            fc.Phases.Should().BeEquivalentTo(mc.Phases, "only the dataset changes");
            fc.TrainSamples.Should().Be(mc.TrainSamples);
            var (mk, fk) = (new TrainingWork(mc, "cpu", "m").Key, new TrainingWork(fc, "cpu", "f").Key);
            fk.Dataset.Should().Be(Fashion);
            fk.Hash.Should().NotBe(mk.Hash);
        }
        FindingProfile.Load("F01", "quick", dataset: "mnist").Experiment.Dataset.Should().Be("mnist", "naming the paper's dataset changes nothing");
    }

    [Test]
    public void The_gradient_competition_reads_the_dataset_asked_for_in_every_regime()
    {
        var fashion = FindingProfile.Load("F05", "quick", dataset: Fashion);
        fashion.Dataset.Should().Be(Fashion);
        fashion.Experiment.Plan("cpu", "F05").Should().OnlyContain(w => w.Key.Dataset == Fashion);
    }

    [Test]
    public void A_second_dataset_takes_its_quick_tier_from_configs_datasets_json()
    {
        FindingProfile.Load("F17", "quick").Tier.Category.Should().Be("Quick");
        var fashion = FindingProfile.Load("F17", "quick", dataset: Fashion);
        fashion.Tier.Category.Should().Be("Extended");
        fashion.Tier.Reason.Should().NotBeNullOrWhiteSpace();
        FindingProfile.Load("F17", "full", dataset: Fashion).Tier.Should().Be(TestTier.Gpu);
        fashion.Tier.TestCommand("F17", Fashion).Should().Be("dotnet test --filter \"Finding=F17&Dataset=fashion-mnist&Category=Extended\"");
    }

    [Test]
    public void An_unknown_dataset_or_a_bad_datasets_json_is_refused_naming_what_was_expected()
    {
        var unknown = () => FindingProfile.Load("F01", "quick", dataset: "cifar10");
        unknown.Should().Throw<ConfigException>().WithMessage("dataset 'cifar10': expected one of mnist, fashion-mnist.");

        var folder = Path.Combine(Path.GetTempPath(), "repro-datasets-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, DatasetTiers.FileName);
            File.WriteAllText(path, """{"cifar10": {"quickTier": {"category": "Extended", "reason": "r"}}}""");
            ((Action)(() => DatasetTiers.Load(folder))).Should().Throw<ConfigException>().WithMessage("*unknown key 'cifar10'*");
            File.WriteAllText(path, """{"fashion-mnist": {"quickTier": {"category": "Nightly", "reason": "r"}}}""");
            ((Action)(() => DatasetTiers.Load(folder))).Should().Throw<ConfigException>().WithMessage("*fashion-mnist: quickTier:category = 'Nightly': expected Quick or Extended.");
            File.WriteAllText(path, """{"fashion-mnist": {"tier": "Extended"}}""");
            ((Action)(() => DatasetTiers.Load(folder))).Should().Throw<ConfigException>().WithMessage("*fashion-mnist: unknown key 'tier'*");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void A_baseline_keeps_each_claims_verdict_and_refuses_one_it_does_not_know()
    {
        var samples = Samples.Typical().AddVerdict("a_holds", ClaimOutcome.Holds).AddVerdict("b_fails", ClaimOutcome.DoesNotHold).AddVerdict("c_open", ClaimOutcome.Inconclusive);
        var json = BaselineJson.Serialize(Samples.Baseline(samples));
        json.Should().Contain("\"verdicts\": {").And.Contain("\"b_fails\": \"does-not-hold\"");
        var read = BaselineJson.Parse(json, "/tmp/baselines/quick/fashion-mnist/F99.json");
        read.Verdicts.Should().BeEquivalentTo(new Dictionary<string, ClaimOutcome>
        {
            ["a_holds"] = ClaimOutcome.Holds, ["b_fails"] = ClaimOutcome.DoesNotHold, ["c_open"] = ClaimOutcome.Inconclusive,
        });

        var bad = () => BaselineJson.Parse(json.Replace("\"does-not-hold\"", "\"fails\"", StringComparison.Ordinal), "/tmp/baselines/quick/fashion-mnist/F99.json");
        bad.Should().Throw<BaselineFormatException>().WithMessage("*F99.json*verdicts.b_fails*\"fails\"; expected holds, does-not-hold, inconclusive or not-measured.*");
        ((Action)(() => Samples.Typical().AddVerdict("e", ClaimOutcome.Estimated))).Should().Throw<ArgumentException>();
        ((Action)(() => Samples.Typical().AddVerdict("a", ClaimOutcome.Holds).AddVerdict("a", ClaimOutcome.Holds))).Should().Throw<ArgumentException>();
    }

    [Test]
    public void A_verdict_is_unchanged_only_when_it_is_the_stored_one()
    {
        var verdict = new ClaimVerdict("c", "s", "exceeds", ClaimOutcome.DoesNotHold, "y", "m", [], null, null, null);
        var baseline = Samples.Baseline(Samples.Typical().AddVerdict("c", ClaimOutcome.DoesNotHold));
        VerdictSnapshot.Of(verdict, baseline, "b.json").Unchanged.Should().BeTrue();
        VerdictSnapshot.Of(verdict, baseline, "b.json").Describe().Should().Be("does not hold, as stored in 'b.json'");
        var flipped = VerdictSnapshot.Of(verdict with { Outcome = ClaimOutcome.Holds }, baseline, "b.json");
        flipped.Unchanged.Should().BeFalse();
        flipped.Describe().Should().Be("the verdict changed: holds now, does not hold as stored in 'b.json'");
        var none = VerdictSnapshot.Of(verdict, null, "b.json");
        none.Unchanged.Should().BeFalse("a verdict with nothing stored to hold it to is not a pass");
        none.Describe().Should().StartWith("does not hold, and no verdict of 'c' is stored in 'b.json'");
    }
}
