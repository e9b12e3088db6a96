using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Experiments;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.GradientCompetition;

/// <summary>One protocol variant's share of a profile: how many trials per seed and batch size.</summary>
public sealed record VariantSettings(ProtocolVariant Variant, int TrialsPerSeed);

/// <summary>How the engine chunks trials: at most this many per chunk, and what fits the memory budget.</summary>
public sealed record EngineSettings(int MaxTrialsPerChunk, long MemoryBudgetBytes, UpdateMode? UpdateMode, int? Workers = null, int? MaxTrialsPerChunkCuda = null)
{
    /// <summary>The most trials stacked in one chunk on <paramref name="device"/> (CUDA has its own setting: many more fit and help there).</summary>
    public int MaxTrialsFor(TorchSharp.torch.Device device) =>
        device.type == TorchSharp.DeviceType.CUDA ? MaxTrialsPerChunkCuda ?? MaxTrialsPerChunk : MaxTrialsPerChunk;

    /// <summary>
    /// Workers (threads that each run a chunk of trials) and libtorch threads per worker. On the CPU: one worker per
    /// core, each single-threaded (measured on the 2-core CI machine: as fast as one 2-threaded worker when idle, and
    /// 1.5-2x faster when other processes share the cores, where libtorch's OpenMP barriers stall). On CUDA: one.
    /// </summary>
    public (int Workers, int ThreadsPerWorker) ParallelismFor(TorchSharp.torch.Device device) =>
        device.type == TorchSharp.DeviceType.CUDA ? (1, TorchSharp.torch.get_num_threads()) : (Workers ?? Math.Max(1, Environment.ProcessorCount), 1);

    /// <summary>The update mode to use on <paramref name="device"/>: the configured one, else the measured default for the device type.</summary>
    public UpdateMode ModeFor(TorchSharp.torch.Device device) =>
        UpdateMode ?? (device.type == TorchSharp.DeviceType.CUDA ? GradientCompetition.UpdateMode.FusedStackedInPlace : GradientCompetition.UpdateMode.FusedPerTrial);
}

/// <summary>
/// One profile of the gradient-competition protocol shared by F05-F08, from <c>configs/gradient-competition.json</c>:
/// the two regimes (training runs layered over <c>configs/defaults.json</c>, trained through the run store with
/// <see cref="RegimeSeed"/>), the batch sizes, samples per trial, learning rate, trials per variant and seed, the
/// shared histogram bins, the large-value rule, and the engine's chunking. Seeds are the trial seeds: each one is
/// an independent replicate of every trial set.
/// </summary>
public sealed record CompetitionProfile(
    string Profile, string Description, IReadOnlyList<long> Seeds, long RegimeSeed, IReadOnlyList<RunDefinition> Regimes,
    IReadOnlyList<int> BatchSizes, int SamplesPerTrial, double LearningRate, IReadOnlyList<VariantSettings> Variants,
    LogBins Histogram, double TailFraction, int ReferenceBatchSize, EngineSettings Engine, string Source)
{
    public const string FileName = "gradient-competition.json";
    public const string ProtocolName = "gradient-competition";

    private static readonly HashSet<string> TopKeys = new(StringComparer.OrdinalIgnoreCase) { "protocol", "description", "profiles" };
    private static readonly HashSet<string> ProfileKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "description", "seeds", "regimeSeed", "base", "regimes", "batchSizes", "samplesPerTrial", "learningRate", "variants",
        "histogram", "tailFraction", "referenceBatchSize", "engine",
    };

    public int TrialsPerSeed(ProtocolVariant variant) =>
        Variants.FirstOrDefault(v => v.Variant == variant)?.TrialsPerSeed ?? 0;

    public TrainingConfig RegimeConfig(string regime) =>
        (Regimes.FirstOrDefault(r => string.Equals(r.Name, regime, StringComparison.OrdinalIgnoreCase))
         ?? throw new ConfigException($"{Source}: profile '{Profile}' has no regime '{regime}'.")).ForSeed(RegimeSeed);

    /// <summary>
    /// A key for everything that determines the measured numbers: the settings, every regime's full config and the
    /// device type (not the chunking, which does not change results).
    /// </summary>
    public string Hash(string deviceType)
    {
        var canonical = JsonSerializer.Serialize(new
        {
            // 2: the engine's hand-written kernels run (CPU literal steps round differently from version 1's MKL products).
            version = 2,
            device = deviceType,
            Seeds,
            RegimeSeed,
            regimes = Regimes.Select(r => new { r.Name, config = r.ForSeed(RegimeSeed) }),
            BatchSizes,
            SamplesPerTrial,
            LearningRate,
            variants = Variants.Select(v => new { variant = v.Variant.Name(), v.TrialsPerSeed }),
            Histogram,
            TailFraction,
            ReferenceBatchSize,
        }, JsonDefaults.Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    public static CompetitionProfile Load(string profile, string? configsFolder = null)
    {
        var folder = configsFolder ?? RepoPaths.Configs;
        var path = Path.Combine(folder, FileName);
        var file = ConfigLoader.ReadJson(path);
        var source = Relative(path);
        ConfigLoader.RejectUnknownKeys(file, source, TopKeys);
        if (!string.Equals(file["protocol"], ProtocolName, StringComparison.Ordinal))
            throw new ConfigException($"{source}: protocol = '{file["protocol"]}': expected '{ProtocolName}'.");
        var section = ConfigLoader.ProfileSection(file, source, profile, ProfileKeys);
        var where = $"{source} profiles:{profile}";

        var seeds = section.GetSection("seeds").GetChildren().Select(c => (long)Int(where, "seeds", c.Value, 0)).ToList();
        if (seeds.Count == 0) throw new ConfigException($"{where}: seeds is empty; list at least one seed.");
        if (seeds.Distinct().Count() != seeds.Count) throw new ConfigException($"{where}: seeds repeat a value: [{string.Join(", ", seeds)}].");
        var regimeSeed = Int(where, "regimeSeed", section["regimeSeed"] ?? "1", 0);

        var defaultsPath = Path.Combine(folder, "defaults.json");
        var defaults = ConfigLayer.FromSection(Relative(defaultsPath), ConfigLoader.ReadJson(defaultsPath));
        var baseLayer = ConfigLayer.FromSection($"{where}:base", section.GetSection("base"));
        var regimes = section.GetSection("regimes").GetChildren()
            .Select(r => new RunDefinition(r.Key, [defaults, baseLayer, ConfigLayer.FromSection($"{where}:regimes:{r.Key}", r)]))
            .ToList();
        if (regimes.Count == 0) throw new ConfigException($"{where}: regimes is empty; define at least one (e.g. early and late).");
        var configs = regimes.Select(r => r.ForSeed(regimeSeed)).ToList(); // validates every regime now
        var first = configs[0];
        foreach (var (regime, config) in regimes.Zip(configs))
        {
            if (config.Dataset != first.Dataset || config.TrainSamples != first.TrainSamples || config.Preprocessing != first.Preprocessing
                || !config.Model.Widths.SequenceEqual(first.Model.Widths))
                throw new ConfigException($"{where}:regimes:{regime.Name}: every regime must share the dataset, training subset, preprocessing and widths (trials draw from one pool).");
        }

        var batchSizes = section.GetSection("batchSizes").GetChildren().Select(c => Int(where, "batchSizes", c.Value, 1)).ToList();
        if (batchSizes.Count == 0) throw new ConfigException($"{where}: batchSizes is empty.");
        if (batchSizes.Distinct().Count() != batchSizes.Count) throw new ConfigException($"{where}: batchSizes repeat a value.");
        var samples = Int(where, "samplesPerTrial", section["samplesPerTrial"], 1);
        if (batchSizes.Any(b => b > samples)) throw new ConfigException($"{where}: every batch size must be at most samplesPerTrial ({samples}).");
        var lr = Double(where, "learningRate", section["learningRate"]);
        if (!(lr > 0)) throw new ConfigException($"{where}: learningRate must be positive.");

        var variants = new List<VariantSettings>();
        foreach (var v in section.GetSection("variants").GetChildren())
        {
            if (!ProtocolVariants.TryParse(v.Key, out var variant))
                throw new ConfigException($"{where}:variants: unknown variant '{v.Key}'. Known: {string.Join(", ", ProtocolVariants.All.Select(p => p.Name()))}.");
            foreach (var k in v.GetChildren())
                if (!string.Equals(k.Key, "trialsPerSeed", StringComparison.OrdinalIgnoreCase))
                    throw new ConfigException($"{where}:variants:{v.Key}: unknown key '{k.Key}'. Known keys: trialsPerSeed.");
            variants.Add(new VariantSettings(variant, Int(where, $"variants:{v.Key}:trialsPerSeed", v["trialsPerSeed"], 1)));
        }
        if (variants.Count == 0) throw new ConfigException($"{where}: variants is empty.");

        var h = section.GetSection("histogram");
        foreach (var k in h.GetChildren())
            if (k.Key is not ("minLog10" or "maxLog10" or "binsPerDecade"))
                throw new ConfigException($"{where}:histogram: unknown key '{k.Key}'. Known keys: minLog10, maxLog10, binsPerDecade.");
        var bins = new LogBins(Double(where, "histogram:minLog10", h["minLog10"]), Double(where, "histogram:maxLog10", h["maxLog10"]),
            Int(where, "histogram:binsPerDecade", h["binsPerDecade"], 1));
        bins.Validate($"{where}:histogram");

        var tail = Double(where, "tailFraction", section["tailFraction"]);
        if (tail is <= 0 or >= 1) throw new ConfigException($"{where}: tailFraction must be in (0, 1).");
        var reference = Int(where, "referenceBatchSize", section["referenceBatchSize"], 1);
        if (!batchSizes.Contains(reference)) throw new ConfigException($"{where}: referenceBatchSize {reference} is not one of the batch sizes.");

        var e = section.GetSection("engine");
        foreach (var k in e.GetChildren())
            if (k.Key is not ("maxTrialsPerChunk" or "maxTrialsPerChunkCuda" or "memoryBudgetMiB" or "updateMode" or "workers"))
                throw new ConfigException($"{where}:engine: unknown key '{k.Key}'. Known keys: maxTrialsPerChunk, maxTrialsPerChunkCuda, memoryBudgetMiB, updateMode, workers.");
        UpdateMode? mode = null;
        if (e["updateMode"] is { } m)
        {
            mode = Enum.GetValues<UpdateMode>().Where(u => string.Equals(Kebab(u.ToString()), m, StringComparison.OrdinalIgnoreCase))
                       .Select(u => (UpdateMode?)u).FirstOrDefault()
                   ?? throw new ConfigException($"{where}:engine:updateMode = '{m}': expected one of {string.Join(", ", Enum.GetNames<UpdateMode>().Select(Kebab))}.");
        }
        var engine = new EngineSettings(Int(where, "engine:maxTrialsPerChunk", e["maxTrialsPerChunk"] ?? "16", 1),
            (long)Int(where, "engine:memoryBudgetMiB", e["memoryBudgetMiB"] ?? "1024", 1) << 20, mode,
            e["workers"] is { } workers ? Int(where, "engine:workers", workers, 1) : null,
            e["maxTrialsPerChunkCuda"] is { } cudaTrials ? Int(where, "engine:maxTrialsPerChunkCuda", cudaTrials, 1) : null);

        return new CompetitionProfile(profile, section["description"] ?? "", seeds, regimeSeed, regimes, batchSizes, samples, lr,
            variants, bins, tail, reference, engine, source);
    }

    public static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static int Int(string where, string key, string? value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw new ConfigException($"{where}: {key} = '{value}': expected an integer of at least {min}.");

    private static double Double(string where, string key, string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new ConfigException($"{where}: {key} = '{value}': expected a number.");

    internal static string Relative(string path)
    {
        try { return Path.GetRelativePath(RepoPaths.Root, path); }
        catch (InvalidOperationException) { return path; }
    }
}
