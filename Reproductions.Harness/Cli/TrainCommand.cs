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
        var configArgument = new Argument<FileInfo>("config") { Description = "A training config (JSON), layered over configs/defaults.json." };
        var setOption = new Option<string[]>("--set") { Description = "Override a setting: --set phases:0:epochs=2 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("train", "Train one config with a live progress display; stored runs are reused, interrupted runs resume.")
        {
            configArgument, setOption,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(configArgument)!;
            var overrides = parse.GetValue(setOption) ?? [];
            return CliErrors.Guard(() => Train(file.FullName, overrides));
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
        DataSets.Log = line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        var store = ExperimentStore.Default;
        var work = TrainingWork.ForThisMachine(config, Path.GetFileNameWithoutExtension(path));
        using var cancel = CliErrors.CancelOnCtrlC();
        var record = ProgressDisplay.Run(progress => store.GetOrRun(work, new RunOptions { Progress = progress, Cancel = cancel.Token }));
        var m = record.Final;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"run {record.Hash} on {record.DeviceDetail}: {record.Epochs.Count} epochs, train acc {m.TrainAccuracy:P2}, test acc {m.TestAccuracy:P2}, " +
            $"gap {m.GeneralizationGap:P2}, weight distance {m.WeightDistance:F3}, weight norm {m.WeightNorm:F2}; stored in {store.Folder(work.Key)}"));
        return 0;
    }
}
