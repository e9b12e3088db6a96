using MathNet.Numerics.Random;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Models;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;
using Reproductions.Harness.Training;
using static TorchSharp.torch;

namespace Reproductions.Tests.GradientCompetition;

/// <summary>Histograms, fits, curve statistics, the statistical yardsticks and the configs of the gradient-competition protocol.</summary>
[Unit]
public class CompetitionStatisticsTests
{
    private static readonly LogBins Bins = new(-3, 3, 10);

    [Test]
    public void Histogram_bins_magnitudes_on_shared_log_bins_and_counts_the_tail_exactly()
    {
        var h = new GradientHistogram(Bins);
        using (var scope = NewDisposeScope())
            h.Add(tensor(new float[] { 0f, 1e-5f, -0.0015f, 0.5f, -0.5f, 2f, 150f, 5000f, float.NaN, float.PositiveInfinity }));
        h.Total.Should().Be(10);
        h.NonFinite.Should().Be(2);
        h.Counts[0].Should().Be(2, "zero and 1e-5 lie below the first edge (1e-3)");
        h.Counts[Bins.Bins + 1].Should().Be(1, "5000 lies above the last edge (1e3)");
        var slotOfHalf = (int)Math.Floor((Math.Log10(0.5) + 3) * 10) + 1;
        h.Counts[slotOfHalf].Should().Be(2, "+0.5 and -0.5 share a bin: magnitudes are binned");
        Bins.LowerEdge(slotOfHalf).Should().BeLessThanOrEqualTo(0.5).And.BeGreaterThan(0.5 / Math.Pow(10, 0.1));
        h.CountFromSlot(slotOfHalf).Should().Be(5);
        h.CountFromSlot(slotOfHalf + 1).Should().Be(3, "2, 150 and 5000 lie at or above the next edge (0.63)");
        h.TailSlot(0.4).Should().Be(slotOfHalf + 1, "the lowest edge with at most 40% of the 8 finite values at or above it (3 of 8; 5 of 8 from the edge below)");
    }

    [Test]
    public void Line_fit_recovers_a_known_line_and_its_interval_covers_the_truth()
    {
        var xs = Enumerable.Range(0, 15).Select(i => (double)i).ToArray();
        var exact = LineFit.Fit(xs, xs.Select(x => 2 + 0.5 * x).ToArray());
        exact.Slope.Should().BeApproximately(0.5, 1e-12);
        exact.Intercept.Should().BeApproximately(2, 1e-12);
        exact.RSquared.Should().BeApproximately(1, 1e-12);
        (exact.SlopeHigh - exact.SlopeLow).Should().BeLessThan(1e-9);

        var random = new MersenneTwister(7);
        var covered = 0;
        for (var trial = 0; trial < 200; trial++)
        {
            var noisy = LineFit.Fit(xs, xs.Select(x => 2 + 0.5 * x + random.NextDouble() - 0.5).ToArray());
            if (noisy.SlopeLow <= 0.5 && 0.5 <= noisy.SlopeHigh) covered++;
        }
        covered.Should().BeInRange(180, 200, "a 95% interval covers the true slope in about 190 of 200 noisy fits");
    }

    [Test]
    public void Curve_statistics_of_synthetic_norms_growing_like_sqrt_B()
    {
        var random = new MersenneTwister(3);
        var cells = new Dictionary<int, CellData>();
        int[] sizes = [1, 2, 4, 8, 16, 64, 256, 1024];
        foreach (var b in sizes)
        {
            // norm = sqrt(B) * (1 + noise); the relative noise shrinks with B so the normalised std falls with B.
            var norms = Enumerable.Range(0, 200).Select(_ => Math.Sqrt(b) * (1 + (random.NextDouble() - 0.5) / Math.Sqrt(b)));
            using var scope = NewDisposeScope();
            cells[b] = CellData.FromStored(Bins, norms, new long[Bins.Slots], 0);
            using var g = new Generator((ulong)b);
            cells[b].Values.Add(rand([1000], generator: g).mul_(Math.Sqrt(b) / 10)); // values up to sqrt(B) / 10
        }
        var c = CurveSummary.Compute(ProtocolVariant.SingleStep, "synthetic", cells, 1024, 0.01);
        c.LogLog.Slope.Should().BeApproximately(0.5, 0.01);
        c.LogLogRms.Slope.Should().BeApproximately(0.5, 0.01);
        c.SquaredNorm.RSquared.Should().BeGreaterThan(0.99);
        c.SpearmanNormalisedStd.Should().BeLessThan(-0.9);
        c.At(1024)!.NormalisedStd.Should().BeApproximately(c.At(1024)!.Std, 1e-12, "B = 1024 is its own reference");
        c.TailThreshold.Should().BeLessThanOrEqualTo(Math.Sqrt(1024) / 10).And.BeGreaterThan(Math.Sqrt(512) / 10,
            "the top 1% of the B = 1024 values (up to 3.2) define the threshold, above every smaller B's values (up to 2.26)");
        c.Batches.Take(sizes.Length - 1).Should().OnlyContain(b => b.TailCount == 0);
        c.At(1024)!.TailCount.Should().BeInRange(1, 10, "at most 1% of its 1000 values, and at least one (the edge below held more)");
        c.SpearmanTailCount.Should().BeGreaterThan(0);
    }

    [Test]
    public void Diverged_trials_are_counted_and_left_out_of_the_fits()
    {
        var cells = new Dictionary<int, CellData>
        {
            [1] = CellData.FromStored(Bins, [1.0, 1.1, 0.9], new long[Bins.Slots], 0),
            [2] = CellData.FromStored(Bins, [1.4, double.NaN, 1.5], new long[Bins.Slots], 0),
            [4] = CellData.FromStored(Bins, [2.0, 2.1, 1.9], new long[Bins.Slots], 0),
            [8] = CellData.FromStored(Bins, [2.8, 2.9, 2.7], new long[Bins.Slots], 0),
        };
        var c = CurveSummary.Compute(ProtocolVariant.LiteralSum, "x", cells, 8, 0.01);
        c.DivergedTrials.Should().Be(1);
        c.FirstDivergedBatchSize.Should().Be(2);
        c.At(2)!.Mean.Should().BeApproximately(1.45, 1e-12, "the finite trials still describe B = 2");
        c.LogLog.Points.Should().Be(3, "B = 2 had a diverged trial, so the fit leaves it out");
    }

    [Test]
    public void Welch_bound_matches_textbook_numbers()
    {
        double[] a = [10, 11, 12, 13, 14];
        double[] b = [5, 6, 7, 8, 9];
        // difference 5, se = sqrt(2.5/5 + 2.5/5) = 1, df 8, t(0.95, 8) = 1.860
        CompetitionChecks.WelchLowerBound(a, b, 0.05).Should().BeApproximately(5 - 1.860, 0.002);
        CompetitionChecks.WelchLowerBound(b, a, 0.05).Should().BeNegative();
        CompetitionChecks.NonDecreasing([0, 0, 1, 1, 5]).Should().BeTrue();
        CompetitionChecks.NonDecreasing([0, 2, 1]).Should().BeFalse();
    }

    private static CompetitionProfile Load(string profile, string? configs = null) =>
        ((CompetitionExperiment)FindingProfile.LoadExperiment("gradient-competition", profile, configs).Experiment).Profile;

    [Test]
    public void The_protocol_profiles_load_with_the_blogs_batch_sizes_and_regimes()
    {
        foreach (var profile in new[] { "quick", "full" })
        {
            var p = Load(profile);
            p.BatchSizes.Should().Equal(1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 128, 256, 512, 1024);
            p.SamplesPerTrial.Should().Be(1024);
            p.LearningRate.Should().Be(0.01);
            p.ReferenceBatchSize.Should().Be(1024);
            p.Variants.Select(v => v.Variant).Should().BeEquivalentTo(ProtocolVariants.All, "every variant is measured in every profile");
            p.Regimes.Select(r => r.Name).Should().Equal("early", "late");
            var early = p.RegimeConfig("early");
            early.Phases.Should().ContainSingle().Which.Epochs.Should().Be(2);
            early.Phases[0].BatchSize.Should().Be(1024);
            early.TrainSamples.Should().BeNull("trials draw from all 60,000 training samples");
        }
        Load("full").RegimeConfig("late").Phases[0].Epochs.Should().Be(30);
        Load("full").Variants.Should().OnlyContain(v => v.TrialsPerSeed * Load("full").Seeds.Count == 1000);
        Load("quick").RegimeConfig("early").Should().BeEquivalentTo(Load("full").RegimeConfig("early"),
            "the quick profile's early regime is the blog's, shared with the full profile through the store");
    }

    [Test]
    public void Findings_F05_to_F08_name_the_shared_experiment_and_their_checks()
    {
        foreach (var id in new[] { "F05", "F06", "F07", "F08" })
            foreach (var profile in new[] { "quick", "full" })
            {
                var f = FindingProfile.Load(id, profile);
                f.Claim.Should().NotBeNullOrWhiteSpace();
                f.Protocol.Name.Should().Be(GradientCompetitionProtocol.ProtocolName);
                ((CompetitionExperiment)f.Experiment).Profile.Should().BeEquivalentTo(Load(profile), "F05-F08 share one experiment");
                f.Bands.StdMultiplier.Should().BePositive();
            }
        FindingProfile.Load("F05", "quick").Check("slope").Should().Be(0.5);
        var missing = () => FindingProfile.Load("F08", "quick").Check("nothing");
        missing.Should().Throw<ConfigException>().WithMessage("*checks has no 'nothing'*");
    }

    [Test]
    public void A_bad_protocol_file_is_rejected_with_the_key()
    {
        var folder = Path.Combine(Path.GetTempPath(), "gc-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            const string file = "gradient-competition.json";
            File.Copy(Path.Combine(Harness.Infrastructure.RepoPaths.Configs, "defaults.json"), Path.Combine(folder, "defaults.json"));
            var text = File.ReadAllText(Path.Combine(Harness.Infrastructure.RepoPaths.Configs, file));
            File.WriteAllText(Path.Combine(folder, file), text.Replace("\"literal-sum\":", "\"literal-summed\":", StringComparison.Ordinal));
            var load = () => Load("quick", folder);
            load.Should().Throw<ConfigException>().WithMessage("*unknown variant 'literal-summed'*");
            File.WriteAllText(Path.Combine(folder, file), text.Replace("\"referenceBatchSize\": 1024", "\"referenceBatchSize\": 1000", StringComparison.Ordinal));
            load.Should().Throw<ConfigException>().WithMessage("*referenceBatchSize 1000 is not one of the batch sizes*");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Stored_results_round_trip()
    {
        var profile = Load("quick");
        var folder = Path.Combine(Path.GetTempPath(), "gc-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cell = CellData.FromStored(profile.Histogram, [1.5, double.NaN, 2.25], Enumerable.Range(0, profile.Histogram.Slots).Select(i => (long)i).ToArray(), 3.5);
            var key = new CellKey(ProtocolVariant.LiteralSum, "early", 4);
            var stored = new CompetitionStored
            {
                Profile = "quick", Device = "cpu (test)", DeviceType = "cpu", Arithmetic = "fused-per-trial", Seconds = 12.5,
                Regimes = [new RegimeInfo("early", "abc", 2, 0.9, 0.9, 0.3)],
                Seeds = [new StoredSeed { Seed = 1, Cells = [StoredCell.From(key, cell)] }],
            };
            var json = System.Text.Json.JsonSerializer.Serialize(stored, Harness.Infrastructure.JsonDefaults.Options);
            var back = System.Text.Json.JsonSerializer.Deserialize<CompetitionStored>(json, Harness.Infrastructure.JsonDefaults.Options)!.ToResult(profile);
            var again = back.PerSeed[1][key];
            again.Norms.Should().Equal(cell.Norms);
            again.Values.Counts.Should().Equal(cell.Values.Counts);
            back.Regimes.Should().BeEquivalentTo(stored.Regimes);
            back.Arithmetic.Should().Be("fused-per-trial");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
