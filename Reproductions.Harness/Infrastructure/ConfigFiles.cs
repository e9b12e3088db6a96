using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Infrastructure;

/// <summary>
/// Reading the project's JSON config files: as a tree (with the line and position of a syntax error), profiles declared
/// as changes to another profile (<see cref="Patch"/>), and the parsing of single values with errors that name the file,
/// the key and what was expected.
/// </summary>
public static class ConfigFiles
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The path relative to the repository root when it lies inside it (for messages).</summary>
    public static string Relative(string path)
    {
        try
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, path);
            return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
        }
        catch (InvalidOperationException)
        {
            return path;
        }
    }

    /// <summary>
    /// A JSON file whose root is an object; a missing file or a syntax error names the file, the line and the position. A
    /// key given twice in one object (also in another case: configuration keys are case-insensitive) is an error naming
    /// the file and the key's path.
    /// </summary>
    public static JsonObject ReadObject(string path)
    {
        var name = Relative(path);
        if (!File.Exists(path)) throw new ConfigException($"{name}: file not found.");
        JsonNode? node;
        try
        {
            var bytes = File.ReadAllBytes(path);
            using (var document = JsonDocument.Parse(bytes, DocumentOptions)) RejectDuplicateKeys(document.RootElement, name, "");
            node = JsonNode.Parse(bytes, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            var at = e.LineNumber is { } line ? $" at line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1}" : "";
            var detail = e.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].Trim();
            throw new ConfigException($"{name}: not valid JSON{at}: {detail}");
        }
        return node as JsonObject ?? throw new ConfigException($"{name}: expected a JSON object at the top level, found {Describe(node)}.");
    }

    /// <summary>Throws, naming the file and the key's path ("profiles:full:seeds"), where an object of <paramref name="element"/> repeats a key, in any case.</summary>
    private static void RejectDuplicateKeys(JsonElement element, string name, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var property in element.EnumerateObject())
                {
                    var at = path.Length == 0 ? property.Name : $"{path}:{property.Name}";
                    if (!seen.TryAdd(property.Name, property.Name))
                    {
                        var also = seen[property.Name] == property.Name ? "" : $" (also as '{seen[property.Name]}': keys are case-insensitive)";
                        throw new ConfigException($"{name}: key '{at}' is given twice{also}: give each key once.");
                    }
                    RejectDuplicateKeys(property.Value, name, at);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) RejectDuplicateKeys(item, name, $"{path}:{i++}");
                break;
        }
    }

    /// <summary>
    /// A JSON object as configuration (keys "runs:bs64:phases:0:epochs"), for binding. A null value, an empty list or an
    /// empty object as an element of a list is an error naming <paramref name="where"/> and the key: a layer drops each
    /// silently, leaving an earlier layer's value (the defaults' 30-epoch phase for "phases": [] or [{}]) in its place or
    /// renumbering the list. An empty object as a member ("base": {}, a run "a": {} of the base settings alone) keeps its key.
    /// </summary>
    public static IConfigurationRoot ToConfiguration(JsonObject json, string where)
    {
        RejectNullsAndEmpties(json, where, "");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json.ToJsonString()));
        return new ConfigurationBuilder().AddJsonStream(stream).Build();
    }

    private static void RejectNullsAndEmpties(JsonNode? node, string where, string path)
    {
        switch (node)
        {
            case null:
                throw new ConfigException($"{where}: {(path.Length == 0 ? "the file" : path)} is null: give a value, or leave the key out to keep the default.");
            case JsonObject o:
                foreach (var (key, value) in o) RejectNullsAndEmpties(value, where, path.Length == 0 ? key : $"{path}:{key}");
                break;
            case JsonArray a:
                if (a.Count == 0) throw new ConfigException($"{where}: {path} is an empty list: give at least one element, or leave the key out to keep the default.");
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonObject { Count: 0 })
                        throw new ConfigException($"{where}: {path}:{i} is an empty object: give its fields (an empty element would be dropped and the list renumbered).");
                    RejectNullsAndEmpties(a[i], where, $"{path}:{i}");
                }
                break;
        }
    }

    /// <summary>The members <paramref name="keys"/> of <paramref name="json"/> (those present), as a new object.</summary>
    public static JsonObject Select(JsonObject json, params string[] keys)
    {
        var result = new JsonObject();
        foreach (var key in keys)
            if (json[key] is { } value) result[key] = value.DeepClone();
        return result;
    }

    /// <summary>
    /// <paramref name="target"/> with <paramref name="changes"/> applied, as a new tree (neither input is modified):
    /// objects merge key by key; <c>"*"</c> applies its changes to every member of the object it stands in (before the
    /// members named beside it); <c>null</c> removes a member; a list of objects is changed element by element (the
    /// i-th change applies to the i-th element; a longer list of changes adds elements); any other value (a number, a
    /// string, a list of numbers) replaces the target's.
    /// </summary>
    public static JsonObject Patch(JsonObject target, JsonObject changes, string where)
    {
        var result = (JsonObject)target.DeepClone();
        Apply(result, changes, where);
        return result;
    }

    private static void Apply(JsonObject target, JsonObject changes, string where)
    {
        if (changes["*"] is { } every)
        {
            foreach (var (key, value) in target.ToList())
                target[key] = Merge(value, every, $"{where}.{key}");
        }
        foreach (var (key, change) in changes)
        {
            if (key == "*") continue;
            if (change is null) target.Remove(key);
            else target[key] = Merge(target[key], change, $"{where}.{key}");
        }
    }

    private static JsonNode? Merge(JsonNode? target, JsonNode? change, string where)
    {
        switch (change)
        {
            case null:
                return null;
            case JsonObject changeObject when target is JsonObject targetObject:
                var merged = (JsonObject)targetObject.DeepClone();
                Apply(merged, changeObject, where);
                return merged;
            case JsonObject when target is not null:
                throw new ConfigException($"{where}: the change is an object, but the value it changes is {Describe(target)}.");
            case JsonArray changeArray when target is JsonArray targetArray && changeArray.All(e => e is JsonObject) && targetArray.All(e => e is JsonObject):
                var list = (JsonArray)targetArray.DeepClone();
                for (var i = 0; i < changeArray.Count; i++)
                {
                    if (i < list.Count) list[i] = Merge(list[i], changeArray[i], $"{where}[{i}]");
                    else list.Add(changeArray[i]!.DeepClone());
                }
                return list;
            default:
                return change.DeepClone();
        }
    }

    /// <summary>
    /// The changes as lines "path: value (full: value)": each changed value with the value it replaces in
    /// <paramref name="target"/> (named <paramref name="reference"/>). "*" in a path stands for every member, and the
    /// line lists the distinct values it replaces; "removed" marks a member that a null takes out.
    /// </summary>
    public static IReadOnlyList<string> DescribeChanges(JsonObject target, JsonObject changes, string reference, string prefix = "")
    {
        var changed = new List<(string Path, string Value, List<string> Old)>();
        void Add(string path, string value, string old)
        {
            var i = changed.FindIndex(c => c.Path == path && c.Value == value);
            if (i < 0) changed.Add((path, value, [old]));
            else if (!changed[i].Old.Contains(old)) changed[i].Old.Add(old);
        }
        void Walk(JsonNode? from, JsonNode? change, string path)
        {
            switch (change)
            {
                case JsonObject changeObject when from is JsonObject or null:
                    foreach (var (key, value) in changeObject)
                    {
                        var sub = path.Length == 0 ? key : $"{path}.{key}";
                        if (key == "*")
                        {
                            var members = (from as JsonObject)?.Select(kv => kv.Value).ToList() ?? [];
                            if (members.Count == 0) Walk(null, value, sub);
                            foreach (var member in members) Walk(member, value, sub);
                        }
                        else if (value is null) Add(sub, "removed", Show((from as JsonObject)?[key]));
                        else Walk((from as JsonObject)?[key], value, sub);
                    }
                    break;
                case JsonArray changeArray when from is JsonArray fromArray && changeArray.All(e => e is JsonObject) && fromArray.All(e => e is JsonObject):
                    for (var i = 0; i < changeArray.Count; i++)
                        Walk(i < fromArray.Count ? fromArray[i] : null, changeArray[i], $"{path}[{i}]");
                    break;
                default:
                    Add(path, Show(change), Show(from));
                    break;
            }
        }
        Walk(target, changes, prefix);
        return changed.Select(c => $"{c.Path}: {c.Value} ({reference}: {string.Join(", ", c.Old)})").ToList();
    }

    private static string Show(JsonNode? node) => node switch
    {
        null => "not set",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ => $"the value {node.ToJsonString()}",
    };

    public static long Integer(string where, string key, string? value, long min) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw new ConfigException($"{where}: {key} = '{value ?? "(missing)"}': expected an integer of at least {min}.");

    public static double Number(string where, string key, string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new ConfigException($"{where}: {key} = '{value ?? "(missing)"}': expected a finite number.");

    public static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>
    /// Throws, naming <paramref name="where"/> and the known keys, if <paramref name="json"/> has a key outside
    /// <paramref name="known"/>. Keys are compared exactly (the tree is read by exact keys): a key in another case is
    /// unknown, and the message gives its spelling.
    /// </summary>
    public static void RejectUnknownKeys(JsonObject json, string where, IEnumerable<string> known)
    {
        var set = known.ToHashSet(StringComparer.Ordinal);
        foreach (var (key, _) in json)
            if (!set.Contains(key))
            {
                var spelling = set.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) is { } k ? $" (did you mean '{k}'? keys are case-sensitive)" : "";
                throw new ConfigException($"{where}: unknown key '{key}'{spelling}. Known keys: {string.Join(", ", set.Order(StringComparer.Ordinal))}.");
            }
    }

    /// <summary>
    /// The value of <paramref name="node"/> as <typeparamref name="T"/> (text, true or false, a finite number), or an
    /// error naming <paramref name="where"/>, the key and the type expected.
    /// </summary>
    public static T Value<T>(JsonNode? node, string where, string key)
    {
        if (node is JsonValue v && v.TryGetValue<T>(out var value) && value is not null && (value is not double d || double.IsFinite(d))) return value;
        var expected = typeof(T) == typeof(string) ? "text" : typeof(T) == typeof(bool) ? "true or false"
            : typeof(T) == typeof(double) ? "a finite number" : typeof(T).Name;
        throw new ConfigException($"{where}: {key} = {node?.ToJsonString() ?? "null"}: expected {expected}.");
    }
}
