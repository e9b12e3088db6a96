using Reproductions.Harness.Models;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Statistics;
using Reproductions.Harness.Trials;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Training;

namespace Reproductions.Tests.GradientCompetition;

/// <summary>
/// A set of gradient-competition trials killed part way resumes at the first unfinished (seed, batch size) block and
/// ends with the numbers of an uninterrupted run; stored blocks that do not fit are refused with the file named.
/// Runs a tiny protocol (784-16-10 MLP on synthetic data, 8 samples per trial) so that it takes seconds.
/// </summary>
[Unit]
public class CompetitionResumeTests
{

    private const string ProtocolJson = """
        {
          "protocol": "gradient-competition",
          "description": "a tiny protocol for the resume tests",
          "profiles": {
            "full": {
              "description": "784-16-10 on synthetic data",
              "seeds": [1, 2],
              "regimeSeed": 1,
              "base": { "model": { "widths": [784, 16, 10] }, "preprocessing": "unit", "device": "cpu" },
              "regimes": {
                "early": { "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": 0.01 } ] },
                "late":  { "phases": [ { "epochs": 2, "batchSize": 100, "learningRate": 0.01 } ] }
              },
              "batchSizes": [1, 2, 4, 8],
              "samplesPerTrial": 8,
              "learningRate": 0.01,
              "variants": {
                "literal-mean": { "trialsPerSeed": 3 },
                "literal-sum":  { "trialsPerSeed": 2 },
                "single-step":  { "trialsPerSeed": 5 }
              },
              "histogram": { "minLog10": -12, "maxLog10": 6, "binsPerDecade": 20 },
              "tailFraction": 0.01,
              "referenceBatchSize": 8,
              "engine": { "maxTrialsPerChunk": 2, "memoryBudgetMiB": 64 }
            }
          }
        }
        """;

    private static TrainingData data = null!;
    private string root = null!;
    private CompetitionExperiment experiment = null!;
    private CompetitionProfile profile = null!;

    [OneTimeSetUp]
    public void CreateData() => data = SyntheticData.Create();

    [OneTimeTearDown]
    public void DisposeData() => data.Dispose();

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-gc-resume-" + Guid.NewGuid().ToString("N"));
        var configs = Path.Combine(root, "configs");
        Directory.CreateDirectory(configs);
        File.Copy(Path.Combine(RepoPaths.Configs, "defaults.json"), Path.Combine(configs, "defaults.json"));
        File.WriteAllText(Path.Combine(configs, "tiny-competition.json"), ProtocolJson);
        experiment = (CompetitionExperiment)FindingProfile.LoadExperiment("tiny-competition", "full", configs).Experiment;
        profile = experiment.Profile;
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    private CompetitionWork Trials => (CompetitionWork)experiment.Plan("cpu", "tiny")[^1];

    private CompetitionResult Run(ExperimentStore store, Action<string>? log = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancel = default) =>
        store.GetOrRun(Trials, new RunOptions { Data = _ => data, Log = log, Progress = progress, Cancel = cancel }).ToResult(profile);

    [Test]
    public void A_run_killed_part_way_resumes_at_the_first_unfinished_block_with_the_same_numbers()
    {
        var whole = Run(new ExperimentStore(Path.Combine(root, "whole")));

        var store = new ExperimentStore(Path.Combine(root, "interrupted"));
        var folder = store.Folder(Trials.Key);
        var blocks = Path.Combine(folder, ExperimentStore.ScratchFolder, "blocks");
        using var cancel = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        var progress = new Inline(p =>
        {
            if (p.Unit != "block") return;
            reports.Add(p);
            if (p.Epoch == 3) cancel.Cancel(); // killed after three of the eight blocks
        });
        var killed = () => Run(store, progress: progress, cancel: cancel.Token);
        killed.Should().Throw<OperationCanceledException>();
        Directory.GetFiles(blocks, "*.json").Select(Path.GetFileName).Should().BeEquivalentTo(["seed-1-b-1.json", "seed-1-b-2.json", "seed-1-b-4.json"]);
        reports.Select(r => r.TotalEpochs).Should().AllBeEquivalentTo(8);
        reports[0].Status.Should().Contain("seed 1 B=1 done").And.Contain("left");

        var log = new List<string>();
        var resumed = Run(store, log: log.Add);
        log.Count(l => l.Contains("finished block reused", StringComparison.Ordinal)).Should().Be(3, "the three finished blocks are not run again");
        log.Count(l => l.Contains(" s wall (literal-mean", StringComparison.Ordinal)).Should().Be(5, "the five others are run");
        Directory.Exists(blocks).Should().BeFalse("the block files go once the whole result is stored");
        File.Exists(Path.Combine(folder, ExperimentStore.ResultFile)).Should().BeTrue();

        foreach (var seed in profile.Seeds)
        {
            resumed.PerSeed[seed].Keys.Should().BeEquivalentTo(whole.PerSeed[seed].Keys);
            foreach (var (key, cell) in whole.PerSeed[seed])
            {
                resumed.PerSeed[seed][key].Norms.Should().Equal(cell.Norms, $"seed {seed} {key}: same seeds, same trials, same numbers");
                resumed.PerSeed[seed][key].Values.Counts.Should().Equal(cell.Values.Counts);
            }
        }
        resumed.Seconds.Should().BeGreaterThan(0);
    }

    [Test]
    public void A_stored_block_that_does_not_fit_is_moved_aside_with_the_file_named_and_run_again()
    {
        var checkpoint = new CompetitionCheckpoint(Path.Combine(root, "blocks"), profile, "hash-a");
        var cells = new Dictionary<CellKey, CellData>
        {
            [new CellKey(ProtocolVariant.LiteralMean, "early", 2)] = CellData.FromStored(profile.Histogram, [1.0, 2.0],
                new long[profile.Histogram.Slots], 0.5),
        };
        checkpoint.Save(new CompetitionBlock(1, 2, cells, 0.5));
        checkpoint.TryLoad(1, 2)!.Cells.Single().Value.Norms.Should().Equal(1.0, 2.0);
        checkpoint.TryLoad(1, 4).Should().BeNull("that block has not been run");

        var other = new CompetitionCheckpoint(Path.Combine(root, "blocks"), profile, "hash-b");
        var wrongHash = () => other.Read(checkpoint.PathOf(1, 2), 1, 2);
        wrongHash.Should().Throw<CorruptStateException>().Which.Message.Should()
            .Contain(checkpoint.PathOf(1, 2)).And.Contain("hash hash-a").And.Contain("expected");
        var logs = new List<string>();
        other.TryLoad(1, 2, logs.Add).Should().BeNull("a block of other trials is never used: it runs again");
        File.Exists(checkpoint.PathOf(1, 2)).Should().BeFalse();
        Directory.GetFiles(Path.Combine(root, "blocks"), "seed-1-b-2.json.corrupt-*").Should().ContainSingle("it is moved aside, never deleted");
        logs.Should().ContainSingle().Which.Should().Contain("Moved aside");

        checkpoint.Save(new CompetitionBlock(1, 2, cells, 0.5));
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(checkpoint.PathOf(1, 2)))!;
        var norms = json["cells"]![0]!["norms"]!.AsArray();
        norms[1] = 3.0; // one trial's norm edited after the block was written
        File.WriteAllText(checkpoint.PathOf(1, 2), json.ToJsonString());
        var edited = () => checkpoint.Read(checkpoint.PathOf(1, 2), 1, 2);
        edited.Should().Throw<CorruptStateException>().Which.Message.Should().Contain("SHA-256");

        File.WriteAllText(checkpoint.PathOf(1, 2), "{ \"formatVersion\": 3, ");
        var truncated = () => checkpoint.Read(checkpoint.PathOf(1, 2), 1, 2);
        truncated.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(checkpoint.PathOf(1, 2)).And.Contain("unreadable");
    }

    [Test]
    public void Time_left_counts_each_batch_size_at_its_own_cost_and_untimed_ones_at_the_nearest_smaller()
    {
        var clock = new CompetitionWork.BlockClock([(1, 1), (1, 2), (1, 4), (2, 1), (2, 2), (2, 4)]);
        clock.SecondsLeft().Should().BeNull("nothing has been timed yet");
        clock.DescribeTimeLeft().Should().Be("time left unknown yet");
        clock.Finished(1, 10);
        clock.SecondsLeft().Should().Be(50, "five blocks, each estimated at B=1's 10 s");
        clock.Finished(2, 4);
        clock.SecondsLeft().Should().Be(4 + 10 + 4 + 4, "B=4 untimed: B=2's 4 s; the second seed's B=1 and B=2 as timed");
        clock.Finished(4, 1);
        clock.Finished(1, 12);
        clock.SecondsLeft().Should().Be(4 + 1);
        clock.DescribeTimeLeft().Should().Be("about 5 s left");
        clock.Finished(2, 4);
        clock.Finished(4, 1);
        clock.SecondsLeft().Should().Be(0);
        clock.DescribeTimeLeft().Should().Be("all blocks done");
        clock.Seconds.Should().Be(32);
        CompetitionWork.BlockClock.FormatDuration(600).Should().Be("10 min");
        CompetitionWork.BlockClock.FormatDuration(8280).Should().Be("2.3 h");
    }

    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
