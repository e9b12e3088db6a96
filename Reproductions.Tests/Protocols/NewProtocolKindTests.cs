using System.Globalization;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;

namespace Reproductions.Tests.Protocols;

/// <summary>
/// The extension point, proven: a protocol kind defined here, in the test assembly (seeded coin flips), is named by a
/// finding config and runs through the harness's own loader, runner, store and report, none of which knows it.
/// </summary>
[Unit, NonParallelizable]
public sealed class NewProtocolKindTests
{
    private string root = null!;
    private string configs = null!;
    private ProtocolCatalog catalog = null!;
    private ExperimentStore store = null!;

    private const string Config = """
        {
          "finding": "F95",
          "claim": "A fair coin lands heads half the time.",
          "protocol": "coin-flips",
          "reference": { "coin": { "headShare": "0.5" }, "coinsInAll": { "note": "any number of coins" } },
          "report": { "metrics": ["headShare", "flips"], "figures": [ { "kind": "shares", "metric": "headShare", "title": "share of heads per seed" } ] },
          "profiles": {
            "full": { "description": "1,000 flips per seed.", "seeds": [1, 2, 3], "flips": 1000, "bias": 0.5, "bands": { "minAbsolute": 0.01, "reason": "a test floor" } },
            "quick": { "description": "Fewer flips.", "changes": { "flips": 200, "seeds": [1, 2] } }
          }
        }
        """;

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-protocol-" + Guid.NewGuid().ToString("N"));
        configs = Path.Combine(root, "configs");
        Directory.CreateDirectory(configs);
        File.WriteAllText(Path.Combine(configs, "F95.json"), Config);
        catalog = ProtocolCatalog.Default.With(new CoinFlips());
        store = new ExperimentStore(Path.Combine(root, "runs"));
        CoinWork.Runs = 0;
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Test]
    public void A_protocol_defined_outside_the_harness_runs_through_the_runner_and_the_store_once()
    {
        var quick = FindingProfile.Load("F95", "quick", configs, catalog);
        quick.Protocol.Should().BeOfType<CoinFlips>();
        quick.Seeds.Should().Equal(1, 2);
        quick.Changes.Should().Equal("flips: 200 (full: 1000)", "seeds: [1,2] (full: [1,2,3])");

        var measured = FindingRunner.Run(quick, store);
        CoinWork.Runs.Should().Be(2, "one unit per seed");
        var shares = measured.Values("coin", "headShare")!.Select(v => v[0]).ToArray();
        shares.Should().Equal(CoinWork.Flip(1, 200, 0.5), CoinWork.Flip(2, 200, 0.5));
        Directory.GetFiles(Path.Combine(store.Root, "synthetic", "coin-flips"), ExperimentStore.ResultFile, SearchOption.AllDirectories).Should().HaveCount(2);

        FindingRunner.Run(quick, store).Values("coin", "headShare")!.Select(v => v[0]).Should().Equal(shares);
        CoinWork.Runs.Should().Be(2, "stored units are not run again");
        FindingRunner.Run(FindingProfile.Load("F95", "full", configs, catalog), store);
        CoinWork.Runs.Should().Be(5, "the full profile's units differ (1,000 flips), so its three seeds run");
    }

    [Test]
    public void Its_findings_are_reported_from_the_store_with_the_harnesss_own_report()
    {
        var builder = new ReportBuilder("quick", store, configs, catalog);
        var empty = builder.Build(["F95"], Path.Combine(root, "report", "quick"));
        empty.Data.Findings[0].Missing.Select(m => m.Run).Should().Equal("seed 1", "seed 2");
        CoinWork.Runs.Should().Be(0, "the report runs nothing");

        FindingRunner.Run(FindingProfile.Load("F95", "quick", configs, catalog), store);
        FindingRunner.Run(FindingProfile.Load("F95", "full", configs, catalog), store);
        var quick = builder.Build(["F95"], Path.Combine(root, "report", "quick"));
        var full = new ReportBuilder("full", store, configs, catalog)
            .Build(["F95"], Path.Combine(root, "report", "full"));

        var section = quick.Data.Findings[0];
        section.Protocol.Should().Be("coin-flips");
        section.Dataset.Should().Be("synthetic");
        section.Missing.Should().BeEmpty();
        section.ScaledDown.Should().Contain("flips: 200 (full: 1000)");
        section.PaperNotes.Should().Equal("coinsInAll: any number of coins");
        var row = section.Runs.Should().ContainSingle().Subject;
        row.Setting.Should().Be("200 flips, bias 0.5");
        row.Metrics.Select(m => m.Metric).Should().Equal("headShare", "flips");
        row.Metrics[0].PerSeed.Select(v => v[0]).Should().Equal(CoinWork.Flip(1, 200, 0.5), CoinWork.Flip(2, 200, 0.5));
        section.Tables.Should().ContainSingle().Which.Rows.Should().HaveCount(2);
        section.Figures.Should().ContainSingle().Which.File.Should().Be("F95-synthetic-1-shares-headShare.png");
        File.Exists(Path.Combine(quick.Folder, "F95-synthetic-1-shares-headShare.png")).Should().BeTrue();

        var md = File.ReadAllText(quick.MarkdownPath);
        md.Should().Contain("## F95: A fair coin lands heads half the time.")
            .And.Contain("| coin | flips and bias | metric |")
            .And.Contain("- flips: 200 (full: 1000)");

        full.Folder.Should().NotBe(quick.Folder, "quick and full reports never overwrite each other");
        var check = full.Data.Findings[0].Runs[0].Metrics[0].Check;
        check.Agreement.Should().BeOneOf(Agreement.Agrees, Agreement.Disagrees);
        full.Data.Findings[0].Runs[0].Metrics[0].Reference.Should().Be("0.5");
    }

    /// <summary>Seeded coin flips: one unit per seed, its share of heads per seed as the metric.</summary>
    private sealed class CoinFlips : Protocol
    {
        public override string Name => "coin-flips";
        public override IReadOnlySet<string> Keys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "seeds", "flips", "bias" };
        public override IReadOnlySet<string> FigureKinds { get; } = new HashSet<string> { "shares" };
        public override IReadOnlySet<string> TableColumns { get; } = new HashSet<string>();
        public override IReadOnlyList<string> DefaultMetrics { get; } = ["headShare"];
        public override IEnumerable<string> Metrics => ["headShare", "flips"];
        public override bool IsMetric(string metric) => Metrics.Contains(metric);

        public override Experiment Bind(ProtocolSection section) => new CoinExperiment(this, section.Seeds(),
            (int)ConfigFiles.Integer(section.Where, "flips", section["flips"], 1), ConfigFiles.Number(section.Where, "bias", section["bias"]));
    }

    private sealed class CoinExperiment(CoinFlips protocol, IReadOnlyList<long> seeds, int flips, double bias) : Experiment
    {
        public override Protocol Protocol => protocol;
        public override string Dataset => "synthetic";
        public override IReadOnlyList<long> Seeds => seeds;
        public override IReadOnlyList<string> Groups => ["coin"];
        public override DeviceChoice Device => DeviceChoice.Cpu;

        public override IReadOnlyList<Work> Plan(string deviceType, string label) =>
            seeds.Select(s => (Work)new CoinWork(s, flips, bias, deviceType, $"{label} seed {s}")).ToList();

        public override Measured Measure(IReadOnlyList<Work> plan, IReadOnlyList<object?> results, string trainCommand)
        {
            var missing = seeds.Where((_, i) => results[i] is null).Select(s => new MissingRun($"seed {s}", 0, 1, trainCommand)).ToList();
            var flipped = missing.Count == 0 ? results.Cast<CoinResult>().ToList() : null;
            return new CoinMeasured(this, flipped, missing, $"{flips} flips, bias {bias.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private sealed class CoinMeasured(CoinExperiment experiment, IReadOnlyList<CoinResult>? results, IReadOnlyList<MissingRun> missing, string setting) : Measured
    {
        public override Experiment Experiment => experiment;
        public override IReadOnlyList<MeasuredGroup> Groups => results is null ? [] : [new MeasuredGroup("coin", setting, ["cpu (coins)"])];
        public override IReadOnlyList<MissingRun> Missing => missing;
        public override string GroupHeading => "coin";
        public override string SettingHeading => "flips and bias";
        public override IReadOnlyList<string> Devices => ["cpu (coins)"];
        public override double Seconds => 0;
        public override DateTime? Newest => null;

        public override IReadOnlyList<IReadOnlyList<double>>? Values(string group, string metric) =>
            results is null || group != "coin" ? null : metric switch
            {
                "headShare" => results.Select(r => (IReadOnlyList<double>)[(double)r.Heads / r.Flips]).ToList(),
                "flips" => results.Select(r => (IReadOnlyList<double>)[r.Flips]).ToList(),
                _ => null,
            };

        public override IReadOnlyList<ReportTable> Tables(ReportSpec spec) => results is null ? [] :
            [new ReportTable("heads per seed", ["seed", "heads"], results.Select((r, i) => (IReadOnlyList<string>)[Seeds[i].ToString(CultureInfo.InvariantCulture), r.Heads.ToString(CultureInfo.InvariantCulture)]).ToList(), "")];

        public override IReadOnlyList<FigureSection> DrawFigures(ReportSpec spec, FigureTarget target)
        {
            if (results is null) return [];
            var figures = new List<FigureSection>();
            foreach (var (figure, i) in spec.Figures.Select((f, i) => (f, i + 1)))
            {
                using var plot = new ScottPlot.Plot();
                plot.Add.Bars(results.Select(r => (double)r.Heads / r.Flips).ToArray());
                var file = $"{target.Prefix}-{i}-{figure.Kind}-{figure.Metric}.png";
                AtomicFile.WriteAllBytes(Path.Combine(target.Folder, file), plot.GetImageBytes(400, 300, ScottPlot.ImageFormat.Png));
                figures.Add(new FigureSection(i, figure.Kind, figure.Metric, figure.Title, file, "seed", "share", "", [], null, null));
            }
            return figures;
        }
    }

    public sealed record CoinResult(int Heads, int Flips);

    private sealed class CoinWork(long seed, int flips, double bias, string deviceType, string label) : Work<CoinResult>
    {
        public static int Runs;

        public override StoreKey Key { get; } = new("synthetic", "coin-flips", ContentHash(new { seed, flips, bias, deviceType }));
        public override string DeviceType => deviceType;
        public override string Label => label;

        public static double Flip(long seed, int flips, double bias)
        {
            var random = new Random((int)seed);
            return (double)Enumerable.Range(0, flips).Count(_ => random.NextDouble() < bias) / flips;
        }

        public override CoinResult Run(WorkContext context)
        {
            Interlocked.Increment(ref Runs);
            return new CoinResult((int)Math.Round(Flip(seed, flips, bias) * flips), flips);
        }
    }
}
