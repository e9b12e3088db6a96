using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Benchmarks;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary><c>bench</c>: one epoch at each batch size, as GFLOP/s and as a ratio to torch.mm measured in the same process.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var sizes = new Option<int[]>("--batch-sizes") { Description = "Batch sizes to time.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [64, 256, 1024] };
        var command = new Command("bench", "Time one training epoch per batch size against torch.mm's GFLOP/s and a plain TorchSharp loop.") { sizes };
        command.SetAction(parse => CliErrors.Guard(() => Bench(parse.GetValue(sizes)!)));
        return command;
    }

    private static int Bench(int[] batchSizes)
    {
        var defaults = Path.Combine(RepoPaths.Configs, "defaults.json");
        var config = ConfigLoader.Build([ConfigLayer.FromSection("configs/defaults.json", ConfigLoader.ReadJson(defaults)), ConfigLoader.EnvironmentLayer()]);
        var data = DataSets.Get(config.Dataset);
        var device = Devices.Resolve(config.Device);
        AnsiConsole.MarkupLine($"Bench on {Markup.Escape(Devices.Describe(device))}: model {string.Join("-", config.Model.Widths)}, {data.TrainImages.shape[0]} training samples, one epoch each.");
        var rows = TrainingBench.Run(data, config, batchSizes, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        var table = new Table().Title("Training speed (FLOPs: forward 2 x sum(in x out) per sample, a step 3 x forward)");
        foreach (var c in new[] { "batch", "torch.mm GFLOP/s", "harness s/epoch", "harness GFLOP/s", "harness / mm", "plain loop / mm", "harness / plain", "eval GFLOP/s", "eval / mm" })
            table.AddColumn(c);
        foreach (var r in rows)
            table.AddRow(string.Create(CultureInfo.InvariantCulture, $"{r.BatchSize}"), F(r.MmGflops, "F1"), F(r.HarnessTrainSeconds, "F2"),
                F(r.HarnessGflops, "F1"), F(r.HarnessRatio, "F3"), F(r.PlainRatio, "F3"), F(r.PlainTrainSeconds / r.HarnessTrainSeconds, "F3"),
                F(r.EvalGflops, "F1"), F(r.EvalRatio, "F3"));
        AnsiConsole.Write(table);
        return 0;
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
