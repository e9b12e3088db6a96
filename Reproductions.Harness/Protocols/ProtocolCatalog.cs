using Reproductions.Harness.Training;

namespace Reproductions.Harness.Protocols;

/// <summary>
/// The protocol kinds a config may name in <c>"protocol"</c>. <see cref="Default"/> holds the harness's own; a caller
/// (a test, a tool) adds its kind with <see cref="With"/> and hands the catalog to the finding loader, the runner and
/// the report, none of which changes for it.
/// </summary>
public sealed class ProtocolCatalog
{
    private readonly Dictionary<string, Protocol> protocols;

    public ProtocolCatalog(IEnumerable<Protocol> protocols)
    {
        this.protocols = new Dictionary<string, Protocol>(StringComparer.Ordinal);
        foreach (var p in protocols)
            if (!this.protocols.TryAdd(p.Name, p))
                throw new ArgumentException($"two protocols are named '{p.Name}'.", nameof(protocols));
    }

    public static ProtocolCatalog Default { get; } = new([new TrainingProtocol(), new GradientCompetitionProtocol(), new SharpnessProtocol()]);

    public IEnumerable<Protocol> All => protocols.Values;

    /// <summary>This catalog with <paramref name="protocol"/> added.</summary>
    public ProtocolCatalog With(Protocol protocol) => new(protocols.Values.Append(protocol));

    /// <summary>The protocol named <paramref name="name"/>; <paramref name="where"/> names the config in the error.</summary>
    public Protocol Get(string name, string where) =>
        protocols.TryGetValue(name, out var p) ? p
            : throw new ConfigException($"{where}: protocol = '{name}': expected one of {string.Join(", ", protocols.Keys.Order(StringComparer.Ordinal))}.");
}
