using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Training;

namespace Reproductions.Tests.Store;

/// <summary>The one store, through the training protocol's unit of work: content-hashed, run once, resumable, refusing what is not its own.</summary>
[Unit]
public class ExperimentStoreTests
{
    private static TrainingData data = null!;
    private string root = null!;
    private int loads;

    [OneTimeSetUp]
    public void CreateData() => data = SyntheticData.Create();

    [OneTimeTearDown]
    public void DisposeData() => data.Dispose();

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-runs-" + Guid.NewGuid().ToString("N"));
        loads = 0;
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    /// <summary>Trains <paramref name="config"/> in <paramref name="store"/> and stops it (as Ctrl+C does) once epoch <paramref name="epoch"/> is done, leaving its checkpoints.</summary>
    private void StopAfterEpoch(ExperimentStore store, TrainingConfig config, int epoch)
    {
        using var cancel = new CancellationTokenSource();
        var stop = () => store.GetOrRun(Work(config), Options(new Inline(p => { if (p.Epoch == epoch) cancel.Cancel(); }), cancel.Token));
        stop.Should().Throw<OperationCanceledException>();
    }

    private RunOptions Options(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default) => new()
    {
        Data = _ =>
        {
            loads++;
            return data;
        },
        Progress = progress,
        Cancel = cancel,
    };

    private static TrainingWork Work(TrainingConfig config) => new(config, "cpu", "test run");

    private static object Numbers(EpochMetrics m) => new
    {
        m.Epoch, m.Steps, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy,
        m.WeightDistance, m.BiasDistance, m.WeightNorm, m.BiasNorm, Cosines = string.Join(",", m.LayerCosines),
    };

    [Test]
    public void A_run_asked_for_twice_is_trained_once_and_kept_under_dataset_kind_and_hash()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config());
        var first = store.GetOrRun(work, Options());
        var second = store.GetOrRun(Work(SyntheticData.Config()), Options());
        loads.Should().Be(1);
        second.Hash.Should().Be(first.Hash).And.Be(work.Key.Hash);
        second.Epochs.Select(Numbers).Should().Equal(first.Epochs.Select(Numbers));
        var folder = store.Folder(work.Key);
        folder.Should().Be(Path.Combine(root, work.Key.Dataset, "training", work.Key.Hash));
        File.Exists(Path.Combine(folder, ExperimentStore.ResultFile)).Should().BeTrue();
        File.Exists(Path.Combine(folder, TrainingWork.WeightsFile)).Should().BeTrue();
        Directory.Exists(Path.Combine(folder, ExperimentStore.ScratchFolder)).Should().BeFalse("a finished run needs no checkpoint");
    }

    [Test]
    public void The_hash_changes_with_any_setting_and_with_the_device_type()
    {
        var a = SyntheticData.Config();
        var b = SyntheticData.Config();
        TrainingWork.Hash(a, "cpu").Should().Be(TrainingWork.Hash(b, "cpu"));
        b.Phases[0].LearningRate = 0.0101;
        TrainingWork.Hash(a, "cpu").Should().NotBe(TrainingWork.Hash(b, "cpu"));
        TrainingWork.Hash(a, "cpu").Should().NotBe(TrainingWork.Hash(SyntheticData.Config(seed: 2), "cpu"));
        TrainingWork.Hash(a, "cpu").Should().NotBe(TrainingWork.Hash(a, "cuda"));
    }

    [Test]
    public void A_run_killed_part_way_resumes_to_the_same_numbers()
    {
        var config = SyntheticData.Config(epochs: 5);
        var uninterrupted = new ExperimentStore(Path.Combine(root, "straight")).GetOrRun(Work(config), Options());

        var store = new ExperimentStore(Path.Combine(root, "interrupted"));
        using var cancel = new CancellationTokenSource();
        var progress = new Inline(p => { if (p.Epoch == 2) cancel.Cancel(); });
        var act = () => store.GetOrRun(Work(config), Options(progress, cancel.Token));
        act.Should().Throw<OperationCanceledException>();
        Directory.GetFiles(Path.Combine(store.Folder(Work(config).Key), ExperimentStore.ScratchFolder)).Select(Path.GetFileName)
            .Should().BeEquivalentTo(["checkpoint-00001.bin", "checkpoint-00002.bin"], "the newest two checkpoints are kept");

        var resumed = store.GetOrRun(Work(config), Options());
        resumed.ResumedFromEpoch.Should().Be(2);
        resumed.Epochs.Select(Numbers).Should().Equal(uninterrupted.Epochs.Select(Numbers));
    }

    [Test]
    public void A_corrupt_stored_result_is_reported_with_its_path_moved_aside_and_run_again()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        var first = store.GetOrRun(work, Options());
        var path = store.ResultPath(work.Key);
        File.WriteAllText(path, "{ not json");
        var read = () => store.TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(path).And.Contain("unreadable");

        var again = store.GetOrRun(Work(SyntheticData.Config(epochs: 1)), Options());
        again.Epochs.Select(Numbers).Should().Equal(first.Epochs.Select(Numbers));
        Directory.GetFiles(store.Folder(work.Key), "result.json.corrupt-*").Should().ContainSingle("the unreadable file is moved aside, never deleted");
    }

    [Test]
    public void A_result_whose_content_changed_fails_its_checksum()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        var record = store.GetOrRun(work, Options());
        var path = store.ResultPath(work.Key);
        var text = File.ReadAllText(path);
        var accuracy = record.Final.TestAccuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        text.Should().Contain(accuracy);
        File.WriteAllText(path, text.Replace(accuracy, "0.999", StringComparison.Ordinal));
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(path).And.Contain("SHA-256");
    }

    [Test]
    public void A_run_record_without_epochs_is_not_a_result()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        store.GetOrRun(work, Options());
        var path = store.ResultPath(work.Key);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["result"]!["epochs"] = new System.Text.Json.Nodes.JsonArray();
        File.WriteAllText(path, json.ToJsonString());
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain("holds no epochs");
    }

    /// <summary>Edits the stored result of <paramref name="work"/> as JSON (the envelope), returning its path.</summary>
    private static string Edit(ExperimentStore store, TrainingWork work, Action<System.Text.Json.Nodes.JsonNode> edit)
    {
        var path = store.ResultPath(work.Key);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [TestCase("null", "epochs is null")]
    [TestCase("[null]", "epochs[0] is null")]
    [TestCase("[{\"epoch\": 1}]", "missing required properties")]
    public void A_result_that_does_not_read_back_whole_is_corrupt_moved_aside_and_run_again(string epochs, string expected)
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        var first = store.GetOrRun(work, Options());
        var path = Edit(store, work, json => json["result"]!["epochs"] = System.Text.Json.Nodes.JsonNode.Parse(epochs));
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(path).And.Contain(expected);

        var logs = new List<string>();
        var again = new ExperimentStore(root).GetOrRun(Work(SyntheticData.Config(epochs: 1)), Options() with { Log = logs.Add });
        again.Epochs.Select(Numbers).Should().Equal(first.Epochs.Select(Numbers));
        logs.Should().Contain(l => l.Contains("Moved aside", StringComparison.Ordinal));
        Directory.GetFiles(store.Folder(work.Key), "result.json.corrupt-*").Should().ContainSingle();
    }

    [TestCase("0.999")]
    [TestCase("\"NaN\"")]
    public void A_result_marked_format_1_that_still_carries_its_checksum_is_refused(string accuracy)
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        store.GetOrRun(work, Options());
        var path = Edit(store, work, json =>
        {
            json["formatVersion"] = 1;
            json["result"]!["epochs"]![0]!["testAccuracy"] = System.Text.Json.Nodes.JsonNode.Parse(accuracy);
        });
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(path).And.Contain("its format was changed");
    }

    [TestCase("testAccuracy", "\"NaN\"", "testAccuracy NaN; expected an accuracy in [0, 1]")]
    [TestCase("testAccuracy", "1.5", "testAccuracy 1.5; expected an accuracy in [0, 1]")]
    [TestCase("trainLoss", "\"-Infinity\"", "trainLoss -Infinity; expected a finite loss >= 0")]
    [TestCase("weightNorm", "\"NaN\"", "not a finite number")]
    public void A_format_1_result_with_impossible_numbers_is_refused(string field, string value, string expected)
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        store.GetOrRun(work, Options());
        var path = Edit(store, work, json =>
        {
            json["formatVersion"] = 1;
            json.AsObject().Remove("sha256");
            json["result"]!["epochs"]![0]![field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        });
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain(path).And.Contain(expected);
    }

    [Test]
    public void A_format_1_result_as_it_was_written_is_still_read_but_not_one_of_another_record_format()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        var record = store.GetOrRun(work, Options());
        Edit(store, work, json =>
        {
            json["formatVersion"] = 1;
            json.AsObject().Remove("sha256");
        });
        new ExperimentStore(root).TryLoad(work)!.Epochs.Select(Numbers).Should().Equal(record.Epochs.Select(Numbers));

        Edit(store, work, json => json["result"]!["formatVersion"] = 1);
        var read = () => new ExperimentStore(root).TryLoad(work);
        read.Should().Throw<CorruptStateException>().Which.Message.Should().Contain("run record of format 1");
    }

    [Test]
    public void A_scratch_folder_left_by_a_kill_after_the_result_was_stored_goes_when_the_result_is_found()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        store.GetOrRun(work, Options());
        var scratch = Path.Combine(store.Folder(work.Key), ExperimentStore.ScratchFolder);
        Directory.CreateDirectory(scratch);
        File.WriteAllText(Path.Combine(scratch, "checkpoint-00001.bin"), "left behind");
        new ExperimentStore(root).GetOrRun(Work(SyntheticData.Config(epochs: 1)), Options());
        loads.Should().Be(1, "the stored result is used");
        Directory.Exists(scratch).Should().BeFalse();
    }

    [Test]
    public void Another_units_result_in_a_folder_is_never_taken_for_this_one()
    {
        var store = new ExperimentStore(root);
        var one = Work(SyntheticData.Config(epochs: 1));
        var other = Work(SyntheticData.Config(epochs: 1, seed: 2));
        store.GetOrRun(one, Options());
        Directory.CreateDirectory(store.Folder(other.Key));
        File.Copy(store.ResultPath(one.Key), store.ResultPath(other.Key));
        var act = () => store.TryLoad(other);
        act.Should().Throw<CorruptStateException>().Which.Message.Should()
            .Contain(store.ResultPath(other.Key)).And.Contain(one.Key.Hash).And.Contain("never used");
    }

    [Test]
    public void A_damaged_checkpoint_is_moved_aside_and_the_run_resumes_from_the_older_one_with_the_same_numbers()
    {
        var config = SyntheticData.Config(epochs: 4);
        var uninterrupted = new ExperimentStore(Path.Combine(root, "straight")).GetOrRun(Work(config), Options());

        var store = new ExperimentStore(Path.Combine(root, "damaged"));
        StopAfterEpoch(store, config, 3);
        var scratch = Path.Combine(store.Folder(Work(config).Key), ExperimentStore.ScratchFolder);
        var newest = Path.Combine(scratch, "checkpoint-00003.bin");
        var bytes = File.ReadAllBytes(newest);
        Array.Clear(bytes, bytes.Length - 4096, 2048); // zeroed bytes in the weights
        File.WriteAllBytes(newest, bytes);

        var logs = new List<string>();
        var resumed = store.GetOrRun(Work(config), Options() with { Log = logs.Add });
        resumed.ResumedFromEpoch.Should().Be(2, "the damaged epoch-3 checkpoint is not used; the epoch-2 one is");
        resumed.Epochs.Select(Numbers).Should().Equal(uninterrupted.Epochs.Select(Numbers));
        logs.Should().Contain(l => l.Contains(newest, StringComparison.Ordinal) && l.Contains("SHA-256", StringComparison.Ordinal) && l.Contains("Moved aside", StringComparison.Ordinal));
    }

    [Test]
    public void A_checkpoint_with_a_malformed_header_is_moved_aside_out_of_the_scratch_folder_and_kept_after_the_run()
    {
        var config = SyntheticData.Config(epochs: 3);
        var store = new ExperimentStore(root);
        StopAfterEpoch(store, config, 2);
        var folder = store.Folder(Work(config).Key);
        var newest = Path.Combine(folder, ExperimentStore.ScratchFolder, "checkpoint-00002.bin");
        // The magic number, then a string length that is no 7-bit encoded integer.
        File.WriteAllBytes(newest, [.. File.ReadAllBytes(newest).Take(4), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);

        var logs = new List<string>();
        var resumed = store.GetOrRun(Work(config), Options() with { Log = logs.Add });
        resumed.ResumedFromEpoch.Should().Be(1, "the malformed epoch-2 checkpoint is not used; the epoch-1 one is");
        logs.Should().Contain(l => l.Contains(newest, StringComparison.Ordinal) && l.Contains("header is malformed", StringComparison.Ordinal));
        Directory.Exists(Path.Combine(folder, ExperimentStore.ScratchFolder)).Should().BeFalse("the scratch folder goes once the result is stored");
        var aside = Directory.GetFiles(Path.Combine(folder, ExperimentStore.SetAsideFolder), "checkpoint-00002.bin.corrupt-*");
        aside.Should().ContainSingle("the file moved aside is never deleted");
        logs.Should().Contain(l => l.Contains(aside[0], StringComparison.Ordinal), "the path logged is where it is");
    }

    [Test]
    public void A_checkpoint_of_another_run_is_never_used()
    {
        var config = SyntheticData.Config(epochs: 3);
        var store = new ExperimentStore(root);
        StopAfterEpoch(store, config, 2);
        var other = Work(SyntheticData.Config(epochs: 3, seed: 7));
        var otherScratch = Path.Combine(store.Folder(other.Key), ExperimentStore.ScratchFolder);
        Directory.CreateDirectory(otherScratch);
        File.Copy(Path.Combine(store.Folder(Work(config).Key), ExperimentStore.ScratchFolder, "checkpoint-00002.bin"), Path.Combine(otherScratch, "checkpoint-00002.bin"));

        var logs = new List<string>();
        var record = store.GetOrRun(other, Options() with { Log = logs.Add });
        record.ResumedFromEpoch.Should().Be(0, "it starts over");
        logs.Should().Contain(l => l.Contains("belongs to run", StringComparison.Ordinal));
    }

    [Test]
    public void Divergence_is_non_finite_weights_or_loss_or_a_loss_above_its_bound()
    {
        static EpochMetrics Epoch(int e, double loss, double norm = 44, double accuracy = 0.5) => new()
        {
            Epoch = e, Phase = 0, BatchSize = 64, LearningRate = 0.01, Steps = e, TrainLoss = loss, TrainAccuracy = accuracy,
            TestLoss = loss, TestAccuracy = accuracy, WeightDistance = 1, BiasDistance = 0, WeightNorm = norm, BiasNorm = 0,
            LayerCosines = [1], TrainSeconds = 0, EvalSeconds = 0,
        };
        TrainingWork.Diverged([Epoch(1, 2.0), Epoch(2, 1.0)], 10, 10).Should().BeNull();
        TrainingWork.Diverged([Epoch(1, 2.0), Epoch(2, 25.0)], 10, 10)!.Reason.Should().Contain("rose to 25").And.Contain("10 times its first epoch's 2");
        TrainingWork.Diverged([Epoch(1, 2.0), Epoch(2, double.NaN)], 10, 10)!.Reason.Should().Be("its training loss became non-finite");
        TrainingWork.Diverged([Epoch(1, 2.0), Epoch(2, 1.5, norm: double.PositiveInfinity)], 10, 10)!.Should().Be(new Divergence(2, "its weights became non-finite", 1.5));
        TrainingWork.Diverged([Epoch(1, 2.0), Epoch(2, double.NaN, accuracy: double.NaN)], 10, 10).Should().BeNull("an epoch that was not evaluated has no loss to judge");
        // A run that blew up in its first epoch is judged against a uniform guess's loss (ln 10 = 2.303), not against itself.
        TrainingWork.Diverged([Epoch(1, 5.3e9)], 10, 10)!.Reason.Should().Contain("rose to 5.3E+09").And.Contain("10 times a uniform guess's over 10 classes");
        TrainingWork.Diverged([Epoch(1, 30.0)], 10, 10)!.Epoch.Should().Be(1, "30 > 10 x ln 10 already in the first epoch");
        TrainingWork.Diverged([Epoch(1, 22.0)], 10, 10).Should().BeNull("22 is under 10 x ln 10 = 23.03");
        TrainingWork.Diverged([Epoch(1, 3.0), Epoch(2, 23.5)], 10, 10)!.Reason.Should().Contain("rose to 23.5").And.Contain("its first epoch's was 3");
    }

    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
