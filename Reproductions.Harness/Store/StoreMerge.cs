using System.Security.Cryptography;
using System.Text.Json;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Store;

/// <summary>What a merge did: results copied, already there, kept apart (two different results under one key), refused.</summary>
public sealed record MergeOutcome(int Copied, int AlreadyThere, IReadOnlyList<string> Conflicts, IReadOnlyList<string> Refused);

/// <summary>
/// Merges stores made apart (the shards of a run set, a GPU machine's results) into one. The store is content-addressed,
/// so a merge copies: every <c>&lt;dataset&gt;/&lt;kind&gt;/&lt;hash&gt;/</c> folder whose <c>result.json</c> passes its checks
/// (its key matches its folder, its format is readable, its content matches its SHA-256) is copied with the files beside
/// it (a run's weights), the result last, so an interrupted merge leaves no result that is not whole. Every weights file
/// whose SHA-256 the result records (a training run's, a stack's) is checked first: one that is missing or changed keeps
/// the whole result out (named among the refused, even where the target already holds an intact copy), nothing of it
/// copied and nothing of the target moved. The files are first copied into a staging folder beside the target's
/// (<c>.merge-staging</c>, inside the unit's folder, where no reader looks) and checked again there: what lands is what
/// was checked, even if a source file changes while the merge reads it (then the result is refused and the staging
/// folder removed); only then are they renamed into place, the result last. Scratch folders (unfinished runs),
/// set-aside folders, files moved aside and temporary files are not copied. A result the target already holds is left as
/// it is; a different result under the same key is a conflict: the target's is kept and the other is named, never
/// overwritten. A target result that fails its checks is moved aside (never deleted), replaced by the source's verified
/// copy, and named among the refused (the merge found damage: exit 5).
/// </summary>
public static class StoreMerge
{
    /// <summary>The folder inside a unit's target folder that a merge copies its files into and checks before renaming them into place.</summary>
    public const string StagingFolder = ".merge-staging";

    /// <param name="from">The store to merge from.</param>
    /// <param name="into">The store to merge into (created if missing).</param>
    /// <param name="log">Each conflict and refusal, as it is found.</param>
    /// <param name="afterChecks">
    /// Called with a result's source folder once its checks have passed, before anything of it is copied: a seam for
    /// tests that change a source file in that window (the staged copy's check must catch it).
    /// </param>
    public static MergeOutcome Merge(string from, string into, Action<string>? log = null, Action<string>? afterChecks = null)
    {
        from = Path.GetFullPath(from);
        into = Path.GetFullPath(into);
        if (!Directory.Exists(from)) throw new BadInputException($"{from}: no such store folder to merge from.");
        if (string.Equals(from.TrimEnd(Path.DirectorySeparatorChar), into.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new BadInputException($"{from}: a store cannot be merged into itself.");
        int copied = 0, there = 0;
        var conflicts = new List<string>();
        var refused = new List<string>();
        var results = Directory.EnumerateFiles(from, ExperimentStore.ResultFile, SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(from, p).Split(Path.DirectorySeparatorChar))
            .Where(parts => parts.Length == 4) // <dataset>/<kind>/<hash>/result.json; nothing in a scratch folder
            .Select(parts => (Dataset: parts[0], Kind: parts[1], Hash: parts[2]))
            .OrderBy(k => $"{k.Dataset}/{k.Kind}/{k.Hash}", StringComparer.Ordinal);
        foreach (var (dataset, kind, hash) in results)
        {
            var source = Path.Combine(from, dataset, kind, hash);
            var sourceResult = Path.Combine(source, ExperimentStore.ResultFile);
            var (problem, sourceSha, weights) = Inspect(sourceResult, dataset, kind, hash);
            if (problem is not null)
            {
                refused.Add($"{sourceResult}: {problem}");
                continue;
            }
            var target = Path.Combine(into, dataset, kind, hash);
            var targetResult = Path.Combine(target, ExperimentStore.ResultFile);
            string? targetProblem = null, targetSha = null;
            if (File.Exists(targetResult)) (targetProblem, targetSha, _) = Inspect(targetResult, dataset, kind, hash);
            var targetIntact = targetSha is not null; // the target holds this unit's result, and it passes its checks
            // Every weights file is checked before anything of the result is copied or moved: one that fails keeps the whole
            // result out, and is named even where the target holds an intact copy (the source is damaged all the same).
            if (WeightsProblem(sourceResult, source, weights) is { } weightsProblem)
            {
                var kept = targetIntact ? $" The target's copy, which passes its checks, is kept: {targetResult}." : "";
                refused.Add($"{weightsProblem} Not copied: {sourceResult} and the files beside it.{kept}");
                continue;
            }
            if (targetIntact)
            {
                if (targetSha == sourceSha) there++;
                else conflicts.Add($"{dataset}/{kind}/{hash}: {sourceResult} differs from {targetResult}; kept the target's");
                continue;
            }
            afterChecks?.Invoke(source);
            var files = Directory.EnumerateFiles(source).Select(f => Path.GetFileName(f)).Where(Copied).Order(StringComparer.Ordinal).ToList();
            var created = !Directory.Exists(target);
            var staging = Path.Combine(target, StagingFolder);
            try
            {
                if (Staged(source, files, staging, dataset, kind, hash, sourceSha!, weights, sourceResult) is { } stagedProblem)
                {
                    refused.Add($"{stagedProblem} Not copied: {sourceResult} and the files beside it.");
                    continue;
                }
                if (targetProblem is not null)
                {
                    // The target's copy fails its checks and the source's passes: the target's is moved aside (never deleted) and
                    // replaced, and named as refused, so that the merge reports the damage it found (exit 5).
                    var aside = SetAside.Move(targetResult);
                    refused.Add($"{targetResult}: the target's result fails its checks: {targetProblem}; moved aside to {aside} and replaced by the verified copy of {sourceResult}");
                }
                foreach (var file in files) File.Move(Path.Combine(staging, file), Path.Combine(target, file), overwrite: true);
                File.Move(Path.Combine(staging, ExperimentStore.ResultFile), targetResult, overwrite: true);
                copied++;
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                if (created && Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any()) Directory.Delete(target);
            }
        }
        foreach (var line in conflicts) log?.Invoke("conflict: " + line);
        foreach (var line in refused) log?.Invoke("refused: " + line);
        return new MergeOutcome(copied, there, conflicts, refused);
    }

    /// <summary>
    /// Copies a result's files and then the result into <paramref name="staging"/> (emptied first: a folder an interrupted
    /// merge left), each flushed to disk, and checks the copies as the source was checked: the recorded weights' SHA-256,
    /// and the result's own checks with the content's SHA-256 the source had. Returns what differs, or null.
    /// </summary>
    private static string? Staged(string source, IReadOnlyList<string> files, string staging, string dataset, string kind, string hash,
        string sourceSha, IReadOnlyDictionary<string, string>? weights, string sourceResult)
    {
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        foreach (var file in files) AtomicFile.Copy(Path.Combine(source, file), Path.Combine(staging, file));
        var stagedResult = Path.Combine(staging, ExperimentStore.ResultFile);
        AtomicFile.Copy(sourceResult, stagedResult);
        const string changed = "(a source file changed while the merge copied it)";
        if (WeightsProblem(sourceResult, staging, weights) is { } weightsProblem) return $"{weightsProblem} {changed}";
        var (problem, stagedSha, _) = Inspect(stagedResult, dataset, kind, hash);
        if (problem is not null) return $"{sourceResult}: the staged copy fails its checks: {problem} {changed}";
        return stagedSha == sourceSha ? null : $"{sourceResult}: its copy's content is not the content that was checked {changed}";
    }

    /// <summary>
    /// Whether a file beside a result is copied with it: not the result (copied last), the lock, a temporary file of an
    /// interrupted write (<c>*.tmp</c>) or a file moved aside (<c>*.corrupt-*</c>).
    /// </summary>
    private static bool Copied(string name) =>
        name is not (ExperimentStore.ResultFile or ".lock") && !name.EndsWith(".tmp", StringComparison.Ordinal) && !name.Contains(".corrupt-", StringComparison.Ordinal);

    /// <summary>
    /// What is wrong with the weights files in <paramref name="folder"/> against
    /// the SHA-256 that their result <paramref name="result"/> records (<paramref name="hashes"/>: a training run's
    /// <see cref="Training.RunRecord.WeightsSha256"/>, a stack's <see cref="Protocols.StackRecord.WeightsSha256"/>), or null:
    /// a recorded file that is not there, or one whose content differs (<see cref="Training.RunRecord.WeightsProblem"/>). A
    /// result that records none (stored before weights were checksummed) is copied with its files unchecked.
    /// </summary>
    private static string? WeightsProblem(string result, string folder, IReadOnlyDictionary<string, string>? hashes) =>
        (hashes?.Keys ?? []).Order(StringComparer.Ordinal)
            .Select(file => Training.RunRecord.WeightsProblem(hashes, folder, file, result)).FirstOrDefault(p => p is not null);

    /// <summary>
    /// What is wrong with a stored result as the result of <paramref name="dataset"/>/<paramref name="kind"/>/<paramref name="hash"/>,
    /// or null: unreadable JSON, another unit's key, a format this harness does not read, or content that does not match its SHA-256.
    /// </summary>
    public static string? Check(string path, string dataset, string kind, string hash) => Inspect(path, dataset, kind, hash).Problem;

    /// <summary>
    /// <see cref="Check"/>'s answer, the SHA-256 of the result's content and the SHA-256 it records of the weights files
    /// beside it (<c>weightsSha256</c>; null when it records none or has a problem).
    /// </summary>
    private static (string? Problem, string? ContentSha, Dictionary<string, string>? Weights) Inspect(string path, string dataset, string kind, string hash)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var format = root.TryGetProperty("formatVersion", out var f) && f.TryGetInt32(out var n) ? n : -1;
            if (ExperimentStore.FormatProblem(format, root.TryGetProperty("sha256", out _)) is { } formatProblem) return ($"it {formatProblem}", null, null);
            if (Text("dataset") != dataset || Text("kind") != kind || Text("hash") != hash)
                return ($"it holds {Text("dataset")}/{Text("kind")}/{Text("hash")}, not the unit of its folder {dataset}/{kind}/{hash}", null, null);
            if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object) return ("it holds no result", null, null);
            var sha = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Options)));
            if (format >= 2 && sha != Text("sha256")) return ("its content does not match its SHA-256 (it changed after it was written)", null, null);
            var weights = result.TryGetProperty("weightsSha256", out var w) ? w.Deserialize<Dictionary<string, string>>(JsonDefaults.Options) : null;
            return (null, sha, weights);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return ($"unreadable ({e.Message})", null, null);
        }
    }
}
