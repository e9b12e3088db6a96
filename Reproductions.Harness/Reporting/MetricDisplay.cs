using System.Globalization;
using MathNet.Numerics.Statistics;

namespace Reproductions.Harness.Reporting;

/// <summary>
/// How the report names, scales and prints a metric of <see cref="Training.EpochMetrics"/>: accuracies (stored as
/// fractions) are shown in %, everything else in its own units. Every number goes through the invariant culture.
/// </summary>
public sealed record MetricDisplay(string Metric, string Label, string Unit, double Scale)
{
    /// <summary>True for metrics stored as fractions and shown in % (train and test accuracy, the generalisation gap).</summary>
    public bool IsPercent => Scale == 100;

    /// <summary>The axis label: the metric's name with its unit, e.g. "test accuracy (%)".</summary>
    public string AxisLabel => Unit.Length == 0 ? Label : $"{Label} ({Unit})";

    private static readonly Dictionary<string, MetricDisplay> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trainAccuracy"] = new("trainAccuracy", "train accuracy", "%", 100),
        ["testAccuracy"] = new("testAccuracy", "test accuracy", "%", 100),
        ["generalizationGap"] = new("generalizationGap", "generalisation gap, train - test accuracy", "%", 100),
        ["trainLoss"] = new("trainLoss", "train loss, NLL", "nats per sample", 1),
        ["testLoss"] = new("testLoss", "test loss, NLL", "nats per sample", 1),
        ["weightDistance"] = new("weightDistance", "weight distance from init", "L2 norm", 1),
        ["biasDistance"] = new("biasDistance", "bias distance from init", "L2 norm", 1),
        ["weightNorm"] = new("weightNorm", "weight norm", "L2 norm to the origin", 1),
        ["biasNorm"] = new("biasNorm", "bias norm", "L2 norm to the origin", 1),
        ["layerCosines"] = new("layerCosines", "cosine of final to initial weights, per layer", "unitless", 1),
        ["learningRate"] = new("learningRate", "learning rate", "", 1),
        ["batchSize"] = new("batchSize", "batch size", "samples", 1),
        ["steps"] = new("steps", "parameter updates (optimizer steps)", "count", 1),
        ["epoch"] = new("epoch", "epoch", "", 1),
        ["phase"] = new("phase", "phase", "index", 1),
        ["trainSeconds"] = new("trainSeconds", "training time per epoch", "s", 1),
        ["evalSeconds"] = new("evalSeconds", "evaluation time per epoch", "s", 1),
    };

    /// <summary>True for metrics with one value per layer (layerCosines).</summary>
    public static bool IsPerLayer(string metric) =>
        typeof(Training.EpochMetrics).GetProperty(metric, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)
            ?.PropertyType == typeof(double[]);

    /// <summary>The display a report's metric section was rendered with (percent metrics carry the unit "%").</summary>
    public static MetricDisplay Of(MetricSection section) =>
        new(section.Metric, section.Label, section.Unit, section.Unit == "%" ? 100 : 1);

    public static MetricDisplay For(string metric) =>
        Known.TryGetValue(metric, out var display) ? display : new MetricDisplay(metric, metric, "", 1);

    /// <summary>
    /// A value in display units: 4 significant digits for plain metrics (6.712, 254.3, 0.9881), two decimals for
    /// percentages (97.91%).
    /// </summary>
    public string Format(double value) => IsPercent
        ? Number(value * Scale, 2) + "%"
        : Number(value * Scale, DecimalsFor(value * Scale));

    /// <summary>Mean ± std in display units; the std with the mean's decimals. A single seed has no spread.</summary>
    public string Format(double mean, double std, int seeds)
    {
        if (!double.IsFinite(mean)) return "n/a";
        if (!IsPercent && mean != 0 && Math.Abs(mean * Scale) < 1e-3)
        {
            // Below what 6 decimals show (a rounding difference of 1e-7): 3 significant digits in exponent form.
            var small = (mean * Scale).ToString("0.00E+0", CultureInfo.InvariantCulture);
            return seeds > 1 ? $"{small} ± {(std * Scale).ToString("0.0E+0", CultureInfo.InvariantCulture)}" : small;
        }
        var decimals = IsPercent ? 2 : Unit == "count" && mean == Math.Round(mean) && std == Math.Round(std) ? 0 : DecimalsFor(mean * Scale);
        var text = IsPercent ? Number(mean * Scale, decimals) + "%" : Number(mean * Scale, decimals);
        return seeds > 1 ? $"{text} ± {Number(std * Scale, decimals)}" : text;
    }

    /// <summary>A number with a fixed number of decimals, invariant culture.</summary>
    public static string Number(double value, int decimals) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Decimals that give 4 significant digits (at most 6, none for values of 1000 and more).</summary>
    public static int DecimalsFor(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return 4;
        var magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        return Math.Clamp(3 - magnitude, 0, 6);
    }

    /// <summary>A short invariant rendering of a setting's value (0.01, 64, 1E-05).</summary>
    public static string Setting(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Mean and sample std (n - 1) of the finite values; std 0 for a single value, NaN for none.</summary>
    public static (double Mean, double Std, int Count) MeanStd(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        return finite.Length switch
        {
            0 => (double.NaN, double.NaN, 0),
            1 => (finite[0], 0, 1),
            _ => (finite.Mean(), finite.StandardDeviation(), finite.Length),
        };
    }
}
