using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reproductions.Harness.Store;

/// <summary>
/// Whether a result read back from a file is whole: the JSON reader fills a member written as <c>null</c> (or a null in a
/// list) even where its type says it is never null, and nothing that reads a result expects one. A result with such a
/// hole is not a result (the store treats it as corrupt), never a crash further on.
/// </summary>
public static class StoredShape
{
    /// <summary>The first member of <paramref name="value"/> that is null where its type says it never is ("epochs[0]"), or null when there is none.</summary>
    public static string? FirstNullMember(object value) => Walk(value, null, "", new NullabilityInfoContext());

    private static string? Walk(object? value, NullabilityInfo? info, string path, NullabilityInfoContext context)
    {
        if (value is null) return info is { ReadState: NullabilityState.NotNull } ? (path.Length == 0 ? "the result" : path) : null;
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is string or decimal or DateTime or DateTimeOffset or TimeSpan or Guid or JsonElement) return null;
        if (value is IDictionary dictionary)
        {
            var valueInfo = info?.GenericTypeArguments is { Length: 2 } args ? args[1] : null;
            foreach (DictionaryEntry entry in dictionary)
                if (Walk(entry.Value, valueInfo, path.Length == 0 ? $"{entry.Key}" : $"{path}.{entry.Key}", context) is { } hole) return hole;
            return null;
        }
        if (value is IEnumerable items)
        {
            var itemInfo = info?.ElementType ?? (info?.GenericTypeArguments is { Length: 1 } args ? args[0] : null);
            var i = 0;
            foreach (var item in items)
                if (Walk(item, itemInfo, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{path}[{i++}]"), context) is { } hole) return hole;
            return null;
        }
        if (type.Namespace?.StartsWith("Reproductions.", StringComparison.Ordinal) != true) return null;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            // What the file holds: stored members (with a setter), not derived ones.
            if (property.SetMethod is null || property.GetIndexParameters().Length > 0 || property.IsDefined(typeof(JsonIgnoreAttribute))) continue;
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (Walk(property.GetValue(value), context.Create(property), path.Length == 0 ? name : $"{path}.{name}", context) is { } hole) return hole;
        }
        return null;
    }
}
