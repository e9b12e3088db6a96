using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using Reproductions.Harness.Cli;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Reporting;
using Spectre.Console;

namespace Reproductions.Tests.Reporting;

/// <summary>
/// <c>report --since</c> through the harness's command line (the repository's F01 config and run store, whatever is
/// stored): a bad earlier report is exit 2 with one message and nothing written; a good one leaves the exit code as it
/// is and writes CHANGES.md and changes.json beside the report.
/// </summary>
[Unit]
[NonParallelizable] // swaps the process-wide AnsiConsole
public sealed class ReportSinceCommandTests
{
    private string folder = null!;
    private IAnsiConsole previous = null!;
    private StringWriter console = null!;

    [SetUp]
    public void SetUp()
    {
        folder = Path.Combine(Path.GetTempPath(), "repro-since-cli", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        console = new StringWriter();
        previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = 1000;
    }

    [TearDown]
    public void TearDown()
    {
        AnsiConsole.Console = previous;
        console.Dispose();
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static (int Exit, string Error) Report(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = CommandLine.Build().Parse(["report", "--profile", "quick", "--findings", "F01", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, error.ToString());
    }

    [TestCase("missing.json", null, "no such file")]
    [TestCase("report.json", "{ \"formatVersion\": 4, ", "not a report.json (line 1")]
    [TestCase("report.json", "{ \"formatVersion\": 4, \"profile\": \"full\", \"findings\": [] }", "is the report of profile 'full'")]
    public void A_bad_since_file_exits_2_with_one_message_and_writes_nothing(string name, string? text, string expected)
    {
        var since = Path.Combine(folder, name);
        if (text is not null) File.WriteAllText(since, text);
        var output = Path.Combine(folder, "out");

        var (exit, error) = Report("--output", output, "--since", since);

        exit.Should().Be(ExitCodes.BadInput);
        error.Should().StartWith($"error: --since {since}: ").And.Contain(expected);
        error.Trim().Split('\n').Should().ContainSingle("one message");
        error.Should().NotContain("   at ", "no stack trace");
        Directory.Exists(output).Should().BeFalse("the earlier report is read before anything is built");
    }

    [Test]
    public void A_good_since_file_keeps_the_exit_code_and_writes_the_changes_beside_the_report()
    {
        var first = Path.Combine(folder, "first");
        var second = Path.Combine(folder, "second");
        var (without, _) = Report("--output", first);

        var (with, error) = Report("--output", second, "--since", Path.Combine(first, "report.json"));

        with.Should().Be(without, "the comparison never changes the exit code; this report's claims decide it");
        error.Should().NotContain("--since");
        var markdown = File.ReadAllText(Path.Combine(second, ReportChanges.MarkdownFile));
        markdown.Should().Contain("**Nothing changed**", "the same store, commit and environment, read twice");
        var json = ReportChanges.Compare(ReportBuilder.Read(Path.Combine(first, "report.json")), ReportBuilder.Read(Path.Combine(second, "report.json")), "a", "b");
        json.Unchanged.Should().BeTrue();
        File.ReadAllText(Path.Combine(second, ReportChanges.JsonFile)).Should().Contain("\"metricsCompared\"");
        console.ToString().Should().Contain($"Since {Path.Combine(first, "report.json")}: Nothing changed").And.Contain($"Changes: {Path.Combine(second, ReportChanges.MarkdownFile)}");

        // Built again without --since, the report drops the comparison: it described the build before.
        Report("--output", second);
        File.Exists(Path.Combine(second, ReportChanges.MarkdownFile)).Should().BeFalse();
        File.Exists(Path.Combine(second, ReportChanges.JsonFile)).Should().BeFalse();
    }

    [Test]
    public void Since_may_name_the_report_the_build_replaces()
    {
        var output = Path.Combine(folder, "same");
        Report("--output", output);
        var json = Path.Combine(output, "report.json");
        var earlier = File.ReadAllText(json).Replace("\"torchSharp\": \"", "\"torchSharp\": \"0.0.1-earlier+", StringComparison.Ordinal);
        File.WriteAllText(json, earlier);

        Report("--output", output, "--since", json);

        File.ReadAllText(Path.Combine(output, ReportChanges.MarkdownFile)).Should().Contain("| TorchSharp | 0.0.1-earlier+",
            "the earlier report is read before the build overwrites it");
    }
}

/// <summary>The environment a report records (format 5): what it reads here, how REPORT.md shows it, and the commit read from .git.</summary>
[Unit]
public sealed class ReportSinceEnvironmentTests
{
    [Test]
    public void The_environment_is_read_from_this_process_and_the_stored_runs()
    {
        var section = new FindingSection("F90", "mnist", "training", "", "", [], [], null, ClaimsSummary.Of([]), [], [], "", "", [], [], [], [], [],
            ["cuda (1 device(s))", "cpu (2 threads, 2 cores)", "cpu (2 threads, 2 cores)"], 0, new Dictionary<string, string>(), null);

        var environment = ReportEnvironment.Capture([section]);

        environment.RunDevices.Should().Equal("cpu (2 threads, 2 cores)", "cuda (1 device(s))");
        var informational = typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        environment.TorchSharp.Should().NotBeNullOrEmpty();
        informational.Should().StartWith(environment.TorchSharp);
        environment.LibTorch.Should().Be(TorchSharp.torch.__version__);
        environment.Runtime.Should().Be(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
        if (!TorchSharp.torch.cuda.is_available())
            (environment.Cuda, environment.Driver, environment.Device).Should().Be(((string?)null, (string?)null, (string?)null), "no CUDA: nothing to report");
        if (Git("rev-parse", "HEAD") is { } head)
            environment.Commit.Should().Be(head, "the commit read from .git is git's HEAD");
    }

    private static string? Git(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git here
        }
    }

    [Test]
    public void The_built_report_records_and_shows_its_environment()
    {
        using var fakes = new ReportFakes();
        fakes.StoreRuns("quick");
        var fixedEnvironment = new ReportEnvironment("0123456789abcdef0123456789abcdef01234567", "0.107.0", "2.10.0", "12.8", "550.54.15", "NVIDIA H200",
            "Linux 6.8 (X64)", ".NET 10.0.0", ["cuda (1 device(s))"]);
        var result = new ReportBuilder("quick", fakes.Store, fakes.Configs) { BaselinesFolder = fakes.Baselines, CaptureEnvironment = sections =>
        {
            sections.Should().NotBeEmpty("the environment is captured with the sections, for their run devices");
            return fixedEnvironment;
        } }.Build([ReportFakes.Finding], Path.Combine(fakes.Output, "quick"));

        result.Data.FormatVersion.Should().Be(ReportData.CurrentFormat);
        ReportBuilder.Read(result.JsonPath).Environment.Should().BeEquivalentTo(fixedEnvironment);
        File.ReadAllText(result.MarkdownPath).Should().Contain("## Environment")
            .And.Contain("- Built at commit `0123456789abcdef0123456789abcdef01234567`, TorchSharp 0.107.0 (libtorch 2.10.0); CUDA 12.8, driver 550.54.15, GPU NVIDIA H200.")
            .And.Contain("- Stored runs made on: cuda (1 device(s)).");
    }

    private static string Repo(Action<string> make)
    {
        var root = Path.Combine(Path.GetTempPath(), "repro-githead", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        make(root);
        return root;
    }

    private const string A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private static void Put(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static IEnumerable<TestCaseData> Checkouts()
    {
        TestCaseData Case(string name, Action<string> make, string? expected) => new TestCaseData(make, expected).SetArgDisplayNames(name);
        yield return Case("a loose branch ref", r => { Put(Path.Combine(r, ".git", "HEAD"), "ref: refs/heads/main\n"); Put(Path.Combine(r, ".git", "refs", "heads", "main"), A + "\n"); }, A);
        yield return Case("a packed branch ref", r =>
        {
            Put(Path.Combine(r, ".git", "HEAD"), "ref: refs/heads/main\n");
            Put(Path.Combine(r, ".git", "packed-refs"), $"# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/other\n{A} refs/heads/main\n");
        }, A);
        yield return Case("a detached HEAD", r => Put(Path.Combine(r, ".git", "HEAD"), B.ToUpperInvariant() + "\n"), B);
        yield return Case("a worktree's .git file", r =>
        {
            Put(Path.Combine(r, "main-repo", ".git", "refs", "heads", "feature"), B);
            Put(Path.Combine(r, "main-repo", ".git", "worktrees", "wt", "HEAD"), "ref: refs/heads/feature");
            Put(Path.Combine(r, "main-repo", ".git", "worktrees", "wt", "commondir"), "../..\n");
            Put(Path.Combine(r, "wt", ".git"), "gitdir: ../main-repo/.git/worktrees/wt\n");
        }, B);
        yield return Case("a branch with no commit yet", r => Put(Path.Combine(r, ".git", "HEAD"), "ref: refs/heads/main\n"), null);
        yield return Case("no .git", _ => { }, null);
    }

    [TestCaseSource(nameof(Checkouts))]
    public void The_commit_is_read_from_dot_git_without_git(Action<string> make, string? expected)
    {
        var root = Repo(make);
        try
        {
            var checkout = Directory.Exists(Path.Combine(root, "wt")) ? Path.Combine(root, "wt") : root;
            GitHead.FromFiles(checkout).Should().Be(expected);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
