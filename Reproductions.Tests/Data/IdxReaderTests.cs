using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

[Unit]
public sealed class IdxReaderTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void Parses_images_raw_or_gzip(bool gzip)
    {
        var raw = Idx.Images(3, pixel: i => (byte)(i % 251));
        var images = IdxReader.ParseImages(gzip ? Idx.Gzip(raw) : raw, "images.bin");

        images.Count.Should().Be(3);
        images.Rows.Should().Be(28);
        images.Columns.Should().Be(28);
        images.Pixels.Length.Should().Be(3 * 784);
        images.Pixels.Span[0].Should().Be(0);
        images.Pixels.Span[1000].Should().Be((byte)(1000 % 251));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Parses_labels_raw_or_gzip(bool gzip)
    {
        var raw = Idx.Labels(0, 9, 3, 3);
        var labels = IdxReader.ParseLabels(gzip ? Idx.Gzip(raw) : raw, "labels.bin");

        labels.Count.Should().Be(4);
        labels.Labels.ToArray().Should().Equal(0, 9, 3, 3);
        IdxReader.CountLabels(labels).Should().Equal(1, 0, 0, 2, 0, 0, 0, 0, 0, 1);
    }

    [Test]
    public void Recognises_gzip_by_magic_not_by_file_name()
    {
        using var temp = new TempFolder();
        var gzipWithoutSuffix = temp.Sub("train-images-idx3-ubyte");
        var rawWithSuffix = temp.Sub("train-labels-idx1-ubyte.gz");
        File.WriteAllBytes(gzipWithoutSuffix, Idx.Gzip(Idx.Images(2)));
        File.WriteAllBytes(rawWithSuffix, Idx.Labels(1, 2));

        IdxReader.ReadImages(gzipWithoutSuffix).Count.Should().Be(2);
        IdxReader.ReadLabels(rawWithSuffix).Labels.ToArray().Should().Equal(1, 2);
    }

    [Test]
    public void Gzip_and_raw_copies_have_the_same_raw_hash()
    {
        using var temp = new TempFolder();
        var raw = Idx.Images(2);
        File.WriteAllBytes(temp.Sub("a"), raw);
        File.WriteAllBytes(temp.Sub("a.gz"), Idx.Gzip(raw));

        Checksums.Sha256OfRawContent(temp.Sub("a.gz")).Should().Be(Checksums.Sha256OfRawContent(temp.Sub("a")))
            .And.Be(Checksums.Sha256Hex(raw));
    }

    [Test]
    public void Wrong_magic_number_is_named_with_expected_and_actual()
    {
        var act = () => IdxReader.ParseImages(Idx.Labels(1, 2, 3), "t10k-images-idx3-ubyte");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("t10k-images-idx3-ubyte").And.Contain("magic number")
            .And.Contain("0x00000801").And.Contain("expected 0x00000803");
    }

    [Test]
    public void Wrong_magic_number_in_labels()
    {
        var act = () => IdxReader.ParseLabels(Idx.Labels(0x00000802, [1, 2]), "train-labels-idx1-ubyte");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("train-labels-idx1-ubyte").And.Contain("magic number")
            .And.Contain("0x00000802").And.Contain("expected 0x00000801");
    }

    [Test]
    public void Wrong_dimensions_are_named_with_expected_and_actual()
    {
        var act = () => IdxReader.ParseImages(Idx.Images(2, rows: 32, columns: 32), "cifar-ish");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("cifar-ish").And.Contain("dimensions").And.Contain("32x32")
            .And.Contain("expected 28x28");
    }

    [Test]
    public void Truncated_image_payload_says_how_many_bytes_were_promised_and_found()
    {
        var bytes = Idx.Images(3);
        var act = () => IdxReader.ParseImages(bytes[..^100], "short-images");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("short-images").And.Contain("truncated")
            .And.Contain("3 images of 28x28").And.Contain("2352 bytes").And.Contain("only 2252 bytes");
    }

    [Test]
    public void Truncated_label_payload()
    {
        var act = () => IdxReader.ParseLabels(Idx.Labels(1, 2, 3, 4)[..^2], "short-labels");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("short-labels").And.Contain("truncated").And.Contain("4 labels")
            .And.Contain("only 2 bytes");
    }

    [Test]
    public void Truncated_header()
    {
        var act = () => IdxReader.ParseImages(Idx.Images(1)[..10], "tiny-header");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("tiny-header").And.Contain("header is 10 bytes").And.Contain("expected 16");
    }

    [Test]
    public void Trailing_bytes_are_rejected()
    {
        var act = () => IdxReader.ParseImages([.. Idx.Images(2), 1, 2, 3], "long-images");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("long-images").And.Contain("3 trailing bytes").And.Contain("1568 bytes");
    }

    [Test]
    public void Trailing_bytes_after_labels_are_rejected()
    {
        var act = () => IdxReader.ParseLabels([.. Idx.Labels(1, 2), 0], "long-labels");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("long-labels").And.Contain("1 trailing bytes");
    }

    [Test]
    public void Label_count_must_match_image_count()
    {
        var images = IdxReader.ParseImages(Idx.Images(3), "imgs");
        var labels = IdxReader.ParseLabels(Idx.Labels(1, 2), "lbls");

        var act = () => IdxReader.EnsureSameCount(images, labels);

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("lbls").And.Contain("label count").And.Contain("is 2")
            .And.Contain("expected 3").And.Contain("imgs");
    }

    [Test]
    public void Label_out_of_range_is_named_with_its_index_and_value()
    {
        var act = () => IdxReader.ParseLabels(Idx.Labels(1, 2, 10, 3), "bad-labels");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("bad-labels").And.Contain("index 2").And.Contain("is 10")
            .And.Contain("0-9");
    }

    [Test]
    public void Corrupt_gzip_names_the_file()
    {
        var gzip = Idx.Gzip(Idx.Images(4));
        var act = () => IdxReader.ParseImages(gzip[..(gzip.Length / 2)], "half.gz");

        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("half.gz");
    }

    [TestCase(7)]
    [TestCase(-3)]
    [TestCase(-12)]
    public void A_gzip_stream_cut_anywhere_is_reported_as_truncated(int cut)
    {
        // .NET's GZipStream returns what it could decode from a cut stream without an error; the trailer check catches it.
        var gzip = Idx.Gzip(Idx.Labels(1, 2, 3, 4, 5, 6, 7, 8, 9));
        var cutBytes = cut > 0 ? gzip[..cut] : gzip[..^(-cut)];

        var act = () => IdxReader.ParseLabels(cutBytes, "cut-labels.gz");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().StartWith("cut-labels.gz: the gzip stream is").And.Contain("truncated");
    }

    [Test]
    public void Checksum_mismatch_names_file_expected_and_actual()
    {
        var file = new DatasetFile("train-images-idx3-ubyte", new string('a', 64), IdxKind.Images, "train", 1);
        var bytes = Idx.Images(1);

        var act = () => Checksums.Verify(bytes, file, "/some/folder/train-images-idx3-ubyte.gz");

        var error = act.Should().Throw<ChecksumMismatchException>().Which;
        error.Message.Should().Contain("train-images-idx3-ubyte").And.Contain("/some/folder/train-images-idx3-ubyte.gz")
            .And.Contain("expected " + new string('a', 64)).And.Contain("actual " + Checksums.Sha256Hex(bytes));
        error.Actual.Should().Be(Checksums.Sha256Hex(bytes));
    }

    [Test]
    public void Pinned_specs_are_well_formed()
    {
        foreach (var spec in DatasetSpecs.All)
        {
            spec.Files.Should().HaveCount(4);
            spec.Files.Select(f => f.Sha256).Should().OnlyContain(h => h.Length == 64 && h.All(Uri.IsHexDigit));
            spec.Files.Select(f => f.FileName).Should().BeEquivalentTo(
                "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
            spec.Mirrors.Should().NotBeEmpty();
        }
        DatasetSpecs.Get("MNIST").Should().BeSameAs(DatasetSpecs.Mnist);
        FluentActions.Invoking(() => DatasetSpecs.Get("cifar10")).Should().Throw<ArgumentException>()
            .WithMessage("*cifar10*mnist*fashion-mnist*");
    }
}
