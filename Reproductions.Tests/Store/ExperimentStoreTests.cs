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
        File.Exists(Path.Combine(store.Folder(Work(config).Key), ExperimentStore.ScratchFolder, "checkpoint.bin")).Should().BeTrue();

        var resumed = store.GetOrRun(Work(config), Options());
        resumed.ResumedFromEpoch.Should().Be(2);
        resumed.Epochs.Select(Numbers).Should().Equal(uninterrupted.Epochs.Select(Numbers));
    }

    [Test]
    public void A_corrupt_stored_result_is_reported_with_its_path()
    {
        var store = new ExperimentStore(root);
        var work = Work(SyntheticData.Config(epochs: 1));
        store.GetOrRun(work, Options());
        var path = store.ResultPath(work.Key);
        File.WriteAllText(path, "{ not json");
        var act = () => store.GetOrRun(Work(SyntheticData.Config(epochs: 1)), Options());
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(path).And.Contain("unreadable");
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
        act.Should().Throw<InvalidDataException>().Which.Message.Should()
            .Contain(store.ResultPath(other.Key)).And.Contain(one.Key.Hash).And.Contain("never used");
    }

    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
