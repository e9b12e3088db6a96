using System.Formats.Tar;
using System.Text;
using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

[Unit]
public sealed class SafeTarExtractorTests
{
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes("hello");

    [Test]
    public void Extracts_folders_and_files()
    {
        using var temp = new TempFolder();
        var archive = temp.Sub("good.tgz");
        File.WriteAllBytes(archive, Idx.TarGz(("package/", null), ("package/data/a.bin", Hello), ("package/readme.md", [1, 2, 3])));

        var written = SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        written.Should().HaveCount(2);
        File.ReadAllBytes(temp.Sub("target", "package", "data", "a.bin")).Should().Equal(Hello);
        File.ReadAllBytes(temp.Sub("target", "package", "readme.md")).Should().Equal(1, 2, 3);
    }

    [TestCase(0.5)]
    [TestCase(0.9)]
    public void A_truncated_archive_gives_a_clear_error(double keep)
    {
        using var temp = new TempFolder();
        var full = Idx.TarGz(("package/data/images", Idx.Images(40)), ("package/data/labels", Idx.Labels(1, 2, 3)));
        var archive = temp.Sub("cut.tgz");
        File.WriteAllBytes(archive, full[..(int)(full.Length * keep)]);

        var act = () => SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain(archive).And.Contain("truncated or corrupt");
    }

    [Test]
    public void An_archive_cut_inside_the_gzip_trailer_is_caught_too()
    {
        // The deflate decoder accepts a stream that ends inside the 8-byte trailer; the length check does not.
        using var temp = new TempFolder();
        var full = Idx.TarGz(("package/data/a.bin", Hello));
        var archive = temp.Sub("cut-trailer.tgz");
        File.WriteAllBytes(archive, full[..^3]);

        var act = () => SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain(archive).And.Contain("truncated or corrupt");
    }

    [Test]
    public void Not_gzip_at_all_gives_a_clear_error()
    {
        using var temp = new TempFolder();
        var archive = temp.Sub("plain.tgz");
        File.WriteAllText(archive, "this is not an archive");

        var act = () => SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(archive);
    }

    [TestCase("../evil.txt")]
    [TestCase("package/../../evil.txt")]
    [TestCase("package/data/../../../evil.txt")]
    public void An_entry_climbing_out_of_the_target_is_rejected_and_nothing_is_written_outside(string name)
    {
        using var temp = new TempFolder();
        var target = temp.Sub("nested", "target");
        var archive = temp.Sub("evil.tgz");
        File.WriteAllBytes(archive, Idx.TarGz(("package/ok.txt", Hello), (name, Hello)));

        var act = () => SafeTarExtractor.ExtractTarGz(archive, target);

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain($"'{name}'").And.Contain("outside");
        Directory.GetFiles(temp.Path, "evil.txt", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Test]
    public void An_absolute_entry_path_is_rejected()
    {
        using var temp = new TempFolder();
        var outside = temp.Sub("outside", "abs.txt");
        var archive = temp.Sub("abs.tgz");
        File.WriteAllBytes(archive, Idx.TarGz((outside, Hello)));

        var act = () => SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain(outside).And.Contain("absolute path");
        File.Exists(outside).Should().BeFalse();
    }

    [TestCase(TarEntryType.SymbolicLink)]
    [TestCase(TarEntryType.HardLink)]
    public void Links_are_rejected(TarEntryType type)
    {
        using var temp = new TempFolder();
        var archive = temp.Sub("link.tgz");
        File.WriteAllBytes(archive, Idx.TarGz(new PaxTarEntry(type, "package/data/train-images-idx3-ubyte") { LinkName = "/etc/passwd" }));

        var act = () => SafeTarExtractor.ExtractTarGz(archive, temp.Sub("target"));

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("'package/data/train-images-idx3-ubyte'").And.Contain(type.ToString())
            .And.Contain("/etc/passwd");
        File.Exists(temp.Sub("target", "package", "data", "train-images-idx3-ubyte")).Should().BeFalse();
    }
}
