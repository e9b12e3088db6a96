using Reproductions.Harness.Claims;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MathNet.Numerics.Statistics;
using Reproductions.Harness.Infrastructure;

namespace Reproductions.Harness.Baselines;

/// <summary>
/// Reads and writes baseline files. Writing uses <see cref="JsonDefaults.Options"/> (invariant numbers, camelCase).
/// Reading is strict and explicit: every field is checked for presence, kind and range, unknown fields are
/// rejected, and each problem becomes a <see cref="BaselineFormatException"/> naming the file and the field.
/// </summary>
public static partial class BaselineJson
{
    private const string Root = "(root)";

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = JsonDefaults.Options.AllowTrailingCommas,
        CommentHandling = JsonDefaults.Options.ReadCommentHandling,
        MaxDepth = 64,
    };

    /// <summary>The file content for <paramref name="baseline"/>, ending with a newline.</summary>
    public static string Serialize(Baseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return JsonSerializer.Serialize(baseline, JsonDefaults.Options) + "\n";
    }

    /// <summary>Writes <paramref name="baseline"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Baseline baseline) => AtomicFile.WriteAllText(path, Serialize(baseline));

    /// <summary>
    /// Reads a baseline file. When <paramref name="expectedProfile"/> or <paramref name="expectedFinding"/> is given,
    /// the file's own fields must match them (a file copied to the wrong place is an error).
    /// </summary>
    public static Baseline Read(string path, string? expectedProfile = null, string? expectedFinding = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"Baseline file '{path}' does not exist.", path, e);
        }
        return Parse(text, path, expectedProfile, expectedFinding);
    }

    /// <summary>Parses baseline JSON; <paramref name="filePath"/> is used in error messages.</summary>
    public static Baseline Parse(string json, string filePath, string? expectedProfile = null, string? expectedFinding = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1}")
                : "";
            var reason = e.Message.Split(" LineNumber:", 2)[0].Trim();
            throw new BaselineFormatException(filePath, PathAtSyntaxError(json),
                $"is not valid JSON{where}: {reason} (A baseline file is one JSON object as the harness writes it.)", e);
        }

        using (document)
        {
            var reader = new Reader(filePath);
            var baseline = reader.ReadBaseline(document.RootElement);
            if (expectedProfile is not null && !string.Equals(baseline.Profile, expectedProfile, StringComparison.Ordinal))
                throw new BaselineFormatException(filePath, "profile",
                    $"is '{baseline.Profile}' but the file is stored for profile '{expectedProfile}'; expected '{expectedProfile}'.");
            if (expectedFinding is not null && !string.Equals(baseline.Finding, expectedFinding, StringComparison.Ordinal))
                throw new BaselineFormatException(filePath, "finding",
                    $"is '{baseline.Finding}' but the file is stored for finding '{expectedFinding}'; expected '{expectedFinding}'.");
            return baseline;
        }
    }

    /// <summary>The field path where the JSON text stops being valid, e.g. "metrics.acc.samples[2]".</summary>
    private static string PathAtSyntaxError(string json)
    {
        var frames = new List<Frame>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions
        {
            AllowTrailingCommas = DocumentOptions.AllowTrailingCommas,
            CommentHandling = DocumentOptions.CommentHandling,
            MaxDepth = DocumentOptions.MaxDepth,
        });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        frames[^1].Property = reader.GetString();
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (frames.Count > 0 && frames[^1].IsArray) frames[^1].Index++;
                        frames.Add(new Frame { IsArray = reader.TokenType == JsonTokenType.StartArray });
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    default:
                        if (frames.Count > 0 && frames[^1].IsArray) frames[^1].Index++;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Expected: the same error JsonDocument reported; the frames say where it happened.
        }
        var path = new StringBuilder();
        foreach (var frame in frames)
        {
            if (frame.IsArray && frame.Index >= 0)
                path.Append('[').Append(frame.Index.ToString(CultureInfo.InvariantCulture)).Append(']');
            else if (!frame.IsArray && frame.Property is not null)
                AppendName(path, frame.Property);
        }
        return path.Length == 0 ? Root : path.ToString();
    }

    private static string Child(string parent, string name)
    {
        var path = new StringBuilder(parent == Root ? "" : parent);
        AppendName(path, name);
        return path.ToString();
    }

    private static void AppendName(StringBuilder path, string name)
    {
        if (SimpleName().IsMatch(name))
        {
            if (path.Length > 0) path.Append('.');
            path.Append(name);
        }
        else
        {
            path.Append("[\"").Append(name.Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"]");
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SimpleName();

    private sealed class Frame
    {
        public bool IsArray { get; init; }
        public int Index { get; set; } = -1;
        public string? Property { get; set; }
    }

    /// <summary>Field-by-field reader; every problem names the file and the field path.</summary>
    private sealed class Reader(string file)
    {
        private static readonly string[] BaselineFields = ["schemaVersion", "finding", "profile", "createdUtc", "machine", "seeds", "metrics", "claims", "verdicts"];
        private static readonly string[] ClaimFields = ["claim", "margin", "halfWidth", "seeds", "seedsNeeded"];
        private static readonly string[] MachineFields = ["os", "processorCount", "cpuModel", "device", "torchSharpVersion", "runtime"];
        private static readonly string[] MetricFields = ["value", "samples", "absoluteBand", "relativeBand", "rule", "claimNull"];

        public Baseline ReadBaseline(JsonElement root)
        {
            var obj = Object(root, Root, BaselineFields);

            var version = Int(obj, "schemaVersion", "an integer (the file format version)");
            if (version != Baseline.CurrentSchemaVersion)
                throw Error(Child(Root, "schemaVersion"), string.Create(CultureInfo.InvariantCulture,
                    $"is {version}; expected {Baseline.CurrentSchemaVersion}, the version this harness reads."));

            var finding = Identifier(obj, "finding", "a finding id such as \"F01\"");
            var profile = Identifier(obj, "profile", "a profile such as \"quick\" or \"full\"");
            var created = Time(obj, "createdUtc");
            var machine = Machine(obj.Required("machine", "an object describing the machine"), "machine");
            var seeds = Seeds(obj.Required("seeds", "a non-empty array of distinct integer seeds"), "seeds");

            const string metricsExpected = "an object mapping each metric name to { value, samples, absoluteBand, relativeBand?, rule }";
            var metricsElement = obj.Required("metrics", metricsExpected);
            var metricsObject = Object(metricsElement, "metrics", allowed: null, metricsExpected);
            if (metricsObject.Names.Count == 0)
                throw Error("metrics", $"is empty; expected at least one metric ({metricsExpected}).");
            var metrics = new Dictionary<string, BaselineMetric>(StringComparer.Ordinal);
            foreach (var name in metricsObject.Names)
            {
                if (string.IsNullOrWhiteSpace(name) || name.Trim() != name)
                    throw Error(Child("metrics", name), "is not a valid metric name; expected a non-empty name without leading or trailing spaces.");
                metrics.Add(name, Metric(metricsObject.Required(name, "a metric"), Child("metrics", name), seeds.Length));
            }

            List<ClaimPower>? claims = null;
            if (obj.TryGet("claims", out var claimsElement) && claimsElement.ValueKind != JsonValueKind.Null)
            {
                if (claimsElement.ValueKind != JsonValueKind.Array)
                    throw Error("claims", $"is {Describe(claimsElement)}; expected an array of {{ claim, margin, halfWidth, seeds, seedsNeeded }}.");
                claims = [];
                var i = 0;
                foreach (var item in claimsElement.EnumerateArray())
                {
                    var path = Index("claims", i++);
                    var c = Object(item, path, ClaimFields, "an object { claim, margin, halfWidth, seeds, seedsNeeded }");
                    // A value of the right type but out of its range names the field and the range, as a wrong type does.
                    T InRange<T>(T value, bool ok, string field, string expected) =>
                        ok ? value : throw Error(Child(path, field), string.Create(CultureInfo.InvariantCulture, $"is {value}; expected {expected}."));
                    const string PositiveMargin = "a finite number > 0", HalfWidth = "a finite number >= 0",
                        Seeds = "a positive integer (the seeds its interval was measured over)", Needed = "a positive integer (the seeds its interval would need)";
                    var claim = String(c, "claim", "the claim's id");
                    var margin = Number(c, "margin", PositiveMargin);
                    var halfWidth = Number(c, "halfWidth", HalfWidth);
                    var claimSeeds = Int(c, "seeds", Seeds);
                    var seedsNeeded = Int(c, "seedsNeeded", Needed);
                    claims.Add(new ClaimPower(claim, InRange(margin, margin > 0, "margin", PositiveMargin), InRange(halfWidth, halfWidth >= 0, "halfWidth", HalfWidth),
                        InRange(claimSeeds, claimSeeds >= 1, "seeds", Seeds), InRange(seedsNeeded, seedsNeeded >= 1, "seedsNeeded", Needed)));
                }
            }
            Dictionary<string, ClaimOutcome>? verdicts = null;
            if (obj.TryGet("verdicts", out var verdictsElement) && verdictsElement.ValueKind != JsonValueKind.Null)
            {
                const string verdictsExpected = "an object mapping each claim id to its verdict (holds, does-not-hold, inconclusive, not-measured)";
                var verdictsObject = Object(verdictsElement, "verdicts", allowed: null, verdictsExpected);
                verdicts = new Dictionary<string, ClaimOutcome>(StringComparer.Ordinal);
                foreach (var claim in verdictsObject.Names)
                {
                    var text = String(verdictsObject, claim, "holds, does-not-hold, inconclusive or not-measured");
                    verdicts[claim] = text switch
                    {
                        "holds" => ClaimOutcome.Holds,
                        "does-not-hold" => ClaimOutcome.DoesNotHold,
                        "inconclusive" => ClaimOutcome.Inconclusive,
                        "not-measured" => ClaimOutcome.NotMeasured,
                        _ => throw Error(Child("verdicts", claim), $"is \"{text}\"; expected holds, does-not-hold, inconclusive or not-measured."),
                    };
                }
            }
            return new Baseline(version, finding, profile, created, machine, seeds, metrics, claims, verdicts);
        }

        private MachineInfo Machine(JsonElement element, string path)
        {
            var obj = Object(element, path, MachineFields, "an object describing the machine");
            var processors = Int(obj, "processorCount", "a positive integer");
            if (processors < 1)
                throw Error(Child(path, "processorCount"),
                    string.Create(CultureInfo.InvariantCulture, $"is {processors}; expected a positive integer."));
            return new MachineInfo(
                String(obj, "os", "a non-empty string describing the operating system"),
                processors,
                OptionalString(obj, "cpuModel"),
                String(obj, "device", "a non-empty string naming the compute device, e.g. \"cpu\""),
                OptionalString(obj, "torchSharpVersion"),
                OptionalString(obj, "runtime"));
        }

        private int[] Seeds(JsonElement element, string path)
        {
            const string expected = "a non-empty array of distinct integer seeds";
            if (element.ValueKind != JsonValueKind.Array)
                throw Error(path, $"is {Describe(element)}; expected {expected}.");
            var seeds = new List<int>();
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = Index(path, i++);
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var seed))
                    throw Error(itemPath, $"is {Describe(item)}; expected an integer seed.");
                if (seeds.Contains(seed))
                    throw Error(itemPath, string.Create(CultureInfo.InvariantCulture, $"repeats seed {seed}; expected {expected}."));
                seeds.Add(seed);
            }
            if (seeds.Count == 0)
                throw Error(path, $"is empty; expected {expected}.");
            return seeds.ToArray();
        }

        private BaselineMetric Metric(JsonElement element, string path, int seedCount)
        {
            var obj = Object(element, path, MetricFields, "an object { value, samples, absoluteBand, relativeBand?, rule }");

            var value = Number(obj, "value", "a finite number (the mean over seeds)");

            var samplesPath = Child(path, "samples");
            var samplesElement = obj.Required("samples", "an array with one finite number per seed");
            if (samplesElement.ValueKind != JsonValueKind.Array)
                throw Error(samplesPath, $"is {Describe(samplesElement)}; expected an array with one finite number per seed.");
            var samples = new List<double>();
            var i = 0;
            foreach (var item in samplesElement.EnumerateArray())
                samples.Add(FiniteNumber(item, Index(samplesPath, i++), "a finite number"));
            if (samples.Count != seedCount)
                throw Error(samplesPath, string.Create(CultureInfo.InvariantCulture,
                    $"has {samples.Count} value(s); expected {seedCount}, one per seed in 'seeds'."));

            var mean = MathNet.Numerics.Statistics.Statistics.Mean(samples);
            if (Math.Abs(value - mean) > 1e-9 * Math.Max(1.0, Math.Abs(mean)))
                throw Error(Child(path, "value"), string.Create(CultureInfo.InvariantCulture,
                    $"is {value:R} but the mean of its samples is {mean:R}; expected the mean (accept a measured baseline rather than editing numbers by hand)."));

            var absolute = Number(obj, "absoluteBand", "a finite number >= 0 (the band's half-width in the metric's units)");
            if (absolute < 0)
                throw Error(Child(path, "absoluteBand"), string.Create(CultureInfo.InvariantCulture,
                    $"is {absolute:R}; expected a finite number >= 0 (the band's half-width in the metric's units)."));

            double? relative = null;
            if (obj.TryGet("relativeBand", out var relativeElement) && relativeElement.ValueKind != JsonValueKind.Null)
            {
                var relativePath = Child(path, "relativeBand");
                relative = FiniteNumber(relativeElement, relativePath, "a finite number >= 0 (a fraction of |value|), or no field");
                if (relative < 0)
                    throw Error(relativePath, string.Create(CultureInfo.InvariantCulture,
                        $"is {relative:R}; expected a finite number >= 0 (a fraction of |value|), or no field."));
            }

            var rule = String(obj, "rule", "a non-empty string saying how the band was derived");
            double? claimNull = null;
            if (obj.TryGet("claimNull", out var nullElement) && nullElement.ValueKind != JsonValueKind.Null)
                claimNull = FiniteNumber(nullElement, Child(path, "claimNull"), "a finite number (the value at which the metric's claim turns), or no field");
            return new BaselineMetric(value, samples.ToArray(), absolute, relative, rule, claimNull);
        }

        private JsonObject Object(JsonElement element, string path, string[]? allowed, string expected = "a JSON object")
        {
            if (element.ValueKind != JsonValueKind.Object)
                throw Error(path, $"is {Describe(element)}; expected {expected}.");
            var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (var property in element.EnumerateObject())
            {
                var propertyPath = Child(path, property.Name);
                if (allowed is not null && !allowed.Contains(property.Name, StringComparer.Ordinal))
                    throw Error(propertyPath, $"is not a known field; expected only: {string.Join(", ", allowed)}.");
                if (!properties.TryAdd(property.Name, property.Value))
                    throw Error(propertyPath, "appears more than once; expected each field once.");
                names.Add(property.Name);
            }
            return new JsonObject(this, path, properties, names);
        }

        private int Int(JsonObject obj, string name, string expected)
        {
            var element = obj.Required(name, expected);
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var value))
                throw Error(Child(obj.Path, name), $"is {Describe(element)}; expected {expected}.");
            return value;
        }

        private double Number(JsonObject obj, string name, string expected) =>
            FiniteNumber(obj.Required(name, expected), Child(obj.Path, name), expected);

        private double FiniteNumber(JsonElement element, string path, string expected)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var value) || !double.IsFinite(value))
                throw Error(path, $"is {Describe(element)}; expected {expected}.");
            return value;
        }

        private string String(JsonObject obj, string name, string expected)
        {
            var element = obj.Required(name, expected);
            if (element.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(element.GetString()))
                throw Error(Child(obj.Path, name), $"is {Describe(element)}; expected {expected}.");
            return element.GetString()!;
        }

        private string? OptionalString(JsonObject obj, string name)
        {
            if (!obj.TryGet(name, out var element) || element.ValueKind == JsonValueKind.Null) return null;
            if (element.ValueKind != JsonValueKind.String)
                throw Error(Child(obj.Path, name), $"is {Describe(element)}; expected a string, null or no field.");
            return element.GetString();
        }

        private string Identifier(JsonObject obj, string name, string expected)
        {
            var value = String(obj, name, expected);
            if (!Identifiers.IsValid(value))
                throw Error(Child(obj.Path, name), $"is '{value}'; expected {expected} (letters, digits, '-' or '_').");
            return value;
        }

        private DateTime Time(JsonObject obj, string name)
        {
            const string expected = "an ISO 8601 UTC time such as \"2025-01-31T12:00:00Z\"";
            var element = obj.Required(name, expected);
            if (element.ValueKind != JsonValueKind.String || !element.TryGetDateTimeOffset(out var time))
                throw Error(Child(obj.Path, name), $"is {Describe(element)}; expected {expected}.");
            return time.UtcDateTime;
        }

        private static string Index(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

        private static string Describe(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string {Shorten(element.GetRawText())}",
            JsonValueKind.Number => $"the number {Shorten(element.GetRawText())}",
            JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
            JsonValueKind.Null => "null",
            _ => element.ValueKind.ToString(),
        };

        private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

        public BaselineFormatException Error(string path, string problem) => new(file, path, problem);

        /// <summary>An object whose fields were checked against the allowed names.</summary>
        internal sealed class JsonObject(Reader reader, string path, Dictionary<string, JsonElement> properties, List<string> names)
        {
            public string Path { get; } = path;
            public IReadOnlyList<string> Names { get; } = names;

            public bool TryGet(string name, out JsonElement element) => properties.TryGetValue(name, out element);

            public JsonElement Required(string name, string expected) =>
                properties.TryGetValue(name, out var element)
                    ? element
                    : throw reader.Error(Child(Path, name), $"is missing; expected {expected}.");
        }
    }
}
