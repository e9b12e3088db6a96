using System.Reflection;

namespace Reproductions.Harness.Training;

/// <summary>The metrics of <see cref="EpochMetrics"/> by their camelCase names, as configs and reports name them.</summary>
public static class MetricNames
{
    private static readonly Dictionary<string, PropertyInfo> Properties = typeof(EpochMetrics)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(double) || p.PropertyType == typeof(double[]) || p.PropertyType == typeof(int) || p.PropertyType == typeof(long))
        .ToDictionary(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..], StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<string> All => Properties.Keys;

    public static bool IsKnown(string name) => Properties.ContainsKey(name);

    /// <summary>A scalar metric's value (int and long metrics as doubles).</summary>
    public static double Scalar(EpochMetrics m, string name) =>
        Properties.TryGetValue(name, out var p) && p.PropertyType != typeof(double[])
            ? Convert.ToDouble(p.GetValue(m), System.Globalization.CultureInfo.InvariantCulture)
            : throw new ArgumentException($"'{name}' is not a scalar metric of EpochMetrics.", nameof(name));

    /// <summary>A vector metric's values (layerCosines).</summary>
    public static double[] Vector(EpochMetrics m, string name) =>
        Properties.TryGetValue(name, out var p) && p.PropertyType == typeof(double[])
            ? (double[])p.GetValue(m)!
            : throw new ArgumentException($"'{name}' is not a per-layer metric of EpochMetrics.", nameof(name));
}
