using System.Text.Json.Nodes;
using Reproductions.Harness.Infrastructure;
using Reproductions.Harness.Training;

namespace Reproductions.Harness.Findings;

/// <summary>
/// <c>configs/datasets.json</c>: per dataset other than the papers' own, the test tier of every finding's quick profile on
/// it (<c>{"fashion-mnist": {"quickTier": {"category": "Extended", "reason": "..."}}}</c>). A dataset it does not name keeps
/// each finding's own quick tier. A missing file declares nothing.
/// </summary>
public sealed class DatasetTiers
{
    public const string FileName = "datasets.json";

    private readonly IReadOnlyDictionary<string, TestTier> tiers;

    private DatasetTiers(IReadOnlyDictionary<string, TestTier> tiers) => this.tiers = tiers;

    public static DatasetTiers Load(string configsFolder)
    {
        var path = Path.Combine(configsFolder, FileName);
        if (!File.Exists(path)) return new DatasetTiers(new Dictionary<string, TestTier>());
        var source = ConfigFiles.Relative(path);
        var file = ConfigFiles.ReadObject(path);
        var known = Data.DatasetSpecs.All.Select(d => d.Name).ToList();
        ConfigFiles.RejectUnknownKeys(file, source, known);
        var tiers = new Dictionary<string, TestTier>(StringComparer.Ordinal);
        foreach (var (dataset, node) in file)
        {
            var where = $"{source} {dataset}";
            if (node is not JsonObject o) throw new ConfigException($"{where}: expected an object with quickTier.");
            ConfigFiles.RejectUnknownKeys(o, where, ["quickTier"]);
            tiers[dataset] = TestTier.Read(o["quickTier"] ?? throw new ConfigException($"{where}: quickTier is missing."), where);
        }
        return new DatasetTiers(tiers);
    }

    /// <summary>The quick tier of a finding on <paramref name="dataset"/>, where it is not its paper's and the file declares one; else null (the finding's own).</summary>
    public TestTier? QuickTier(string dataset, string paperDataset) =>
        dataset != paperDataset && tiers.TryGetValue(dataset, out var tier) ? tier : null;
}
