using System.Text.Json;
using Reproductions.Harness.Claims;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;

namespace Reproductions.Tests.Reporting;

[Unit]
public sealed class ReportBuilderTests
{
    private ReportFakes _fakes = null!;

    [SetUp]
    public void SetUp() => _fakes = new ReportFakes();

    [TearDown]
    public void TearDown() => _fakes.Dispose();

    private const string F = ReportFakes.Finding;

    private ReportResult QuickWithOneSeedMissing()
    {
        _fakes.StoreRuns("quick", skip: ("bs1024_lr01", 3));
        return _fakes.Build("quick");
    }

    [Test]
    public void The_report_holds_the_claim_the_description_and_what_quick_scales_down()
    {
        var md = File.ReadAllText(QuickWithOneSeedMissing().MarkdownPath);

        md.Should().Contain("## F90: Smaller batches reach higher test accuracy. A second sentence that the summary leaves out.");
        md.Should().Contain("**Profile `quick`, dataset `mnist`, protocol `training`.** 1,000 of the 60,000 training samples, 3 of 30 epochs.");
        md.Should().Contain("What `quick` changes in `full`, as its config declares it (`*`: every entry):");
        md.Should().Contain("- base.trainSamples: 2000 (full: not set)");
        md.Should().Contain("- runs.*.phases[0].epochs: 3 (full: 30)");
        md.Should().Contain("- runs.bs1024_lr01.optimizer.kind: sgd (full: adam)");
        md.Should().Contain("- bands.stdMultiplier: 4 (full: 3)");
    }

    [Test]
    public void The_summary_lists_each_finding_with_its_short_claim_verdict_and_a_link()
    {
        var md = File.ReadAllText(QuickWithOneSeedMissing().MarkdownPath);

        md.Should().Contain("| [F90](#f90) | mnist | Smaller batches reach higher test accuracy. | 2 hold, 1 do not hold, 1 not measured | 3 of 4 |");
        md.Should().Contain("<a id=\"f90\"></a>");
        md.IndexOf("## Summary", StringComparison.Ordinal).Should().BeLessThan(md.IndexOf("## F90", StringComparison.Ordinal));
    }

    [Test]
    public void The_table_shows_mean_and_std_over_seeds_beside_the_papers_value()
    {
        var result = QuickWithOneSeedMissing();
        var md = File.ReadAllText(result.MarkdownPath);

        // bs64 test accuracy 0.97, 0.98, 0.99: mean 98.00%, sample std 1.00; weight distance 6.0, 6.5, 7.0: 6.500 ± 0.500.
        md.Should().Contain("| `bs64` | 3 x 64 @ 0.01 | train accuracy | 99.00% ± 1.00 |  |");
        md.Should().Contain("|  |  | test accuracy | 98.00% ± 1.00 | 98% |");
        md.Should().Contain("|  |  | weight distance from init | 6.500 ± 0.500 | 6.71 |");
        md.Should().Contain("|  |  | cosine of final to initial weights, per layer | 1: 0.9880 ± 0.0000<br>2: 0.9930 ± 0.0000<br>3: 0.9500 ± 0.0000 | [0.988 0.993 0.928] |");
        md.Should().Contain("|  |  | test accuracy | 90.20% ± 0.20 | 95-96% |");
        md.Should().Contain("|  |  | test accuracy | 96.00% ± 1.00 | between bs64 and bs1024 |");
        md.Should().Contain("| run | phases (epochs x batch @ lr) | metric | ours (mean ± std, 3 seeds) | paper |");

        var bs64 = result.Data.Findings[0].Runs.Single(r => r.Name == "bs64");
        var test = bs64.Metrics.Single(m => m.Metric == "testAccuracy");
        test.Mean[0].Should().BeApproximately(0.98, 1e-12);
        test.Std[0].Should().BeApproximately(0.01, 1e-12);
        test.PerSeed.Select(v => v[0]).Should().Equal(0.97, 0.98, 0.99);
        bs64.Seeds.Should().Equal(1, 2, 3);
    }

    [Test]
    public void Each_claim_is_decided_from_the_stored_runs_with_its_numbers_and_yardstick()
    {
        _fakes.StoreRuns("quick");
        var result = _fakes.Build("quick");
        var md = File.ReadAllText(result.MarkdownPath);
        var claims = result.Data.Findings[0].Claims.ToDictionary(c => c.Id);

        claims.Keys.Should().Equal("test_accuracy_falls", "bs64_beats_bs1024", "lr_0_1_reaches_bs64", "bs64_stays_near_init");
        claims["test_accuracy_falls"].Outcome.Should().Be(ClaimOutcome.Holds);
        claims["bs64_beats_bs1024"].Outcome.Should().Be(ClaimOutcome.Holds);
        claims["bs64_beats_bs1024"].Parts.Single().PerSeed.Zip([0.07, 0.078, 0.086], (a, b) => a - b).Should().OnlyContain(d => Math.Abs(d) < 1e-12);
        // 0, -0.005, -0.01: mean -0.005, 90% interval -0.005 ± 2.920 x 0.005 / sqrt(3) = [-0.0134, 0.0034], which reaches below -0.005.
        claims["lr_0_1_reaches_bs64"].Outcome.Should().Be(ClaimOutcome.Inconclusive);
        claims["lr_0_1_reaches_bs64"].Parts.Single().Low.Should().BeApproximately(-0.0134, 1e-4);
        claims["lr_0_1_reaches_bs64"].SeedsNeeded.Should().BeGreaterThan(3);
        claims["bs64_stays_near_init"].Outcome.Should().Be(ClaimOutcome.DoesNotHold);
        result.Data.Findings[0].Verdict.Text.Should().Be("2 hold, 1 do not hold, 1 inconclusive");

        md.Should().Contain("**Claims: 2 hold, 1 do not hold, 1 inconclusive.** Checked by `dotnet test --filter Finding=F90`");
        md.Should().Contain("| `bs64_beats_bs1024`: bs 64 beats bs 1024 in test accuracy. | **holds** | bs64.testAccuracy - bs1024.testAccuracy per seed 0.07, 0.078, 0.086;");
        md.Should().Contain("| **inconclusive (its interval needs about");
        md.Should().Contain("equivalence: two one-sided tests at 95% (the 90% interval of a - b) within ±margin, margin 0.005 (the paper's 98%: ±0.5 points)");
    }

    [Test]
    public void A_claim_left_to_another_profile_says_why_and_claims_against_the_paper_are_listed()
    {
        _fakes.StoreRuns("quick");
        var result = _fakes.Build("quick");
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.Findings[0].ClaimsLeftOut.Should().ContainSingle().Which.Should().Be(
            new LeftOutClaim("full_only", "A claim of the full profile alone.", "three epochs are too few"));
        md.Should().Contain("- Not asserted in `quick`: `full_only` (A claim of the full profile alone.): three epochs are too few.");
        result.Data.ClaimDisagreements.Should().ContainSingle().Which.Claim.Should().Be("bs64_stays_near_init");
        md.Should().Contain("## Claims that disagree with the paper");
        md.Should().Contain("- [F90](#f90) `bs64_stays_near_init`: Measured: bs 64 stays within 1 of its init. **does not hold**. The paper: the paper says it travels far.");

        var full = _fakes.Build("full");
        full.Data.Findings[0].Claims.Select(c => c.Id).Should().Contain("full_only");
        full.Data.Findings[0].Claims.Single(c => c.Id == "full_only").Outcome.Should().Be(ClaimOutcome.NotMeasured, "no full run is stored");
    }

    [Test]
    public void Runs_missing_from_the_store_are_listed_with_the_command_that_trains_them()
    {
        var result = QuickWithOneSeedMissing();
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.Findings[0].Missing.Should().ContainSingle().Which.Should().BeEquivalentTo(
            new MissingRun("bs1024_lr01", 2, 3, "dotnet run --project Reproductions.Harness -- reproduce --profile quick --findings F90"));
        md.Should().Contain("- `bs1024_lr01`: 2 of 3 seeds stored. Train with `dotnet run --project Reproductions.Harness -- reproduce --profile quick --findings F90`.");
        result.Data.Findings[0].Runs.Select(r => r.Name).Should().Equal("bs64", "bs256", "bs1024");
    }

    [Test]
    public void With_nothing_stored_every_run_is_missing_and_no_figure_is_drawn()
    {
        var result = _fakes.Build("quick");
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.Findings[0].Missing.Select(m => (m.Run, m.StoredSeeds)).Should().Equal(("bs64", 0), ("bs256", 0), ("bs1024", 0), ("bs1024_lr01", 0));
        result.FigurePaths.Should().BeEmpty();
        md.Should().Contain("No run of this profile is stored yet.").And.Contain("not drawn.");
    }

    [Test]
    public void Runs_stored_under_another_device_are_found()
    {
        _fakes.StoreRuns("quick", device: "cuda");

        var result = _fakes.Build("quick");

        result.Data.Findings[0].Missing.Should().BeEmpty();
        result.Data.Findings[0].Devices.Should().Equal("cuda (fake)");
        File.ReadAllText(result.MarkdownPath).Should().Contain("Device: cuda (fake).");
    }

    [Test]
    public void Device_seeds_and_bands_are_named()
    {
        var md = File.ReadAllText(QuickWithOneSeedMissing().MarkdownPath);

        md.Should().Contain("Seeds: 1, 2, 3. Device: cpu (fake). Training time of the stored runs: 90 s.");
        md.Should().Contain("Bands come from the spread across seeds: the baseline check allows max(4 × std over seeds, 0.002 absolute, 0% of the mean)");
    }

    [Test]
    public void The_quick_profile_is_not_compared_with_the_paper()
    {
        var result = QuickWithOneSeedMissing();
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.ComparedWithPaper.Should().BeFalse();
        result.Data.Disagreements.Should().BeEmpty();
        md.Should().NotContain("Where we disagree").And.NotContain("disagrees");
        md.Should().Contain("## Comparison with the paper").And.Contain("**not compared numerically**");
        result.Data.Findings[0].Runs.SelectMany(r => r.Metrics).Where(m => m.Reference is not null)
            .Select(m => m.Check.Agreement).Should().OnlyContain(a => a == Agreement.NotCompared || a == Agreement.NotNumeric || a == Agreement.Approximate);
    }

    [Test]
    public void The_full_profile_flags_where_the_paper_lies_outside_our_spread()
    {
        _fakes.StoreRuns("full");
        var result = _fakes.Build("full");
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.ComparedWithPaper.Should().BeTrue();
        result.Data.Disagreements.Select(d => (d.Run, d.Metric)).Should().Equal(("bs64", "layerCosines"), ("bs1024", "testAccuracy"));
        md.Should().Contain("| [F90](#f90) | mnist | Smaller batches reach higher test accuracy. | 3 hold, 1 do not hold, 1 inconclusive | 4 of 4 | **2 of 4 disagree** |");
        md.Should().Contain("## Where our numbers disagree with the paper's");
        md.Should().Contain("### D1: F90 `bs64`, cosine of final to initial weights, per layer");
        md.Should().Contain("### D2: F90 `bs1024`, test accuracy");
        // 95-96% against 90.20% ± 0.20 (3 seeds): tolerance max(2 x 0.20, 0.5) = 0.50 points; 95 - 90.70 = 4.30 points.
        md.Should().Contain("The paper: 95-96%. Ours: 90.20% ± 0.20 (3 seeds). The paper's 95.00% to 96.00% lies 4.30 points above our 90.20% ± 0.50 points " +
                                "(tolerance = max(2 × std 0.20 points, the paper's precision 0.50 points)). See [F90](#f90).");
        md.Should().Contain("Layer 3: the paper's 0.928 lies 0.0215 below our 0.95 ± 0.0005 (tolerance = max(2 × std 0, the paper's precision 0.0005))");

        var runs = result.Data.Findings[0].Runs;
        Agreement Of(string run, string metric) => runs.Single(r => r.Name == run).Metrics.Single(m => m.Metric == metric).Check.Agreement;
        Of("bs64", "testAccuracy").Should().Be(Agreement.Agrees, "98% lies within 98.00% ± max(2 x 1.00, 0.5)");
        Of("bs64", "weightDistance").Should().Be(Agreement.Agrees, "6.71 lies within 6.5 ± max(2 x 0.5, 0.005)");
        Of("bs64", "trainAccuracy").Should().Be(Agreement.NoReference);
        Of("bs256", "testAccuracy").Should().Be(Agreement.NotNumeric);
        Of("bs256", "weightDistance").Should().Be(Agreement.Approximate, "'about 5' states no precision, so 4.0 is not flagged");
        Of("bs1024", "trainAccuracy").Should().Be(Agreement.ShapeMismatch);
        md.Should().Contain("| 98.00% ± 1.00 | 98% | agrees |").And.Contain("| 90.20% ± 0.20 | 95-96% | **disagrees** |");
        md.Should().NotContain("What `quick` changes");
    }

    [Test]
    public void Every_figure_is_a_non_trivial_png_named_by_finding_index_kind_and_metric()
    {
        var result = QuickWithOneSeedMissing();

        result.FigurePaths.Select(Path.GetFileName).Should().Equal(
            "F90-mnist-1-curves-testAccuracy.png", "F90-mnist-2-curves-weightDistance.png", "F90-mnist-3-curves-trainLoss.png",
            "F90-mnist-4-heatmap-testAccuracy.png", "F90-mnist-5-layers-layerCosines.png", "F90-mnist-6-bars-weightNorm.png",
            "suite-mnist-1-noisescale-testAccuracy.png");
        var md = File.ReadAllText(result.MarkdownPath);
        var suite = result.Data.SuiteFigures!.Single();
        suite.Points.Should().OnlyContain(p => p.Finding == "F90" && p.NoiseScale > 0, "every stored SGD run, placed by its noise scale");
        md.Should().Contain("## Across findings: accuracy against the noise scale").And.Contain("A figure, not a claim");
        foreach (var path in result.FigurePaths)
        {
            File.Exists(path).Should().BeTrue();
            var bytes = File.ReadAllBytes(path);
            bytes.Take(8).Should().Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, $"{path} must be a PNG");
            bytes.Length.Should().BeGreaterThan(15_000, $"{path} must hold a drawn figure, not an empty canvas");
            md.Should().Contain($"]({Path.GetFileName(path)})");
        }
        Directory.GetFiles(result.Folder, "*.tmp").Should().BeEmpty("figures are written atomically");
    }

    [Test]
    public void Curves_skip_epochs_without_a_value_and_show_the_last_epochs_renumbered()
    {
        var figures = QuickWithOneSeedMissing().Data.Findings[0].Figures;

        var accuracy = figures[0].Series.Single(s => s.Name == "bs64");
        accuracy.X.Should().Equal(1, 3); // epoch 2 was not evaluated
        accuracy.Mean[^1].Should().BeApproximately(98.0, 1e-9);
        accuracy.Std[^1].Should().BeApproximately(1.0, 1e-9);
        figures[0].YLabel.Should().Be("test accuracy (%)");

        var distance = figures[1].Series.Single(s => s.Name == "bs64");
        distance.X.Should().Equal(1, 2);
        distance.Mean[^1].Should().BeApproximately(6.5, 1e-9);
        figures[1].XLabel.Should().Be("epoch of the last 2, re-numbered from 1");

        var loss = figures[2];
        loss.Series.Select(s => s.Name).Should().Equal("bs64", "bs1024");
        loss.Series[0].X.Should().Equal(32, 96); // 2000 samples / 64 = 32 steps per epoch; epoch 2 not evaluated
        loss.XLabel.Should().Be("parameter updates, optimizer steps (count)");
    }

    [Test]
    public void The_heatmap_grid_is_also_a_markdown_table()
    {
        var result = QuickWithOneSeedMissing();
        var grid = result.Data.Findings[0].Figures[3].Grid!;

        grid.XValues.Should().Equal(0.01, 0.1);
        grid.YValues.Should().Equal(64, 256, 1024);
        grid.Mean[0][0].Should().BeApproximately(98.0, 1e-9);
        double.IsNaN(grid.Mean[2][1]).Should().BeTrue("bs1024_lr01 lacks a seed");
        grid.Runs[0][1].Should().BeNull();

        var md = File.ReadAllText(result.MarkdownPath);
        md.Should().Contain("| batchSize \\ learningRate | 0.01 | 0.1 |");
        md.Should().Contain("| 1024 | 90.20% ± 0.20 (`bs1024`) | not stored (`bs1024_lr01`) |");
        md.Should().Contain("| 64 | 98.00% ± 1.00 (`bs64`) |  |");
    }

    [Test]
    public void Layers_and_bars_hold_per_run_means_and_stds()
    {
        var figures = QuickWithOneSeedMissing().Data.Findings[0].Figures;

        figures[4].Title.Should().Be("F90: Cosine to init per layer (quick profile)", "a title that names its finding is not prefixed again");
        figures[5].Title.Should().Be("F90: Weight norm after training (quick profile)");
        var layers = figures[4].Series.Single(s => s.Name == "bs1024");
        layers.X.Should().Equal(1, 2, 3);
        layers.Mean.Should().BeEquivalentTo([0.998, 0.998, 0.978], o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());

        var bars = figures[5].Series.Single(s => s.Name == "bs64");
        bars.Mean[0].Should().BeApproximately(44.65, 1e-9); // 44 + 6.5 / 10
        bars.Std[0].Should().BeApproximately(0.05, 1e-9);
        figures[5].Note.Should().Contain("not in the store, so not drawn: bs1024_lr01");
    }

    [Test]
    public void Report_json_round_trips_and_is_written_beside_the_markdown()
    {
        _fakes.StoreRuns("full", skip: ("bs256", 2));
        var result = _fakes.Build("full");

        Path.GetDirectoryName(result.JsonPath).Should().Be(Path.GetDirectoryName(result.MarkdownPath));
        var text = File.ReadAllText(result.JsonPath);
        var read = ReportBuilder.Read(result.JsonPath);

        read.Should().BeEquivalentTo(result.Data);
        JsonSerializer.Serialize(read, JsonDefaults.Options).Should().Be(text);
        ReportMarkdown.Render(read).Should().Be(File.ReadAllText(result.MarkdownPath), "REPORT.md is rendered from report.json's data alone");
    }

    [Test]
    public void A_finding_whose_config_cannot_be_read_is_named_and_the_others_are_reported()
    {
        _fakes.StoreRuns("quick");

        var result = _fakes.Build("quick", F, "F91");
        var md = File.ReadAllText(result.MarkdownPath);

        result.Data.Findings.Select(f => f.Id).Should().Equal("F90", "F91");
        result.Data.Findings[1].Error.Should().StartWith("its config could not be read:").And.Contain("F91.json");
        md.Should().Contain("| [F91](#f91) | mnist |  | config unreadable | n/a |").And.Contain("**Not reported**: its config could not be read:");
        md.Should().Contain("98.00% ± 1.00");
    }

    [Test]
    public void Figures_of_an_earlier_build_are_replaced()
    {
        var folder = Path.Combine(_fakes.Output, "quick");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "F90-9-curves-testLoss.png"), "stale, named before the dataset was in the name");
        File.WriteAllText(Path.Combine(folder, "F90-mnist-9-curves-testLoss.png"), "stale");
        File.WriteAllText(Path.Combine(folder, "notes.png"), "the user's");

        _fakes.Build("quick");

        File.Exists(Path.Combine(folder, "F90-9-curves-testLoss.png")).Should().BeFalse();
        File.Exists(Path.Combine(folder, "F90-mnist-9-curves-testLoss.png")).Should().BeFalse();
        File.Exists(Path.Combine(folder, "notes.png")).Should().BeTrue();
    }

    [Test]
    public void An_unknown_profile_is_refused()
    {
        var act = () => new ReportBuilder("auto", _fakes.Store, _fakes.Configs);
        act.Should().Throw<ArgumentException>().WithMessage("*expected one of quick, full*");
    }

    [Test]
    public void A_checks_message_is_its_first_non_empty_line_cut_at_400_characters()
    {
        ReportBuilder.FirstLine("\n  a - b: mean 0.01  \nsecond line").Should().Be("a - b: mean 0.01");
        ReportBuilder.FirstLine(new string('x', 400)).Should().HaveLength(400).And.NotEndWith("...");
        ReportBuilder.FirstLine(new string('x', 401)).Should().HaveLength(400).And.EndWith("...");
        ReportBuilder.FirstLine(null).Should().BeEmpty();
    }
}
