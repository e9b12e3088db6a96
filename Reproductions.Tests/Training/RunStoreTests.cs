using Reproductions.Harness.Training;

namespace Reproductions.Tests.Training;

[Unit]
public class RunStoreTests
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

    private TrainingData Data(string name)
    {
        loads++;
        return data;
    }

    private static object Numbers(EpochMetrics m) => new
    {
        m.Epoch, m.Steps, m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy,
        m.WeightDistance, m.BiasDistance, m.WeightNorm, m.BiasNorm, Cosines = string.Join(",", m.LayerCosines),
    };

    [Test]
    public void A_run_asked_for_twice_is_trained_once()
    {
        var store = new RunStore(root);
        var first = store.GetOrTrain(SyntheticData.Config(), Data);
        var second = store.GetOrTrain(SyntheticData.Config(), Data);
        loads.Should().Be(1);
        second.Hash.Should().Be(first.Hash);
        second.Epochs.Select(Numbers).Should().Equal(first.Epochs.Select(Numbers));
        File.Exists(Path.Combine(store.Folder(first.Hash), "result.json")).Should().BeTrue();
        File.Exists(Path.Combine(store.Folder(first.Hash), "final.weights")).Should().BeTrue();
        File.Exists(Path.Combine(store.Folder(first.Hash), "checkpoint.bin")).Should().BeFalse("a finished run needs no checkpoint");
    }

    [Test]
    public void The_hash_changes_with_any_setting()
    {
        var a = SyntheticData.Config();
        var b = SyntheticData.Config();
        RunStore.Hash(a).Should().Be(RunStore.Hash(b));
        b.Phases[0].LearningRate = 0.0101;
        RunStore.Hash(a).Should().NotBe(RunStore.Hash(b));
        var c = SyntheticData.Config(seed: 2);
        RunStore.Hash(a).Should().NotBe(RunStore.Hash(c));
    }

    [Test]
    public void A_run_killed_part_way_resumes_to_the_same_numbers()
    {
        var config = SyntheticData.Config(epochs: 5);
        var uninterrupted = new RunStore(Path.Combine(root, "straight")).GetOrTrain(config, Data);

        var store = new RunStore(Path.Combine(root, "interrupted"));
        using var cancel = new CancellationTokenSource();
        var progress = new Inline(p => { if (p.Epoch == 2) cancel.Cancel(); });
        var act = () => store.GetOrTrain(config, Data, progress: progress, cancel: cancel.Token);
        act.Should().Throw<OperationCanceledException>();
        File.Exists(Path.Combine(store.Folder(RunStore.Hash(config)), "checkpoint.bin")).Should().BeTrue();

        var resumed = store.GetOrTrain(config, Data);
        resumed.ResumedFromEpoch.Should().Be(2);
        resumed.Epochs.Select(Numbers).Should().Equal(uninterrupted.Epochs.Select(Numbers));
    }

    [Test]
    public void A_corrupt_stored_result_is_reported_with_its_path()
    {
        var store = new RunStore(root);
        var record = store.GetOrTrain(SyntheticData.Config(epochs: 1), Data);
        var path = Path.Combine(store.Folder(record.Hash), "result.json");
        File.WriteAllText(path, "{ not json");
        var act = () => store.GetOrTrain(SyntheticData.Config(epochs: 1), Data);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(path);
    }

    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
