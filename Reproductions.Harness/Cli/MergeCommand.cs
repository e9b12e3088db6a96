using System.CommandLine;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Store;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>merge &lt;store&gt;...</c>: copies the results of other run stores (the shards of a run set, a GPU machine's store) into
/// this one (<see cref="StoreMerge"/>), so that <c>report</c> and the test tiers read them all.
/// </summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var fromArgument = new Argument<string[]>("stores") { Description = "Run stores to merge from (folders like artifacts/runs of another machine or shard).", Arity = ArgumentArity.OneOrMore }.NonEmptyPaths();
        var intoOption = new Option<string?>("--into") { Description = "The run store to merge into; default: this checkout's artifacts/runs (REPRO_ARTIFACTS moves it)." }.NonEmptyPath();
        var command = new Command("merge", "Merge run stores (shards, another machine's results) into one by copying their checked results.") { fromArgument, intoOption };
        command.SetAction(parse => CliErrors.Guard(parse, () => Merge(parse.GetValue(fromArgument)!, parse.GetValue(intoOption))));
        return command;
    }

    private static int Merge(IReadOnlyList<string> stores, string? into)
    {
        var target = into ?? ExperimentStore.Default.Root;
        var refused = 0;
        foreach (var from in stores)
        {
            var outcome = StoreMerge.Merge(from, target, line => Console.Error.WriteLine(line));
            AnsiConsole.MarkupLine(Markup.Escape($"{from}: {outcome.Copied} result(s) copied, {outcome.AlreadyThere} already there, " +
                                                 $"{outcome.Conflicts.Count} conflict(s) (kept the target's), {outcome.Refused.Count} refused."));
            refused += outcome.Refused.Count;
        }
        AnsiConsole.MarkupLine(Markup.Escape($"Merged into {Path.GetFullPath(target)}."));
        if (refused == 0) return ExitCodes.Ok;
        Console.Error.WriteLine($"error: {refused} stored result(s) failed their checks (listed above, each with what was done: a source's is not copied; a target's is moved aside and replaced by a verified copy where the source has one).");
        return ExitCodes.CorruptState;
    }
}
