using Reproductions.Harness.Trials;
using System.CommandLine;
using MathNet.Numerics.Statistics;
using System.Globalization;
using Reproductions.Harness.Benchmarks;
using Reproductions.Harness.Data;
using Reproductions.Harness.Findings;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary><c>bench</c>: one epoch at each batch size, as GFLOP/s and as a ratio to torch.mm measured in the same process.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<int[]>("--batch-sizes")
        {
            Description = "Batch sizes to time (default 64 256 1024; with --gradient-competition, the protocol's 15).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [64, 256, 1024],
        };
        var competition = new Option<bool>("--gradient-competition")
        {
            Description = "Instead of training epochs: the gradient-competition engine's time per sample at each batch size against its roofline " +
                          "(compute bound: the step's FLOPs at torch.mm's GFLOP/s; memory bound: the bytes a step moves at a large tensor copy's bandwidth), " +
                          "stacking and fusing compared, and the literal trials' time for the quick and full profiles.",
        };
        var trials = new Option<int?>("--trials")
        {
            Description = "Stacked trials per worker for --gradient-competition (default: the full profile's chunk on this device, as the engine stacks them: 16 on the CPU, 256 on CUDA).",
        };
        var stacked = new Option<int?>("--stacked")
        {
            Description = "Instead of the plain comparison: N runs (seeds 1..N) trained as one stack against the same runs one at a time, per model-epoch, " +
                          "with the operations each step issues and the floor they set at the per-operation latency measured in the same process.",
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "The plain comparison: epochs of each (harness, plain loop) per batch size, interleaved; the figures are their medians (default 3).",
            DefaultValueFactory = _ => 3,
        };
        var samples = new Option<int?>("--samples") { Description = "Train on this many of the training samples (a seeded subset) instead of all of them: shorter epochs, so more repeats in the same time (the plain loop trains on the same subset)." };
        var command = new Command("bench", "Time one training epoch per batch size against torch.mm's GFLOP/s and a plain TorchSharp loop.") { sizes, competition, trials, stacked, samples, repeats };
        command.SetAction(parse => CliErrors.Guard(parse, () =>
        {
            if (parse.GetValue(sizes)!.Where(b => b < 1).Select(b => (int?)b).FirstOrDefault() is { } bad)
                throw new BadInputException($"--batch-sizes: {bad} is not a batch size; give sizes of at least 1.");
            if (parse.GetValue(repeats) < 1) throw new BadInputException($"--repeats {parse.GetValue(repeats)}: at least 1 repeat.");
            if (parse.GetResult(repeats) is { Implicit: false } && (parse.GetValue(competition) || parse.GetValue(stacked) is not null))
                throw new BadInputException("--repeats: only for the plain comparison (not with --stacked or --gradient-competition).");
            if (parse.GetValue(samples) is { } n && n < 1) throw new BadInputException($"--samples {n}: at least 1 training sample.");
            if (parse.GetValue(stacked) is { } models)
                return models >= 1 ? BenchStacked(parse.GetValue(sizes)!, models, parse.GetValue(samples)) : throw new BadInputException($"--stacked {models}: at least 1 model.");
            if (parse.GetValue(samples) is not null && parse.GetValue(competition)) throw new BadInputException("--samples: not with --gradient-competition (its trials train on random data).");
            if (!parse.GetValue(competition)) return Bench(parse.GetValue(sizes)!, parse.GetValue(repeats), parse.GetValue(samples));
            var given = parse.GetResult(sizes) is { Implicit: false };
            return BenchCompetition(given ? parse.GetValue(sizes)! : null, parse.GetValue(trials));
        }));
        return command;
    }

    private static int BenchCompetition(int[]? batchSizes, int? stackedTrials)
    {
        var quick = CompetitionProfileOf("quick");
        var full = CompetitionProfileOf("full");
        var device = Devices.Resolve(full.RegimeConfig(full.Regimes[0].Name).Device);
        var trials = stackedTrials ?? full.Engine.MaxTrialsFor(device);
        if (trials < 1) throw new BadInputException($"--trials {trials}: at least 1 stacked trial per worker.");
        var sizes = batchSizes ?? full.BatchSizes.ToArray();
        AnsiConsole.MarkupLine($"Gradient-competition engine on {Markup.Escape(Devices.Describe(device))}: literal protocol (mean loss), blog's MLP, {trials} stacked trials per worker, random data.");
        var report = GradientCompetitionBench.Run(device, sizes, trials, log: line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        AnsiConsole.Write(RooflineTable(report));
        if (report.Engines.Count > 0) AnsiConsole.Write(EngineTable(report));
        foreach (var profile in new[] { quick, full })
        {
            var seconds = GradientCompetitionBench.EstimateLiteralSeconds(profile, report.Rows);
            var split = string.Join(", ", profile.Variants.Where(v => v.Variant.IsLiteral()).Select(v => FormattableString.Invariant($"{v.Variant.Name()} {v.TrialsPerSeed} x {profile.Seeds.Count} seeds")));
            AnsiConsole.MarkupLine(Markup.Escape(
                FormattableString.Invariant($"{profile.Profile} profile, literal trials on this device: about {seconds:F0} s ({seconds / 3600:F2} h), from the time per sample measured above ") +
                $"({split} per B and regime; unmeasured B take the nearest measured B below them). Regime training and the single-step trials come on top."));
        }
        return 0;
    }

    /// <summary>The gradient competition's settings for a profile, from configs/gradient-competition.json.</summary>
    private static CompetitionProfile CompetitionProfileOf(string profile) =>
        ((CompetitionExperiment)FindingProfile.LoadExperiment("gradient-competition", profile).Experiment).Profile;

    public static Table RooflineTable(RooflineReport r)
    {
        var table = new Table().Title(Markup.Escape($"Gradient-competition engine vs roofline ({r.Device}; update {r.Mode}; {r.Workers} worker(s) x {r.ThreadsPerWorker} thread(s))"))
            .Caption(Markup.Escape(
                FormattableString.Invariant($"Bounds measured in this process: torch.mm {r.MatmulGflops:F1} GFLOP/s (1024^3), tensor copy {r.CopyGBps / 1e9:F1} GB/s (read + write). ") +
                "Per sample: FLOPs = forward + layers 2..'s input gradients + weight gradients; bytes = a step's weight traffic (forward read, backward read, update read + write) / B."));
        foreach (var c in new[] { "B", "steps timed", "engine us/sample", "compute bound us", "memory bound us", "bound", "engine / bound" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (var row in r.Rows)
            table.AddRow(I(row.BatchSize), I(row.StepsTimed), F(row.SecondsPerSample * 1e6, "F1"), F(row.ComputeBoundSeconds * 1e6, "F2"),
                F(row.MemoryBoundSeconds * 1e6, "F2"), row.BoundKind, F(row.Ratio, "F2"));
        return table;
    }

    public static Table EngineTable(RooflineReport r)
    {
        var table = new Table().Title("Stacking and fusing compared (literal protocol, us per sample)");
        table.AddColumn("B");
        table.AddColumn("engine");
        table.AddColumn(new TableColumn("us/sample").RightAligned());
        table.AddColumn(new TableColumn("vs first").RightAligned());
        foreach (var group in r.Engines.GroupBy(e => e.BatchSize))
        {
            var first = group.First().SecondsPerSample;
            foreach (var e in group)
                table.AddRow(I(e.BatchSize), Markup.Escape(e.Engine), F(e.SecondsPerSample * 1e6, "F1"), F(e.SecondsPerSample / first, "F2"));
        }
        return table;
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Count(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";

    /// <summary>configs/defaults.json (and REPRO_SET__ overrides), on <paramref name="samples"/> training samples when given.</summary>
    private static TrainingConfig DefaultConfig(int? samples)
    {
        var defaults = Path.Combine(RepoPaths.Configs, "defaults.json");
        var layers = new List<ConfigLayer> { ConfigLayer.FromSection("configs/defaults.json", ConfigLoader.ReadJson(defaults)) };
        if (samples is { } n) layers.Add(ConfigLayer.FromPairs("--samples", ("trainSamples", n)));
        layers.Add(ConfigLoader.EnvironmentLayer());
        return ConfigLoader.Build(layers);
    }

    private static int BenchStacked(int[] batchSizes, int models, int? samples)
    {
        var config = DefaultConfig(samples);
        var data = DataSets.Get(config.Dataset);
        var device = Devices.Resolve(config.Device);
        AnsiConsole.MarkupLine($"Stacked bench on {Markup.Escape(Devices.Describe(device))}: model {string.Join("-", config.Model.Widths)}, {config.TrainSamples ?? data.TrainImages.shape[0]} training samples, {models} runs, one epoch each.");
        var rows = StackedBench.Run(data, config, batchSizes, models, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        foreach (var table in StackedTables(rows)) AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>The stacked bench's two tables: its times, then the operations a step issues and the floor they set.</summary>
    public static IReadOnlyList<Table> StackedTables(IReadOnlyList<StackedBenchRow> rows)
    {
        var times = new Table().Title("Stacked training against one run at a time (time per model)")
            .Caption(Markup.Escape("mm: the training GFLOP/s over torch.mm's (1024^3, same process). " +
                                   "step: the step the stack takes here (as runs do); other step: the same stacked epoch with the other kind (plain SGD only), and the gain of the choice (above 1: the choice pays). " +
                                   "size-free: seed 1's weights after the epoch are the same bit for bit in the stack and in a stack of its own (else the largest difference)."));
        foreach (var c in new[] { "batch", "models", "lone s/epoch", "stacked s/model-epoch", "speed-up", "lone ms/step", "stacked ms/model-step",
                     "lone / mm", "stacked / mm", "step", "other step s/model-epoch", "step's gain", "size-free" })
            times.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in rows)
            times.AddRow(I(r.BatchSize), I(r.Models), F(r.LoneSecondsPerEpoch, "F2"), F(r.SecondsPerModelEpoch, "F2"), F(r.Speedup, "F2"),
                F(r.LoneSecondsPerStep * 1e3, "F3"), F(r.StackedSecondsPerModelStep * 1e3, "F3"), F(r.LoneMmRatio, "F3"), F(r.StackedMmRatio, "F3"),
                r.HandFormed ? "hand-formed" : "autograd", r.OtherStepSecondsPerEpoch is { } o ? F(o / r.Models, "F2") : "", r.StepChoiceGain is { } g ? F(g, "F2") : "",
                r.SizeFreeDifference == 0 ? "yes" : Markup.Escape(FormattableString.Invariant($"no: {r.SizeFreeDifference:G3}")));
        var operations = new Table().Title("What a step issues, and the floor it sets")
            .Caption(Markup.Escape("ops: tensors a step creates in TorchSharp (each output of a libtorch call made from C#, views included). Autograd's backward runs inside libtorch and creates none that are counted, " +
                                   "so an autograd step's ops leave out its backward's kernels: compare steps by launches, not ops. " +
                                   "launches: the kernel launches CUPTI counted in the CUDA driver for the same step (REPRO_CUPTI; empty where not counted); " +
                                   "syncs/epoch: the host synchronisations of a whole stacked epoch, evaluation included (untimed). " +
                                   "floor: launches (else ops) x the latency of one small libtorch call on this device, measured in this process; time / floor: the step's measured time over it."));
        foreach (var c in new[] { "batch", "lone ops/step", "stacked ops/step", "lone launches/step", "stacked launches/step", "syncs/epoch", "op latency us",
                     "lone floor ms/step", "stacked floor ms/model-step", "lone time / floor", "stacked time / floor" })
            operations.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in rows)
            operations.AddRow(I(r.BatchSize), F(r.LoneOpsPerStep, "F0"), F(r.StackedOpsPerStep, "F0"),
                Count(r.LoneCalls?.Launches), Count(r.StackedCalls?.Launches), Count(r.StackedEpochCalls?.Syncs), F(r.OpLatencySeconds * 1e6, "F2"),
                F(r.LoneFloorPerStep * 1e3, "F3"), F(r.StackedFloorPerModelStep * 1e3, "F3"),
                F(r.LoneSecondsPerStep / r.LoneFloorPerStep, "F2"), F(r.StackedSecondsPerModelStep / r.StackedFloorPerModelStep, "F2"));
        return [times, operations];
    }

    private static int Bench(int[] batchSizes, int repeats, int? samples)
    {
        var config = DefaultConfig(samples);
        var data = DataSets.Get(config.Dataset);
        var device = Devices.Resolve(config.Device);
        AnsiConsole.MarkupLine($"Bench on {Markup.Escape(Devices.Describe(device))}: model {string.Join("-", config.Model.Widths)}, {config.TrainSamples ?? data.TrainImages.shape[0]} training samples, one epoch each, {repeats} repeats.");
        var rows = TrainingBench.Run(data, config, batchSizes, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), repeats);
        var table = new Table().Title("Training speed (FLOPs: forward 2 x sum(in x out) per sample, a step 3 x forward)")
            .Caption(Markup.Escape(FormattableString.Invariant($"Epoch times are medians of {repeats} interleaved repeats. harness / plain: the plain loop's median epoch over the harness's (above 1: the harness is faster); ") +
                                   "per repeat: the same ratio within each repeat, their median (lowest-highest: this machine's noise). The plain loop starts from the harness's initial weights " +
                                   "and takes its batches in the same order; same arithmetic: both ended every repeat with the same weight norm, bit for bit."));
        foreach (var c in new[] { "batch", "torch.mm GFLOP/s", "harness s/epoch", "harness GFLOP/s", "harness / mm", "plain loop / mm", "harness / plain", "per repeat", "same arithmetic", "eval GFLOP/s", "eval / mm" })
            table.AddColumn(c);
        foreach (var r in rows)
            table.AddRow(string.Create(CultureInfo.InvariantCulture, $"{r.BatchSize}"), F(r.MmGflops, "F1"), F(r.HarnessTrainSeconds, "F2"),
                F(r.HarnessGflops, "F1"), F(r.HarnessRatio, "F3"), F(r.PlainRatio, "F3"), F(r.HarnessOverPlain, "F3"),
                $"{F(r.PairRatios.Median(), "F3")} ({F(r.PairRatios.Min(), "F3")}-{F(r.PairRatios.Max(), "F3")})", r.SameArithmetic ? "yes" : "no", F(r.EvalGflops, "F1"), F(r.EvalRatio, "F3"));
        AnsiConsole.Write(table);
        return 0;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
