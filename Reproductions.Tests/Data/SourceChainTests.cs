using Reproductions.Harness.Data;

namespace Reproductions.Tests.Data;

[Unit]
public sealed class SourceChainTests
{
    private const string TrainImages = "train-images-idx3-ubyte";

    [Test]
    public void The_first_source_with_a_verified_file_wins_and_later_sources_are_not_asked()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        tiny.WriteTo(temp.Sub("second"));
        tiny.WriteTo(temp.Sub("third"));
        var first = new FakeSource("first", _ => SourceResult.Missing("nothing here"));
        var second = new FakeSource("second", f => SourceResult.Found(Path.Combine(temp.Sub("second"), f.FileName), CandidateOrigin.UserFolder));
        var third = new FakeSource("third", f => SourceResult.Found(Path.Combine(temp.Sub("third"), f.FileName), CandidateOrigin.UserFolder));
        var log = new List<string>();

        var verified = new SourceChain([first, second, third], temp.Sub("cache"), log.Add).Fetch(tiny[TrainImages]);

        verified.Source.Should().Be("second");
        verified.RawBytes.Should().Equal(tiny.Raw[TrainImages]);
        first.Requested.Should().Equal(TrainImages);
        third.Requested.Should().BeEmpty();
        log.Should().Contain(l => l.Contains("first") && l.Contains("nothing here"));
        log.Should().Contain(l => l.Contains("second") && l.Contains("verified"));
    }

    [Test]
    public void A_verified_gzip_file_is_stored_raw_in_the_cache()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        tiny.WriteTo(temp.Sub("gz"), gzip: true);
        var folder = new FolderSource(temp.Sub("gz"), "gz folder");

        var verified = new SourceChain([folder], temp.Sub("cache")).Fetch(tiny[TrainImages]);

        verified.SourcePath.Should().EndWith(".gz");
        verified.CachePath.Should().Be(Path.Combine(temp.Sub("cache"), TrainImages));
        File.ReadAllBytes(verified.CachePath!).Should().Equal(tiny.Raw[TrainImages]);
        File.Exists(Path.Combine(temp.Sub("gz"), TrainImages + ".gz")).Should().BeTrue("the user's folder is never modified");
        Directory.GetFiles(temp.Sub("cache")).Should().HaveCount(1, "the atomic write leaves no temporary file behind");
    }

    [Test]
    public void A_corrupt_cache_file_is_moved_aside_reported_and_replaced_from_the_next_source()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var cache = temp.Sub("cache");
        Directory.CreateDirectory(cache);
        var corrupt = tiny.Raw[TrainImages].ToArray();
        corrupt[500] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(cache, TrainImages), corrupt);
        tiny.WriteTo(temp.Sub("next"), gzip: true);
        var log = new List<string>();
        var chain = new SourceChain([new CacheSource(cache), new FolderSource(temp.Sub("next"), "next folder")], cache, log.Add)
        {
            UtcNow = () => new DateTime(2026, 11, 23, 6, 30, 15, DateTimeKind.Utc),
        };

        var verified = chain.Fetch(tiny[TrainImages]);

        verified.Source.Should().Be("next folder");
        var aside = Path.Combine(cache, TrainImages + ".corrupt-20261123T063015Z");
        File.ReadAllBytes(aside).Should().Equal(corrupt, "the bad file is kept aside, not deleted");
        File.ReadAllBytes(Path.Combine(cache, TrainImages)).Should().Equal(tiny.Raw[TrainImages], "it was replaced in the same run");
        log.Should().Contain(l => l.Contains("SHA-256 mismatch") && l.Contains(tiny[TrainImages].Sha256) && l.Contains(aside));

        // The next run finds the repaired cache first.
        var again = new SourceChain([new CacheSource(cache), new FakeSource("unused", _ => throw new AssertionException("not reached"))], cache)
            .Fetch(tiny[TrainImages]);
        again.Source.Should().StartWith("cache ");
    }

    [Test]
    public void A_bad_file_in_the_users_folder_is_reported_skipped_and_left_untouched()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var user = temp.Sub("user");
        Directory.CreateDirectory(user);
        var bad = Idx.Images(3, pixel: _ => 1);
        var badPath = Path.Combine(user, TrainImages);
        File.WriteAllBytes(badPath, bad);
        tiny.WriteTo(temp.Sub("good"));
        var log = new List<string>();
        var chain = new SourceChain([new FolderSource(user, "user folder"), new FolderSource(temp.Sub("good"), "good folder")],
            temp.Sub("cache"), log.Add);

        var verified = chain.Fetch(tiny[TrainImages]);

        verified.Source.Should().Be("good folder");
        File.ReadAllBytes(badPath).Should().Equal(bad);
        Directory.GetFiles(user).Should().Equal(badPath);
        log.Should().Contain(l => l.Contains("user folder") && l.Contains("SHA-256 mismatch") && l.Contains(badPath)
                                  && l.Contains("left untouched"));
    }

    [Test]
    public void A_rejected_temporary_copy_is_deleted()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        var download = temp.Sub("download.part");
        File.WriteAllBytes(download, Idx.Images(1));
        tiny.WriteTo(temp.Sub("good"));

        new SourceChain([new FakeSource("download", _ => SourceResult.Found(download, CandidateOrigin.Temporary)),
                         new FolderSource(temp.Sub("good"), "good")], temp.Sub("cache"))
            .Fetch(tiny[TrainImages]).Source.Should().Be("good");

        File.Exists(download).Should().BeFalse();
    }

    [Test]
    public void When_every_source_fails_the_exception_lists_what_each_said()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        Directory.CreateDirectory(temp.Sub("bad"));
        File.WriteAllBytes(Path.Combine(temp.Sub("bad"), TrainImages), Idx.Images(3, pixel: _ => 9));
        var sources = new IDatasetSource[]
        {
            new FolderSource(temp.Sub("missing"), "missing folder"),
            new FolderSource(temp.Sub("bad"), "bad folder"),
            new FakeSource("exploding", _ => throw new InvalidOperationException("boom: npm not found")),
        };

        var act = () => new SourceChain(sources, temp.Sub("cache")).Fetch(tiny[TrainImages]);

        var error = act.Should().Throw<DatasetUnavailableException>().Which;
        error.Attempts.Select(a => a.Source).Should().Equal("missing folder", "bad folder", "exploding");
        error.Message.Should().Contain(TrainImages)
            .And.Contain("missing folder: folder").And.Contain("does not exist")
            .And.Contain("bad folder: rejected: SHA-256 mismatch").And.Contain("expected " + tiny[TrainImages].Sha256)
            .And.Contain("exploding: failed: boom: npm not found");
        Directory.Exists(temp.Sub("cache")).Should().BeFalse("nothing unverified reaches the cache");
    }

    [Test]
    public void A_structurally_broken_candidate_is_rejected_like_a_hash_mismatch()
    {
        using var temp = new TempFolder();
        var tiny = new TinyDataset();
        Directory.CreateDirectory(temp.Sub("broken"));
        File.WriteAllBytes(Path.Combine(temp.Sub("broken"), TrainImages + ".gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3]);
        tiny.WriteTo(temp.Sub("good"));

        var log = new List<string>();
        new SourceChain([new FolderSource(temp.Sub("broken"), "broken"), new FolderSource(temp.Sub("good"), "good")], null, log.Add)
            .Fetch(tiny[TrainImages]).Source.Should().Be("good");

        log.Should().Contain(l => l.StartsWith("broken: rejected") && l.Contains("gzip stream is truncated"));
    }
}
