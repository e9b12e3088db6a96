using Reproductions.Harness.Baselines;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;
using Reproductions.Tests.Baselines;

namespace Reproductions.Tests.Reporting;

/// <summary>
/// The report of a finding on a second dataset (F90's hand-made runs stored for MNIST and for Fashion-MNIST, the same
/// numbers): its own section and anchor, no paper column, no disagreement with the paper, the generality table the report
/// opens with, and the exit code, which holds each second-dataset verdict to the one its baseline stores.
/// </summary>
[Unit]
public sealed class SecondDatasetReportTests
{
    private const string Fashion = "fashion-mnist";
    private ReportFakes _fakes = null!;

    [SetUp]
    public void SetUp()
    {
        _fakes = new ReportFakes();
        _fakes.StoreRunsOn(null, "quick");
        _fakes.StoreRunsOn(Fashion, "quick");
    }

    [TearDown]
    public void TearDown() => _fakes.Dispose();

    [Test]
    public void A_second_dataset_has_its_own_section_without_the_papers_numbers()
    {
        var result = _fakes.BuildOn("quick", "mnist", Fashion);
        var md = File.ReadAllText(result.MarkdownPath);

        md.Should().Contain("<a id=\"f90\"></a>").And.Contain("<a id=\"f90-fashion-mnist\"></a>");
        md.Should().Contain("## F90 on Fashion-MNIST: Smaller batches reach higher test accuracy.");
        md.Should().Contain("| [F90](#f90-fashion-mnist) | fashion-mnist |");
        var fashion = md[md.IndexOf("<a id=\"f90-fashion-mnist\">", StringComparison.Ordinal)..];
        fashion.Should().Contain("| run | phases (epochs x batch @ lr) | metric | ours (mean ± std, 3 seeds) |\n")
            .And.Contain("|  |  | test accuracy | 98.00% ± 1.00 |\n", "no paper column on a dataset the paper did not use");
        fashion.Should().Contain("| claim | verdict | stored verdict | measured | decided by |");
        fashion.Should().Contain("dotnet test --filter \"Finding=F90&Dataset=fashion-mnist&Category=Quick\"");
        fashion.Should().Contain("(quick profile, Fashion-MNIST)", "figure titles name the dataset");
        fashion.Should().NotContain("Against the paper");

        var sections = result.Data.Findings;
        sections.Select(f => (f.Dataset, f.OnPaperDataset)).Should().Equal(("mnist", true), (Fashion, false));
        sections[1].Runs.SelectMany(r => r.Metrics).Should().OnlyContain(m => m.Reference == null);
        result.Data.ClaimDisagreements.Should().ContainSingle("bs64_stays_near_init does not hold on both datasets, but only MNIST's is the paper's claim")
            .Which.Claim.Should().Be("bs64_stays_near_init");
        result.Data.SideBySide!.Select(p => p.Files).Should().HaveCount(sections[0].Figures.Count)
            .And.AllSatisfy(files => files.Should().HaveCount(2));
        md.Should().Contain("## The figures of both datasets side by side");
        md.Should().Contain("(F90-mnist-1-curves-testAccuracy.png) | ![").And.Contain("(F90-fashion-mnist-1-curves-testAccuracy.png) |");
    }

    [Test]
    public void The_report_opens_with_every_claim_on_every_dataset_and_profile()
    {
        var md = File.ReadAllText(_fakes.BuildOn("quick", "mnist").MarkdownPath);

        md.IndexOf("## Where each claim holds", StringComparison.Ordinal).Should().BeLessThan(md.IndexOf("## Summary", StringComparison.Ordinal));
        md.Should().Contain("| finding | claim | MNIST quick | MNIST full | Fashion-MNIST quick | Fashion-MNIST full |");
        // Fashion-MNIST is not in this report, but its quick runs are stored: decided from the store, with no link (its numbers are not here).
        md.Should().Contain("| F90 | `test_accuracy_falls` | [holds](#f90) | *not run* | holds | *not run* |");
        md.Should().Contain("| F90 | `bs64_stays_near_init` | [**does not hold**](#f90) | *not run* | **does not hold** | *not run* |");
        md.Should().Contain("| F90 | `full_only` | [*not asserted*](#f90) | *not run* | *not asserted* | *not run* |");

        _fakes.StoreRunsOn(null, "full");
        File.ReadAllText(_fakes.BuildOn("quick", "mnist").MarkdownPath)
            .Should().Contain("| F90 | `full_only` | [*not asserted*](#f90) | holds |", "the full report is not built yet: nothing to link to");
        _fakes.BuildOn("full", "mnist");
        File.ReadAllText(_fakes.BuildOn("quick", "mnist").MarkdownPath)
            .Should().Contain("| F90 | `full_only` | [*not asserted*](#f90) | [holds](../full/REPORT.md#f90) |");
    }

    [Test]
    public void A_second_datasets_verdict_fails_the_report_only_when_it_differs_from_the_stored_one()
    {
        var none = _fakes.BuildOn("quick", Fashion);
        none.Data.Findings[0].Snapshots.Should().OnlyContain(s => s.Stored == null);
        none.ExitCode.Should().Be(ExitCodes.Ok, "a claim that does not hold on a second dataset is a result; nothing is stored to hold it to");
        File.ReadAllText(none.MarkdownPath).Should().Contain("| **does not hold** | none stored |");

        var verdicts = none.Data.Findings[0].Claims.ToDictionary(c => c.Id, c => c.Outcome);
        verdicts.Values.Should().Contain([ClaimOutcome.Holds, ClaimOutcome.Inconclusive, ClaimOutcome.DoesNotHold]);
        StoreVerdicts(verdicts);
        var same = _fakes.BuildOn("quick", Fashion);
        same.Data.Findings[0].Snapshots.Should().OnlyContain(s => s.Unchanged);
        same.ExitCode.Should().Be(ExitCodes.Ok);
        File.ReadAllText(same.MarkdownPath).Should().Contain("| **does not hold** | the same |");

        foreach (var (claim, flipped) in new[] { ("bs64_beats_bs1024", ClaimOutcome.DoesNotHold), ("bs64_stays_near_init", ClaimOutcome.Holds) })
        {
            StoreVerdicts(new Dictionary<string, ClaimOutcome>(verdicts) { [claim] = flipped });
            var changed = _fakes.BuildOn("quick", Fashion);
            changed.ExitCode.Should().Be(ExitCodes.CheckFailed, $"{claim}'s verdict flipped from the stored {flipped}");
            File.ReadAllText(changed.MarkdownPath).Should().Contain($"**changed** (stored: {ClaimVerdict.Describe(flipped)})");
        }
    }

    private void StoreVerdicts(IReadOnlyDictionary<string, ClaimOutcome> verdicts)
    {
        var samples = new MetricSamples(ReportFakes.Finding, "quick", Fashion, [1, 2, 3]).Add("bs64.test_accuracy", [0.97, 0.98, 0.99]);
        foreach (var (claim, outcome) in verdicts) samples.AddVerdict(claim, outcome);
        var store = new BaselineStore(_fakes.Baselines);
        var path = store.Path("quick", Fashion, ReportFakes.Finding);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        BaselineJson.Write(path, Baseline.FromSamples(samples, BandPolicy.Default, Samples.Machine));
    }
}
