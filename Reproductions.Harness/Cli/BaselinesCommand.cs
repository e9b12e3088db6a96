using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Baselines;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>baselines accept [--profile p] [--finding F]</c>: promote received baseline files over the verified ones.
/// <c>baselines list</c>: each baseline with its metric count, seeds, and whether a received file waits.
/// Both take <c>--root</c> to work on another folder than the repository's baselines/.
/// </summary>
public static class BaselinesCommand
{
    public static Command Create()
    {
        var command = new Command("baselines", "Stored numbers that finding tests check for drift: list them, accept received ones.");
        command.Add(CreateAccept());
        command.Add(CreateList());
        return command;
    }

    private static Option<string?> RootOption() => new Option<string?>("--root")
    {
        Description = "Baselines folder (default: <repo>/baselines).",
    }.NonEmptyPath();

    /// <summary>An option's name value, checked: letters, digits, '-' and '_' only (it becomes a folder or file name).</summary>
    private static string? Name(string? value, string option) =>
        value is null || Identifiers.IsValid(value) ? value
            : throw new BadInputException($"{option} '{value}': expected letters, digits, '-' or '_' (e.g. quick, mnist, F01).");

    /// <summary>The baselines under --root (an existing folder: a missing one would read as "no baselines"), or the repository's.</summary>
    private static BaselineStore Store(ParseResult parseResult, Option<string?> root) => parseResult.GetValue(root) switch
    {
        null => BaselineStore.ForRepository(),
        var folder when Directory.Exists(folder) => new BaselineStore(folder),
        var folder => throw new BadInputException($"--root '{folder}': {(File.Exists(folder) ? "a file, not a folder" : "no such folder")}; name the baselines folder (e.g. baselines)."),
    };

    private static Command CreateAccept()
    {
        var profile = new Option<string?>("--profile") { Description = "Only this profile (e.g. quick, full)." };
        var dataset = new Option<string?>("--dataset") { Description = "Only this dataset (e.g. mnist)." };
        var finding = new Option<string?>("--finding") { Description = "Only this finding (e.g. F01)." };
        var root = RootOption();
        var accept = new Command("accept",
            "Promote <finding>.received.json files over the verified baselines (all, or those matching --profile/--dataset/--finding). Refused when CI is set.");
        accept.Add(profile);
        accept.Add(dataset);
        accept.Add(finding);
        accept.Add(root);
        accept.SetAction(parseResult => CliErrors.Guard(parseResult, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var p = Name(parseResult.GetValue(profile), "--profile");
            var d = Name(parseResult.GetValue(dataset), "--dataset");
            var f = Name(parseResult.GetValue(finding), "--finding");
            var store = Store(parseResult, root);
            var accepted = store.Accept(p, f, d);
            if (accepted.Count == 0)
            {
                var filter = (p, d, f) switch
                {
                    (null, null, null) => "",
                    _ => $" for{(p is null ? "" : $" profile {p}")}{(d is null ? "" : $" dataset {d}")}{(f is null ? "" : $" finding {f}")}",
                };
                output.WriteLine($"Nothing to accept{filter}: no *{BaselineStore.ReceivedSuffix} files under '{store.Root}'.");
                return 0;
            }
            foreach (var a in accepted)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Accepted {a.Finding} ({a.Profile}, {a.Dataset}): {a.MetricCount} metric(s) -> {a.Path}{(a.Replaced ? " (replaced the previous baseline)" : " (new)")}"));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{accepted.Count} baseline(s) accepted. Review the diff and commit the files."));
            return ExitCodes.Ok;
        }));
        return accept;
    }

    private static Command CreateList()
    {
        var root = RootOption();
        var list = new Command("list", "List the baselines: metric count, seeds, and whether a received file waits to be accepted.");
        list.Add(root);
        list.SetAction(parseResult => CliErrors.Guard(parseResult, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var store = Store(parseResult, root);
            var entries = store.List();
            if (entries.Count == 0)
            {
                output.WriteLine($"No baselines under '{store.Root}'.");
                return 0;
            }
            output.WriteLine($"Baselines under '{store.Root}':");
            var rows = new List<string[]> { new[] { "profile", "dataset", "finding", "metrics", "seeds", "received" } };
            foreach (var e in entries)
            {
                rows.Add([
                    e.Profile,
                    e.Dataset,
                    e.Finding,
                    e.MetricCount is { } n ? n.ToString(CultureInfo.InvariantCulture) : e.HasVerified ? "unreadable" : "-",
                    e.Seeds is { } s ? string.Join(",", s.Select(x => x.ToString(CultureInfo.InvariantCulture))) : "-",
                    e.ReceivedWaiting ? (e.HasVerified ? "waiting" : "waiting (no verified baseline yet)") : "-",
                ]);
            }
            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var r in rows)
                output.WriteLine(string.Join("  ", r.Select((cell, c) => c == 3 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
            foreach (var e in entries.Where(e => e.Error is not null))
                parseResult.InvocationConfiguration.Error.WriteLine($"error: {e.Error}");
            var waiting = entries.Count(e => e.ReceivedWaiting);
            if (waiting > 0)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{waiting} received file(s) wait: review them, then run 'dotnet run --project Reproductions.Harness -- baselines accept'."));
            return entries.Any(e => e.Error is not null) ? ExitCodes.CorruptState : ExitCodes.Ok;
        }));
        return list;
    }
}
