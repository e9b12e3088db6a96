using Reproductions.Harness.Data;
using TorchSharp;

namespace Reproductions.Tests.Data;

/// <summary>The HTTP mirrors, against a fake HttpMessageHandler: no request leaves the process.</summary>
[Unit]
public sealed class HttpMirrorSourceTests
{
    [Test]
    public void Downloads_the_gzip_file_verifies_it_and_caches_it_raw()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler();
        handler.Responses["https://mirror.invalid/data/train-labels-idx1-ubyte.gz"] = Idx.Gzip(tiny.Raw["train-labels-idx1-ubyte"]);
        using var client = new HttpClient(handler);
        using var mirror = new HttpMirrorSource(new Uri("https://mirror.invalid/data"), client, TimeSpan.FromSeconds(10));

        var verified = new SourceChain([mirror], temp.Sub("cache")).Fetch(tiny["train-labels-idx1-ubyte"]);

        handler.Requests.Should().Equal("https://mirror.invalid/data/train-labels-idx1-ubyte.gz");
        verified.Source.Should().Be("mirror https://mirror.invalid/data/");
        verified.RawBytes.Should().Equal(tiny.Raw["train-labels-idx1-ubyte"]);
        File.ReadAllBytes(verified.CachePath!).Should().Equal(tiny.Raw["train-labels-idx1-ubyte"]);
        File.Exists(verified.SourcePath).Should().BeFalse("the temporary download is deleted once cached");
    }

    [Test]
    public void A_missing_file_on_one_mirror_falls_through_to_the_next()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler();
        handler.Responses["https://b.invalid/train-labels-idx1-ubyte.gz"] = Idx.Gzip(tiny.Raw["train-labels-idx1-ubyte"]);
        using var client = new HttpClient(handler);
        using var a = new HttpMirrorSource(new Uri("https://a.invalid/"), client, TimeSpan.FromSeconds(10));
        using var b = new HttpMirrorSource(new Uri("https://b.invalid/"), client, TimeSpan.FromSeconds(10));
        var log = new List<string>();

        var verified = new SourceChain([a, b], temp.Sub("cache"), log.Add).Fetch(tiny["train-labels-idx1-ubyte"]);

        verified.Source.Should().Be("mirror https://b.invalid/");
        log.Should().Contain(l => l.StartsWith("mirror https://a.invalid/: failed") && l.Contains("404"));
    }

    [Test]
    public void A_mirror_serving_wrong_bytes_is_rejected_and_its_download_deleted()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler();
        handler.Responses["https://a.invalid/train-labels-idx1-ubyte.gz"] = Idx.Gzip(Idx.Labels(1, 1, 1));
        using var client = new HttpClient(handler);
        using var mirror = new HttpMirrorSource(new Uri("https://a.invalid/"), client, TimeSpan.FromSeconds(10));

        var act = () => new SourceChain([mirror], temp.Sub("cache")).Fetch(tiny["train-labels-idx1-ubyte"]);

        act.Should().Throw<DatasetUnavailableException>()
            .Which.Message.Should().Contain("SHA-256 mismatch").And.Contain("train-labels-idx1-ubyte")
            .And.Contain(tiny["train-labels-idx1-ubyte"].Sha256).And.Contain(Checksums.Sha256Hex(Idx.Labels(1, 1, 1)));
        Directory.Exists(temp.Sub("cache")).Should().BeFalse();
    }

    [Test]
    public void A_slow_mirror_times_out_with_a_clear_message()
    {
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler { Delay = TimeSpan.FromSeconds(30) };
        using var client = new HttpClient(handler);
        using var mirror = new HttpMirrorSource(new Uri("https://slow.invalid/"), client, TimeSpan.FromMilliseconds(200));

        var act = () => mirror.Locate(tiny["train-labels-idx1-ubyte"], _ => { }, CancellationToken.None);

        act.Should().Throw<TimeoutException>()
            .Which.Message.Should().Contain("https://slow.invalid/train-labels-idx1-ubyte.gz").And.Contain("0.2 s");
    }

    [Test]
    public void The_loader_fetches_a_whole_dataset_from_the_mirrors_and_returns_cpu_tensors()
    {
        using var temp = new TempFolder();
        using var environment = new EnvironmentScope().Set("REPRO_TINY_DIR", null);
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler();
        foreach (var (name, raw) in tiny.Raw)
            handler.Responses[$"https://mirror-b.invalid/tiny/{name}.gz"] = Idx.Gzip(raw);
        var options = new DatasetLoadOptions { CacheRoot = temp.Sub("cache"), HttpHandler = handler };

        using var loaded = DatasetLoader.Load(tiny.Spec, options);

        loaded.Name.Should().Be("tiny");
        loaded.Train.Images.shape.Should().Equal(3, 784);
        loaded.Train.Images.dtype.Should().Be(torch.ScalarType.Float32);
        loaded.Train.Images.device_type.Should().Be(DeviceType.CPU);
        loaded.Train.Labels.dtype.Should().Be(torch.ScalarType.Int64);
        loaded.Train.Labels.data<long>().ToArray().Should().Equal(0, 9, 4);
        loaded.Test.Labels.data<long>().ToArray().Should().Equal(7, 7);
        loaded.Train.LabelCounts.Should().Equal(1, 0, 0, 0, 1, 0, 0, 0, 0, 1);
        loaded.Train.Images[0, 5].item<float>().Should().Be(5f / 255f);
        loaded.Test.Images[0, 0].item<float>().Should().Be(1f);
        loaded.Train.Images.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        loaded.Train.Images.max().item<float>().Should().BeLessThanOrEqualTo(1f);
        loaded.Train.ImagesSource.Should().Be("mirror https://mirror-b.invalid/tiny/");
        Directory.GetFiles(temp.Sub("cache", "tiny")).Select(Path.GetFileName).Should().BeEquivalentTo(tiny.Raw.Keys);

        // Second load: from the cache, no request at all.
        handler.Requests.Clear();
        using var again = DatasetLoader.Load(tiny.Spec, options);
        handler.Requests.Should().BeEmpty();
        again.Train.ImagesSource.Should().StartWith("cache ");
    }

    [Test]
    public void AllowDownloads_false_keeps_the_loader_off_the_mirrors()
    {
        using var temp = new TempFolder();
        using var environment = new EnvironmentScope().Set("REPRO_TINY_DIR", null);
        var tiny = new TinyDataset();
        var handler = new FakeHttpHandler();

        var act = () => DatasetLoader.LoadRaw(tiny.Spec,
            new DatasetLoadOptions { CacheRoot = temp.Sub("cache"), HttpHandler = handler, AllowDownloads = false });

        act.Should().Throw<DatasetUnavailableException>().Which.Attempts.Should().ContainSingle()
            .Which.Source.Should().StartWith("cache ");
        handler.Requests.Should().BeEmpty();
    }
}
