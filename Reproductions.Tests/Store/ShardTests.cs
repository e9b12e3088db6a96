using System.Text.Json.Nodes;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Reproductions.Tests.Training;

namespace Reproductions.Tests.Store;

/// <summary>
/// Sharding a run set (<see cref="RunSet"/>) and merging the shards' stores (<see cref="StoreMerge"/>): two shards run
/// into separate stores and merged give the report the unsharded run gives.
/// </summary>
[Unit, NonParallelizable]
public sealed class ShardTests
{
    private string root = null!;
    private string configs = null!;
    private static TrainingData data = null!;

    // F97: three runs on the synthetic data; "small" stacks its two seeds with "small_fast" (same schedule, another rate), "large" trains alone.
    private const string Config = """
        {
          "finding": "F97",
          "claim": "Smaller batches reach higher test accuracy.",
          "reference": {},
          "report": { "metrics": ["trainAccuracy", "testAccuracy", "weightDistance"],
                      "figures": [ { "kind": "curves", "metric": "testAccuracy", "title": "F97: test accuracy per epoch" } ] },
          "claims": [
            { "id": "small_beats_large", "statement": "bs 50 ends above bs 300 in test accuracy.", "kind": "exceeds", "a": "small.testAccuracy", "b": "large.testAccuracy" }
          ],
          "profiles": {
            "full": {
              "description": "The synthetic data, 2 epochs.",
              "seeds": [1, 2],
              "base": { "preprocessing": "unit", "model": { "widths": [784, 32, 10] }, "device": "cpu" },
              "runs": {
                "small":      { "stack": true, "phases": [ { "epochs": 2, "batchSize": 50,  "learningRate": 0.05 } ] },
                "small_fast": { "stack": true, "phases": [ { "epochs": 2, "batchSize": 50,  "learningRate": 0.1 } ] },
                "large":      { "phases": [ { "epochs": 2, "batchSize": 300, "learningRate": 0.05 } ] }
              },
              "bands": { "stdMultiplier": 4, "minAbsolute": 0.002, "reason": "a test floor" }
            },
            "quick": { "description": "The same.", "changes": {} }
          }
        }
        """;

    [OneTimeSetUp]
    public void CreateData() => data = SyntheticData.Create();

    [OneTimeTearDown]
    public void DisposeData() => data.Dispose();

    [SetUp]
    public void SetUp()
    {
        root = Path.Combine(Path.GetTempPath(), "repro-shards-" + Guid.NewGuid().ToString("N"));
        configs = Path.Combine(root, "configs");
        Directory.CreateDirectory(configs);
        File.Copy(Path.Combine(RepoPaths.Configs, "defaults.json"), Path.Combine(configs, "defaults.json"));
        File.WriteAllText(Path.Combine(configs, "F97.json"), Config);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    private FindingProfile Finding() => FindingProfile.Load("F97", "quick", configs);

    private IReadOnlyList<Work> Units() => RunSet.Units([Finding().Experiment.Plan("cpu", "F97 quick"), Finding().Experiment.Plan("cpu", "F97 quick again")]);

    [TestCase("1/1", 1, 1)]
    [TestCase("2/4", 2, 4)]
    [TestCase("4/4", 4, 4)]
    public void A_shard_is_k_of_n(string text, int k, int n) => Shard.Parse(text).Should().Be(new Shard(k, n));

    [TestCase("0/4")]
    [TestCase("5/4")]
    [TestCase("1/0")]
    [TestCase("1")]
    [TestCase("a/b")]
    [TestCase("-1/2")]
    [TestCase("1/2/3")]
    public void A_bad_shard_is_bad_input_saying_what_was_expected(string text) =>
        FluentActions.Invoking(() => Shard.Parse(text)).Should().Throw<BadInputException>().WithMessage($"--shard '{text}': expected k/n*");

    [Test]
    public void The_run_set_holds_each_unit_once_with_what_it_reads_first()
    {
        var units = Units();
        units.Select(u => u.Key).Should().OnlyHaveUniqueItems("the two plans share every unit");
        units.Should().HaveCount(7, "one stack of four runs, its four members and two lone runs");
        var stack = units.OfType<StackWork>().Should().ContainSingle().Subject;
        stack.Configs.Should().HaveCount(4, "small and small_fast share a schedule: two rates, two seeds");
        units.ToList().IndexOf(stack).Should().BeLessThan(units.OfType<TrainingWork>().Where(w => w.Stack is not null).Select(w => units.ToList().IndexOf(w)).Min());
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(9)]
    public void Shards_cover_the_run_set_once_keep_what_is_read_together_and_are_the_same_every_time(int count)
    {
        var units = Units();
        var shares = Enumerable.Range(1, count).Select(k => RunSet.Share(units, new Shard(k, count))).ToList();
        shares.SelectMany(s => s).Select(u => u.Key).Should().BeEquivalentTo(units.Select(u => u.Key), "every unit in exactly one shard");
        var stackShard = shares.FindIndex(s => s.OfType<StackWork>().Any());
        shares[stackShard].OfType<TrainingWork>().Count(w => w.Stack is not null).Should().Be(4, "a stack's members go with it");
        foreach (var share in shares)
            foreach (var (unit, i) in share.Select((u, i) => (u, i)))
                foreach (var read in unit.Reads)
                    share.Take(i).Should().Contain(x => x.Key == read.Key, "what a unit reads runs before it, in its shard");
        var again = Enumerable.Range(1, count).Select(k => RunSet.Share(Units(), new Shard(k, count)).Select(u => u.Key).ToList()).ToList();
        again.Should().BeEquivalentTo(shares.Select(s => s.Select(u => u.Key).ToList()), o => o.WithStrictOrdering());
        if (count is 2 or 3) shares.Should().OnlyContain(s => s.Count > 0, "three groups (the stack and two lone runs) fill up to three shards");
        if (count == 2) shares[stackShard].Should().HaveCount(5, "the stack, the costliest group, alone in its shard");
    }

    [Test]
    public void Two_shards_run_apart_and_merged_give_the_report_of_the_unsharded_run()
    {
        var options = new RunOptions { Data = _ => data };
        var whole = new ExperimentStore(Path.Combine(root, "whole", "runs"));
        FindingRunner.Run(Finding(), whole, options);

        var units = RunSet.Units([Finding().Experiment.Plan("cpu", "F97 quick")]);
        var shardStores = new List<ExperimentStore>();
        for (var k = 1; k <= 2; k++)
        {
            var store = new ExperimentStore(Path.Combine(root, $"shard{k}", "runs"));
            foreach (var unit in RunSet.Share(units, new Shard(k, 2))) store.GetOrRunUntyped(unit, options);
            shardStores.Add(store);
        }
        var merged = Path.Combine(root, "merged", "runs");
        var first = StoreMerge.Merge(shardStores[0].Root, merged);
        var second = StoreMerge.Merge(shardStores[1].Root, merged);
        (first.Copied + second.Copied).Should().Be(units.Count);
        first.Conflicts.Concat(second.Conflicts).Concat(first.Refused).Concat(second.Refused).Should().BeEmpty();
        StoreMerge.Merge(shardStores[1].Root, merged).AlreadyThere.Should().Be(second.Copied, "merging again copies nothing");

        var a = new ReportBuilder("quick", whole, configs).Build(["F97"], Path.Combine(root, "whole", "report"));
        var b = new ReportBuilder("quick", new ExperimentStore(merged), configs).Build(["F97"], Path.Combine(root, "merged", "report"));
        a.Data.Findings[0].Missing.Should().BeEmpty();
        a.Data.Findings[0].Claims.Should().ContainSingle();
        Normalised(b.JsonPath).Should().Be(Normalised(a.JsonPath), "the same runs, the same numbers, the same verdicts");
        Without(File.ReadAllText(b.MarkdownPath)).Should().Be(Without(File.ReadAllText(a.MarkdownPath)));
        var figures = Directory.GetFiles(a.Folder, "*.png").Select(Path.GetFileName).Order().ToList();
        figures.Should().NotBeEmpty();
        foreach (var figure in figures)
            File.ReadAllBytes(Path.Combine(b.Folder, figure!)).Should().Equal(File.ReadAllBytes(Path.Combine(a.Folder, figure!)), figure);
    }

    /// <summary>report.json without what differs between two runs of the same units: when it was built, where the store is, and wall times.</summary>
    private static string Normalised(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        void Strip(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var key in o.Select(p => p.Key).ToList())
                        if (key is "generatedUtc" or "runStore" or "trainingSeconds" or "environment") o.Remove(key);
                        else Strip(o[key]);
                    break;
                case JsonArray array:
                    foreach (var item in array) Strip(item);
                    break;
            }
        }
        Strip(node);
        return node.ToJsonString();
    }

    /// <summary>REPORT.md without its lines of time and place.</summary>
    private static string Without(string markdown) =>
        string.Join('\n', markdown.Split('\n').Where(l => !l.Contains("Generated", StringComparison.OrdinalIgnoreCase) && !l.Contains("training time", StringComparison.OrdinalIgnoreCase)
                                                          && !l.Contains(Path.GetTempPath(), StringComparison.Ordinal)));

    /// <summary>A stored result's text with its result edited and its SHA-256 made to match again (as the store would have written it).</summary>
    private static string Resealed(string text, Action<JsonNode> edit)
    {
        var json = JsonNode.Parse(text)!;
        edit(json["result"]!);
        using var edited = System.Text.Json.JsonDocument.Parse(json.ToJsonString());
        json["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(edited.RootElement.GetProperty("result"), JsonDefaults.Options)));
        return json.ToJsonString();
    }

    private (ExperimentStore Source, TrainingWork Lone) OneStoredRun()
    {
        var units = RunSet.Units([Finding().Experiment.Plan("cpu", "F97 quick")]);
        var lone = units.OfType<TrainingWork>().First(w => w.Stack is null);
        var source = new ExperimentStore(Path.Combine(root, "source", "runs"));
        source.GetOrRunUntyped(lone, new RunOptions { Data = _ => data });
        return (source, lone);
    }

    [TestCase("{ not json", "unreadable")]
    [TestCase(null, "SHA-256")]
    public void A_target_result_that_fails_its_checks_is_named_moved_aside_and_replaced_by_the_verified_copy(string? text, string expected)
    {
        var (source, lone) = OneStoredRun();
        var sourceText = File.ReadAllText(source.ResultPath(lone.Key));
        var target = Path.Combine(root, "target", "runs");
        var folder = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        Directory.CreateDirectory(folder);
        var targetResult = Path.Combine(folder, ExperimentStore.ResultFile);
        // null: its content edited, its checksum left as it was
        var damaged = text ?? sourceText.Replace("\"epoch\": 2", "\"epoch\": 3", StringComparison.Ordinal);
        damaged.Should().NotBe(sourceText);
        File.WriteAllText(targetResult, damaged);

        var outcome = StoreMerge.Merge(source.Root, target);
        outcome.AlreadyThere.Should().Be(0, "a damaged copy is not the same result");
        outcome.Conflicts.Should().BeEmpty();
        outcome.Refused.Should().ContainSingle().Which.Should().StartWith(targetResult).And.Contain(expected).And.Contain("moved aside").And.Contain("replaced");
        File.ReadAllText(targetResult).Should().Be(sourceText);
        Directory.GetFiles(folder, "result.json.corrupt-*").Should().ContainSingle().Which.Should().Match(f => File.ReadAllText(f) == damaged, "nothing is lost");
        new ExperimentStore(target).TryLoadUntyped(lone).Should().NotBeNull();
    }

    [Test]
    public void A_merge_refuses_a_result_whose_format_was_changed_to_1_and_copies_no_temporary_or_set_aside_files()
    {
        var (source, lone) = OneStoredRun();
        var path = source.ResultPath(lone.Key);
        var folder = source.Folder(lone.Key);
        File.WriteAllText(Path.Combine(folder, ".result.json.123.abc.tmp"), "torn");
        File.WriteAllText(Path.Combine(folder, "result.json.corrupt-20260101T000000Z"), "old");
        Directory.CreateDirectory(Path.Combine(folder, "set-aside"));
        File.WriteAllText(Path.Combine(folder, "set-aside", "checkpoint-00001.bin.corrupt-20260101T000000Z"), "old");
        var target = Path.Combine(root, "target", "runs");
        StoreMerge.Merge(source.Root, target).Copied.Should().Be(1);
        var copied = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        Directory.EnumerateFileSystemEntries(copied).Select(Path.GetFileName).Should().BeEquivalentTo([ExperimentStore.ResultFile, TrainingWork.WeightsFile]);

        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["formatVersion"] = 1;
        File.WriteAllText(path, json.ToJsonString());
        StoreMerge.Check(path, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash).Should().Contain("its format was changed");
        json.AsObject().Remove("sha256");
        File.WriteAllText(path, json.ToJsonString());
        StoreMerge.Check(path, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash).Should().BeNull("a format 1 result, written before checksums, is still read");
    }

    [Test]
    public void A_merge_refuses_a_result_that_fails_its_checks_and_keeps_the_target_on_a_conflict()
    {
        var options = new RunOptions { Data = _ => data };
        var units = RunSet.Units([Finding().Experiment.Plan("cpu", "F97 quick")]);
        var lone = units.OfType<TrainingWork>().First(w => w.Stack is null);
        var source = new ExperimentStore(Path.Combine(root, "source", "runs"));
        source.GetOrRunUntyped(lone, options);
        var path = source.ResultPath(lone.Key);
        StoreMerge.Check(path, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash).Should().BeNull("a result as the store wrote it passes");

        var target = Path.Combine(root, "target", "runs");
        var conflicting = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        Directory.CreateDirectory(conflicting);
        // Another machine's result of the same unit: other timings, its own valid checksum.
        var other = Resealed(File.ReadAllText(path), result => result["trainingSeconds"] = result["trainingSeconds"]!.GetValue<double>() + 1);
        File.WriteAllText(Path.Combine(conflicting, ExperimentStore.ResultFile), other);
        var outcome = StoreMerge.Merge(source.Root, target);
        outcome.Conflicts.Should().ContainSingle().Which.Should().Contain(lone.Key.Hash);
        File.ReadAllText(Path.Combine(conflicting, ExperimentStore.ResultFile)).Should().Be(other, "a conflict never overwrites the target");

        File.WriteAllText(path, File.ReadAllText(path).Replace("\"epoch\": 2", "\"epoch\": 3", StringComparison.Ordinal));
        StoreMerge.Check(path, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash).Should().Contain("SHA-256");
        var refused = StoreMerge.Merge(source.Root, Path.Combine(root, "empty", "runs"));
        refused.Refused.Should().ContainSingle().Which.Should().StartWith(path);
        refused.Copied.Should().Be(0);
        Directory.Exists(Path.Combine(root, "empty", "runs", lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash)).Should().BeFalse();
        StoreMerge.Check(path, lone.Key.Dataset, lone.Key.Kind, "0123456789abcdef").Should().Contain("not the unit of its folder");
    }

    [Test]
    public void A_merge_checks_every_weights_file_it_copies_and_copies_nothing_of_a_result_whose_weights_changed()
    {
        var options = new RunOptions { Data = _ => data };
        var units = RunSet.Units([Finding().Experiment.Plan("cpu", "F97 quick")]);
        var source = new ExperimentStore(Path.Combine(root, "source", "runs"));
        foreach (var unit in units) source.GetOrRunUntyped(unit, options);
        var lone = units.OfType<TrainingWork>().First(w => w.Stack is null);
        var stack = units.OfType<TrainingWork>().First(w => w.Stack is not null).Stack!;
        var loneWeights = Path.Combine(source.Folder(lone.Key), TrainingWork.WeightsFile);
        var memberWeights = Path.Combine(source.Folder(stack.Key), StackWork.WeightsFileOf(1));
        foreach (var file in new[] { loneWeights, memberWeights }) Damage.FlipABiasBit(file);
        // The target holds a damaged copy of the lone run's result: a refused source leaves it as it is.
        var target = Path.Combine(root, "target", "runs");
        var targetFolder = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        Directory.CreateDirectory(targetFolder);
        File.WriteAllText(Path.Combine(targetFolder, ExperimentStore.ResultFile), "{ not json");

        var outcome = StoreMerge.Merge(source.Root, target);
        outcome.Refused.Should().HaveCount(2);
        foreach (var (file, result) in new[] { (loneWeights, source.ResultPath(lone.Key)), (memberWeights, source.ResultPath(stack.Key)) })
            outcome.Refused.Should().ContainSingle(r => r.StartsWith(file + ": its SHA-256 is ", StringComparison.Ordinal))
                .Which.Should().Contain($"but {result} records ").And.Contain("the weights file changed after it was stored").And.EndWith($"Not copied: {result} and the files beside it.");
        outcome.Copied.Should().Be(units.Count - 2, "the stack's runs, their weights as the stack wrote them, are copied");
        Directory.EnumerateFileSystemEntries(targetFolder).Should().ContainSingle().Which.Should().Match(f => File.ReadAllText(f) == "{ not json", "nothing of a refused result is copied or moved");
        Directory.Exists(Path.Combine(target, stack.Key.Dataset, stack.Key.Kind, stack.Key.Hash)).Should().BeFalse();

        // A result stored before weights were checksummed records none: its files are copied unchecked, as the store reads them.
        File.WriteAllText(source.ResultPath(lone.Key), Resealed(File.ReadAllText(source.ResultPath(lone.Key)), result => result.AsObject().Remove("weightsSha256")));
        // A weights file its result records that is not there is refused, the result not copied.
        File.Delete(memberWeights);
        var older = Path.Combine(root, "older", "runs");
        outcome = StoreMerge.Merge(source.Root, older);
        outcome.Refused.Should().ContainSingle().Which.Should().StartWith($"{memberWeights}: {source.ResultPath(stack.Key)} records its SHA-256, but the weights file is not there.");
        outcome.Copied.Should().Be(units.Count - 1);
        File.ReadAllBytes(Path.Combine(older, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash, TrainingWork.WeightsFile)).Should().Equal(File.ReadAllBytes(loneWeights));
    }

    [TestCase(TrainingWork.WeightsFile, "its SHA-256 is ")]
    [TestCase(ExperimentStore.ResultFile, "the staged copy fails its checks: its content does not match its SHA-256")]
    public void A_source_file_that_changes_after_its_checks_is_caught_in_the_staged_copy_and_nothing_lands(string file, string expected)
    {
        var (source, lone) = OneStoredRun();
        var path = Path.Combine(source.Folder(lone.Key), file);
        var original = File.ReadAllBytes(path);
        var target = Path.Combine(root, "target", "runs");

        var outcome = StoreMerge.Merge(source.Root, target, afterChecks: folder =>
        {
            // The window between the checks and the copy: a bit flipped in the weights, or the result's content edited.
            if (file == TrainingWork.WeightsFile) Damage.FlipABiasBit(path);
            else File.WriteAllText(path, File.ReadAllText(path).Replace("\"epoch\": 2", "\"epoch\": 3", StringComparison.Ordinal));
        });

        outcome.Copied.Should().Be(0);
        outcome.Refused.Should().ContainSingle().Which.Should().Contain(expected).And.Contain("(a source file changed while the merge copied it)")
            .And.EndWith($"Not copied: {source.ResultPath(lone.Key)} and the files beside it.");
        Directory.Exists(Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash)).Should().BeFalse("nothing of it lands, and the folder the merge made is removed");

        File.WriteAllBytes(path, original);
        StoreMerge.Merge(source.Root, target).Copied.Should().Be(1, "restored, it merges");
        var landed = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        Directory.EnumerateFileSystemEntries(landed).Select(Path.GetFileName).Should().BeEquivalentTo([ExperimentStore.ResultFile, TrainingWork.WeightsFile], "no staging folder is left");
        new ExperimentStore(target).TryLoadUntyped(lone).Should().NotBeNull();
    }

    [Test]
    public void A_damaged_source_is_named_even_where_the_target_holds_an_intact_copy_and_a_left_over_staging_folder_is_replaced()
    {
        var (source, lone) = OneStoredRun();
        var target = Path.Combine(root, "target", "runs");
        var landed = Path.Combine(target, lone.Key.Dataset, lone.Key.Kind, lone.Key.Hash);
        // An interrupted merge left its staging folder, with a torn copy in it.
        Directory.CreateDirectory(Path.Combine(landed, StoreMerge.StagingFolder));
        File.WriteAllText(Path.Combine(landed, StoreMerge.StagingFolder, TrainingWork.WeightsFile), "torn");
        StoreMerge.Merge(source.Root, target).Copied.Should().Be(1);
        Directory.Exists(Path.Combine(landed, StoreMerge.StagingFolder)).Should().BeFalse();
        var intact = File.ReadAllBytes(Path.Combine(landed, TrainingWork.WeightsFile));

        var weights = Path.Combine(source.Folder(lone.Key), TrainingWork.WeightsFile);
        Damage.FlipABiasBit(weights);
        var outcome = StoreMerge.Merge(source.Root, target);
        outcome.AlreadyThere.Should().Be(0);
        outcome.Refused.Should().ContainSingle().Which.Should().StartWith(weights + ": its SHA-256 is ")
            .And.EndWith($"The target's copy, which passes its checks, is kept: {Path.Combine(landed, ExperimentStore.ResultFile)}.");
        File.ReadAllBytes(Path.Combine(landed, TrainingWork.WeightsFile)).Should().Equal(intact, "the target is left as it was");
    }
}
