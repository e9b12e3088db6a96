using System.Diagnostics;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;

namespace Reproductions.Tests.Cli;

/// <summary>
/// The project's corpus of bad input, run through the harness's own command line as a user would (a separate process,
/// its own root and artifacts folders): every case ends with its documented exit code, one clear message on stderr, no
/// stack trace, and nothing written outside the artifacts folder. Exit codes: 2 bad input, 3 data unavailable,
/// 4 diverged, 5 corrupt stored state, 6 a failed check.
/// </summary>
[Unit, NonParallelizable]
public sealed class BadInputCorpusTests
{
    private string root = null!;

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "configs"));
        foreach (var file in Directory.GetFiles(RepoPaths.Configs, "*.json")) File.Copy(file, Path.Combine(root, "configs", Path.GetFileName(file)));
        CopyFolder(RepoPaths.Baselines, Path.Combine(root, "baselines"));
        File.WriteAllText(Path.Combine(root, "Reproductions.sln"), "");
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }

    private string Artifacts => Path.Combine(root, "artifacts");

    /// <summary>Every file under the root but the artifacts folder, with its size and time, to see that nothing else was written.</summary>
    private Dictionary<string, (long, DateTime)> Snapshot() =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(Artifacts + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToDictionary(f => f, f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));

    private (int Exit, string Out, string Error) Run(string[] args, params (string Name, string Value)[] environment) =>
        Run(args, null, environment);

    /// <summary>Runs the harness; <paramref name="killWhen"/>, polled while it runs, kills it (SIGKILL) once it holds.</summary>
    private (int Exit, string Out, string Error) Run(string[] args, Func<bool>? killWhen, params (string Name, string Value)[] environment)
    {
        var harness = Path.Combine(RepoPaths.Root, "Reproductions.Harness", "bin",
            typeof(BadInputCorpusTests).Assembly.Location.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug",
            "net10.0", "Reproductions.Harness.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        start.ArgumentList.Add(harness);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["REPRO_ROOT"] = root;
        start.Environment["REPRO_ARTIFACTS"] = Artifacts;
        start.Environment["REPRO_DEVICE"] = "cpu";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!process.WaitForExit(TimeSpan.FromMilliseconds(20)))
        {
            if (DateTime.UtcNow > deadline || killWhen?.Invoke() == true) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(root, name);
        File.WriteAllText(path, text);
        return path;
    }

    private void Expect((int Exit, string Out, string Error) run, int exit, params string[] message)
    {
        var all = run.Out + run.Error;
        run.Exit.Should().Be(exit, all);
        foreach (var m in message) run.Error.Should().Contain(m, "the message goes to stderr");
        all.Should().NotContain("   at Reproductions", "an expected failure shows no stack trace").And.NotContain("Unhandled exception");
    }

    private void ExpectNothingWrittenOutsideArtifacts(Func<(int, string, string)> act, int exit, params string[] message)
    {
        var before = Snapshot();
        Expect(act(), exit, message);
        Snapshot().Should().Equal(before, "nothing is written outside the artifacts folder");
    }

    private const string Phase = """{ "epochs": 1, "batchSize": 100, "learningRate": 0.01 }""";

    [TestCase("""{ "phases": [] }""", "phases is an empty list")]
    [TestCase("""{ "phases": null }""", "phases is null")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": "NaN" } ] }""", "expected a finite number")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": "Infinity" } ] }""", "expected a finite number")]
    [TestCase("""{ "optimizer": { "momentum": "NaN" } }""", "optimizer:momentum = 'NaN': expected a finite number")]
    [TestCase("""{ "optimizer": { "kind": "adam", "beta1": 1.5 } }""", "optimizer:beta1 = 1.5: must be in [0, 1)")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 70000, "learningRate": 0.01 } ] }""", "larger than the 60000 training samples")]
    [TestCase("""{ "trainSamples": 1000, "phases": [ { "epochs": 1, "batchSize": 2000, "learningRate": 0.01 } ] }""", "larger than the 1000 training samples")]
    [TestCase("""{ "phases": [ { "epochs": "many", "batchSize": 100, "learningRate": 0.01 } ] }""", "phases:0:epochs = 'many': expected a whole number")]
    [TestCase("""{ "lernRate": 0.1 }""", "unknown key 'lernRate'")]
    [TestCase("""{ "dataset": "cifar" }""", "expected 'mnist' or 'fashion-mnist'")]
    [TestCase("""{ "divergenceLossFactor": 0.5 }""", "divergenceLossFactor = 0.5: must be a finite number above 1")]
    [TestCase("""{ "phases": [ { "epochs": 3, "batchSize": 1024, "learningRate": 0.16, "warmupEpochs": 2 } ] }""", "phases:0:warmupFrom = (missing): a warm-up needs the rate of its first step")]
    [TestCase("""{ "phases": [ { "epochs": 3, "batchSize": 64, "learningRate": 0.01, "accumulation": 128 } ] }""", "phases:0:accumulation = 128: must be between 1 and the phase's batch size 64")]
    [TestCase("""{ "phases": [ { "epochs": 1, """, "not valid JSON at line 1")]
    [TestCase("""{ "optimizer": { "kind": "sgd", "moment": 0.9 } }""", "unknown key 'optimizer:moment'")]
    [TestCase("""{ "optimizer": { "kind": "rmsprop" } }""", "optimizer:kind = 'rmsprop': expected one of sgd, adam")]
    [TestCase("""{ "optimizer": { "kind": "adam", "beta2": "NaN" } }""", "optimizer:beta2 = 'NaN': expected a finite number")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": -0.1 } ] }""", "phases:0:learningRate = -0.1: must be a positive, finite number")]
    [TestCase("""{ "phases": [ { "epochs": 0, "batchSize": 100, "learningRate": 0.1 } ] }""", "phases:0:epochs = 0: must be at least 1")]
    [TestCase("""{ "evaluation": { "chunkSize": -5 } }""", "evaluation:chunkSize = -5: must be at least 1")]
    [TestCase("""{ "stack": "yes" }""", "stack = 'yes': expected true or false")]
    [TestCase("""{ "stack": true, "keepWeights": 5 }""", "stack = True: cannot be combined with keepWeights yet")]
    [TestCase("""{ "stack": true, "stopAtTrainAccuracy": 0.99 }""", "stack = True: cannot be combined with stopAtTrainAccuracy yet")]
    [TestCase("""{ "trainSamples": 1000, "trainSamples": 2000 }""", "key 'trainSamples' is given twice")]
    [TestCase("""{ "trainSamples": 1000, "TrainSamples": 2000 }""", "key 'TrainSamples' is given twice (also as 'trainSamples': keys are case-insensitive)")]
    [TestCase("""{ "optimizer": { "kind": "sgd", "Kind": "adam" } }""", "key 'optimizer:Kind' is given twice")]
    [TestCase("""{ "phases": [ {} ] }""", "phases:0 is an empty object")]
    [TestCase("""{ "phases": [ { "epochs": 1, "batchSize": 100, "learningRate": 0.01 }, {} ] }""", "phases:1 is an empty object")]
    public void A_bad_training_config_is_refused_with_file_key_and_reason(string config, string message)
    {
        var file = Write("bad.json", config);
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", file]), ExitCodes.BadInput, "bad.json", message);
        Directory.Exists(Path.Combine(Artifacts, "runs")).Should().BeFalse("a refused config stores nothing");
    }

    [Test]
    public void Bad_command_line_values_are_refused()
    {
        var file = Write("ok.json", $$"""{ "trainSamples": 1000, "phases": [ {{Phase}} ] }""");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", file, "--set", "phases:0:epochs"]), ExitCodes.BadInput, "expected key=value");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", Path.Combine(root, "missing.json")]), ExitCodes.BadInput, "file not found");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", file, "--set", "phases:0:batchSize=0"]), ExitCodes.BadInput, "phases:0:batchSize = 0");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["bench", "--gradient-competition", "--trials", "0"]), ExitCodes.BadInput, "--trials 0");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["bench", "--batch-sizes", "0"]), ExitCodes.BadInput, "--batch-sizes: 0");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["bench", "--repeats", "0"]), ExitCodes.BadInput, "--repeats 0: at least 1");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["bench", "--stacked", "2", "--repeats", "2"]), ExitCodes.BadInput, "--repeats: only for the plain comparison");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["bench", "--gradient-competition", "--samples", "100"]), ExitCodes.BadInput, "--samples: not with --gradient-competition");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--findings", "F99"]), ExitCodes.BadInput, "F99.json: file not found");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--dataset", "cifar10", "--findings", "F01"]), ExitCodes.BadInput, "cifar10", "fashion-mnist");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--findings", "F01", "--shard", "3/2"]), ExitCodes.BadInput, "--shard '3/2': expected k/n");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--findings", "F01", "--shard", "1/2", "--estimate"]), ExitCodes.BadInput, "--estimate: not with --shard");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["merge", Path.Combine(root, "no-such-store")]), ExitCodes.BadInput, "no-such-store: no such store folder");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["report", "--profile", "quick", "--dataset", "cifar10"]), ExitCodes.BadInput, "cifar10");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["report", "--profile", "quick", "--findings", "F01", "--since", Path.Combine(root, "missing.json")]), ExitCodes.BadInput,
            "--since", "missing.json: no such file");
        var notAReport = Write("not-a-report.json", """{ "schemaVersion": 1 }""");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["report", "--profile", "quick", "--findings", "F01", "--since", notAReport]), ExitCodes.BadInput,
            "not-a-report.json: not a report.json", "schemaVersion");
        Directory.Exists(Path.Combine(Artifacts, "report")).Should().BeFalse("a bad --since file is refused before the report is built");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["baselines", "accept", "--profile", "../x"]), ExitCodes.BadInput, "--profile '../x'");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["baselines", "accept"], ("CI", "true")), ExitCodes.BadInput, "Refusing to accept baselines");
    }

    [TestCase("model:widths:7=10", "--set: key 'model:widths:7' leaves a gap in the list model:widths: it has elements 0 to 3, so the next element is model:widths:4")]
    [TestCase("phases:3:epochs=1", "--set: key 'phases:3:epochs' leaves a gap in the list phases: it has element 0, so the next element is phases:1")]
    [TestCase("phases:00:epochs=2", "--set: key 'phases:00:epochs': '00' should be an array index (0, 1, ..., no leading zeros)")]
    [TestCase("phases=5", "--set: key 'phases' is a list, not a single value: give each element its own key, e.g. phases:0:epochs=...")]
    [TestCase("model:widths=[784,10]", "--set: key 'model:widths' is a list, not a single value: give each element its own key, e.g. model:widths:0=...")]
    public void A_set_override_of_a_whole_list_or_of_an_element_out_of_order_is_refused(string set, string message)
    {
        var file = Write("ok.json", $$"""{ "trainSamples": 1000, "phases": [ {{Phase}} ] }""");
        (int Exit, string Out, string Error) run = default;
        ExpectNothingWrittenOutsideArtifacts(() => run = Run(["train", file, "--set", set]), ExitCodes.BadInput, message);
        run.Error.Should().NotContain("System.", "the message speaks of keys and lists, not .NET types");
        var (name, value) = (EnvironmentPrefixed(set[..set.IndexOf('=')]), set[(set.IndexOf('=') + 1)..]);
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", file], (name, value)), ExitCodes.BadInput,
            message.Replace("--set:", "environment (REPRO_SET__*):", StringComparison.Ordinal));
        Directory.Exists(Path.Combine(Artifacts, "runs")).Should().BeFalse("a refused config stores nothing");
    }

    private static string EnvironmentPrefixed(string key) => "REPRO_SET__" + key.Replace(":", "__", StringComparison.Ordinal);

    [TestCase("5")]
    [TestCase("cpu,cuda")]
    [TestCase("gpu")]
    public void A_device_other_than_auto_cpu_or_cuda_is_refused(string device)
    {
        var file = Write("ok.json", $$"""{ "trainSamples": 1000, "phases": [ {{Phase}} ] }""");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["train", file], ("REPRO_DEVICE", device)), ExitCodes.BadInput, $"REPRO_DEVICE = '{device}': expected auto, cpu or cuda.");
        Directory.Exists(Path.Combine(Artifacts, "runs")).Should().BeFalse("a refused device trains nothing");
    }

    [Test]
    public void An_unknown_option_among_the_findings_or_an_empty_selection_is_refused_before_anything_is_written()
    {
        foreach (var command in new[] { "report", "reproduce" })
        {
            ExpectNothingWrittenOutsideArtifacts(() => Run([command, "--profile", "quick", "--findings", "F01", "--bogus"]), ExitCodes.BadInput,
                "--bogus: unknown option");
            ExpectNothingWrittenOutsideArtifacts(() => Run([command, "--profile", "quick", "--findings", ""]), ExitCodes.BadInput, "--findings '': no finding id");
            ExpectNothingWrittenOutsideArtifacts(() => Run([command, "--profile", "quick", "--findings", ","]), ExitCodes.BadInput, "--findings ',': no finding id");
        }
        Directory.Exists(Artifacts).Should().BeFalse("no report is written and nothing runs");
    }

    [TestCase(new[] { "train", "" }, "config: the path is empty; give the path of a training config JSON file.")]
    [TestCase(new[] { "train", " " }, "config: the path is empty; give the path of a training config JSON file.")]
    [TestCase(new[] { "merge", "" }, "stores: a path is empty")]
    [TestCase(new[] { "merge", "other-store", "--into", "" }, "--into: the path is empty")]
    [TestCase(new[] { "report", "--profile", "quick", "--findings", "F01", "--since", "" }, "--since: the path is empty")]
    [TestCase(new[] { "report", "--profile", "quick", "--findings", "F01", "--output", "" }, "--output: the path is empty")]
    [TestCase(new[] { "data", "--cache", "" }, "--cache: the path is empty")]
    [TestCase(new[] { "data", "--dataset", "mnist", "--folder", "" }, "--folder: the path is empty")]
    [TestCase(new[] { "baselines", "list", "--root", "" }, "--root: the path is empty")]
    [TestCase(new[] { "baselines", "accept", "--root", "" }, "--root: the path is empty")]
    [TestCase(new[] { "baselines", "list", "--root", "no-such-folder" }, "--root 'no-such-folder': no such folder")]
    [TestCase(new[] { "baselines", "accept", "--root", "configs/F01.json" }, "--root 'configs/F01.json': a file, not a folder")]
    public void An_empty_path_or_a_baselines_root_that_is_no_folder_is_refused(string[] args, string message)
    {
        var error = "";
        ExpectNothingWrittenOutsideArtifacts(() =>
        {
            var run = Run(args);
            error = run.Error;
            return run;
        }, ExitCodes.BadInput, message);
        error.Should().NotContain("System.", "the message names the argument or option and what it expects, not a .NET type");
        Directory.Exists(Artifacts).Should().BeFalse("nothing is written");
    }

    [Test]
    public void A_finding_config_with_a_bad_claim_or_profile_is_refused()
    {
        var config = File.ReadAllText(Path.Combine(root, "configs", "F02.json"));
        File.WriteAllText(Path.Combine(root, "configs", "F02.json"), config.Replace("\"kind\": \"exceeds\"", "\"kind\": \"beats\"", StringComparison.Ordinal));
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--findings", "F02"]), ExitCodes.BadInput, "F02.json claims[0]", "kind = 'beats'");
        File.WriteAllText(Path.Combine(root, "configs", "F02.json"), config.Replace("\"seeds\": [1, 2, 3, 4, 5]", "\"seeds\": []", StringComparison.Ordinal));
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--findings", "F02"]), ExitCodes.BadInput, "F02.json", "seeds is an empty list");
        File.WriteAllText(Path.Combine(root, "configs", "F02.json"), config);
        File.WriteAllText(Path.Combine(root, "configs", "datasets.json"), """{"fashion-mnist": {"quickTier": {"category": "Nightly", "reason": "r"}}}""");
        ExpectNothingWrittenOutsideArtifacts(() => Run(["reproduce", "--profile", "quick", "--dataset", "fashion-mnist", "--findings", "F02"]), ExitCodes.BadInput,
            "configs/datasets.json fashion-mnist: quickTier:category = 'Nightly': expected Quick or Extended.");
    }

    [TestCase("F01", "\"finding\": \"F01\",", "\"finding\": \"F01\", \"finding\": \"F01\",", "configs/F01.json: key 'finding' is given twice")]
    [TestCase("F01", "\"kind\": \"ordered\",", "\"kind\": \"ordered\", \"Kind\": \"ordered\",", "configs/F01.json: key 'claims:0:Kind' is given twice (also as 'kind'")]
    [TestCase("F01", "\"claims\":", "\"Claims\":", "configs/F01.json: unknown key 'Claims' (did you mean 'claims'?")]
    [TestCase("F01", "\"finding\": \"F01\",", "\"finding\": \"F01\", \"quickTier\": {\"category\": 1},", "configs/F01.json: quickTier:category = 1: expected text")]
    [TestCase("F05", "\"within\": [0.25, 0.75]", "\"within\": [\"low\", 0.75]", "configs/F05.json claims[0]", "within:0 = \"low\": expected a finite number")]
    [TestCase("datasets", "\"quickTier\": {", "\"quickTier\": {\"category\": \"Quick\"}, \"quickTier\": {", "configs/datasets.json: key 'fashion-mnist:quickTier' is given twice")]
    [TestCase("datasets", "\"quickTier\": {", "\"QuickTier\": {", "configs/datasets.json fashion-mnist: unknown key 'QuickTier' (did you mean 'quickTier'?")]
    public void A_finding_config_with_a_repeated_key_a_wrong_type_or_a_key_in_the_wrong_case_is_refused(string config, string find, string replace, string message, string? more = null)
    {
        var path = Path.Combine(root, "configs", config + ".json");
        var text = File.ReadAllText(path);
        text.Should().Contain(find);
        File.WriteAllText(path, text.Replace(find, replace, StringComparison.Ordinal));
        var finding = config == "datasets" ? "F01" : config;
        ExpectNothingWrittenOutsideArtifacts(() => Run(["report", "--profile", "quick", "--findings", finding]), ExitCodes.BadInput, [message, .. more is null ? [] : new[] { more }]);
    }

    [Test]
    public void A_named_data_folder_that_fails_verification_is_binding_and_lists_every_bad_file()
    {
        var folder = Path.Combine(root, "my-mnist");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"), new byte[10]);

        var run = Run(["data", "--dataset", "mnist"], ("REPRO_MNIST_DIR", folder));
        Expect(run, ExitCodes.DataUnavailable, "failed verification (4 of 4 files)", "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "--allow-fallback");

        var train = Write("ok.json", $$"""{ "trainSamples": 1000, "phases": [ {{Phase}} ] }""");
        Expect(Run(["train", train], ("REPRO_MNIST_DIR", folder)), ExitCodes.DataUnavailable, "failed verification");
        Directory.Exists(Path.Combine(Artifacts, "runs", "mnist", "training")).Should().BeTrue();
        Directory.GetDirectories(Path.Combine(Artifacts, "runs", "mnist", "training")).Should().BeEmpty("a failed data load leaves no empty run folder");

        Expect(Run(["data", "--dataset", "mnist", "--allow-fallback"], ("REPRO_MNIST_DIR", folder)), ExitCodes.Ok);
    }

    [Test]
    public void A_diverging_run_is_an_outcome_stored_as_such_and_train_exits_4()
    {
        var file = Write("diverge.json", """{ "trainSamples": 1000, "phases": [ { "epochs": 3, "batchSize": 100, "learningRate": 1000000 } ] }""");
        var run = Run(["train", file]);
        Expect(run, ExitCodes.Diverged, "diverged at epoch", "stored as a diverged outcome");
        var stored = Directory.GetFiles(Path.Combine(Artifacts, "runs"), ExperimentStore.ResultFile, SearchOption.AllDirectories);
        stored.Should().ContainSingle();
        File.ReadAllText(stored[0]).Should().Contain("\"status\": \"diverged\"").And.Contain("\"divergence\"");
        Expect(Run(["train", file]), ExitCodes.Diverged, "diverged at epoch");
    }

    [Test]
    public void A_stored_run_changed_after_it_was_written_is_moved_aside_and_trained_again_with_the_same_numbers()
    {
        var file = Write("ok.json", $$"""{ "trainSamples": 1000, "phases": [ {{Phase}} ] }""");
        Expect(Run(["train", file]), ExitCodes.Ok);
        var path = Directory.GetFiles(Path.Combine(Artifacts, "runs"), ExperimentStore.ResultFile, SearchOption.AllDirectories).Single();
        static string Numbers(string file)
        {
            var epoch = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!["result"]!["epochs"]![0]!;
            return string.Join(" ", new[] { "trainLoss", "testLoss", "testAccuracy", "weightNorm", "weightDistance" }.Select(k => epoch[k]!.ToJsonString()));
        }
        var original = Numbers(path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["result"]!["epochs"]![0]!["testAccuracy"] = 0.999; // a number edited by hand
        File.WriteAllText(path, json.ToJsonString());

        var run = Run(["train", file]);
        Expect(run, ExitCodes.Ok);
        (run.Out + run.Error).Should().Contain(path).And.Contain("SHA-256").And.Contain("Moved aside");
        Directory.GetFiles(Path.GetDirectoryName(path)!, "result.json.corrupt-*").Should().ContainSingle("it is kept aside, never deleted");
        Numbers(path).Should().Be(original,
            "the run trains again from its seed to the same numbers");
    }

    [Test]
    public void A_run_killed_with_SIGKILL_resumes_to_byte_identical_final_weights()
    {
        var file = Write("long.json", """{ "trainSamples": 2000, "phases": [ { "epochs": 6, "batchSize": 100, "learningRate": 0.05 } ] }""");
        var straight = Path.Combine(root, "straight");
        Expect(Run(["train", file], ("REPRO_ARTIFACTS", straight)), ExitCodes.Ok);

        var runs = Path.Combine(Artifacts, "runs");
        bool SecondCheckpointWritten() => Directory.Exists(runs) &&
            Directory.GetFiles(runs, "checkpoint-00002.bin", SearchOption.AllDirectories).Length > 0;
        var killed = Run(["train", file], SecondCheckpointWritten);
        killed.Exit.Should().NotBe(ExitCodes.Ok, "it was killed part way");
        Directory.GetFiles(runs, ExperimentStore.ResultFile, SearchOption.AllDirectories).Should().BeEmpty();

        var resumed = Run(["train", file]);
        Expect(resumed, ExitCodes.Ok);
        var weights = Directory.GetFiles(runs, "final.weights", SearchOption.AllDirectories).Single();
        var reference = Directory.GetFiles(straight, "final.weights", SearchOption.AllDirectories).Single();
        File.ReadAllBytes(weights).Should().Equal(File.ReadAllBytes(reference), "a resumed run ends with the same bytes as one never stopped");
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(weights)!, ExperimentStore.ResultFile)))!
            ["result"]!["resumedFromEpoch"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(2);
    }

    [Test]
    public void The_report_exits_5_and_says_so_when_a_stored_run_it_needs_is_unreadable()
    {
        var finding = FindingProfile.Load("F01", "quick", Path.Combine(root, "configs"));
        var work = finding.Experiment.Plan("cpu", "F01 quick")[0];
        var store = new ExperimentStore(Path.Combine(Artifacts, "runs"));
        Directory.CreateDirectory(store.Folder(work.Key));
        File.WriteAllText(store.ResultPath(work.Key), "{ \"formatVersion\": 2, \"kind\": \"training\", garbage");

        var run = Run(["report", "--profile", "quick", "--findings", "F01"]);
        Expect(run, ExitCodes.CorruptState, store.ResultPath(work.Key), "unreadable");
        File.ReadAllText(Path.Combine(Artifacts, "report", "quick", "REPORT.md")).Should().Contain("| stored result unreadable |");
        File.Exists(store.ResultPath(work.Key)).Should().BeTrue("the report never moves or deletes what it cannot read");
    }

    [Test]
    public void Baselines_list_exits_5_on_a_malformed_baseline()
    {
        File.WriteAllText(Path.Combine(root, "baselines", "quick", "mnist", "F01.json"), "{ \"schemaVersion\": 1, \"finding\": ");
        Expect(Run(["baselines", "list"]), ExitCodes.CorruptState, "F01.json");
    }
}
