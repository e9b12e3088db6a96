using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Cli;

namespace Reproductions.Tests.Data;

[Unit]
[NonParallelizable]
public sealed class DataCommandTests
{
    [Test]
    public void Prints_one_line_per_split_with_counts_shape_mean_labels_source_and_time()
    {
        var cache = Path.Combine(TestContext.CurrentContext.WorkDirectory, "dataset-cache");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = DataCommand.Run("mnist", null, cache, offline: false, output, error);

        exit.Should().Be(0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(2);
        lines[0].Should().StartWith("mnist").And.Contain("train").And.Contain("count=60000").And.Contain("shape=[60000, 784]")
            .And.Contain("pixel-mean=0.1307").And.Contain("labels=[5923 6742 5958 6131 5842 5421 5918 6265 5851 5949]")
            .And.Contain("source=").And.MatchRegex(@"time=\d+ ms$");
        lines[1].Should().Contain("test").And.Contain("count=10000").And.Contain("labels=[980 1135 1032 1010 982 892 958 1028 974 1009]");
    }

    [Test]
    public void Fails_with_a_clear_message_and_a_non_zero_exit_when_no_source_has_the_files()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Sub("empty"));
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = DataCommand.Run("mnist", temp.Sub("empty"), temp.Sub("cache"), offline: true, output, error, allowFallback: true);

        exit.Should().Be(ExitCodes.DataUnavailable);
        output.ToString().Should().BeEmpty();
        error.ToString().Should().Contain("MNIST could not be loaded").And.Contain("No source yielded a verified train-images-idx3-ubyte")
            .And.Contain($"folder {temp.Sub("empty")}: neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz")
            .And.Contain("cache ");
    }

    [Test]
    public void A_named_folder_that_fails_verification_stops_the_load_unless_fallback_is_allowed()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Sub("empty"));
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = DataCommand.Run("mnist", temp.Sub("empty"), temp.Sub("cache"), offline: true, output, error);

        exit.Should().Be(ExitCodes.DataUnavailable);
        output.ToString().Should().BeEmpty();
        error.ToString().Should().Contain($"the folder {temp.Sub("empty")} you named failed verification (4 of 4 files)")
            .And.Contain("t10k-labels-idx1-ubyte").And.Contain("--allow-fallback").And.NotContain("cache ");
        Directory.Exists(temp.Sub("cache")).Should().BeFalse("no other source is tried");
    }

    [Test]
    public void A_folder_for_all_datasets_is_refused()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        DataCommand.Run("all", "/some/folder", null, offline: true, output, error).Should().Be(ExitCodes.BadInput);
        error.ToString().Should().Contain("--dataset mnist");
    }

    [Test]
    public void The_command_is_registered_and_rejects_unknown_datasets()
    {
        var root = CommandLine.Build();
        root.Subcommands.Select(c => c.Name).Should().Contain("data");

        var parse = root.Parse(["data", "--dataset", "cifar10"]);
        parse.Errors.Should().NotBeEmpty();
        parse.Errors[0].Message.Should().Contain("cifar10");
    }
}
