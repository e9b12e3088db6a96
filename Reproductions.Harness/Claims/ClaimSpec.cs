using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Claims;

/// <summary>The kinds of claim a finding can declare (see <see cref="ClaimEvaluator"/> for how each is decided).</summary>
public enum ClaimKind
{
    /// <summary>a exceeds b: the paired per-seed difference is positive for every seed and its 95% interval lies above zero.</summary>
    Exceeds,
    /// <summary>The values are strictly ordered for every seed.</summary>
    Ordered,
    /// <summary>
    /// Equivalence ("recovers", "matches", "reaches"): two one-sided tests at 95% (the 90% interval of a - b) within ±margin.
    /// A one-sided "not worse by more than the margin" is not offered: the catalogue's claims of reaching a value are
    /// claims of equivalence (FINDINGS.md, "Claims and their statistics").
    /// </summary>
    Matches,
    /// <summary>A rank correlation beyond its one-sided critical value at alpha.</summary>
    Rank,
    /// <summary>A fitted slope whose 95% interval lies inside a declared interval.</summary>
    Slope,
    /// <summary>A value beyond a fixed threshold declared with the reason for its value.</summary>
    Threshold,
    /// <summary>The share of the gap from one group to another that a third closes, (v - from) / (to - from), above a threshold.</summary>
    Closes,
    /// <summary>A per-epoch history that strictly increases for every seed.</summary>
    Increasing,

    // Estimates: numbers the harness measures and the report shows beside the claims, never asserted.

    /// <summary>Estimate: the paired difference a - b, its mean and 95% interval, and its sign where the interval decides it.</summary>
    Difference,
    /// <summary>Estimate: a value per seed, its mean and 95% interval (e.g. update counts).</summary>
    Value,
    /// <summary>Estimate: the largest per-epoch gap between the mean curves (over seeds) of two histories, and where it falls.</summary>
    CurveGap,
    /// <summary>Estimate: which of an ordered list of settings stay equivalent to b (two one-sided tests within ±margin), and the largest that does.</summary>
    LargestEquivalent,
}

/// <summary>A reference to measured values: "group.metric" or "group.metric[component]" (e.g. bs64.testAccuracy, bs64.layerCosines[1]).</summary>
public sealed partial record MeasureRef(string Group, string Metric, int? Component)
{
    [GeneratedRegex(@"^(?<group>[^.\s]+)\.(?<metric>[A-Za-z][\w@-]*)(\[(?<c>\d+)\])?$")]
    private static partial Regex Pattern();

    public static MeasureRef Parse(string text, string where)
    {
        var m = Pattern().Match(text);
        if (!m.Success)
            throw new ConfigException($"{where}: '{text}' is not a measurement reference; expected group.metric or group.metric[component] (e.g. bs64.testAccuracy).");
        return new MeasureRef(m.Groups["group"].Value, m.Groups["metric"].Value,
            m.Groups["c"].Success ? int.Parse(m.Groups["c"].Value, CultureInfo.InvariantCulture) : null);
    }

    public override string ToString() => $"{Group}.{Metric}{(Component is { } c ? $"[{c}]" : "")}";
}

/// <summary>
/// One claim of a finding, as its config declares it (<c>claims</c> in configs/Fxx.json), with every template variable
/// of <c>for</c> expanded into <see cref="Parts"/>. Thresholds and margins carry the reason for their value.
/// </summary>
/// <param name="Id">The claim's name (letters, digits, '_'); its test case is named after it.</param>
/// <param name="Statement">What it asserts, in words.</param>
/// <param name="Profiles">The profiles it is asserted in.</param>
/// <param name="LeftOut">Per profile it is not asserted in, why.</param>
/// <param name="Against">Set where the claim states what we measured against the paper's reading: what the paper says.</param>
public sealed record ClaimSpec(
    string Id, string Statement, ClaimKind Kind, IReadOnlyList<ClaimPartSpec> Parts, IReadOnlyList<string> Profiles,
    IReadOnlyDictionary<string, string> LeftOut, ClaimYardstick Yardstick, string? Against, string Source)
{
    public bool AppliesTo(string profile) => Profiles.Contains(profile, StringComparer.Ordinal);

    /// <summary>Whether the kind is an estimate (measured and shown, never asserted) rather than a claim.</summary>
    public bool IsEstimate => IsEstimateKind(Kind);

    public static bool IsEstimateKind(ClaimKind kind) => kind >= ClaimKind.Difference;

    /// <summary>The test case's name: the id with its first letter capitalised.</summary>
    public string TestName => char.ToUpperInvariant(Id[0]) + Id[1..];

    private static readonly HashSet<string> Keys = new(StringComparer.Ordinal)
    {
        "id", "statement", "kind", "for", "a", "b", "values", "order", "ratio", "factor", "factorSource", "margin", "relativeMargin",
        "marginSource", "statistic", "x", "y", "direction", "alpha", "within", "above", "below", "thresholdSource", "value", "from", "to",
        "series", "profiles", "leftOut", "against",
    };

    /// <summary>
    /// Reads the <c>claims</c> array of a finding file (or, with <paramref name="estimates"/>, its <c>estimates</c>: numbers
    /// measured and shown but not asserted); <paramref name="profiles"/> are the profiles the file declares.
    /// </summary>
    public static IReadOnlyList<ClaimSpec> ReadAll(JsonNode? claims, string source, IReadOnlyList<string> profiles, bool estimates = false)
    {
        var key = estimates ? "estimates" : "claims";
        if (claims is null) return [];
        if (claims is not JsonArray array) throw new ConfigException($"{source}: {key} must be a list.");
        var result = new List<ClaimSpec>();
        for (var i = 0; i < array.Count; i++)
        {
            var where = $"{source} {key}[{i}]";
            if (array[i] is not JsonObject claim) throw new ConfigException($"{where}: expected an object.");
            var spec = Read(claim, where, profiles);
            if (spec.IsEstimate != estimates)
                throw new ConfigException(estimates
                    ? $"{where}: kind '{spec.Kind.ToString().ToLowerInvariant()}' is a claim; an estimate is one of difference, value, curvegap, largestequivalent."
                    : $"{where}: kind '{spec.Kind.ToString().ToLowerInvariant()}' is an estimate (measured, not asserted); list it under estimates.");
            if (result.Any(c => c.Id == spec.Id)) throw new ConfigException($"{where}: id '{spec.Id}' is used by another claim.");
            result.Add(spec);
        }
        return result;
    }

    private static ClaimSpec Read(JsonObject c, string where, IReadOnlyList<string> fileProfiles)
    {
        Infrastructure.ConfigFiles.RejectUnknownKeys(c, where, Keys);
        var id = Text(c, "id", where) ?? throw new ConfigException($"{where}: id is missing.");
        if (id.Length == 0 || !id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_') || !char.IsAsciiLetter(id[0]))
            throw new ConfigException($"{where}: id = '{id}': expected letters, digits and '_', starting with a letter.");
        where = $"{where} ({id})";
        var statement = Text(c, "statement", where) ?? throw new ConfigException($"{where}: statement is missing: say what the claim asserts.");
        var kindText = Text(c, "kind", where) ?? throw new ConfigException($"{where}: kind is missing.");
        var kind = Enum.GetValues<ClaimKind>().Where(k => string.Equals(k.ToString(), kindText, StringComparison.OrdinalIgnoreCase))
                       .Select(k => (ClaimKind?)k).FirstOrDefault()
                   ?? throw new ConfigException($"{where}: kind = '{kindText}': expected one of {string.Join(", ", Enum.GetNames<ClaimKind>().Select(n => n.ToLowerInvariant()))}.");

        var profiles = c["profiles"] is { } p ? Strings(p, where, "profiles") : fileProfiles.ToList();
        foreach (var profile in profiles)
            if (!fileProfiles.Contains(profile)) throw new ConfigException($"{where}: profiles names '{profile}', which the file does not declare.");
        var leftOut = new Dictionary<string, string>(StringComparer.Ordinal);
        if (c["leftOut"] is JsonObject lo)
            foreach (var (profile, why) in lo)
            {
                if (profiles.Contains(profile)) throw new ConfigException($"{where}: leftOut names '{profile}', but the claim is asserted there.");
                leftOut[profile] = why is null ? throw new ConfigException($"{where}: leftOut:{profile} needs the reason.") : Infrastructure.ConfigFiles.Value<string>(why, where, $"leftOut:{profile}");
            }
        foreach (var profile in fileProfiles.Where(f => !profiles.Contains(f)))
            if (!leftOut.ContainsKey(profile))
                throw new ConfigException($"{where}: the claim is not asserted in '{profile}'; say why in leftOut:{profile}.");

        var yardstick = ReadYardstick(c, kind, where);
        var parts = Expand(c, where).Select(bindings => ReadPart(c, kind, bindings, where)).ToList();
        return new ClaimSpec(id, statement, kind, parts, profiles, leftOut, yardstick, Text(c, "against", where), where);
    }

    private static ClaimYardstick ReadYardstick(JsonObject c, ClaimKind kind, string where)
    {
        double? Number(string key) => c[key] is null ? null
            : c[key] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d
            : throw new ConfigException($"{where}: {key} = {c[key]!.ToJsonString()}: expected a finite number.");
        string? Reason(string key, string what, bool required)
        {
            var text = Text(c, key, where);
            if (required && string.IsNullOrWhiteSpace(text)) throw new ConfigException($"{where}: {what} needs {key}: the reason for its value.");
            return text;
        }

        var margin = Number("margin");
        if (kind is ClaimKind.Matches or ClaimKind.LargestEquivalent && !(margin > 0))
            throw new ConfigException($"{where}: a {kind.ToString().ToLowerInvariant()} claim needs a positive margin.");
        var factor = Number("factor");
        if (factor is { } f && !(f > 0)) throw new ConfigException($"{where}: factor must be positive.");
        var ratio = c["ratio"] is { } r ? Infrastructure.ConfigFiles.Value<bool>(r, where, "ratio") : factor is not null;
        double? low = null, high = null;
        if (c["within"] is JsonArray within)
        {
            if (within.Count != 2) throw new ConfigException($"{where}: within = {within.ToJsonString()}: expected [low, high] (null for no bound).");
            low = within[0] is null ? null : Infrastructure.ConfigFiles.Value<double>(within[0], where, "within:0");
            high = within[1] is null ? null : Infrastructure.ConfigFiles.Value<double>(within[1], where, "within:1");
        }
        else if (c["within"] is { } notList) throw new ConfigException($"{where}: within = {notList.ToJsonString()}: expected [low, high] (null for no bound).");
        if (Number("above") is { } above) low = above;
        if (Number("below") is { } below) high = below;
        if (kind is ClaimKind.Slope or ClaimKind.Threshold or ClaimKind.Closes && low is null && high is null)
            throw new ConfigException($"{where}: a {kind.ToString().ToLowerInvariant()} claim needs within, above or below.");
        if (low is { } l && high is { } h && !(l < h)) throw new ConfigException($"{where}: within [{l}, {h}] is empty.");
        var alpha = Number("alpha") ?? 0.05;
        if (alpha is <= 0 or >= 0.5) throw new ConfigException($"{where}: alpha = {alpha}: expected a level in (0, 0.5).");
        var direction = Text(c, "direction", where) ?? "positive";
        if (direction is not ("positive" or "negative")) throw new ConfigException($"{where}: direction = '{direction}': expected positive or negative.");
        var order = Text(c, "order", where) ?? "descending";
        if (order is not ("descending" or "ascending")) throw new ConfigException($"{where}: order = '{order}': expected descending or ascending.");
        return new ClaimYardstick(margin, c["relativeMargin"] is { } relative && Infrastructure.ConfigFiles.Value<bool>(relative, where, "relativeMargin"), Reason("marginSource", "a margin", margin is not null),
            ratio, factor, Reason("factorSource", "a factor", factor is not null), low, high,
            Reason("thresholdSource", "a threshold", kind is ClaimKind.Threshold or ClaimKind.Closes || (kind == ClaimKind.Slope)),
            alpha, direction == "positive", order == "descending");
    }

    private static ClaimPartSpec ReadPart(JsonObject c, ClaimKind kind, IReadOnlyDictionary<string, string> bindings, string where)
    {
        var label = string.Join(", ", bindings.Select(b => $"{b.Key} {b.Value}"));
        MeasureRef? Ref(string key, bool required)
        {
            var text = Text(c, key, where);
            if (text is null) return required ? throw new ConfigException($"{where}: a {kind.ToString().ToLowerInvariant()} claim needs {key}.") : null;
            return MeasureRef.Parse(Substitute(text, bindings, where), $"{where}:{key}");
        }
        IReadOnlyList<MeasureRef> Refs(string key)
        {
            var list = c[key] is JsonArray a ? a.Select((x, i) => Infrastructure.ConfigFiles.Value<string>(x, where, $"{key}:{i}")).ToList()
                : throw new ConfigException($"{where}: a {kind.ToString().ToLowerInvariant()} claim needs {key}: a list of measurement references.");
            return list.Select(x => MeasureRef.Parse(Substitute(x, bindings, where), $"{where}:{key}")).ToList();
        }
        return kind switch
        {
            ClaimKind.Exceeds or ClaimKind.Matches => new ClaimPartSpec(label, [Ref("a", true)!, Ref("b", true)!]),
            ClaimKind.Ordered => Refs("values") is { Count: >= 2 } v ? new ClaimPartSpec(label, v) : throw new ConfigException($"{where}: values needs at least two references."),
            ClaimKind.Rank when c["statistic"] is not null => new ClaimPartSpec(label, [Ref("statistic", true)!], Pooled: true),
            ClaimKind.Rank => RankPart(label, Refs("x"), Refs("y"), where),
            ClaimKind.Slope => new ClaimPartSpec(label, [Ref("statistic", true)!], Pooled: true),
            ClaimKind.Threshold when c["statistic"] is not null => new ClaimPartSpec(label, [Ref("statistic", true)!], Pooled: true),
            ClaimKind.Threshold => new ClaimPartSpec(label, [Ref("value", true)!]),
            ClaimKind.Closes => new ClaimPartSpec(label, [Ref("value", true)!, Ref("from", true)!, Ref("to", true)!]),
            ClaimKind.Increasing => new ClaimPartSpec(label, [Ref("series", true)!]),
            ClaimKind.Difference or ClaimKind.CurveGap => new ClaimPartSpec(label, [Ref("a", true)!, Ref("b", true)!]),
            ClaimKind.Value => new ClaimPartSpec(label, [Ref("a", true)!]),
            ClaimKind.LargestEquivalent => Refs("values") is { Count: >= 1 } sweep ? new ClaimPartSpec(label, [.. sweep, Ref("b", true)!])
                : throw new ConfigException($"{where}: values needs at least one reference."),
            _ => throw new ConfigException($"{where}: kind {kind} is not supported."),
        };
    }

    private static ClaimPartSpec RankPart(string label, IReadOnlyList<MeasureRef> x, IReadOnlyList<MeasureRef> y, string where) =>
        x.Count == y.Count && x.Count >= 4
            ? new ClaimPartSpec(label, [.. x, .. y])
            : throw new ConfigException($"{where}: x and y need the same number of references, at least 4 (got {x.Count} and {y.Count}).");

    /// <summary>Every combination of the <c>for</c> variables' values (one empty binding when there is no <c>for</c>).</summary>
    private static IReadOnlyList<IReadOnlyDictionary<string, string>> Expand(JsonObject c, string where)
    {
        IReadOnlyList<IReadOnlyDictionary<string, string>> result = [new Dictionary<string, string>()];
        if (c["for"] is null) return result;
        if (c["for"] is not JsonObject loops) throw new ConfigException($"{where}: for must map variable names to lists of values.");
        foreach (var (name, values) in loops)
        {
            var list = values is JsonArray a && a.Count > 0 ? a.Select((v, i) => v switch
                {
                    null => throw new ConfigException($"{where}: for:{name}:{i} is null: give a value."),
                    JsonValue jv when jv.TryGetValue<string>(out var s) => s,
                    _ => v.ToJsonString(),
                }).ToList()
                : throw new ConfigException($"{where}: for:{name} must be a non-empty list.");
            result = result.SelectMany(b => list.Select(v => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(b) { [name] = v })).ToList();
        }
        return result;
    }

    private static string Substitute(string text, IReadOnlyDictionary<string, string> bindings, string where)
    {
        foreach (var (name, value) in bindings) text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        if (text.Contains('{', StringComparison.Ordinal)) throw new ConfigException($"{where}: '{text}' names a variable that for does not define.");
        return text;
    }

    private static List<string> Strings(JsonNode node, string where, string key) =>
        node is JsonArray a ? a.Select((x, i) => Infrastructure.ConfigFiles.Value<string>(x, where, $"{key}:{i}")).ToList() : throw new ConfigException($"{where}: {key} must be a list of names.");

    private static string? Text(JsonObject c, string key, string where) => c[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new ConfigException($"{where}: {key} = {other.ToJsonString()}: expected text."),
    };
}

/// <summary>One comparison of a claim: its references, with the template variables that produced it.</summary>
/// <param name="Label">The variables' values, e.g. "regime early, B 64" ("" without a <c>for</c>).</param>
/// <param name="Refs">Exceeds/matches: a, b; ordered: the values in order; rank: x then y, or the pooled
/// statistic; slope/threshold: the statistic or value; closes: value, from, to; increasing: the series.</param>
/// <param name="Pooled">Whether the reference is a pooled statistic (one value with its interval) rather than per-seed values.</param>
public sealed record ClaimPartSpec(string Label, IReadOnlyList<MeasureRef> Refs, bool Pooled = false);

/// <summary>What decides a claim: margins, factors and thresholds with their reasons, the level of a rank test, directions.</summary>
public sealed record ClaimYardstick(
    double? Margin, bool RelativeMargin, string? MarginSource, bool Ratio, double? Factor, string? FactorSource,
    double? Low, double? High, string? ThresholdSource, double Alpha, bool Positive, bool Descending);
