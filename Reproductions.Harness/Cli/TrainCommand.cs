using System.CommandLine;
using System.Globalization;
using Reproductions.Harness.Data;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Protocols;
using Reproductions.Harness.Store;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary><c>train &lt;config&gt;</c>: trains one config (layered over configs/defaults.json) through the store.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var configArgument = new Argument<string>("config") { Description = "A training config (JSON), layered over configs/defaults.json." }
            .NonEmptyPath("the path of a training config JSON file");
        var setOption = new Option<string[]>("--set") { Description = "Override a setting: --set phases:0:epochs=2 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var fallback = ReproduceCommand.FallbackOption();
        var command = new Command("train", "Train one config with a live progress display; stored runs are reused, interrupted runs resume.")
        {
            configArgument, setOption, fallback,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(configArgument)!;
            var overrides = parse.GetValue(setOption) ?? [];
            DataSets.AllowFallback = parse.GetValue(fallback);
            return CliErrors.Guard(parse, () => Train(Path.GetFullPath(file), overrides));
        });
        return command;
    }

    private static int Train(string path, IReadOnlyList<string> overrides)
    {
        var sets = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var o in overrides)
        {
            var eq = o.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ConfigException($"--set '{o}': expected key=value, e.g. phases:0:epochs=2.");
            sets[o[..eq].Trim()] = o[(eq + 1)..].Trim();
        }
        var defaults = Path.Combine(RepoPaths.Configs, "defaults.json");
        var config = ConfigLoader.Build([
            ConfigLayer.FromSection(ConfigFiles.Relative(defaults), ConfigLoader.ReadJson(defaults)),
            ConfigLayer.FromSection(path, ConfigLoader.ReadJson(path)),
            new ConfigLayer("--set", sets, PatchesArrays: true),
            ConfigLoader.EnvironmentLayer(),
        ]);
        void Log(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        DataSets.Log = Log;
        var store = ExperimentStore.Default;
        var work = TrainingWork.ForThisMachine(config, Path.GetFileNameWithoutExtension(path));
        using var cancel = CliErrors.CancelOnCtrlC();
        var record = ProgressDisplay.Run(progress => store.GetOrRun(work, new RunOptions { Progress = progress, Log = Log, Cancel = cancel.Token }));
        if (record.Status == RunStatus.Diverged)
            throw new RunDivergedException($"run {record.Hash} diverged at epoch {record.Divergence!.Epoch}: {record.Divergence.Reason} " +
                string.Create(CultureInfo.InvariantCulture, $"(last finite training loss {record.Divergence.LastFiniteLoss:G4}). ") +
                $"It is stored as a diverged outcome in {store.Folder(work.Key)}, not as a result; lower the learning rate or change the config to train it.");
        var m = record.Final;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {record.Hash} on {record.DeviceDetail}: {record.Epochs.Count} epochs, train acc {m.TrainAccuracy:P2}, test acc {m.TestAccuracy:P2}, " +
            $"gap {m.GeneralizationGap:P2}, weight distance {m.WeightDistance:F3}, weight norm {m.WeightNorm:F2}; stored in {store.Folder(work.Key)}"));
        return ExitCodes.Ok;
    }
}
