using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Reproductions.Harness.Training;

/// <summary>A configuration error: names the source (file and section), the key and what was expected.</summary>
public sealed class ConfigException(string message) : Infrastructure.UserError(message)
{
    public override int ExitCode => Infrastructure.ExitCodes.BadInput;
}

/// <summary>One layer of settings: flat keys ("phases:0:batchSize") relative to <see cref="TrainingConfig"/>, and where they came from.</summary>
/// <param name="PatchesArrays">
/// False (files): a layer naming any element of an array replaces the whole array. True (environment, command-line
/// overrides): elements are patched one by one, so REPRO_SET__phases__0__epochs=2 changes only that number.
/// </param>
public sealed record ConfigLayer(string Source, IReadOnlyDictionary<string, string?> Values, bool PatchesArrays = false)
{
    public static ConfigLayer FromSection(string source, IConfiguration section) =>
        new(source, section.AsEnumerable(makePathsRelative: true)
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase));

    public static ConfigLayer FromPairs(string source, params (string Key, object Value)[] pairs) =>
        new(source, pairs.ToDictionary(p => p.Key, p => (string?)Convert.ToString(p.Value, CultureInfo.InvariantCulture), StringComparer.OrdinalIgnoreCase));
}

/// <summary>
/// Builds a <see cref="TrainingConfig"/> from layers (defaults, a finding's profile, a run, a seed, environment
/// overrides), later layers winning. Arrays are replaced whole, never merged index by index: a layer that names
/// any element of <c>phases</c> replaces all earlier phases. Every layer is checked on its own for unknown keys
/// and unconvertible values, so an error names the file that holds the bad key.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Environment variables with this prefix override settings: REPRO_SET__phases__0__epochs=2.</summary>
    public const string EnvironmentPrefix = "REPRO_SET__";

    private static readonly BinderOptions Strict = new() { ErrorOnUnknownConfiguration = true };

    /// <summary>
    /// A JSON config file as configuration. A missing file, a syntax error (with its line and position), a key given twice,
    /// a null value, an empty list or an empty object in a list (each would silently leave an earlier layer's value in place)
    /// is an error naming the file.
    /// </summary>
    public static IConfigurationRoot ReadJson(string path) =>
        Infrastructure.ConfigFiles.ToConfiguration(Infrastructure.ConfigFiles.ReadObject(path), Infrastructure.ConfigFiles.Relative(path));

    /// <summary>Throws, naming <paramref name="where"/> and the known keys, if <paramref name="section"/> has a key outside <paramref name="known"/>.</summary>
    public static void RejectUnknownKeys(IConfiguration section, string where, IReadOnlySet<string> known)
    {
        foreach (var child in section.GetChildren())
            if (!known.Contains(child.Key))
                throw new ConfigException($"{where}: unknown key '{child.Key}'. Known keys: {string.Join(", ", known)}.");
    }

    /// <summary>
    /// The <c>profiles:&lt;profile&gt;</c> section of a finding or protocol file (<paramref name="source"/> names it in
    /// errors): it must exist, and hold only <paramref name="profileKeys"/>.
    /// </summary>
    public static IConfigurationSection ProfileSection(IConfiguration file, string source, string profile, IReadOnlySet<string> profileKeys)
    {
        var section = file.GetSection($"profiles:{profile}");
        if (!section.Exists())
            throw new ConfigException($"{source}: no profile '{profile}' (has {string.Join(", ", file.GetSection("profiles").GetChildren().Select(c => c.Key))}).");
        RejectUnknownKeys(section, $"{source} profiles:{profile}", profileKeys);
        return section;
    }

    public static ConfigLayer EnvironmentLayer()
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                values[name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = (string?)e.Value;
        }
        return new ConfigLayer($"environment ({EnvironmentPrefix}*)", values, PatchesArrays: true);
    }

    public static TrainingConfig Build(IEnumerable<ConfigLayer> layers)
    {
        var list = layers.Select(CheckLayer).ToList();
        var merged = Merge(list);
        var source = string.Join(" + ", list.Where(l => l.Values.Count > 0).Select(l => l.Source));
        var config = Bind(merged, source);
        Validate(config, source);
        return config;
    }

    /// <summary>
    /// Merges layers in order; a layer that sets any element of an array replaces that whole array (a patching layer
    /// changes elements one by one). After each layer every array's indices must run 0, 1, ... without a gap: an element a
    /// layer adds takes the next index, or the error names the layer and its key (the binder would renumber the elements).
    /// </summary>
    public static Dictionary<string, string?> Merge(IEnumerable<ConfigLayer> layers)
    {
        var merged = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var layer in layers)
        {
            foreach (var root in layer.PatchesArrays ? [] : ArrayRoots(layer.Values.Keys))
                foreach (var stale in merged.Keys.Where(k => k.StartsWith(root + ":", StringComparison.OrdinalIgnoreCase)).ToList())
                    merged.Remove(stale);
            foreach (var (key, value) in layer.Values) merged[key] = value;
            RejectGaps(merged.Keys, layer);
        }
        return merged;
    }

    private static void RejectGaps(IEnumerable<string> keys, ConfigLayer layer)
    {
        var indices = new Dictionary<string, HashSet<int>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (root, index) in keys.SelectMany(Indices))
        {
            if (!indices.TryGetValue(root, out var set)) indices[root] = set = [];
            set.Add(index);
        }
        foreach (var (root, set) in indices)
        {
            if (set.Max() == set.Count - 1) continue;
            var next = Enumerable.Range(0, set.Count).First(i => !set.Contains(i));
            var key = layer.Values.Keys.FirstOrDefault(k => Indices(k).Any(x => string.Equals(x.Root, root, StringComparison.OrdinalIgnoreCase) && x.Index > next)) ?? root;
            throw new ConfigException($"{layer.Source}: key '{key}' leaves a gap in the list {root}: {(next switch { 0 => "it has no element 0", 1 => "it has element 0", _ => $"it has elements 0 to {next - 1}" })}, " +
                                      $"so the next element is {root}:{next} (elements are numbered 0, 1, ... without gaps).");
        }
    }

    /// <summary>The array indices in a key, with the key up to each: "phases:1:epochs" gives ("phases", 1).</summary>
    private static IEnumerable<(string Root, int Index)> Indices(string key)
    {
        var parts = key.Split(':');
        for (var i = 1; i < parts.Length; i++)
            if (int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                yield return (string.Join(':', parts[..i]), index);
    }

    private static IEnumerable<string> ArrayRoots(IEnumerable<string> keys) =>
        keys.SelectMany(Indices).Select(x => x.Root).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Checks every key of the layer against <see cref="TrainingConfig"/> and turns enum values from their JSON
    /// spelling ("xavier-zero") into the binder's ("XavierZero"); then binds the layer alone to catch bad values.
    /// </summary>
    private static ConfigLayer CheckLayer(ConfigLayer layer)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in layer.Values)
        {
            var type = CheckKey(layer.Source, key);
            values[key] = type.IsEnum && value is not null ? EnumValue(layer.Source, key, type, value) : CheckValue(layer.Source, key, type, value);
        }
        var checkedLayer = layer with { Values = values };
        Bind(checkedLayer.Values, layer.Source);
        return checkedLayer;
    }

    /// <summary>A scalar's text checked against its type, so that a conversion error says the key and what was expected in plain words.</summary>
    private static string? CheckValue(string source, string key, Type type, string? value)
    {
        if (value is null) return null;
        var ok = type switch
        {
            _ when type == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            _ when type == typeof(long) => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            _ when type == typeof(double) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d),
            _ when type == typeof(bool) => bool.TryParse(value, out _),
            _ => true,
        };
        if (ok) return value;
        var expected = type == typeof(int) || type == typeof(long) ? "a whole number"
            : type == typeof(double) ? "a finite number (NaN and infinities are not allowed)"
            : type == typeof(bool) ? "true or false" : type.Name;
        throw new ConfigException($"{source}: {key} = '{value}': expected {expected}.");
    }

    private static string EnumValue(string source, string key, Type type, string value)
    {
        var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(KebabCase(n), value, StringComparison.OrdinalIgnoreCase)
                                                            || string.Equals(n, value, StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ConfigException(
            $"{source}: {key} = '{value}': expected one of {string.Join(", ", Enum.GetNames(type).Select(KebabCase))}.");
    }

    private static string KebabCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static TrainingConfig Bind(IReadOnlyDictionary<string, string?> values, string source)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var config = new TrainingConfig();
        try
        {
            configuration.Bind(config, o => o.ErrorOnUnknownConfiguration = Strict.ErrorOnUnknownConfiguration);
        }
        catch (InvalidOperationException e)
        {
            var detail = e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})";
            throw new ConfigException($"{source}: {detail}");
        }
        return config;
    }

    /// <summary>Walks <paramref name="key"/> through the properties of <see cref="TrainingConfig"/>; unknown segments are errors.</summary>
    private static Type CheckKey(string source, string key)
    {
        var type = typeof(TrainingConfig);
        var parts = key.Split(':');
        for (var i = 0; i < parts.Length; i++)
        {
            var elementType = ElementType(type);
            if (elementType is not null)
            {
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || parts[i] != index.ToString(CultureInfo.InvariantCulture))
                    throw new ConfigException($"{source}: key '{key}': '{parts[i]}' should be an array index (0, 1, ..., no leading zeros).");
                type = elementType;
                continue;
            }
            var property = type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
                    .Select(p => JsonName(p.Name));
                var at = i == 0 ? "the top level" : $"'{string.Join(':', parts[..i])}'";
                throw new ConfigException($"{source}: unknown key '{key}'. Known keys at {at}: {string.Join(", ", known)}.");
            }
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(type) && i < parts.Length - 1)
                throw new ConfigException($"{source}: key '{key}': '{string.Join(':', parts[..(i + 1)])}' is a single value, not a section.");
        }
        if (ElementType(type) is { } element)
        {
            var example = IsScalar(element) ? $"{key}:0" : $"{key}:0:{JsonName(element.GetProperties(BindingFlags.Public | BindingFlags.Instance).First(p => p.CanWrite).Name)}";
            throw new ConfigException($"{source}: key '{key}' is a list, not a single value: give each element its own key, e.g. {example}=... (in a JSON file, a list).");
        }
        if (!IsScalar(type))
            throw new ConfigException($"{source}: key '{key}' is a section; give its fields, not a value.");
        return type;
    }

    private static bool IsScalar(Type t) => t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal);

    private static Type? ElementType(Type t) =>
        t.IsArray ? t.GetElementType() : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? t.GetGenericArguments()[0] : null;

    private static string JsonName(string property) => char.ToLowerInvariant(property[0]) + property[1..];

    /// <summary>
    /// Rejects impossible values, naming the sources, the key and what was expected. Every number must be finite and in its
    /// range (NaN fails every range), every batch must fit in the (sub)set it draws from.
    /// </summary>
    public static void Validate(TrainingConfig c, string source)
    {
        void Fail(string key, object? value, string expected) =>
            throw new ConfigException($"{source}: {key} = {(value is null ? "(missing)" : Convert.ToString(value, CultureInfo.InvariantCulture))}: {expected}.");

        if (c.Dataset is not ("mnist" or "fashion-mnist")) Fail("dataset", c.Dataset, "expected 'mnist' or 'fashion-mnist'");
        var available = Data.DatasetSpecs.Get(c.Dataset).TrainCount;
        if (c.TrainSamples is { } n && n is < 1 || c.TrainSamples > available)
            Fail("trainSamples", c.TrainSamples, $"must be between 1 and {available} (the training split of {c.Dataset})");
        var setSize = c.TrainSamples ?? available;
        if (c.Phases.Count == 0) Fail("phases", "[]", "at least one phase is needed");
        for (var i = 0; i < c.Phases.Count; i++)
        {
            var p = c.Phases[i];
            if (p.Epochs < 1) Fail($"phases:{i}:epochs", p.Epochs, "must be at least 1");
            if (p.BatchSize < 1) Fail($"phases:{i}:batchSize", p.BatchSize, "must be at least 1");
            if (p.BatchSize > setSize)
                Fail($"phases:{i}:batchSize", p.BatchSize, $"larger than the {setSize} training samples it draws from ({(c.TrainSamples is null ? $"the whole training split of {c.Dataset}" : "trainSamples")}); a batch may hold at most all of them");
            if (!(p.LearningRate > 0 && double.IsFinite(p.LearningRate))) Fail($"phases:{i}:learningRate", p.LearningRate, "must be a positive, finite number");
            if (!(p.WarmupEpochs >= 0 && p.WarmupEpochs <= p.Epochs)) Fail($"phases:{i}:warmupEpochs", p.WarmupEpochs, $"must be between 0 and the phase's {p.Epochs} epochs");
            if (p.WarmupEpochs > 0 && p.WarmupFrom is null)
                Fail($"phases:{i}:warmupFrom", null, "a warm-up needs the rate of its first step (Goyal et al.: the small-batch base rate, e.g. 0.01)");
            if (p.WarmupFrom is { } from && !(from > 0 && from <= p.LearningRate))
                Fail($"phases:{i}:warmupFrom", from, $"must be positive and at most the phase's learning rate {p.LearningRate.ToString(CultureInfo.InvariantCulture)}");
            if (p.WarmupFrom is not null && p.WarmupEpochs <= 0)
                Fail($"phases:{i}:warmupEpochs", p.WarmupEpochs, "warmupFrom is set, so the warm-up needs a positive number of epochs");
            if (p.Accumulation is { } k && !(k >= 1 && k <= p.BatchSize))
                Fail($"phases:{i}:accumulation", k, $"must be between 1 and the phase's batch size {p.BatchSize} (micro-batches of at least one row)");
        }
        var w = c.Model.Widths;
        if (w.Length < 2) Fail("model:widths", $"[{string.Join(", ", w)}]", "at least an input and an output width");
        if (w.Length >= 1 && w[0] != 784) Fail("model:widths:0", w[0], "must be 784 (28 x 28 pixels)");
        if (w.Length >= 2 && w[^1] != 10) Fail($"model:widths:{w.Length - 1}", w[^1], "must be 10 (classes)");
        for (var i = 0; i < w.Length; i++) if (w[i] < 1) Fail($"model:widths:{i}", w[i], "must be at least 1");
        if (!(c.Optimizer.Momentum >= 0 && c.Optimizer.Momentum < 1)) Fail("optimizer:momentum", c.Optimizer.Momentum, "must be in [0, 1)");
        if (!(c.Optimizer.Beta1 >= 0 && c.Optimizer.Beta1 < 1)) Fail("optimizer:beta1", c.Optimizer.Beta1, "must be in [0, 1)");
        if (!(c.Optimizer.Beta2 >= 0 && c.Optimizer.Beta2 < 1)) Fail("optimizer:beta2", c.Optimizer.Beta2, "must be in [0, 1)");
        if (!(c.Optimizer.Epsilon > 0 && double.IsFinite(c.Optimizer.Epsilon))) Fail("optimizer:epsilon", c.Optimizer.Epsilon, "must be a positive, finite number");
        if (c.Evaluation.ChunkSize < 1) Fail("evaluation:chunkSize", c.Evaluation.ChunkSize, "must be at least 1");
        if (c.Evaluation.Interval < 1) Fail("evaluation:interval", c.Evaluation.Interval, "must be at least 1");
        if (c.Evaluation.TrainSubset is { } m && m < 1) Fail("evaluation:trainSubset", m, "must be at least 1");
        if (c.DivergenceLossFactor is { } f && !(f > 1 && double.IsFinite(f)))
            Fail("divergenceLossFactor", f, "must be a finite number above 1 (the training loss may rise to this many times its first epoch's, or a uniform guess's when lower, before the run counts as diverged)");
        if (c.Seed < 0) Fail("seed", c.Seed, "must be zero or positive");
        if (c.StopAtTrainAccuracy is { } target && !(target > 0 && target <= 1))
            Fail("stopAtTrainAccuracy", target, "must be a fraction in (0, 1] (the training accuracy at which the run stops)");
        if (c.StopAtTrainAccuracy is not null && c.Evaluation.Interval != 1)
            Fail("evaluation:interval", c.Evaluation.Interval, "must be 1 with stopAtTrainAccuracy (the training accuracy is checked after every epoch)");
        if (c.KeepWeights is { } keep && keep < 3) Fail("keepWeights", keep, "must be at least 3 (the init, the last epoch and one between)");
        if (c.Stack && c.StopAtTrainAccuracy is not null)
            Fail("stack", true, "cannot be combined with stopAtTrainAccuracy yet (a stacked run trains every epoch of its schedule); train that run alone");
        if (c.Stack && c.KeepWeights is not null)
            Fail("stack", true, "cannot be combined with keepWeights yet (a stack keeps each model's final weights only); train that run alone");
    }
}
